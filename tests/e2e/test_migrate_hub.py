"""`leadbridge migrate-hub SRC DST`: a hub that has synced with Salesforce (people, companies,
links, runs, journal, outbox, the connection's sealed credentials) copied from SQLite into a new
PostgreSQL database; every table's count verified, the copy usable by the CLI with the same key
and taking new rows; a non-empty destination or a bad URL refused with one clear line."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from leadbridge.hub.db import Hub, make_engine
from leadbridge.hub.tables import Base, Person
from leadbridge.settings import get_settings
from tests.conftest import _PG_SKIP, PG_URL, fresh_database

from .cli_runner import lb
from .crm_world import CrmWorld

pytestmark = pytest.mark.postgres


@pytest.fixture
def destination() -> Iterator[str]:
    if _PG_SKIP:
        pytest.skip(_PG_SKIP)
    with fresh_database(PG_URL) as url:
        yield url


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {
                t.name: conn.scalar(select(func.count()).select_from(t)) or 0
                for t in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def test_a_synced_hub_moves_to_postgresql_with_every_row(
    crm: CrmWorld, destination: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    crm.org.create("Lead", {"LastName": "Pulled", "Company": "Pull Co", "Email": "p@pull.io"})
    crm.activate()
    crm.pull(manual=True)
    for i in range(30):
        crm.person(last_name=f"M{i}", email=f"m{i}@co{i % 3}.io", company={"name": f"Co {i % 3}"})
    assert crm.push().counts  # creates in Salesforce: links, journal, runs
    source = get_settings().database_url
    before = counts(source)
    assert sum(1 for n in before.values() if n) >= 10, before  # a hub with many tables in use

    result = lb("migrate-hub", source, destination)
    assert result.exit_code == 0, result.output
    assert "every count verified" in result.output
    assert counts(destination) == before
    assert counts(source) == before  # the source is untouched

    # The copy is the hub now: the CLI opens it (credentials with the same key) ...
    monkeypatch.setenv("LEADBRIDGE_DATABASE_URL", destination)
    get_settings.cache_clear()
    status = lb("status")
    assert status.exit_code == 0, status.output
    assert "salesforce" in status.output.lower()
    # ... and new rows get new ids (PostgreSQL's sequences moved past the copied ones).
    hub = Hub.open(destination)
    try:
        with hub.session() as s:
            top = s.scalar(select(func.max(Person.id)))
            person = Person(workspace_id=hub.workspace_id, email_status="verified")
            s.add(person)
            s.flush()
            assert top is not None and person.id > top
    finally:
        hub.dispose()


def test_a_destination_with_rows_or_a_bad_url_is_refused_in_one_line(
    crm: CrmWorld, destination: str
) -> None:
    crm.person(last_name="Once", email="once@co.io")
    source = get_settings().database_url
    assert lb("migrate-hub", source, destination).exit_code == 0
    copied = counts(destination)

    again = lb("migrate-hub", source, destination)
    assert again.exit_code == 1
    assert "not empty" in again.output and "people" in again.output
    assert counts(destination) == copied  # nothing written twice

    bad = lb("migrate-hub", source, "no-such-scheme://x")
    assert bad.exit_code == 2 and "not a database URL" in bad.output
    same = lb("migrate-hub", source, source)
    assert same.exit_code == 1 and "the same database" in same.output
