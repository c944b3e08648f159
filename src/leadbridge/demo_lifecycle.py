"""The demo's act on a record's life after the first sync, on Salesforce: a contact deleted in the
org is pulled as `remote_deleted` (no push makes it again); a hub person with the name of an org
contact at its company but another e-mail is held by the duplicate guard as a possible duplicate,
then forced with `push E-MAIL --allow-duplicate`; and `merge person` makes the two one hub record
while the org keeps both."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from leadbridge.demo_tour import Tour, TourFailed
from leadbridge.hub.db import Hub
from leadbridge.hub.tables import Person, RecordLink
from leadbridge.sandbox.salesforce import SalesforceSandbox


@dataclass
class LifecycleDemo:
    deleted: str  # the contact deleted in Salesforce
    deleted_link: str | None  # its hub link's status after the pull
    recreated: bool  # whether a push made it again (it must not)
    held: bool  # the plan held the look-alike as a possible duplicate
    forced: str | None  # the Salesforce record `push --allow-duplicate` made
    merged_into: int | None  # the look-alike's hub tombstone names the person it went into
    crm_kept_both: bool  # the org still holds both records after the merge


def _live(sandbox: SalesforceSandbox, email: str) -> list[str]:
    return [
        f"{sobject} {row['Id']}"
        for sobject in ("Contact", "Lead")
        for row in sandbox.org.rows(sobject)
        if not row.get("IsDeleted") and str(row.get("Email") or "").lower() == email.lower()
    ]


def _plain_contacts(sandbox: SalesforceSandbox) -> list[dict[str, Any]]:
    """Org contacts at an account whose e-mail no other record has (not a seeded duplicate)."""
    seen: dict[str, int] = {}
    for sobject in ("Contact", "Lead"):
        for row in sandbox.org.rows(sobject):
            email = str(row.get("Email") or "").lower()
            seen[email] = seen.get(email, 0) + 1
    return [
        row
        for row in sandbox.org.rows("Contact")
        if not row.get("IsDeleted")
        and row.get("AccountId")
        and row.get("FirstName")
        and seen.get(str(row.get("Email") or "").lower()) == 1
    ]


def _link_status(hub: Hub, email: str) -> str | None:
    with hub.session() as s:
        return s.scalar(
            select(RecordLink.status)
            .join(Person, Person.id == RecordLink.hub_id)
            .where(RecordLink.hub_object == "person", Person.email == email)
        )


def _merged_into(hub: Hub, email: str) -> int | None:
    with hub.session() as s:
        return s.scalar(select(Person.merged_into).where(Person.email == email))


def run_lifecycle_demo(hub: Hub, sandbox: SalesforceSandbox, tour: Tour) -> LifecycleDemo:
    victim, twin = _plain_contacts(sandbox)[:2]
    gone = str(victim["Email"])
    tour.note(f"a rep deletes the contact {gone} in Salesforce (deletion sync is off by default)")
    assert sandbox.org.delete("Contact", str(victim["Id"])).success
    tour.run("pull", "--sync", "salesforce", lines=2)
    status = tour.run("status", lines=0)
    if "remote_deleted" not in status:
        raise TourFailed(f"`leadbridge status` does not count the deleted link:\n{status}")
    tour.show_rows(status, "remote_deleted")
    tour.run("explain", gone, lines=3)
    tour.run("push", "--sync", "salesforce", lines=2)
    deleted_link = _link_status(hub, gone)
    recreated = bool(_live(sandbox, gone))
    tour.note(f"the hub keeps {gone}, linked as {deleted_link}; the push did not make it again")

    domain = str(twin["Email"]).split("@", 1)[1]
    first, last = str(twin["FirstName"]), str(twin["LastName"])
    look_alike = f"{first[0]}.{last}@{domain}".lower().replace(" ", "")
    (tour.workdir / "look-alike.csv").write_text(
        f"email,email_status,first_name,last_name,company_domain\n"
        f"{look_alike},verified,{first},{last},{domain}\n",
        encoding="utf-8",
    )
    tour.note(
        f"the hub gets {first} {last} at {domain} under another e-mail ({look_alike}) than the "
        f"org's contact ({twin['Email']})"
    )
    tour.run("import", "people", "look-alike.csv", lines=1)
    planned = tour.run("plan", "salesforce", lines=0)
    tour.show_rows(planned, "possible duplicate of")
    held = f"possible duplicate of Salesforce contact {twin['Id']}" in planned
    tour.note("a rep checks: it is another person after all, so the push is forced")
    tour.run("push", look_alike, "--allow-duplicate", lines=2)
    made = _live(sandbox, look_alike)
    tour.note(f"Salesforce now holds {', '.join(made) or 'nothing'} for {look_alike}")

    tour.note("...and then finds it is the same person: merged in the hub")
    tour.run("merge", "person", str(twin["Email"]), look_alike, lines=2)
    tour.run("push", "--sync", "salesforce", lines=2)
    kept_both = bool(_live(sandbox, str(twin["Email"]))) and bool(_live(sandbox, look_alike))
    tour.note("the org keeps both records (merge them there too); the hub has one person")
    return LifecycleDemo(
        deleted=gone,
        deleted_link=deleted_link,
        recreated=recreated,
        held=held,
        forced=made[0] if made else None,
        merged_into=_merged_into(hub, look_alike),
        crm_kept_both=kept_both,
    )
