"""Reads through the HubSpot connector: windowed searches past the 10,000 cap with ties in one
millisecond, late records (search's eventual consistency), merges and archives as events,
owners, and the initial load through the list endpoint."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from leadbridge.connectors.base import Cursor
from leadbridge.sandbox.hubspot import HubSpotSandbox

from .conftest import Clock, Portal, collect

SEARCH = "POST /crm/v3/objects/{object_type}/search"
LIST = "GET /crm/v3/objects/{object_type}"
FIELDS = ["email", "lastname", "associatedcompanyid"]


def at(clock: Clock) -> datetime:
    return datetime.fromtimestamp(clock.now, UTC)


def make(sb: HubSpotSandbox, count: int, prefix: str) -> list[str]:
    return [
        sb.console.create("contacts", {"email": f"{prefix}{i}@t.example", "lastname": prefix}).id
        for i in range(count)
    ]


async def test_windows_read_past_the_cap_with_ties_in_one_millisecond(
    frozen: tuple[Portal, Clock],
) -> None:
    portal, clock = frozen
    sb = portal.sandbox
    start = at(clock)
    made = make(sb, 10_300, "tie")  # one millisecond: far past one search's 10,000 cap
    clock.now += 0.5
    made += make(sb, 450, "second")  # a tie across page boundaries
    for i in range(5):
        clock.now += 0.001
        made += make(sb, 1, f"single{i}")
    for size in (150, 120, 90):  # a page cut inside a millisecond: that one is read again
        clock.now += 0.002
        made += make(sb, size, f"group{size}")
    clock.now += 1
    hs = portal.connector(search_per_second=100_000, overlap=timedelta(seconds=5))
    records, cursor = await collect(
        hs.read_changed("contacts", FIELDS, Cursor(start - timedelta(minutes=1)), at(clock))
    )
    ids = [r.id for r in records]
    assert len(ids) == len(set(ids)) == len(made) and set(ids) == set(made)
    assert [r.modified_at for r in records] == sorted(r.modified_at for r in records)
    assert cursor == Cursor(records[-1].modified_at, records[-1].id)
    searches = portal.calls(SEARCH)
    assert searches <= math.ceil(len(made) / 200) + 5  # a tie costs a call or two, not a re-read
    assert sb.knobs.search_lag == 0.0
    await hs.aclose()


async def test_late_records_fall_inside_the_overlap_and_a_quiet_portal_catches_up(
    frozen: tuple[Portal, Clock],
) -> None:
    portal, clock = frozen
    sb = portal.sandbox
    hs = portal.connector(search_per_second=100_000, overlap=timedelta(seconds=5))
    burst = make(sb, 250, "burst")
    clock.now += 1
    first, cursor = await collect(hs.read_changed("contacts", FIELDS, Cursor(), at(clock)))
    assert {r.id for r in first} == set(burst)  # the initial load: the list endpoint
    assert portal.calls(LIST) == 3 and portal.calls(SEARCH) == 0
    assert cursor == Cursor(at(clock) - hs.overlap, None)

    # Search is eventually consistent: a record written now shows up 3 s later.
    sb.knobs.search_lag = 3.0
    clock.now += 10
    late = make(sb, 1, "late")[0]
    clock.now += 1
    second, cursor2 = await collect(hs.read_changed("contacts", FIELDS, cursor, at(clock)))
    assert late not in {r.id for r in second}  # not searchable yet
    clock.now += 4
    fresh = make(sb, 1, "fresh")[0]
    clock.now += 3.5
    third, cursor3 = await collect(hs.read_changed("contacts", FIELDS, cursor2, at(clock)))
    assert {late, fresh} <= {r.id for r in third}  # the overlap re-read found the late one

    # A quiet hour later the cursor catches up to the run's start less the overlap: the burst
    # is not read again, and nothing changed since is missed.
    sb.knobs.search_lag = 0.0
    clock.now += 3600
    _, cursor4 = await collect(hs.read_changed("contacts", FIELDS, cursor3, at(clock)))
    assert cursor4 == Cursor(at(clock) - hs.overlap, None)
    clock.now += 60
    edited = burst[7]
    sb.console.update("contacts", edited, {"lastname": "Edited"})
    clock.now += 1
    fourth, _ = await collect(hs.read_changed("contacts", FIELDS, cursor4, at(clock)))
    assert [(r.id, r.fields["lastname"]) for r in fourth] == [(edited, "Edited")]
    await hs.aclose()


async def test_merges_and_archives_come_out_as_events(frozen: tuple[Portal, Clock]) -> None:
    portal, clock = frozen
    sb = portal.sandbox
    hs = portal.connector(search_per_second=100_000, overlap=timedelta(seconds=5))
    company = sb.console.create("companies", {"name": "M", "domain": "m.example"})
    one = sb.console.create("contacts", {"email": "one@m.example", "lastname": "One"})
    two = sb.console.create("contacts", {"email": "two@m.example", "lastname": "Two"})
    gone = sb.console.create("contacts", {"email": "gone@m.example", "lastname": "Gone"})
    sb.console.associate("contacts", two.id, "companies", company.id, 1)
    cursor = Cursor(at(clock) - timedelta(seconds=1))
    clock.now += 2
    merged = sb.console.merge("contacts", one.id, two.id)
    sb.console.archive("contacts", gone.id)
    clock.now += 1
    records, _ = await collect(hs.read_changed("contacts", FIELDS, cursor, at(clock)))
    events = [(r.id, r.deleted, r.event.kind if r.event else None) for r in records]
    assert events[:2] == [(one.id, True, "merged"), (two.id, True, "merged")]
    assert records[0].event is not None and records[0].event.target("contacts") == merged.id
    assert (records[2].id, records[2].fields["associatedcompanyid"]) == (merged.id, company.id)
    assert gone.id not in {r.id for r in records}  # search never shows archived records

    by_id = await hs.read_ids("contacts", FIELDS, [two.id, gone.id, "1"])
    shown = {(r.id, r.deleted, r.event.kind if r.event else None) for r in by_id}
    assert shown == {(two.id, True, "merged"), (merged.id, False, None), (gone.id, True, "deleted")}
    deleted = await hs.read_deleted("contacts", at(clock) - timedelta(minutes=1))
    assert [(r.id, r.event.kind if r.event else None) for r in deleted] == [(gone.id, "deleted")]
    await hs.aclose()


async def test_owners_archived_ones_included(portal: Portal) -> None:
    sb = portal.sandbox
    left = sb.add_owner("left@portal.example", "Left", "Rep", archived=True)
    hs = portal.connector()
    records, cursor = await collect(
        hs.read_changed("owners", ["email"], Cursor(), datetime.now(UTC))
    )
    people = {r.fields["email"]: r for r in records}
    assert people["ann.rep@portal.example"].fields["active"] is True
    assert people["left@portal.example"].fields["active"] is False
    assert people["left@portal.example"].fields["firstName"] == "Left"
    assert cursor is not None and cursor.modified_at is not None
    (found,) = await hs.read_ids("owners", ["email"], [left["id"]])
    assert found.fields["lastName"] == "Rep"
    schema = await hs.schema("owners")
    assert not any(f.writable for f in schema.fields.values())
    await hs.aclose()


async def test_schema_from_the_properties_api(portal: Portal) -> None:
    hs = portal.connector()
    contacts = await hs.schema("contacts")
    stage = contacts.field("lifecyclestage")
    assert stage is not None and stage.restricted and "customer" in stage.options
    created = contacts.field("createdate")
    assert created is not None and not created.writable
    assert contacts.field("email").type == "email"  # type: ignore[union-attr]
    owner = contacts.field("hubspot_owner_id")
    assert owner is not None and owner.options == tuple(
        o["id"] for o in portal.sandbox.owners(archived=False)
    )
    await hs.schema("contacts")
    assert portal.calls("GET /crm/v3/properties/{object_type}") == 1  # cached
    await hs.aclose()
