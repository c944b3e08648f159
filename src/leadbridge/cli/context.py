"""What every command needs: the hub, the secret box, connections; and friendly failures."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text
from sqlalchemy.exc import OperationalError

from leadbridge.connectors.errors import ConnectorError
from leadbridge.engine.sync.context import SyncRefused
from leadbridge.engine.sync.undo import UndoRefused
from leadbridge.engine.users import MappingError
from leadbridge.hub.connections import ConnectionNotFound, Connections, sealed_credentials
from leadbridge.hub.csv_output import ExportError
from leadbridge.hub.db import Hub
from leadbridge.hub.edits import EditError
from leadbridge.hub.imports import ImportFileError
from leadbridge.jobs.lease import LeaseHeld
from leadbridge.policy.apollo_push import SettingsError
from leadbridge.policy.crm import UnknownSync
from leadbridge.policy.loader import PolicyError
from leadbridge.secrets import SecretBox, SecretKeyError, load_keys, redact_text
from leadbridge.settings import get_settings
from leadbridge.web.accounts import AccountError


class RedactingConsole(Console):
    """A Rich console that masks secrets (by value and pattern) in every string it renders:
    printed text and table cells alike, before Rich wraps them (a wrapped secret would no
    longer match)."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(redact_text(text), **kwargs)


console = RedactingConsole(highlight=False)
err = RedactingConsole(stderr=True, highlight=False)

# Failures a user can act on: printed as one clear line, exit code 1, never a traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (
    AccountError,
    ConnectorError,
    ConnectionNotFound,
    EditError,
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
            # Messages quote the user's input (file headers, policy keys): never Rich markup;
            # the console masks secrets by value.
            err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)  # one line
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

    def __init__(self, hub: Hub | None = None) -> None:
        self._hub: Hub | None = hub
        self._connections: Connections | None = None
        self.credential_problems: dict[int, str] = {}

    @property
    def hub(self) -> Hub:
        if self._hub is None:
            self._hub = Hub.open(get_settings().database_url)
        return self._hub

    @property
    def connections(self) -> Connections:
        """The connections, with the configured key. Without a key, one is generated only
        while no credentials are sealed; else every use of a credential says what happened
        (and `status` shows it). Every credential that opens is made known to the masking
        before the command prints anything."""
        if self._connections is None:
            sealed = [c.name for c in sealed_credentials(self.hub)]
            connections = Connections(self.hub, SecretBox(load_keys(sealed=sealed)))
            self.credential_problems = connections.credential_problems()
            self._connections = connections
        return self._connections
