"""What every command needs: the hub, the secret box, connections; and friendly failures."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text

from leadbridge.secrets.values import redact_text

if TYPE_CHECKING:
    from leadbridge.hub.connections import Connections
    from leadbridge.hub.db import Hub


class RedactingConsole(Console):
    """A Rich console that masks secrets (by value and pattern) in every string it renders:
    printed text and table cells alike, before Rich wraps them (a wrapped secret would no
    longer match)."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(redact_text(text), **kwargs)


console = RedactingConsole(highlight=False)
err = RedactingConsole(stderr=True, highlight=False)

# Failures a user can act on: printed as one clear line, exit code 1, never a traceback.
# Named, not imported: importing them would load the engine, the hub and the connectors for every
# command, even `--help`. An exception of one of these classes can only exist once its module is
# loaded, so `user_error` looks the classes up in sys.modules and never imports anything.
USER_ERRORS: tuple[tuple[str, str], ...] = (
    ("leadbridge.web.accounts", "AccountError"),
    ("leadbridge.connectors.errors", "ConnectorError"),
    ("leadbridge.hub.connections", "ConnectionNotFound"),
    ("leadbridge.hub.edits", "EditError"),
    ("leadbridge.hub.csv_output", "ExportError"),
    ("leadbridge.hub.imports", "ImportFileError"),
    ("leadbridge.jobs.lease", "LeaseHeld"),
    ("leadbridge.engine.users", "MappingError"),
    ("leadbridge.secrets.keys", "SecretKeyError"),
    ("leadbridge.policy.apollo_push", "SettingsError"),
    ("leadbridge.policy.loader", "PolicyError"),
    ("leadbridge.engine.sync.context", "SyncRefused"),
    ("leadbridge.engine.sync.undo", "UndoRefused"),
    ("leadbridge.policy.crm", "UnknownSync"),
)
DATABASE_ERROR = ("sqlalchemy.exc", "OperationalError")


def _is_instance(exc: BaseException, module: str, name: str) -> bool:
    cls = getattr(sys.modules.get(module), name, None)  # None while the module is not loaded
    return isinstance(cls, type) and isinstance(exc, cls)


def user_error(exc: BaseException) -> bool:
    """Whether `exc` is a failure the user can act on (one of USER_ERRORS or a subclass)."""
    return any(_is_instance(exc, module, name) for module, name in USER_ERRORS)


F = TypeVar("F", bound=Callable[..., Any])


def friendly(func: F) -> F:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            if user_error(exc):
                # Messages quote the user's input (file headers, policy keys): never Rich
                # markup; the console masks secrets by value.
                err.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)  # one line
                raise typer.Exit(1) from None
            if _is_instance(exc, *DATABASE_ERROR):
                from leadbridge.settings import get_settings

                url = get_settings().database_url.split("@")[-1]
                err.print(
                    f"[red]error:[/red] the hub database ({escape(url)}) is not usable: "
                    f"{escape(str(getattr(exc, 'orig', exc)))}"
                )
                raise typer.Exit(1) from None
            raise

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
            from leadbridge.hub.db import Hub
            from leadbridge.settings import get_settings

            self._hub = Hub.open(get_settings().database_url)
        return self._hub

    @property
    def connections(self) -> Connections:
        """The connections, with the configured key. Without a key, one is generated only
        while no credentials are sealed; else every use of a credential says what happened
        (and `status` shows it). Every credential that opens is made known to the masking
        before the command prints anything."""
        if self._connections is None:
            from leadbridge.hub.connections import Connections, sealed_credentials
            from leadbridge.secrets import SecretBox, load_keys

            sealed = [c.name for c in sealed_credentials(self.hub)]
            connections = Connections(self.hub, SecretBox(load_keys(sealed=sealed)))
            self.credential_problems = connections.credential_problems()
            self._connections = connections
        return self._connections
