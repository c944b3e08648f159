"""The demo's scale-out step: the demo's SQLite hub copied to PostgreSQL with `leadbridge
migrate-hub`, when a PostgreSQL server answers on 127.0.0.1:5432 (into a database made for it
and dropped after); else one line saying why it is skipped. Workers are pointed to, not run."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from leadbridge.demo_tour import Tour

# The server the demo tries (a loopback PostgreSQL, as `./dev test-postgres` uses); the demo
# makes its own database there and drops it after.
SERVER = os.environ.get("LEADBRIDGE_DEMO_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


@dataclass
class ScaleDemo:
    skipped: str | None  # why the copy was not shown, or None
    copied: bool  # migrate-hub said every count was verified
    database: str | None = None  # the database it made (and dropped)


def _server_answers() -> str | None:
    """None when the server takes a connection, else the reason it does not."""
    import psycopg

    try:
        with psycopg.connect(SERVER, connect_timeout=2):
            return None
    except Exception as exc:  # the reason is printed, whatever it is
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return f"{exc.__class__.__name__}: {first}"


def run_scale_demo(tour: Tour, database: str) -> ScaleDemo:
    import psycopg

    tour.note(
        "scale-out: `leadbridge worker` runs the jobs on a PostgreSQL hub, on any number of "
        "machines (README, 'Scale-out: PostgreSQL and workers'); not run here"
    )
    why = _server_answers()
    if why is not None:
        where = SERVER.rsplit("@", 1)[-1].rsplit("/", 1)[0]
        tour.note(f"migrate-hub skipped: no PostgreSQL answers at {where} ({why})")
        return ScaleDemo(skipped=why, copied=False)
    base, _, _ = SERVER.rstrip("/").rpartition("/")
    name = f"lb_demo_{secrets.token_hex(6)}"
    with psycopg.connect(SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        tour.note(f"a PostgreSQL answers: the hub moves to a new database {name} there")
        output = tour.run("migrate-hub", database, f"{base}/{name}", lines=0)
        tour.show_rows(output, "every count verified")
        return ScaleDemo(skipped=None, copied="every count verified" in output, database=name)
    finally:
        with psycopg.connect(SERVER, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        tour.note(f"(the demo dropped {name} again)")
