"""Credentials encrypted at rest (Fernet) and kept out of everything shown or logged.

- keys: LEADBRIDGE_SECRET_KEY or the key file, one key or several (the first seals); a key is
  generated only while nothing is sealed yet;
- box: SecretBox seals and opens a connection's credentials;
- values: the process-wide registry of secret values, and `redact` (by key, value, pattern);
- logs: the masking of every `leadbridge` log record.

The names below are imported on first use (PEP 562): importing `leadbridge` installs the log
masking (logs, values) without loading cryptography and the settings (pydantic-settings), which
the CLI's start would otherwise pay for on every command.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from leadbridge.secrets.box import SecretBox
    from leadbridge.secrets.env import ENV
    from leadbridge.secrets.keys import (
        KeyRing,
        SecretKeyError,
        create_key_file,
        load_keys,
        load_or_create_key,
        replace_key_file,
    )
    from leadbridge.secrets.logs import RedactingFilter, install_log_redaction
    from leadbridge.secrets.values import (
        REDACTED,
        SECRET_KEYS,
        SECRET_VALUES,
        redact,
        redact_text,
        remember,
        remember_credentials,
    )

_MODULE_OF = {
    "SecretBox": "box",
    "ENV": "env",
    **dict.fromkeys(
        (
            "KeyRing",
            "SecretKeyError",
            "create_key_file",
            "load_keys",
            "load_or_create_key",
            "replace_key_file",
        ),
        "keys",
    ),
    "RedactingFilter": "logs",
    "install_log_redaction": "logs",
    **dict.fromkeys(
        (
            "REDACTED",
            "SECRET_KEYS",
            "SECRET_VALUES",
            "redact",
            "redact_text",
            "remember",
            "remember_credentials",
        ),
        "values",
    ),
}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value  # once: later lookups do not come back here
    return value


__all__ = [
    "ENV",
    "REDACTED",
    "SECRET_KEYS",
    "SECRET_VALUES",
    "KeyRing",
    "RedactingFilter",
    "SecretBox",
    "SecretKeyError",
    "create_key_file",
    "install_log_redaction",
    "load_keys",
    "load_or_create_key",
    "redact",
    "redact_text",
    "remember",
    "remember_credentials",
    "replace_key_file",
]
