"""The keys that seal credentials: where they come from, and never making a wrong one.

LEADBRIDGE_SECRET_KEY, or the key file (`.leadbridge.key`, mode 0600), holds one Fernet key or
several (one a line, or comma-separated): the first seals, every one opens (MultiFernet), so a
rotation can re-seal everything while ciphertext made with an older key still opens.

A key file is generated only while the hub holds no sealed credentials: a new key cannot open
what an old one sealed, so replacing a lost key file silently would turn every connection into
unreadable bytes while `status` still said "ok".
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, MultiFernet

from leadbridge.secrets.env import ENV
from leadbridge.secrets.values import remember
from leadbridge.settings import Settings, get_settings


class SecretKeyError(RuntimeError):
    """The encryption key is missing, malformed, or does not open the stored secrets."""


def parse_keys(text: str, origin: str) -> list[bytes]:
    parts = [
        part
        for line in text.splitlines()
        if not line.lstrip().startswith("#")
        for part in re.split(r"[\s,]+", line)
        if part
    ]
    if not parts:
        raise SecretKeyError(f"{origin} holds no key")
    for number, part in enumerate(parts, 1):
        try:
            Fernet(part.encode())
        except (ValueError, TypeError) as exc:
            which = f"key {number} of {origin}" if len(parts) > 1 else origin
            raise SecretKeyError(
                f"{which} is not a valid Fernet key: 32 url-safe base64-encoded bytes, "
                "as `leadbridge init` or `leadbridge rotate-key` make them"
            ) from exc
    return [part.encode() for part in parts]


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class KeyRing:
    """The keys of this process. A key file is re-read when it changes on disk, so a process
    that was running during `leadbridge rotate-key` follows the rotation instead of sealing
    new tokens with a key that is about to be dropped."""

    def __init__(
        self,
        keys: Sequence[bytes],
        *,
        origin: str,
        path: Path | None = None,
        problem: str | None = None,
    ) -> None:
        self.origin = origin
        self.path = path
        self.problem = problem
        self._stamp = _stamp(path) if path is not None else None
        self._set(list(keys))

    @classmethod
    def from_file(cls, path: Path) -> KeyRing:
        return cls(parse_keys(path.read_text(), str(path)), origin=str(path), path=path)

    @property
    def keys(self) -> list[bytes]:
        self.refresh()
        return list(self._keys)

    def fernet(self) -> MultiFernet:
        self.refresh()
        if self._fernet is None:
            raise SecretKeyError(self.problem or f"no key in {self.origin}")
        return self._fernet

    def refresh(self) -> bool:
        """Re-reads the key file if another process rewrote it; True when the keys changed."""
        if self.path is None:
            return False
        stamp = _stamp(self.path)
        if stamp is None or stamp == self._stamp:
            return False
        try:
            keys = parse_keys(self.path.read_text(), str(self.path))
        except (OSError, SecretKeyError):
            return False  # half-written or broken: keep the keys we have
        self._stamp, self.problem = stamp, None
        self._set(keys)
        return True

    def use(self, keys: Sequence[bytes]) -> None:
        """Replaces the keys in memory (a rotation of LEADBRIDGE_SECRET_KEY's keys)."""
        self._set(list(keys))

    def _set(self, keys: list[bytes]) -> None:
        self._keys = keys
        self._fernet = MultiFernet([Fernet(k) for k in keys]) if keys else None
        remember(*(k.decode() for k in keys))


def load_keys(settings: Settings | None = None, *, sealed: Sequence[str] = ()) -> KeyRing:
    """The configured keys. Without any, a key file is created, unless `sealed` names
    connections whose credentials are sealed already: then the ring is empty and every use
    says what happened and what to do."""
    settings = settings or get_settings()
    if settings.secret_key:
        return KeyRing(parse_keys(settings.secret_key, ENV), origin=ENV)
    path = Path(settings.key_file)
    if path.exists():
        return KeyRing.from_file(path)
    if sealed:
        return KeyRing([], origin=str(path), path=path, problem=missing_key_message(path, sealed))
    create_key_file(path, [Fernet.generate_key()])
    return KeyRing.from_file(path)


def missing_key_message(path: Path, sealed: Sequence[str]) -> str:
    names = ", ".join(sorted(sealed))
    return (
        f"the key file {path} is missing, and the credentials of {names} were sealed with it: "
        f"restore the file (or set {ENV} to that key); if the key is lost for good, "
        f"`leadbridge init --new-key` makes a new one, then reconnect {names}"
    )


def create_key_file(path: Path, keys: Sequence[bytes]) -> None:
    """A new key file, mode 0600; never overwrites one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(b"".join(k + b"\n" for k in keys))
        fh.flush()
        os.fsync(fh.fileno())
    remember(*(k.decode() for k in keys))


def replace_key_file(path: Path, keys: Sequence[bytes]) -> None:
    """Rewrites the key file atomically (a reader sees the old keys or the new, never half)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    create_key_file(temporary, keys)
    os.replace(temporary, path)


def load_or_create_key(settings: Settings | None = None) -> bytes:
    """The key that seals (the first configured one); creates the key file when none exists."""
    return load_keys(settings).keys[0]
