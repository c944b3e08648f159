"""What every command needs: the hub, the secret box, connections; and friendly failures."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy.exc import OperationalError

from leadbridge.connectors.errors import ConnectorError
from leadbridge.engine.sync.context import SyncRefused
from leadbridge.engine.sync.undo import UndoRefused
from leadbridge.engine.users import MappingError
from leadbridge.hub.connections import ConnectionNotFound, Connections
from leadbridge.hub.csv_output import ExportError
from leadbridge.hub.db import Hub
from leadbridge.hub.imports import ImportFileError
from leadbridge.jobs.lease import LeaseHeld
from leadbridge.policy.apollo_push import SettingsError
from leadbridge.policy.crm import UnknownSync
from leadbridge.policy.loader import PolicyError
from leadbridge.secrets import SecretBox, SecretKeyError, load_or_create_key, redact
from leadbridge.settings import get_settings

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)

# Failures a user can act on: printed as one clear line, exit code 1, never a traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (
    ConnectorError,
    ConnectionNotFound,
    ExportError,
    ImportFileError,
    LeaseHeld,
    MappingError,
    SecretKeyError,
    SettingsError,
    PolicyError,
    SyncRefused,
    UndoRefused,
    UnknownSync,
)

F = TypeVar("F", bound=Callable[..., Any])


def friendly(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except USER_ERRORS as exc:
            # Messages quote the user's input (file headers, policy keys): never Rich markup.
            err.print(f"[red]error:[/red] {escape(redact(str(exc)))}")
            raise typer.Exit(1) from None
        except OperationalError as exc:
            url = get_settings().database_url.split("@")[-1]
            err.print(
                f"[red]error:[/red] the hub database ({escape(url)}) is not usable: "
                f"{escape(str(exc.orig))}"
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


class Context:
    """Opened lazily, once per command."""

    def __init__(self) -> None:
        self._hub: Hub | None = None
        self._connections: Connections | None = None

    @property
    def hub(self) -> Hub:
        if self._hub is None:
            self._hub = Hub.open(get_settings().database_url)
        return self._hub

    @property
    def connections(self) -> Connections:
        if self._connections is None:
            self._connections = Connections(self.hub, SecretBox(load_or_create_key()))
        return self._connections
