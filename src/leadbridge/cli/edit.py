"""`leadbridge edit person|company KEY field=value…`: one record's fields set by hand, through
the hub's one write path (the change is stamped and reaches the CRMs like an import's)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from leadbridge.cli.app import edit_app
from leadbridge.cli.context import Context, console, friendly
from leadbridge.cli.hub import lead_stages

Changes = Annotated[list[str], typer.Argument(help="field=value (an empty value clears it)")]
TagOpt = Annotated[list[str] | None, typer.Option("--tag", help="add this tag (repeatable)")]
UntagOpt = Annotated[list[str] | None, typer.Option("--untag", help="remove this tag (repeatable)")]


def _pairs(changes: list[str]) -> list[tuple[str, str]]:
    from leadbridge.hub.edits import EditError

    out = []
    for change in changes:
        name, sep, value = change.partition("=")
        if not sep or not name.strip():
            raise EditError(f"{change!r} is not field=value")
        out.append((name.strip().lower(), value.strip()))
    return out


def _show(kind: str, record_id: int, before: dict[str, Any], after: dict[str, Any]) -> None:
    if not before:
        console.print(f"{kind} {record_id}: nothing changed")
    for name in before:
        console.print(f"{kind} {record_id}: {name} {before[name]!r} → {after[name]!r}")


@edit_app.command("person")
@friendly
def edit_person(
    key: Annotated[str, typer.Argument(help="the person's e-mail or hub id")],
    changes: Annotated[
        list[str] | None, typer.Argument(help="field=value (an empty value clears it)")
    ] = None,
    tag: TagOpt = None,
    untag: UntagOpt = None,
) -> None:
    """Set a person's fields: first_name, last_name, email, email_status, title, phone,
    mobile_phone, company (domain or name), stage, lead_status, owner (a hub user's e-mail),
    source, tags (`;`-separated: all of them), custom.<name>; add and remove single tags
    with --tag / --untag."""
    from leadbridge.hub.edits import EditError, edit, get_field
    from leadbridge.hub.people import find_person, person_changes
    from leadbridge.hub.tags import normalize_tags

    pairs = _pairs(changes or [])
    if not pairs and not tag and not untag:
        raise EditError("nothing to change: give field=value, --tag or --untag")
    ctx = Context()
    ws = ctx.hub.workspace_id
    with ctx.hub.session() as s:
        person = find_person(s, ws, key)
        if person is None:
            raise EditError(f"no person {key!r} in the hub (an e-mail or a hub id)")
        values = person_changes(s, ws, pairs)
        if tag or untag:
            current = values.get("tags", get_field(person, "tags"))
            dropped = set(normalize_tags(untag or []))
            kept = [t for t in current if t not in dropped]
            values["tags"] = [*kept, *normalize_tags(tag or [])]
        before = {k: get_field(person, k) for k in values}
        changed = edit(s, person, values, origin="user")
        _show(
            "person",
            person.id,
            {k: before[k] for k in changed},
            {k: get_field(person, k) for k in changed},
        )


@edit_app.command("company")
@friendly
def edit_company(
    key: Annotated[str, typer.Argument(help="the company's domain, name or hub id")],
    changes: Changes,
) -> None:
    """Set a company's fields: name, domain, website, industry, employee_count, icp_fit, stage,
    account_stage, is_customer, is_lead, quarantine, owner (a hub user's e-mail),
    custom.<name>."""
    from leadbridge.hub.edits import EditError, edit, get_field
    from leadbridge.hub.people import company_changes, find_company

    pairs = _pairs(changes)
    ctx = Context()
    stages = lead_stages(ctx)
    with ctx.hub.session() as s:
        company = find_company(s, ctx.hub.workspace_id, key)
        if company is None:
            raise EditError(f"no company {key!r} in the hub (a domain, a name or a hub id)")
        values = company_changes(s, ctx.hub.workspace_id, pairs, stages)
        before = {k: get_field(company, k) for k in values}
        changed = edit(s, company, values, origin="user")
        _show(
            "company",
            company.id,
            {k: before[k] for k in changed},
            {k: get_field(company, k) for k in changed},
        )
