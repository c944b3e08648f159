"""The Salesforce connector against the sandbox over HTTPS: what the org holds afterwards, and
what the connector did or did not send."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from leadbridge.connectors.base import Cursor
from leadbridge.connectors.errors import (
    AuthError,
    BudgetExhaustedError,
    PermanentError,
    RateLimitedError,
    TransientError,
)
from leadbridge.connectors.http import Budget, RetryPolicy
from leadbridge.connectors.oauth import OAuthSession, RefreshingAuth
from leadbridge.connectors.salesforce import (
    SalesforceClient,
    SalesforceConnector,
    is_invalid_session,
)
from leadbridge.connectors.salesforce import oauth as sf_oauth

from ..salesforce_oauth import oauth_token_body
from .conftest import ServedOrg

FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.02, max_rate_limit_wait=1)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC).timestamp()

    def __call__(self) -> float:
        return self.now


def connect(
    org: ServedOrg, budget: Budget | None = None
) -> tuple[SalesforceConnector, OAuthSession]:
    """The web-server flow with PKCE, then a client that refreshes on INVALID_SESSION_ID."""
    body, client_id, secret = oauth_token_body(org.sandbox, org.url, str(org.ca))
    ctx = ssl.create_default_context(cafile=str(org.ca))
    tokens = sf_oauth.tokens_from(body)

    async def refresh(current):  # type: ignore[no-untyped-def]
        return await sf_oauth.refresh(org.url, client_id, secret, current, verify=ctx)

    session = OAuthSession(tokens, refresh)
    client = SalesforceClient(
        tokens.get("instance_url") or org.url,
        auth=RefreshingAuth(session, is_invalid_session),
        verify=ctx,
        budget=budget or Budget(ceiling=1.0),
        policy=FAST,
    )
    return SalesforceConnector(client, overlap=timedelta(seconds=5)), session


async def collect(pages: AsyncIterator) -> tuple[list, Cursor | None]:  # type: ignore[type-arg]
    records, cursor = [], None
    async for page in pages:
        records.extend(page.records)
        cursor = page.cursor
    return records, cursor


async def test_writes_one_result_per_record_and_one_bad_record_fails_alone(
    sf_org: ServedOrg,
) -> None:
    sf, _ = connect(sf_org)
    rows = [(i, {"LastName": f"C{i}", "Email": f"c{i}@x.io"}) for i in range(200)]
    rows[57] = (57, {"LastName": "x" * 81})  # too long: caught before sending
    rows[99] = (99, {"LastName": "Dup", "AccountId": "001000000000000AAA"})  # the org refuses it
    results = await sf.write("Contact", "create", rows)
    assert [r.ref for r in results] == list(range(200))
    assert [i for i, r in enumerate(results) if not r.ok] == [57, 99]
    assert results[57].error.code == "STRING_TOO_LONG"  # type: ignore[union-attr]
    assert isinstance(results[99].error, PermanentError) and results[99].error.field == "AccountId"
    assert len([r for r in sf_org.sandbox.org.rows("Contact")]) == 198
    assert sf.client.calls.by_route == {
        "GET /services/data/v59.0/sobjects/Contact/describe/": 1,
        "POST /services/data/v59.0/composite/sobjects/": 1,
    }
    await sf.client.aclose()


async def test_restricted_picklist_is_rejected_before_sending(sf_org: ServedOrg) -> None:
    sf_org.sandbox.org.restrict_picklist("Lead", "LeadSource")
    sf, _ = connect(sf_org)
    await sf.client.describe("Lead")
    before = sf_org.sandbox.org.api_usage
    (result,) = await sf.write(
        "Lead", "create", [("r1", {"LastName": "A", "Company": "B", "LeadSource": "Fax"})]
    )
    assert (
        result.error is not None and result.error.code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"
    )
    assert "allowed values: Web, Phone Inquiry" in (result.error.hint or "")
    assert sf_org.sandbox.org.api_usage == before and sf_org.sandbox.org.rows("Lead") == []
    await sf.client.aclose()


async def test_locked_rows_are_retried_until_written(sf_org: ServedOrg) -> None:
    sf, _ = connect(sf_org)
    sf_org.sandbox.knobs.lock_row_rate = 0.2
    results = await sf.write("Account", "create", [(i, {"Name": f"A{i}"}) for i in range(60)])
    sf_org.sandbox.knobs.lock_row_rate = 0.0
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    assert sorted(r["Name"] for r in sf_org.sandbox.org.rows("Account")) == sorted(
        f"A{i}" for i in range(60)
    )
    await sf.client.aclose()


async def test_update_upsert_and_delete(sf_org: ServedOrg) -> None:
    org = sf_org.sandbox.org
    org.add_custom_field("Contact", "Hub_Id__c", external_id=True, unique=True)
    sf, _ = connect(sf_org)
    made = await sf.write(
        "Contact",
        "upsert",
        [(1, {"Hub_Id__c": "h1", "LastName": "One"}), (2, {"Hub_Id__c": "h2", "LastName": "Two"})],
        ext_id="Hub_Id__c",
    )
    assert [r.created for r in made] == [True, True]
    again = await sf.write(
        "Contact", "upsert", [(1, {"Hub_Id__c": "h1", "LastName": "Uno"})], ext_id="Hub_Id__c"
    )
    assert again[0].ok and not again[0].created
    await sf.write("Contact", "update", [(2, {"Id": made[1].remote_id, "Title": "CTO"})])
    gone = await sf.write("Contact", "delete", [(1, {"Id": made[0].remote_id})])
    assert gone[0].ok
    rows = {r["Hub_Id__c"]: r for r in org.rows("Contact")}
    assert rows["h1"]["LastName"] == "Uno" and rows["h1"]["IsDeleted"]
    assert rows["h2"]["Title"] == "CTO"
    deleted = await sf.read_deleted("Contact", datetime.now(UTC) - timedelta(hours=1))
    assert [d.id for d in deleted] == [made[0].remote_id]
    await sf.client.aclose()


async def test_reads_page_through_ties_and_catch_late_commits() -> None:
    from leadbridge.sandbox.salesforce import SalesforceSandbox
    from leadbridge.sandbox.server import ServedApp

    from .conftest import ServedOrg as Served

    clock = Clock()
    sb = SalesforceSandbox(seed=9, clock=clock)
    sb.knobs.query_batch_size = 200
    cert, key, ca = sb.tls_files()
    with ServedApp(sb.app, ssl_certfile=cert, ssl_keyfile=key) as served:
        sb.set_base_url(served.url)
        sf, _ = connect(Served(sb, served.url, ca))
        for i in range(250):  # 250 records in one millisecond: a tie across a page boundary
            sb.org.create("Contact", {"LastName": f"T{i}"})
        clock.now += 1
        cap = datetime.fromtimestamp(clock.now, UTC)
        first, cursor = await collect(sf.read_changed("Contact", ["LastName"], Cursor(), cap))
        assert len(first) == 250 and len({r.id for r in first}) == 250
        assert cursor is not None and cursor.modified_at is not None

        # A transaction stamped 2 s ago commits only now (late), plus a fresh change.
        clock.now -= 2
        late = sb.org.create("Contact", {"LastName": "Late"}).id
        clock.now += 4
        fresh = sb.org.create("Contact", {"LastName": "Fresh"}).id
        cap2 = datetime.fromtimestamp(clock.now, UTC)
        second, cursor2 = await collect(sf.read_changed("Contact", ["LastName"], cursor, cap2))
        assert {late, fresh} <= {r.id for r in second}

        # A quiet hour later the cursor catches up to the run's start less the overlap: the
        # burst of 250 is not read again, and nothing changed since is missed.
        clock.now += 3600
        quiet = datetime.fromtimestamp(clock.now, UTC)
        _, cursor3 = await collect(sf.read_changed("Contact", ["LastName"], cursor2, quiet))
        assert cursor3 is not None and cursor3.modified_at == quiet - sf.overlap
        clock.now += 60
        edited = sb.org.create("Contact", {"LastName": "Later"}).id
        clock.now += 1
        later = datetime.fromtimestamp(clock.now, UTC)
        fourth, _ = await collect(sf.read_changed("Contact", ["LastName"], cursor3, later))
        assert [r.id for r in fourth] == [edited]
        await sf.client.aclose()


async def test_token_expiry_mid_run_refreshes_once_and_goes_on(sf_org: ServedOrg) -> None:
    sf, session = connect(sf_org)
    sf_org.sandbox.knobs.session_expiry_calls = 3
    for i in range(4):
        results = await sf.write("Account", "create", [(i, {"Name": f"N{i}"})])
        assert results[0].ok
    assert session.refreshes >= 1
    assert len(sf_org.sandbox.org.rows("Account")) == 4
    sf_org.sandbox.oauth.refresh.clear()  # the refresh token is revoked: reconnect needed
    sf_org.sandbox.knobs.session_expiry_calls = 1
    with pytest.raises(AuthError, match="reconnect"):
        for _ in range(3):
            await sf.write("Account", "create", [(9, {"Name": "X"})])
    await sf.client.aclose()


async def test_budget_ceiling_stops_before_the_org_does(sf_org: ServedOrg) -> None:
    org = sf_org.sandbox.org
    org.daily_limit, org.api_usage = 100, 70
    sf, _ = connect(sf_org, budget=Budget(ceiling=0.75))
    with pytest.raises(BudgetExhaustedError, match="ceiling"):
        for i in range(10):
            await sf.write("Account", "create", [(i, {"Name": f"B{i}"})])
    assert org.api_usage == 75  # stopped at our ceiling, far from the org's own limit
    await sf.client.aclose()


async def test_daily_limit_and_outages_are_typed(sf_org: ServedOrg) -> None:
    org = sf_org.sandbox.org
    sf, _ = connect(sf_org)
    org.daily_limit, org.api_usage = 10, 10
    with pytest.raises(RateLimitedError) as info:
        await sf.client.limits()
    assert info.value.retry_after and info.value.retry_after >= 3600
    with pytest.raises(BudgetExhaustedError):  # the client now knows the day is spent
        await sf.client.limits()
    await sf.client.aclose()
    org.daily_limit = 15000
    sf, _ = connect(sf_org)
    sf_org.sandbox.knobs.error_rate_5xx = 1.0
    with pytest.raises(TransientError):
        await sf.client.limits()
    assert sf.client.calls.by_route["GET /services/data/v59.0/limits/"] == FAST.max_attempts
    await sf.client.aclose()


async def test_large_writes_go_through_bulk_with_one_result_per_record(sf_org: ServedOrg) -> None:
    sf, _ = connect(sf_org)
    sf.bulk_threshold = 100
    rows = [
        (i, {"LastName": f"B{i:04d}", "Email": f"b{i}@x.io", "Title": None}) for i in range(500)
    ]
    rows[13] = (
        13,
        {"LastName": "Dup", "Email": "b13@x.io", "AccountId": "001000000000000AAA", "Title": None},
    )  # passes our checks, refused by the org
    results = await sf.write("Contact", "create", rows)
    assert [r.ref for r in results] == list(range(500))
    assert [i for i, r in enumerate(results) if not r.ok] == [13]
    assert results[13].error is not None and results[13].error.code == "INVALID_CROSS_REFERENCE_KEY"
    org = sf_org.sandbox.org
    assert len(org.rows("Contact")) == 499
    assert {r["Id"] for r in org.rows("Contact")} == {r.remote_id for r in results if r.ok}
    routes = sf.client.calls.by_route
    assert not any("composite" in route for route in routes)  # no collections: one ingest job
    assert routes["POST /services/data/v59.0/jobs/ingest/"] == 1

    loaded = [r async for page in sf.read_all("Contact", ["LastName", "Email"]) for r in page]
    assert len(loaded) == 499 and {r.fields["LastName"] for r in loaded} >= {"B0000", "B0499"}
    await sf.client.aclose()


async def test_a_concurrency_burst_is_waited_out_not_failed(sf_org: ServedOrg) -> None:
    sf, _ = connect(sf_org)
    sf_org.sandbox.knobs.concurrency_burst = 2
    results = await sf.write("Account", "create", [(1, {"Name": "After the burst"})])
    assert results[0].ok and [r["Name"] for r in sf_org.sandbox.org.rows("Account")] == [
        "After the burst"
    ]
    await sf.client.aclose()
