"""`leadbridge delete person|company KEY` and `leadbridge merge person|company KEEP OTHER`: hub
records deleted (a tombstone) or merged by hand, through the hub's write path (hub.removal).

What reaches the CRMs is the push's: a deleted record's CRM record is deleted where the policy's
deletion sync is on for its kind, else only unlinked; a merge keeps KEEP's links and unlinks
OTHER's, and the CRM keeps both records (merge them there if they are one)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from leadbridge.cli.app import delete_app, merge_app
from leadbridge.cli.context import Context, console, friendly

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from leadbridge.hub.tables import Company, Person

PersonKey = Annotated[str, typer.Argument(help="the person's e-mail or hub id")]
CompanyKey = Annotated[str, typer.Argument(help="the company's domain, name or hub id")]


def _person(ctx: Context, s: Session, key: str) -> Person:
    from leadbridge.hub.edits import EditError
    from leadbridge.hub.people import find_person

    found = find_person(s, ctx.hub.workspace_id, key)
    if found is None:
        raise EditError(f"no person {key!r} in the hub (an e-mail or a hub id)")
    return found


def _company(ctx: Context, s: Session, key: str) -> Company:
    from leadbridge.hub.edits import EditError
    from leadbridge.hub.people import find_company

    found = find_company(s, ctx.hub.workspace_id, key)
    if found is None:
        raise EditError(f"no company {key!r} in the hub (a domain, a name or a hub id)")
    return found


NEXT = "the next push deletes it in the CRMs whose deletion sync is on, else unlinks it"


@delete_app.command("person")
@friendly
def delete_person(key: PersonKey) -> None:
    """Delete a person: kept as a tombstone, left out of plans, pushes, lists and the audit."""
    from leadbridge.hub.removal import delete_record

    ctx = Context()
    with ctx.hub.session() as s:
        person = _person(ctx, s, key)
        if not delete_record(s, person, origin="user"):
            console.print(f"person {person.id} is deleted already")
            return
        console.print(f"person {person.id} deleted; {NEXT}")


@delete_app.command("company")
@friendly
def delete_company(key: CompanyKey) -> None:
    """Delete a company: kept as a tombstone (its people stay, without it in plans)."""
    from leadbridge.hub.removal import delete_record

    ctx = Context()
    with ctx.hub.session() as s:
        company = _company(ctx, s, key)
        if not delete_record(s, company, origin="user"):
            console.print(f"company {company.id} is deleted already")
            return
        console.print(f"company {company.id} deleted; {NEXT}")


def _merged(kind: str, keep: int, other: int, taken: dict[str, object]) -> None:
    filled = f" (took {', '.join(sorted(taken))})" if taken else ""
    console.print(
        f"{kind} {other} merged into {kind} {keep}{filled}; {kind} {other}'s CRM records are "
        "unlinked, the CRMs keep them: merge them there if they are one"
    )


@merge_app.command("person")
@friendly
def merge_people(keep: PersonKey, other: PersonKey) -> None:
    """Merge OTHER into KEEP: KEEP keeps its links (and takes OTHER's values where it has
    none), OTHER is unlinked and deleted."""
    from leadbridge.hub.removal import merge_records

    ctx = Context()
    with ctx.hub.session() as s:
        kept, gone = _person(ctx, s, keep), _person(ctx, s, other)
        taken = merge_records(s, kept, gone, origin="user")
        _merged("person", kept.id, gone.id, taken)


@merge_app.command("company")
@friendly
def merge_companies(keep: CompanyKey, other: CompanyKey) -> None:
    """Merge OTHER into KEEP: OTHER's people move to KEEP, OTHER is unlinked and deleted."""
    from leadbridge.hub.removal import merge_records

    ctx = Context()
    with ctx.hub.session() as s:
        kept, gone = _company(ctx, s, keep), _company(ctx, s, other)
        taken = merge_records(s, kept, gone, origin="user")
        _merged("company", kept.id, gone.id, taken)
