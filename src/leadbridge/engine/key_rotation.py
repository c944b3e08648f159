"""Key rotation: a new key seals every connection's credentials, then the old key is dropped.

With the key file, the new key is written first, ahead of the old ones, so every process (this
one, and a running `serve`, which re-reads the file when it changes) opens old and new
ciphertext alike and seals with the new key. Then each connection's credentials are re-sealed
with it by compare-and-swap, so a token refresh racing the rotation is never overwritten (the
rotation re-reads that row and tries again). Only when every row opens with the new key alone
is the file rewritten to hold just the new key. A crash halfway leaves a file with both keys:
nothing is lost, and running the rotation again finishes it.

LEADBRIDGE_SECRET_KEY cannot be rewritten from here: the new key goes to a new file the user
names, and after the re-seal the old key opens nothing, so every process needs the new key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from leadbridge.hub.connections import Connections, sealed_credentials
from leadbridge.secrets import ENV, SecretKeyError, create_key_file, replace_key_file

PASSES = 5  # re-seal passes before giving up on rows that keep changing under us


@dataclass(frozen=True)
class Rotation:
    resealed: list[str]  # names of the connections whose credentials were re-sealed
    key_file: Path  # where the new key now is
    from_env: bool  # the old key came from LEADBRIDGE_SECRET_KEY


def rotate_key(connections: Connections, *, new_key_file: Path | None = None) -> Rotation:
    box, ring = connections.box, connections.box.ring
    unreadable = sorted(
        {c.name for c in sealed_credentials(connections.hub) if box.problem(c.credentials)}
    )
    if unreadable:
        raise SecretKeyError(
            f"cannot rotate: the credentials of {', '.join(unreadable)} cannot be decrypted "
            "with the current key. Restore the key that sealed them, or reconnect those "
            "connections, then rotate"
        )
    old, new = ring.keys, Fernet.generate_key()
    if ring.origin != ENV and ring.path is not None:
        if new_key_file is not None:
            raise SecretKeyError(
                f"--new-key-file is for keys kept in {ENV}; the key file {ring.path} is "
                "rewritten in place"
            )
        replace_key_file(ring.path, [new, *old])  # the old key stays until every row moved
        ring.refresh()
        resealed = _reseal_all(connections, new)
        replace_key_file(ring.path, [new])
        ring.refresh()
        return Rotation(resealed, ring.path, from_env=False)
    if new_key_file is None:
        raise SecretKeyError(
            f"the key comes from {ENV}, which leadbridge cannot change: give --new-key-file "
            "PATH to receive the new key"
        )
    create_key_file(new_key_file, [new])  # refuses to overwrite an existing file
    ring.use([new, *old])
    resealed = _reseal_all(connections, new)
    ring.use([new])
    return Rotation(resealed, new_key_file, from_env=True)


def _reseal_all(connections: Connections, new: bytes) -> list[str]:
    only_new = Fernet(new)
    resealed: set[str] = set()
    for _ in range(PASSES):
        pending = [
            c for c in sealed_credentials(connections.hub) if not _opens(only_new, c.credentials)
        ]
        if not pending:
            return sorted(resealed)
        for row in pending:
            # A lost swap means a refresh wrote the row meanwhile: the next pass re-reads it.
            sealed = connections.box.reseal(row.credentials)
            if connections.swap_credentials(row.id, row.version, sealed) is not None:
                resealed.add(row.name)
    raise SecretKeyError(
        "the credentials kept changing during the rotation; stop the other leadbridge "
        "processes and run `leadbridge rotate-key` again"
    )


def _opens(fernet: Fernet, token: str) -> bool:
    try:
        fernet.decrypt(token.encode())
    except InvalidToken:
        return False
    return True
