"""Audit stamps in whole seconds, as a real org writes them: many rows share one SystemModstamp,
so a cursor on (SystemModstamp, Id) meets ties all the time and must page through them."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from leadbridge.connectors.base import Cursor
from leadbridge.sandbox.salesforce import SalesforceSandbox
from leadbridge.sandbox.server import ServedApp

from ..conftest import ServedOrg
from ..test_salesforce_connector import Clock, collect, connect

STAMPS = ("CreatedDate", "LastModifiedDate", "SystemModstamp")


def test_stamps_are_whole_seconds_over_rest(sf_org: ServedOrg, api: httpx.Client) -> None:
    made = api.post("sobjects/Account/", json={"Name": "Acme"}).json()["id"]
    row = api.get(f"sobjects/Account/{made}").json()
    for name in STAMPS:
        assert row[name].endswith(".000+0000"), row[name]
        datetime.strptime(row[name], "%Y-%m-%dT%H:%M:%S.000%z")


async def test_a_cursor_reads_thousands_of_rows_stamped_in_one_second_exactly_once() -> None:
    clock = Clock()  # 12:00:00.000, moved by hand
    with SalesforceSandbox(seed=11, clock=clock) as sb:
        sb.knobs.query_batch_size = 200
        for i in range(2_500):  # 0.3 ms apart: 750 distinct milliseconds, one second
            clock.now += 0.0003
            sb.org.create("Contact", {"LastName": f"T{i:04d}"})
        stamps = {r["SystemModstamp"] for r in sb.org.rows("Contact")}
        assert stamps == {datetime(2026, 11, 20, 12, 0, tzinfo=UTC)}

        cert, key, ca = sb.tls_files()
        with ServedApp(sb.app, ssl_certfile=cert, ssl_keyfile=key) as served:
            sb.set_base_url(served.url)
            sf, _ = connect(ServedOrg(sb, served.url, ca))
            clock.now += 0.2  # still 12:00:00 on the org's stamps
            cap = datetime.fromtimestamp(clock.now, UTC)
            first, cursor = await collect(sf.read_changed("Contact", ["LastName"], Cursor(), cap))
            assert len(first) == 2_500 and len({r.id for r in first}) == 2_500
            pages = sum(n for route, n in sf.client.calls.by_route.items() if "/query" in route)
            assert pages == 13  # 200 a page: the tie spans every page boundary
            assert cursor == Cursor(stamps.pop(), max(r.id for r in first))

            # Written in the same second as the cursor, after the read: ties it, is not lost.
            late = sb.org.create("Contact", {"LastName": "Late"}).id
            clock.now += 2
            cap2 = datetime.fromtimestamp(clock.now, UTC)
            second, _ = await collect(sf.read_changed("Contact", ["LastName"], cursor, cap2))
            assert late in {r.id for r in second}
            await sf.client.aclose()
