"""Credentials encrypted at rest (Fernet) and kept out of logs.

The key comes from LEADBRIDGE_SECRET_KEY, else from a key file created on first use with
mode 0600. Losing the key means reconnecting, never leaking: ciphertext alone is useless.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

from leadbridge.settings import Settings, get_settings

# Keys whose values are never shown, wherever they appear in a mapping.
SECRET_KEYS = frozenset(
    {
        "api_key",
        "access_token",
        "refresh_token",
        "client_secret",
        "password",
        "secret",
        "token",
        "code",
        "code_verifier",
        "x-api-key",
        "authorization",
    }
)
REDACTED = "***"


class SecretKeyError(RuntimeError):
    """The encryption key is missing, malformed, or does not open the stored secrets."""


def load_or_create_key(settings: Settings | None = None) -> bytes:
    settings = settings or get_settings()
    if settings.secret_key:
        key = settings.secret_key.encode()
    else:
        path = Path(settings.key_file)
        if path.exists():
            key = path.read_bytes().strip()
        else:
            key = Fernet.generate_key()
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(key + b"\n")
    try:
        Fernet(key)
    except (ValueError, TypeError) as exc:
        raise SecretKeyError(
            "LEADBRIDGE_SECRET_KEY (or the key file) is not a valid Fernet key: "
            "32 url-safe base64-encoded bytes, e.g. from `leadbridge init`."
        ) from exc
    return key


class SecretBox:
    """Encrypts a JSON-able mapping into one opaque string and back."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def seal(self, data: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(data, sort_keys=True).encode()).decode()

    def open(self, token: str | None) -> dict[str, Any]:
        if not token:
            return {}
        try:
            return dict(json.loads(self._fernet.decrypt(token.encode())))
        except InvalidToken as exc:
            raise SecretKeyError(
                "stored credentials cannot be decrypted with the current key; "
                "restore the original LEADBRIDGE_SECRET_KEY or reconnect"
            ) from exc


def redact(value: Any) -> Any:
    """A copy of `value` with every secret-looking entry replaced; safe to log or print."""
    if isinstance(value, dict):
        return {
            k: (REDACTED if str(k).lower() in SECRET_KEYS else redact(v)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return _BEARER.sub(r"\1" + REDACTED, value)
    return value


_BEARER = re.compile(r"((?:Bearer|bearer)\s+)[A-Za-z0-9._~+/=!-]+")
