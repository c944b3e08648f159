"""The Apollo sandbox's team: users, accounts, stages, custom fields, and the dedupe index.

In memory, one team, guarded by a lock (the app runs on a server thread while tests inspect it).
IDs are 24-hex ObjectIds (4-byte time, 5 random bytes, 3-byte counter) drawn from the seeded
RNG and the injected clock, so a seeded sandbox on a fixed clock is reproducible. Timestamps are
ISO-8601 with milliseconds and Z, as Apollo's.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from leadbridge.sandbox.apollo.credentials import Credentials
from leadbridge.sandbox.apollo.fields import sanitized_phone
from leadbridge.sandbox.apollo.knobs import ApolloKnobs
from leadbridge.sandbox.apollo.rate_windows import RateWindows

# Apollo's default account stages, as its List Account Stages example shows them:
# (name, category, default_exclude_for_leadgen).
DEFAULT_STAGES = (
    ("Review", None, False),
    ("Current Client", "succeeded", True),
    ("Active Opportunity", "succeeded", True),
    ("Dead Opportunity", "failed", False),
    ("Do Not Prospect", "failed", True),
    ("Subscriber", "in_progress", False),
    ("Lead", "in_progress", False),
    ("Marketing Qualified Lead", "in_progress", False),
    ("Sales Qualified Lead", "in_progress", False),
    ("Evangelist", None, False),
    ("Other", None, False),
)
# (modality, name, type). "Website" receives a lead's website (accounts have no website field).
DEFAULT_CUSTOM_FIELDS = (
    ("account", "Website", "string"),
    ("account", "Tier", "string"),
    ("contact", "Persona", "string"),
)
CRM_KEYS = ("salesforce_id", "hubspot_id")


def iso(ts: float) -> str:
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class ObjectIds:
    def __init__(self, rng: random.Random, clock: Callable[[], float]) -> None:
        self._process = rng.getrandbits(40)
        self._counter = rng.getrandbits(24)
        self._clock = clock

    def __call__(self) -> str:
        self._counter = (self._counter + 1) % (1 << 24)
        return f"{int(self._clock()) & 0xFFFFFFFF:08x}{self._process:010x}{self._counter:06x}"


class ApolloState:
    def __init__(
        self,
        seed: int = 1,
        clock: Callable[[], float] = time.time,
        knobs: ApolloKnobs | None = None,
    ) -> None:
        self.knobs = knobs or ApolloKnobs()
        self.lock = threading.RLock()
        self.clock = clock
        self.rng = random.Random(seed)  # fault draws
        self.new_id = ObjectIds(random.Random(f"ids-{seed}"), lambda: self.clock())
        self.team_id = self.new_id()
        self.users: dict[str, dict[str, Any]] = {}
        self.accounts: dict[str, dict[str, Any]] = {}
        # Dedupe keys -> account ids: ("domain", d), ("name", lower), ("org", id), ("crm", id).
        self.index: dict[tuple[str, str], list[str]] = {}
        self._keys: dict[str, list[tuple[str, str]]] = {}
        self.stages: list[dict[str, Any]] = [
            {
                "id": self.new_id(),
                "team_id": self.team_id,
                "display_name": name,
                "name": name,
                "display_order": order,
                "default_exclude_for_leadgen": exclude,
                "category": category,
                "is_meeting_set": None,
            }
            for order, (name, category, exclude) in enumerate(DEFAULT_STAGES, start=1)
        ]
        self.custom_fields = [
            self._custom_field(modality, name, kind)
            for modality, name, kind in DEFAULT_CUSTOM_FIELDS
        ]
        self.credentials = Credentials(clock=lambda: self.clock())
        self.windows = RateWindows()
        self.calls: Counter[str] = Counter()
        self.admin: dict[str, Any] = self.add_user(
            "admin@sandbox-team.example", "Team", "Admin", title="Admin"
        )

    def now_iso(self) -> str:
        return iso(self.clock())

    def _custom_field(self, modality: str, name: str, kind: str) -> dict[str, Any]:
        # The shape of Apollo's (deprecated) Get a List of All Custom Fields example.
        return {
            "id": self.new_id(),
            "modality": modality,
            "name": name,
            "type": kind,
            "picklist_options": [],
            "mapped_crm_field": None,
            "additional_mapped_crm_field": None,
            "is_readonly_mapped_crm_field": None,
            "picklist_options_last_synced_at": None,
            "picklist_value_set_id": None,
            "mirrored": False,
            "system_name": None,
            "text_field_max_length": None,
            "finder_view_ids": [],
            "is_local": False,
        }

    def add_custom_field(self, modality: str, name: str, kind: str = "string") -> dict[str, Any]:
        with self.lock:
            custom = self._custom_field(modality, name, kind)
            self.custom_fields.append(custom)
            return dict(custom)

    # --- users ---------------------------------------------------------------------------------

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

    def stage_ids(self) -> set[str]:
        return {stage["id"] for stage in self.stages}

    # --- accounts ------------------------------------------------------------------------------

    def new_account(self, fields: dict[str, Any], creator_id: str | None = None) -> dict[str, Any]:
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
            "facebook_url": None,
            "twitter_url": None,
            "last_activity_date": None,
            "account_playbook_statuses": [],
            "account_rule_config_statuses": [],
            "existence_level": "full",
            "label_ids": [],
            "typed_custom_fields": {},
            "custom_field_errors": {},
            "modality": "account",
            "source_display_name": "Created from API",
            "crm_record_url": None,
            "show_intent": False,
            "has_intent_signal_account": False,
            "intent_signal_account": None,
        }
        self.accounts[account["id"]] = account
        self.apply(account, fields, touch=False)
        return account

    def apply(self, account: dict[str, Any], fields: dict[str, Any], touch: bool = True) -> None:
        """Write already-validated attributes; custom fields are kept only for known ids."""
        for key, value in fields.items():
            if key != "typed_custom_fields":
                account[key] = value
        if "phone" in fields:
            account["sanitized_phone"] = sanitized_phone(fields["phone"])
        # custom_field_errors describe this write: a later good write clears them.
        account["custom_field_errors"] = {}
        if "typed_custom_fields" in fields:
            known = {f["id"] for f in self.custom_fields if f["modality"] == "account"}
            custom = dict(account["typed_custom_fields"])
            for field_id, value in fields["typed_custom_fields"].items():
                if field_id in known:
                    custom[field_id] = value
                else:
                    account["custom_field_errors"][field_id] = "Custom field not found"
            account["typed_custom_fields"] = custom
        if touch:
            account["updated_at"] = self.now_iso()
        self.reindex(account)

    def reindex(self, account: dict[str, Any]) -> None:
        for key in self._keys.pop(account["id"], []):
            holders = self.index.get(key, [])
            if account["id"] in holders:
                holders.remove(account["id"])
        keys = [
            ("domain", account.get("domain")),
            ("org", account.get("organization_id")),
            ("name", str(account.get("name") or "").strip().lower()),
        ]
        keys += [("crm", v) for v in crm_ids(account)]
        kept = [(kind, str(value)) for kind, value in keys if value]
        for key in kept:
            self.index.setdefault(key, []).append(account["id"])
        self._keys[account["id"]] = kept

    def find_match(self, item: dict[str, Any], run_dedupe: bool) -> dict[str, Any] | None:
        """bulk_create's dedupe: CRM ids always; with run_dedupe also domain, organization_id,
        then name (case-insensitive). The oldest matching account wins."""
        keys: list[tuple[str, str | None]] = [("crm", v) for v in crm_ids(item)]
        if run_dedupe:
            keys += [
                ("domain", item.get("domain")),
                ("org", item.get("organization_id")),
                ("name", str(item.get("name") or "").strip().lower()),
            ]
        for kind, value in keys:
            holders = self.index.get((kind, value)) if value else None
            if holders:
                return self.accounts[holders[0]]
        return None


def crm_ids(record: dict[str, Any]) -> list[str]:
    values = [record.get(key) for key in CRM_KEYS] + list(record.get("merged_crm_ids") or [])
    return [str(v) for v in values if v]
