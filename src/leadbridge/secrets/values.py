"""Masking secrets out of anything shown or logged: by value, and by pattern.

Patterns alone miss a secret that an API echoes back in free text (an error body quoting the
request's x-api-key header). So every credential value this process opens or mints — API keys,
access and refresh tokens, client secrets, the encryption keys themselves — is remembered in one
process-wide registry, and `redact` masks those values wherever they appear, then the patterns
(which still catch secrets this process never held, e.g. a mistyped key echoed back).
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, quote_plus

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
# Shorter values would mask ordinary words and numbers; no credential we hold is this short.
MIN_LENGTH = 8
# A process that refreshes tokens for months remembers only the newest values; a dropped one
# belongs to a pair revoked long ago.
LIMIT = 4096


class SecretValues:
    """The secret values this process has seen; thread-safe."""

    def __init__(self, limit: int = LIMIT) -> None:
        self._limit = limit
        self._values: dict[str, None] = {}  # insertion-ordered: the oldest is dropped first
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: object) -> None:
        if not isinstance(value, str) or len(value.strip()) < MIN_LENGTH:
            return
        # The forms a value takes when echoed inside JSON text or a URL.
        forms = {value, json.dumps(value)[1:-1], quote(value, safe=""), quote_plus(value)}
        with self._lock:
            for form in forms:
                self._values.pop(form, None)
                self._values[form] = None
            while len(self._values) > self._limit:
                del self._values[next(iter(self._values))]
            self._pattern = None

    def add_credentials(self, data: Any) -> None:
        """Remembers the values under secret keys (SECRET_KEYS) of a credentials mapping."""
        if isinstance(data, Mapping):
            for key, value in data.items():
                if str(key).lower() in SECRET_KEYS and isinstance(value, str):
                    self.add(value)
                else:
                    self.add_credentials(value)
        elif isinstance(data, list | tuple):
            for item in data:
                self.add_credentials(item)

    def mask(self, text: str) -> str:
        pattern = self._compiled()
        return pattern.sub(REDACTED, text) if pattern is not None else text

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._pattern = None

    def __len__(self) -> int:
        return len(self._values)

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._values:
                # Longest first, so a value containing another is masked whole.
                ordered = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(map(re.escape, ordered)))
            return self._pattern


SECRET_VALUES = SecretValues()


def remember(*values: object) -> None:
    """Masks these values from now on, wherever this process prints or logs them."""
    for value in values:
        SECRET_VALUES.add(value)


def remember_credentials(data: Any) -> None:
    SECRET_VALUES.add_credentials(data)


_NAMES = (
    r"x-api-key|api[_-]?key|access[_-]?token|refresh[_-]?token|client[_-]?secret"
    r"|code[_-]?verifier|password"
)
_TEXT_PATTERNS = (
    # Authorization header values.
    (re.compile(r"\b((?:Bearer|bearer|Basic|basic)\s+)[A-Za-z0-9._~+/=!-]+"), r"\1" + REDACTED),
    # "name": "value" (JSON) and "name"=>"value" (a Ruby hash, as Rails echoes it).
    (
        re.compile(rf"""(?i)(["'](?:{_NAMES})["']\s*(?:=>|:)\s*["'])[^"']+(["'])"""),
        r"\1" + REDACTED + r"\2",
    ),
    # name=value in a query string or form body.
    (re.compile(rf"(?i)((?:^|[?&\s])(?:{_NAMES})=)[^&\s\"']+"), r"\1" + REDACTED),
    # An x-api-key header line.
    (re.compile(r"(?i)(\bx-api-key:\s*)\S+"), r"\1" + REDACTED),
)


def redact_text(text: str) -> str:
    text = SECRET_VALUES.mask(text)
    for pattern, replacement in _TEXT_PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact(value: Any) -> Any:
    """A copy of `value` with every secret masked (by key, by value, by pattern); safe to show."""
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if str(k).lower() in SECRET_KEYS else redact(v)) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value
