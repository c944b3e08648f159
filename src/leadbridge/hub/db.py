"""Opening the hub: engine, sessions, migrations, the default workspace."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from leadbridge.hub.tables import Workspace

DEFAULT_WORKSPACE = "default"
MIGRATIONS = Path(__file__).with_name("migrations")


def make_engine(url: str) -> Engine:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    kwargs: dict[str, Any] = {"future": True}
    if url.startswith("sqlite"):
        kwargs["connect_args"] = {"timeout": 30, "check_same_thread": False}
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent)."""
    command.upgrade(alembic_config(engine), "head")


class Hub:
    """The hub database: a session factory plus the workspace this process works in."""

    def __init__(self, engine: Engine, workspace: str = DEFAULT_WORKSPACE) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.workspace_name = workspace
        self._workspace_id: int | None = None

    @classmethod
    def open(cls, url: str, *, migrate_schema: bool = True) -> Hub:
        engine = make_engine(url)
        if migrate_schema:
            migrate(engine)
        return cls(engine)

    @property
    def workspace_id(self) -> int:
        if self._workspace_id is None:
            self._workspace_id = self.ensure_workspace(self.workspace_name)
        return self._workspace_id

    def ensure_workspace(self, name: str) -> int:
        with self.session() as s:
            ws = s.scalar(select(Workspace).where(Workspace.name == name))
            if ws is None:
                ws = Workspace(name=name)
                s.add(ws)
                s.flush()
            return ws.id

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: committed on success, rolled back on any error."""
        with self.sessions() as s, s.begin():
            yield s

    def dispose(self) -> None:
        self.engine.dispose()
