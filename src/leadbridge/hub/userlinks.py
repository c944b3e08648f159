"""Remote users (an Apollo team's, a Salesforce org's) and the hub users they map to: the one
user sync every connection uses, and the owner directory a sync reads.

- A remote user is mapped to the hub user with its e-mail, automatically, unless a person
  mapped (or unmapped) it by hand; an active remote user wins a shared e-mail.
- A remote user who left (deactivated, deleted, or gone from a complete list) stays mapped, so
  the records they owned keep their owner in the hub, but never owns anything new.
- `create_hub_users`: an active remote user with no hub user becomes one (the CRM is where the
  team is kept); a rep who left is mapped, never created.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadbridge.hub.tables import User, UserLink, utcnow


@dataclass(frozen=True)
class RemoteUser:
    id: str
    email: str | None
    first_name: str | None = None
    last_name: str | None = None
    active: bool = True

    @property
    def name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


@dataclass(frozen=True)
class UserSyncResult:
    total: int
    added: int
    deleted: int
    auto_mapped: int


@dataclass(frozen=True)
class UserLinkStore:
    workspace_id: int
    system: str
    scope: str

    def links(self, s: Session) -> dict[str, UserLink]:
        return {
            link.remote_user_id: link
            for link in s.scalars(
                select(UserLink).where(
                    UserLink.workspace_id == self.workspace_id,
                    UserLink.remote_system == self.system,
                    UserLink.remote_scope == self.scope,
                )
            )
        }

    def owners(self, s: Session) -> tuple[dict[int, str], dict[str, int]]:
        """hub user id -> remote user id (active remote users only), and back (all)."""
        to_remote: dict[int, str] = {}
        to_hub: dict[str, int] = {}
        for link in self.links(s).values():
            if link.hub_user_id is None:
                continue
            if not link.deleted:
                to_remote[link.hub_user_id] = link.remote_user_id
            to_hub[link.remote_user_id] = link.hub_user_id
        return to_remote, to_hub

    def sync(
        self,
        s: Session,
        users: Sequence[RemoteUser],
        *,
        complete: bool,
        create_hub_users: bool,
    ) -> UserSyncResult:
        """Take in remote users; `complete`: the list is every user (the rest are gone)."""
        links = self.links(s)
        added = auto = 0
        for user in users:
            link = links.get(user.id)
            if link is None:
                link = UserLink(
                    workspace_id=self.workspace_id,
                    remote_system=self.system,
                    remote_scope=self.scope,
                    remote_user_id=user.id,
                )
                s.add(link)
                links[user.id] = link
                added += 1
            link.remote_email = (user.email or "").strip().lower() or None
            link.remote_name = user.name or None
            link.deleted = not user.active
            link.synced_at = utcnow()
        if complete:  # users the system no longer lists are gone: never an owner again
            listed = {u.id for u in users}
            for remote_id, link in links.items():
                if remote_id not in listed:
                    link.deleted = True
        s.flush()
        hub_users = {
            u.email.lower(): u
            for u in s.scalars(select(User).where(User.workspace_id == self.workspace_id))
        }
        taken = {link.hub_user_id for link in links.values() if link.hub_user_id}
        by_id = {u.id: u for u in users}
        # Active users first: an e-mail shared with a deactivated user maps to the active one.
        for link in sorted(links.values(), key=lambda x: (x.deleted, x.remote_user_id)):
            if link.hub_user_id or link.mapped_by == "manual" or not link.remote_email:
                continue
            hub_user = hub_users.get(link.remote_email)
            remote = by_id.get(link.remote_user_id)
            if hub_user is None and create_hub_users and not link.deleted and remote is not None:
                hub_user = User(
                    workspace_id=self.workspace_id,
                    email=link.remote_email,
                    first_name=remote.first_name,
                    last_name=remote.last_name,
                )
                s.add(hub_user)
                s.flush()
                hub_users[link.remote_email] = hub_user
            if hub_user is not None and hub_user.id not in taken:
                link.hub_user_id, link.mapped_by = hub_user.id, "auto"
                taken.add(hub_user.id)
                auto += 1
        deleted = sum(1 for link in links.values() if link.deleted)
        return UserSyncResult(len(users), added, deleted, auto)
