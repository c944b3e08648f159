"""The error log holds one entry per problem: the same failure seen again is counted on its
entry, never a new row (on SQLite and PostgreSQL), and revision 0006 carries old entries over."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import Engine, select

from leadbridge.hub.db import Hub, alembic_config, make_engine
from leadbridge.hub.store import log_error
from leadbridge.hub.tables import ErrorLogEntry, SyncRun
from leadbridge.secrets import SECRET_VALUES


def entries(hub: Hub) -> list[ErrorLogEntry]:
    with hub.session() as s:
        rows = list(s.scalars(select(ErrorLogEntry).order_by(ErrorLogEntry.id)))
        s.expunge_all()
        return rows


def runs(hub: Hub, n: int) -> list[int]:
    with hub.session() as s:
        made = [SyncRun(workspace_id=hub.workspace_id, job="crm_push") for _ in range(n)]
        s.add_all(made)
        s.flush()
        return [r.id for r in made]


def log(hub: Hub, message: str, **kw: Any) -> bool:
    with hub.session() as s:
        fields: dict[str, Any] = {
            "job": "crm_sync",
            "error_class": "permanent",
            "hub_object": "company",
            "hub_id": 7,
            "hint": "merge them",
            **kw,
        }
        return log_error(s, workspace_id=hub.workspace_id, message=message, **fields)


def test_the_same_problem_again_bumps_its_one_entry(any_hub: Hub) -> None:
    first, second, third = runs(any_hub, 3)
    assert log(any_hub, "ambiguous account", run_id=first) is True
    assert log(any_hub, "ambiguous account", run_id=second, field="Website") is False
    assert log(any_hub, "ambiguous account", run_id=third, hint="merge the accounts") is False
    (entry,) = entries(any_hub)
    assert entry.count == 3 and entry.resolved_at is None
    assert entry.run_id == third and entry.last_seen_at > entry.created_at
    assert (entry.hint, entry.field) == ("merge the accounts", "Website")  # the latest known

    # Another record's, or another job's, same message is its own problem.
    assert log(any_hub, "ambiguous account", hub_id=8) is True
    assert log(any_hub, "ambiguous account", job="crm_duplicates") is True
    assert [e.count for e in entries(any_hub)] == [3, 1, 1]


def test_a_different_failure_of_the_record_replaces_its_entry(any_hub: Hub) -> None:
    log(any_hub, "ambiguous account")
    log(any_hub, "ambiguous account")
    assert log(any_hub, "the company has no name") is True
    old, new = entries(any_hub)
    assert old.resolved_at is not None and old.count == 2
    assert new.resolved_at is None and new.count == 1
    # Resolved is closed: the old problem coming back is new again.
    assert log(any_hub, "ambiguous account") is True
    assert [e.resolved_at is None for e in entries(any_hub)] == [False, False, True]


def test_entries_without_a_hub_record_are_told_apart_by_the_remote_record(any_hub: Hub) -> None:
    for remote in ("003A", "003B", "003A"):
        log(any_hub, "duplicate", hub_object=None, hub_id=None, remote_id=remote)
    assert sorted((e.remote_id, e.count) for e in entries(any_hub)) == [("003A", 2), ("003B", 1)]


def test_a_secret_in_a_repeated_message_is_masked_and_still_one_problem(any_hub: Hub) -> None:
    SECRET_VALUES.add("sk-live-0123456789abcdef")
    message = 'refused: {"x-api-key": "sk-live-0123456789abcdef"}'
    assert log(any_hub, message, hint="key sk-live-0123456789abcdef is wrong") is True
    assert log(any_hub, message) is False
    (entry,) = entries(any_hub)
    assert entry.count == 2 and "sk-live" not in entry.message
    assert entry.message == 'refused: {"x-api-key": "***"}'


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def blank_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    url = (
        f"sqlite:///{tmp_path / 'old.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_url")
    )
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_revision_0006_carries_old_entries_over(blank_engine: Engine) -> None:
    config = alembic_config(blank_engine)
    command.upgrade(config, "0005")
    written = datetime(2026, 11, 30, 8, 15, tzinfo=UTC)
    with blank_engine.begin() as conn:
        conn.execute(
            sa.text("INSERT INTO workspaces (name, created_at) VALUES ('w', :t)"), {"t": written}
        )
        ws = conn.scalar(sa.text("SELECT id FROM workspaces"))
        conn.execute(
            sa.text(
                "INSERT INTO error_log (workspace_id, job, error_class, message, created_at) "
                "VALUES (:ws, 'crm_sync', 'permanent', 'ambiguous account', :t)"
            ),
            {"ws": ws, "t": written},
        )
    command.upgrade(config, "head")
    hub = Hub(blank_engine)
    (entry,) = entries(hub)
    assert (entry.count, entry.last_seen_at) == (1, written)
    # And it is bumped like any other.
    with hub.session() as s:
        log_error(
            s, workspace_id=entry.workspace_id, job="crm_sync", error_class="permanent",
            message="ambiguous account",
        )  # fmt: skip
    (entry,) = entries(hub)
    assert entry.count == 2 and entry.last_seen_at > written
    command.downgrade(config, "0008")
    with blank_engine.connect() as conn:
        columns = {c["name"] for c in sa.inspect(conn).get_columns("error_log")}
    assert "count" not in columns and "last_seen_at" not in columns
