"""Mapping hub users to a connection's remote users by hand (the automatic mapping is the user
sync's: hub/userlinks.py)."""

from __future__ import annotations

from sqlalchemy import func, select

from leadbridge.hub.db import Hub
from leadbridge.hub.tables import User, UserLink


class MappingError(ValueError):
    pass


def map_user(
    hub: Hub, system: str, scope: str, hub_email: str, remote: str, label: str
) -> tuple[str, str]:
    """Map a hub user (by e-mail) to a remote user (by id or e-mail), by hand. `label` names
    the system in messages ("Apollo")."""
    ws = hub.workspace_id
    with hub.session() as s:
        user = s.scalar(
            select(User).where(User.workspace_id == ws, func.lower(User.email) == hub_email.lower())
        )
        if user is None:
            raise MappingError(f"no hub user with e-mail {hub_email!r} (`leadbridge import users`)")
        base = select(UserLink).where(
            UserLink.workspace_id == ws,
            UserLink.remote_system == system,
            UserLink.remote_scope == scope,
        )
        target = s.scalar(
            base.where(
                (UserLink.remote_user_id == remote) | (UserLink.remote_email == remote.lower())
            )
        )
        if target is None:
            raise MappingError(
                f"no {label} user {remote!r} on this team; run `leadbridge users sync` first"
            )
        if target.deleted:
            raise MappingError(f"{label} user {remote!r} is deleted and cannot own records")
        for other in s.scalars(base.where(UserLink.hub_user_id == user.id)):
            other.hub_user_id, other.mapped_by = None, None
        s.flush()
        target.hub_user_id, target.mapped_by = user.id, "manual"
        return user.email, target.remote_user_id


def unmap_user(hub: Hub, system: str, scope: str, hub_email: str) -> int:
    ws = hub.workspace_id
    with hub.session() as s:
        user = s.scalar(
            select(User).where(User.workspace_id == ws, func.lower(User.email) == hub_email.lower())
        )
        if user is None:
            raise MappingError(f"no hub user with e-mail {hub_email!r}")
        count = 0
        for link in s.scalars(
            select(UserLink).where(
                UserLink.workspace_id == ws,
                UserLink.remote_system == system,
                UserLink.remote_scope == scope,
                UserLink.hub_user_id == user.id,
            )
        ):
            # "manual" with no user: auto-mapping must not silently put it back.
            link.hub_user_id, link.mapped_by = None, "manual"
            count += 1
        return count
