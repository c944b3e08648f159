"""The org's users: made by the sandbox (the integration user, seeded reps, the admin surface's
stand-in rep), never through the API (User is not deletable; deactivate with IsActive)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from leadbridge.sandbox.salesforce.org import Org


def add_user(org: Org, email: str, first: str, last: str, *, active: bool = True) -> str:
    with org.lock:
        uid = org.new_id("User")
        now = org.now()
        org.remember("User", uid)
        org.records["User"][uid] = {
            "Id": uid,
            "IsDeleted": False,
            "CreatedDate": now,
            "CreatedById": uid,
            "LastModifiedDate": now,
            "LastModifiedById": uid,
            "SystemModstamp": now,
            "Username": email,
            "Email": email,
            "FirstName": first,
            "LastName": last,
            "Name": f"{first} {last}",
            "Alias": (first[:1] + last[:4]).lower(),
            "IsActive": active,
        }
        return uid


def ensure_user(org: Org, email: str, first: str, last: str) -> str:
    """The active user with this username, made once."""
    with org.lock:
        for user in org.records["User"].values():
            if user["Username"].lower() == email.lower() and user.get("IsActive", True):
                return str(user["Id"])
        return add_user(org, email, first, last)
