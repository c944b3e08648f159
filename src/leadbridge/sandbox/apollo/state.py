"""The Apollo sandbox's team: users, accounts, stages, custom fields, keys, OAuth, rate windows.

In memory, one team, guarded by a lock (the app runs on a server thread while tests inspect it).
IDs are 24-hex ObjectIds; timestamps ISO-8601 with milliseconds and Z, as Apollo's.
"""

from __future__ import annotations

import itertools
import random
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DEFAULT_STAGES = (
    ("Review", None),
    ("Current Client", "succeeded"),
    ("Active Opportunity", "succeeded"),
    ("Dead Opportunity", "failed"),
    ("Do Not Prospect", "failed"),
    ("Subscriber", None),
    ("Lead", None),
    ("Marketing Qualified Lead", None),
    ("Sales Qualified Lead", "in_progress"),
    ("Evangelist", None),
    ("Other", None),
)
WINDOWS = {"minute": 60.0, "hour": 3600.0, "day": 86400.0}
# Header names per window (reference B8).
LIMIT_HEADER = {
    "minute": "x-rate-limit-minute",
    "hour": "x-rate-limit-hourly",
    "day": "x-rate-limit-24-hour",
}
USAGE_HEADER = {"minute": "x-minute-usage", "hour": "x-hourly-usage", "day": "x-24-hour-usage"}
LEFT_HEADER = {
    "minute": "x-minute-requests-left",
    "hour": "x-hourly-requests-left",
    "day": "x-24-hour-requests-left",
}
WINDOW_WORDS = {"minute": "per minute", "hour": "per hour", "day": "per day"}


def iso(ts: float) -> str:
    return (
        datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{int(ts * 1000) % 1000:03d}Z"
    )


@dataclass
class ApolloKnobs:
    """Fault and behaviour knobs; change them at any time."""

    latency: float = 0.0  # seconds before a request is handled
    latency_after_commit: float = 0.0  # seconds after it took effect, before the answer
    error_rate_5xx: float = 0.0  # probability of a 500 answer
    fail_after_commit: bool = False  # 500s are returned after the change was applied
    access_token_ttl: float = 30 * 24 * 3600.0  # Apollo: 30 days
    expire_tokens_every: int = 0  # force-expire the bearer token every N calls (0: never)
    per_page_max: int = 100
    limits: dict[str, int | None] = field(
        default_factory=lambda: {"minute": 200, "hour": 600, "day": 6000}
    )
    _burst: list[float] = field(default_factory=list)
    _fail: list[tuple[int, Any]] = field(default_factory=list)
    _garbage: int = 0

    def set_rate_limits(
        self, minute: int | None = None, hour: int | None = None, day: int | None = None
    ) -> None:
        """None means unlimited (Apollo then sends an empty limit header)."""
        self.limits = {"minute": minute, "hour": hour, "day": day}

    def burst_429(self, n: int, retry_after: float = 1.0) -> None:
        self._burst.extend([retry_after] * n)

    def fail_next(self, n: int, status: int = 500, body: Any = None) -> None:
        self._fail.extend([(status, body)] * n)

    def garbage_next(self, n: int) -> None:
        self._garbage += n


class ApolloState:
    def __init__(
        self,
        seed: int = 1,
        clock: Callable[[], float] = time.time,
        knobs: ApolloKnobs | None = None,
    ) -> None:
        self.knobs = knobs or ApolloKnobs()
        self.lock = threading.RLock()
        self.rng = random.Random(seed)
        self.clock = clock
        self._ids = itertools.count(self.rng.randrange(1 << 20, 1 << 24))
        self.team_id = self.new_id()
        self.users: dict[str, dict[str, Any]] = {}
        self.accounts: dict[str, dict[str, Any]] = {}
        # Dedupe keys -> account ids: ("domain", d), ("name", lower), ("org", id), ("crm", id).
        self.index: dict[tuple[str, str], set[str]] = {}
        self._keys: dict[str, list[tuple[str, str]]] = {}
        self.stages = [
            {
                "id": self.new_id(),
                "team_id": self.team_id,
                "display_name": name,
                "name": name,
                "display_order": i,
                "default_exclude_for_leadgen": category == "failed",
                "category": category,
                "is_meeting_set": None,
            }
            for i, (name, category) in enumerate(DEFAULT_STAGES)
        ]
        self.custom_fields = [
            {"id": self.new_id(), "modality": "account", "name": "Website", "type": "url"},
            {"id": self.new_id(), "modality": "account", "name": "Tier", "type": "string"},
            {"id": self.new_id(), "modality": "contact", "name": "Persona", "type": "string"},
        ]
        self.api_keys: dict[str, dict[str, Any]] = {}  # key -> {user_id, master, scopes}
        self.oauth_apps: dict[str, dict[str, Any]] = {}  # client_id -> app
        self.codes: dict[str, dict[str, Any]] = {}
        self.access_tokens: dict[str, dict[str, Any]] = {}
        self.refresh_tokens: dict[str, dict[str, Any]] = {}
        self.windows: dict[tuple[str, str], tuple[float, int]] = {}  # (route, window) -> (start, n)
        self.calls: Counter[str] = Counter()
        self.bearer_calls = 0
        self.admin: dict[str, Any] = self.add_user("admin@sandbox-team.example", "Team", "Admin")

    def new_id(self) -> str:
        return f"{next(self._ids):08x}" + secrets.token_hex(8)

    def now_iso(self) -> str:
        return iso(self.clock())

    # --- people and data -----------------------------------------------------------------------

    def add_user(
        self,
        email: str,
        first_name: str = "",
        last_name: str = "",
        *,
        deleted: bool = False,
        title: str | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            user: dict[str, Any] = {
                "id": self.new_id(),
                "team_id": self.team_id,
                "first_name": first_name,
                "last_name": last_name,
                "name": f"{first_name} {last_name}".strip(),
                "title": title,
                "email": email,
                "deleted": deleted,
                "created_at": self.now_iso(),
            }
            self.users[user["id"]] = user
            return dict(user)

    def active_user(self, user_id: Any) -> bool:
        user = self.users.get(str(user_id)) if user_id is not None else None
        return bool(user and not user["deleted"])

    def new_account(self, fields: dict[str, Any], creator_id: str) -> dict[str, Any]:
        now = self.now_iso()
        account: dict[str, Any] = {
            "id": self.new_id(),
            "domain": None,
            "name": None,
            "team_id": self.team_id,
            "organization_id": None,
            "account_stage_id": None,
            "source": "api",
            "original_source": "api",
            "creator_id": creator_id,
            "owner_id": None,
            "created_at": now,
            "updated_at": now,
            "phone": None,
            "phone_status": "no_status",
            "sanitized_phone": None,
            "raw_address": None,
            "hubspot_id": None,
            "salesforce_id": None,
            "merged_crm_ids": [],
            "crm_owner_id": None,
            "parent_account_id": None,
            "linkedin_url": None,
            "label_ids": [],
            "typed_custom_fields": {},
            "custom_field_errors": {},
            "modality": "account",
            "existence_level": "full",
            "source_display_name": "Created from API",
        }
        self.accounts[account["id"]] = account
        self.reindex(account)
        return account

    def reindex(self, account: dict[str, Any]) -> None:
        for key in self._keys.pop(account["id"], []):
            self.index.get(key, set()).discard(account["id"])
        keys = [
            ("domain", account.get("domain")),
            ("org", account.get("organization_id")),
            ("name", str(account.get("name") or "").strip().lower()),
        ]
        keys += [
            ("crm", v)
            for v in (
                account.get("salesforce_id"),
                account.get("hubspot_id"),
                *(account.get("merged_crm_ids") or []),
            )
        ]
        kept = [(kind, str(value)) for kind, value in keys if value]
        for key in kept:
            self.index.setdefault(key, set()).add(account["id"])
        self._keys[account["id"]] = kept

    def issue_api_key(self, *, master: bool = True, scopes: list[str] | None = None) -> str:
        key = secrets.token_urlsafe(16)
        with self.lock:
            self.api_keys[key] = {
                "user_id": self.admin["id"],
                "master": master,
                "scopes": set(scopes or []),
            }
        return key

    def register_oauth_app(
        self, redirect_uris: list[str], scopes: list[str] | None = None
    ) -> tuple[str, str]:
        client_id, secret = secrets.token_urlsafe(12), secrets.token_urlsafe(24)
        with self.lock:
            self.oauth_apps[client_id] = {
                "secret": secret,
                "redirect_uris": list(redirect_uris),
                "scopes": set(scopes or []) | {"read_user_profile", "app_scopes"},
            }
        return client_id, secret

    def issue_tokens(self, client_id: str, user_id: str, scopes: set[str]) -> dict[str, Any]:
        access, refresh = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
        now = self.clock()
        self.access_tokens[access] = {
            "client_id": client_id,
            "user_id": user_id,
            "scopes": scopes,
            "expires_at": now + self.knobs.access_token_ttl,
            "revoked": False,
        }
        self.refresh_tokens[refresh] = {
            "client_id": client_id,
            "user_id": user_id,
            "scopes": scopes,
            "access": access,
            "revoked": False,
        }
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": int(self.knobs.access_token_ttl),
            "refresh_token": refresh,
            "scope": " ".join(sorted(scopes)),
            "created_at": int(now),
        }

    # --- rate windows ---------------------------------------------------------------------------

    def take(
        self, route: str, limits: dict[str, int | None]
    ) -> tuple[str | None, float, dict[str, str]]:
        """Count one call of `route` in every window; (exceeded window, retry-after, headers)."""
        now = self.clock()
        headers: dict[str, str] = {}
        exceeded, retry_after = None, 0.0
        state = {}
        for window, length in WINDOWS.items():
            start, count = self.windows.get((route, window), (now, 0))
            if now >= start + length:
                start, count = now, 0
            state[window] = (start, count)
            limit = limits.get(window)
            if limit is not None and count >= limit and exceeded is None:
                exceeded, retry_after = window, max(1.0, start + length - now)
        for window, (start, count) in state.items():
            if exceeded is None:
                count += 1
            self.windows[(route, window)] = (start, count)
            limit = limits.get(window)
            headers[LIMIT_HEADER[window]] = "" if limit is None else str(limit)
            if limit is not None:
                headers[USAGE_HEADER[window]] = str(count)
                headers[LEFT_HEADER[window]] = str(max(0, limit - count))
        return exceeded, retry_after, headers
