"""Credentials sealed at rest: a JSON mapping in, one opaque Fernet string out, and back.

Whatever is sealed or opened is also remembered for masking (values.remember_credentials), so
from the moment a process holds a credential, nothing it prints or logs can show it.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import InvalidToken

from leadbridge.secrets.keys import ENV, KeyRing, SecretKeyError
from leadbridge.secrets.values import remember_credentials


class SecretBox:
    def __init__(self, keys: KeyRing | bytes) -> None:
        self.ring = keys if isinstance(keys, KeyRing) else KeyRing([keys], origin="the given key")

    def seal(self, data: dict[str, Any]) -> str:
        remember_credentials(data)
        return self.ring.fernet().encrypt(json.dumps(data, sort_keys=True).encode()).decode()

    def open(self, token: str | None) -> dict[str, Any]:
        if not token:
            return {}
        try:
            data = dict(json.loads(self.ring.fernet().decrypt(token.encode())))
        except InvalidToken as exc:
            raise SecretKeyError(self.cannot_open()) from exc
        remember_credentials(data)
        return data

    def reseal(self, token: str) -> str:
        """The same credentials sealed with the first key (what a rotation does to each row)."""
        try:
            return self.ring.fernet().rotate(token.encode()).decode()
        except InvalidToken as exc:
            raise SecretKeyError(self.cannot_open()) from exc

    def problem(self, token: str | None) -> str | None:
        """Why these sealed credentials cannot be opened, or None when they can."""
        try:
            self.open(token)
        except SecretKeyError as exc:
            return str(exc)
        return None

    def cannot_open(self) -> str:
        if self.ring.problem:
            return self.ring.problem
        return (
            f"stored credentials cannot be decrypted with the key(s) in {self.ring.origin}: "
            "they were sealed with another key. Restore the key that sealed them (the key file, "
            f"or {ENV}; after `leadbridge rotate-key`, the new key), or reconnect"
        )
