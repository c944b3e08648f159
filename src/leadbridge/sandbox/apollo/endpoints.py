"""The endpoints the sandbox serves: how a scoped key names each, its OAuth scope, its 429 label.

From each endpoint's "Endpoint essentials" in Apollo's OpenAPI (reference B1/B2 and the
api-evangelist mirror): `route` is what a scoped API key must list and what the 403 names;
`label` is the path the 429 message names; `scope` is the OAuth scope a bearer token needs.
Rate windows are kept per `route` (per endpoint, as Apollo's limits are).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Endpoint:
    route: str
    label: str
    scope: str | None
    master_only: bool = False  # a scoped key never reaches it, whatever it lists
    any_key: bool = False  # every valid key and token reaches it (no scope involved)
    failure: str = "An error occurred. Please try again."  # the injected 500's text

    @property
    def usage_key(self) -> str:
        """Usage stats key: the stringified route tuple, e.g. `["api/v1/accounts", "create"]`."""
        head, _, tail = self.route.rpartition("/")
        return f'["{head}", "{tail}"]'


CREATING = "An error occurred while creating accounts. Please try again."
UPDATING = "An error occurred while updating accounts. Please try again."  # [U] wording

HEALTH = Endpoint("api/v1/auth/health", "api/v1/auth/health", None, any_key=True)
# Every OAuth grant carries read_user_profile; a key of any scope may read its own profile [U].
API_PROFILE = Endpoint(
    "api/v1/users/api_profile", "api/v1/users/api_profile", "read_user_profile", any_key=True
)
USERS_SEARCH = Endpoint(
    "api/v1/users/search", "api/v1/users/search", "users_list", master_only=True
)
ACCOUNT_STAGES = Endpoint(
    "api/v1/account_stages/index", "api/v1/account_stages", "account_stages_list"
)
CUSTOM_FIELDS = Endpoint(
    "api/v1/typed_custom_fields/index", "api/v1/typed_custom_fields", "custom_fields_list"
)
CREATE = Endpoint("api/v1/accounts/create", "api/v1/accounts", "account_write", failure=CREATING)
UPDATE = Endpoint(
    "api/v1/accounts/update", "api/v1/accounts/{account_id}", "account_update", failure=UPDATING
)
SHOW = Endpoint("api/v1/accounts/show", "api/v1/accounts/{id}", "account_read")
SEARCH = Endpoint("api/v1/accounts/search", "api/v1/accounts/search", "accounts_search")
BULK_CREATE = Endpoint(
    "api/v1/accounts/bulk_create",
    "api/v1/accounts/bulk_create",
    "account_bulk_create",
    failure=CREATING,
)
BULK_UPDATE = Endpoint(
    "api/v1/accounts/bulk_update",
    "api/v1/accounts/bulk_update",
    "account_stages_update",
    failure=UPDATING,
)
UPDATE_OWNERS = Endpoint(
    "api/v1/accounts/update_owners",
    "api/v1/accounts/update_owners",
    "account_owners_update",
    failure=UPDATING,
)
USAGE_STATS = Endpoint(
    "api/v1/usage_stats/api_usage_stats",
    "api/v1/usage_stats/api_usage_stats",
    "api_usage_stats_read",
    master_only=True,
)

ALL = (
    HEALTH,
    API_PROFILE,
    USERS_SEARCH,
    ACCOUNT_STAGES,
    CUSTOM_FIELDS,
    CREATE,
    UPDATE,
    SHOW,
    SEARCH,
    BULK_CREATE,
    BULK_UPDATE,
    UPDATE_OWNERS,
    USAGE_STATS,
)
