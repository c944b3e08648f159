"""Reading HubSpot: changed records by a compound (last-modified, id) cursor that never skips
one, the initial load through the list endpoints, records by id, the archived, and owners.
Merges and deletions come out as events on records (connectors.base.RemoteEvent).

Incremental reads search on the last-modified property (`lastmodifieddate` for contacts,
`hs_lastmodifieddate` for companies) from `cursor - overlap` up to the run's start (`cap`),
sorted by it. A search never pages past 10,000 results (HTTP 400), and paging by offset over a
set that changes while it is read skips records, so every search here is a fresh window: from
the last stamp read up to `cap`, first page only. A page cut off mid-stamp keeps only the stamps
it holds completely and the next window starts at the cut stamp; a single millisecond holding a
whole page (a batch of creates) is read by id (`hs_object_id`) instead. Each window thus stays
far under the cap however many records changed, and costs one call per ≤ 200 records.

Ties in one millisecond and late commits (search is eventually consistent: a record shows up
seconds after its stamp) fall inside the overlap, as for Salesforce: records already seen come
again, harmlessly. A complete read moves the cursor up to at least `cap - overlap`. The overlap
must exceed the search index's lag.

A merged record is new (a new id) and lists the ids it was made from in `hs_merged_object_ids`:
each of those comes out first, as a deleted record with `RemoteEvent("merged")` to the survivor.
Archived records never show in search: `read_deleted` lists them, `read_ids` finds them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from leadbridge.connectors.base import Cursor, Page, RemoteEvent, RemoteRecord
from leadbridge.connectors.hubspot.catalog import MERGED, MODIFIED
from leadbridge.connectors.hubspot.client import BATCH_MAX, SEARCH_PAGE, HubSpotClient

ID = "hs_object_id"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def epoch_ms(value: datetime) -> int:
    return int(utc(value).timestamp() * 1000)


def names_for(object_type: str, fields: Sequence[str]) -> list[str]:
    return list(dict.fromkeys([*fields, MODIFIED[object_type], MERGED]))


def stamp(object_type: str, raw: dict[str, Any]) -> datetime | None:
    props = raw.get("properties") or {}
    return parse_time(props.get(MODIFIED[object_type])) or parse_time(raw.get("updatedAt"))


def records_of(
    object_type: str, raw: dict[str, Any], wanted: set[str] | None = None
) -> list[RemoteRecord]:
    """The record, after one deleted record per id it was merged from (those in `wanted`)."""
    rid = str(raw["id"])
    props = dict(raw.get("properties") or {})
    when = stamp(object_type, raw)
    into = RemoteEvent("merged", ((object_type, rid),))
    losers = [
        RemoteRecord(object_type, old, {}, modified_at=when, deleted=True, event=into)
        for old in dict.fromkeys(str(props.get(MERGED) or "").split(";"))
        if old and old != rid and (wanted is None or old in wanted)
    ]
    return [*losers, RemoteRecord(object_type, rid, props, modified_at=when)]


def archived_record(object_type: str, raw: dict[str, Any]) -> RemoteRecord:
    when = parse_time(raw.get("archivedAt")) or stamp(object_type, raw)
    return RemoteRecord(
        object_type,
        str(raw["id"]),
        dict(raw.get("properties") or {}),
        modified_at=when,
        deleted=True,
        event=RemoteEvent("deleted"),
    )


async def read_changed(
    client: HubSpotClient,
    object_type: str,
    fields: Sequence[str],
    cursor: Cursor,
    cap: datetime,
    overlap: timedelta,
) -> AsyncIterator[Page]:
    cap = utc(cap)
    floor = cap - overlap
    if cursor.modified_at is None:
        # The initial load: every live record through the list endpoint (no search cap, and
        # not eventually consistent); the pages commit no position until it is complete.
        async for records in read_all(client, object_type, fields):
            yield Page(records, Cursor())
        yield Page([], Cursor(floor, None))
        return
    names = names_for(object_type, fields)
    start = utc(cursor.modified_at)
    position = Cursor(start, cursor.last_id)
    async for raws in windows(client, object_type, names, epoch_ms(start - overlap), epoch_ms(cap)):
        page: list[RemoteRecord] = []
        for raw in sorted(raws, key=lambda r: (stamp(object_type, r) or EPOCH, str(r["id"]))):
            found = records_of(object_type, raw)
            page += found
            mine = found[-1]
            if mine.modified_at is not None and position.after(mine.modified_at, mine.id):
                position = Cursor(mine.modified_at, mine.id)
        yield Page(page, position)
    if position.modified_at is None or position.modified_at < floor:
        # A complete read up to `cap` saw everything stamped before `cap - overlap`.
        yield Page([], Cursor(floor, None))


async def windows(
    client: HubSpotClient, object_type: str, names: list[str], low: int, high: int
) -> AsyncIterator[list[dict[str, Any]]]:
    """Records stamped in [low, high] ms, a window (one search call) at a time."""
    modified = MODIFIED[object_type]
    while low <= high:
        body = await client.search(
            object_type,
            {
                "filterGroups": [
                    {
                        "filters": [
                            {"propertyName": modified, "operator": "GTE", "value": str(low)},
                            {"propertyName": modified, "operator": "LTE", "value": str(high)},
                        ]
                    }
                ],
                "sorts": [{"propertyName": modified, "direction": "ASCENDING"}],
                "properties": names,
                "limit": SEARCH_PAGE,
            },
        )
        results = list(body.get("results") or [])
        if not ((body.get("paging") or {}).get("next")) or len(results) < SEARCH_PAGE:
            yield results
            return
        stamps = [epoch_ms(s) for r in results if (s := stamp(object_type, r)) is not None]
        first, last = min(stamps), max(stamps)
        if first == last:  # one millisecond fills the page: read that millisecond by id
            async for tied in _one_millisecond(client, object_type, names, last):
                yield tied
            low = last + 1
        else:
            yield [r for r in results if (s := stamp(object_type, r)) and epoch_ms(s) < last]
            low = last


async def _one_millisecond(
    client: HubSpotClient, object_type: str, names: list[str], ms: int
) -> AsyncIterator[list[dict[str, Any]]]:
    modified, after = MODIFIED[object_type], "0"
    while True:
        body = await client.search(
            object_type,
            {
                "filterGroups": [
                    {
                        "filters": [
                            {"propertyName": modified, "operator": "EQ", "value": str(ms)},
                            {"propertyName": ID, "operator": "GT", "value": after},
                        ]
                    }
                ],
                "sorts": [{"propertyName": ID, "direction": "ASCENDING"}],
                "properties": names,
                "limit": SEARCH_PAGE,
            },
        )
        results = list(body.get("results") or [])
        yield results
        if not ((body.get("paging") or {}).get("next")) or len(results) < SEARCH_PAGE:
            return
        after = str(max(int(r["id"]) for r in results))


async def read_all(
    client: HubSpotClient, object_type: str, fields: Sequence[str], archived: bool = False
) -> AsyncIterator[list[RemoteRecord]]:
    """Every live (or archived) record, 100 a page, in id order."""
    names = names_for(object_type, fields)
    after: str | None = None
    while True:
        body = await client.list_page(object_type, names, after, archived=archived)
        raws = list(body.get("results") or [])
        if archived:
            yield [archived_record(object_type, r) for r in raws]
        else:
            yield [rec for r in raws for rec in records_of(object_type, r)]
        after = ((body.get("paging") or {}).get("next") or {}).get("after")
        if not after:
            return


async def read_ids(
    client: HubSpotClient, object_type: str, fields: Sequence[str], ids: Sequence[str]
) -> list[RemoteRecord]:
    """The records as they are now, 100 ids a call. A merged-away id comes back as a deleted
    record with the "merged" event, followed by the merged record; an archived one as deleted
    (one more call, only when some are missing); a GDPR-deleted one is left out."""
    names = names_for(object_type, fields)
    unique = list(dict.fromkeys(str(i) for i in ids))
    out: list[RemoteRecord] = []
    for start in range(0, len(unique), BATCH_MAX):
        chunk = unique[start : start + BATCH_MAX]
        wanted = set(chunk)
        body, _ = await client.batch(
            object_type, "read", [{"id": i} for i in chunk], resend=True, properties=names
        )
        seen: set[str] = set()
        for raw in body.get("results") or []:
            found = records_of(object_type, raw, wanted)
            out += found
            seen |= {r.id for r in found}
        missing = [i for i in chunk if i not in seen]
        if missing:
            gone, _ = await client.batch(
                object_type,
                "read",
                [{"id": i} for i in missing],
                resend=True,
                params={"archived": "true"},
                properties=names,
            )
            out += [archived_record(object_type, r) for r in gone.get("results") or []]
    return out


async def read_deleted(
    client: HubSpotClient, object_type: str, since: datetime
) -> list[RemoteRecord]:
    """Records archived since `since` (the recycle bin, listed in full: the API filters no
    further). GDPR deletes leave nothing to list."""
    since = utc(since)
    out: list[RemoteRecord] = []
    async for records in read_all(client, object_type, [], archived=True):
        out += [r for r in records if r.modified_at is None or r.modified_at >= since]
    return out


def owner_record(raw: dict[str, Any]) -> RemoteRecord:
    fields = {
        "email": raw.get("email"),
        "firstName": raw.get("firstName"),
        "lastName": raw.get("lastName"),
        "active": not raw.get("archived", False),
        "userId": raw.get("userIdIncludingInactive") or raw.get("userId"),
    }
    when = parse_time(raw.get("updatedAt"))
    return RemoteRecord("owners", str(raw["id"]), fields, modified_at=when)


async def read_owners(client: HubSpotClient) -> list[RemoteRecord]:
    """Every owner, deactivated ones (archived) included, as `active` False."""
    raws = await client.owners(archived=False) + await client.owners(archived=True)
    return [owner_record(r) for r in raws]
