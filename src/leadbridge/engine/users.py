"""Apollo users -> user links; mapped to hub users by e-mail, overridable by hand."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from leadbridge.connectors.apollo.client import ApolloClient
from leadbridge.hub.db import Hub
from leadbridge.hub.tables import User, UserLink, utcnow

SYSTEM = "apollo"


@dataclass(frozen=True)
class UserSyncResult:
    total: int
    added: int
    deleted: int
    auto_mapped: int


class MappingError(ValueError):
    pass


async def sync_users(hub: Hub, client: ApolloClient, scope: str) -> UserSyncResult:
    remote = await client.users()
    ws = hub.workspace_id
    added = auto = 0
    with hub.session() as s:
        links = {
            link.remote_user_id: link
            for link in s.scalars(
                select(UserLink).where(
                    UserLink.workspace_id == ws,
                    UserLink.remote_system == SYSTEM,
                    UserLink.remote_scope == scope,
                )
            )
        }
        for user in remote:
            rid = str(user["id"])
            link = links.get(rid)
            if link is None:
                link = UserLink(
                    workspace_id=ws, remote_system=SYSTEM, remote_scope=scope, remote_user_id=rid
                )
                s.add(link)
                links[rid] = link
                added += 1
            link.remote_email = (user.get("email") or "").lower() or None
            name = user.get("name") or " ".join(
                p for p in (user.get("first_name"), user.get("last_name")) if p
            )
            link.remote_name = name or None
            link.deleted = bool(user.get("deleted"))
            link.synced_at = utcnow()
        s.flush()
        # Users Apollo no longer lists are treated as deleted: never an owner again.
        seen = {str(u["id"]) for u in remote}
        for rid, link in links.items():
            if rid not in seen:
                link.deleted = True
        hub_users = {
            u.email.lower(): u.id
            for u in s.scalars(select(User).where(User.workspace_id == ws, User.active))
        }
        taken = {link.hub_user_id for link in links.values() if link.hub_user_id}
        for link in links.values():
            if link.hub_user_id or link.deleted or link.mapped_by == "manual":
                continue
            hub_id = hub_users.get(link.remote_email or "")
            if hub_id and hub_id not in taken:
                link.hub_user_id, link.mapped_by = hub_id, "auto"
                taken.add(hub_id)
                auto += 1
        deleted = sum(1 for link in links.values() if link.deleted)
    return UserSyncResult(total=len(remote), added=added, deleted=deleted, auto_mapped=auto)


def map_user(hub: Hub, scope: str, hub_email: str, remote: str) -> tuple[str, str]:
    """Map a hub user (by e-mail) to an Apollo user (by id or e-mail), by hand."""
    ws = hub.workspace_id
    with hub.session() as s:
        user = s.scalar(
            select(User).where(User.workspace_id == ws, func.lower(User.email) == hub_email.lower())
        )
        if user is None:
            raise MappingError(f"no hub user with e-mail {hub_email!r} (`leadbridge import users`)")
        base = select(UserLink).where(
            UserLink.workspace_id == ws,
            UserLink.remote_system == SYSTEM,
            UserLink.remote_scope == scope,
        )
        target = s.scalar(
            base.where(
                (UserLink.remote_user_id == remote) | (UserLink.remote_email == remote.lower())
            )
        )
        if target is None:
            raise MappingError(
                f"no Apollo user {remote!r} on this team; run `leadbridge users sync` first"
            )
        if target.deleted:
            raise MappingError(f"Apollo user {remote!r} is deleted and cannot own accounts")
        for other in s.scalars(base.where(UserLink.hub_user_id == user.id)):
            other.hub_user_id, other.mapped_by = None, None
        s.flush()
        target.hub_user_id, target.mapped_by = user.id, "manual"
        return user.email, target.remote_user_id


def unmap_user(hub: Hub, scope: str, hub_email: str) -> int:
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
                UserLink.remote_scope == scope,
                UserLink.hub_user_id == user.id,
            )
        ):
            # "manual" with no user: auto-mapping must not silently put it back.
            link.hub_user_id, link.mapped_by = None, "manual"
            count += 1
        return count
