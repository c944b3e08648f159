"""Person tags: the lists a person is on ("webinar-2026", "mql-ready"). A sync's scope selects
the people it creates in the CRM by them (policy `scope: {tags: […]}`). Tags compare without
case and spacing, so they are kept in lower case with single spaces."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from leadbridge.hub.tables import Person, PersonTag
from leadbridge.normalize.tag import normalize_tag

SEPARATORS = re.compile(r"[;\n]")  # `;` in a CSV cell: a comma would split a cell's own commas


def parse_tags(raw: str) -> list[str]:
    """`a; b;c` -> ["a", "b", "c"] (sorted, no duplicates, empty parts left out)."""
    return normalize_tags(SEPARATORS.split(raw))


def normalize_tags(tags: Iterable[str]) -> list[str]:
    return sorted({t for t in (normalize_tag(raw) for raw in tags) if t})


def tags_of(s: Session, person_id: int) -> list[str]:
    return list(
        s.scalars(select(PersonTag.tag).where(PersonTag.person_id == person_id).order_by("tag"))
    )


def tags_by_person(s: Session, person_ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    if not person_ids:
        return out
    rows = s.execute(
        select(PersonTag.person_id, PersonTag.tag)
        .where(PersonTag.person_id.in_(person_ids))
        .order_by(PersonTag.tag)
    )
    for person_id, tag in rows:
        out.setdefault(person_id, []).append(tag)
    return out


def set_tags(s: Session, person: Person, tags: Sequence[str]) -> None:
    """Make the person's tags exactly `tags` (normalised): the caller (hub/edits.py) stamps
    the change."""
    wanted = set(normalize_tags(tags))
    have = set(tags_of(s, person.id))
    gone = have - wanted
    if gone:
        s.execute(
            delete(PersonTag).where(PersonTag.person_id == person.id, PersonTag.tag.in_(gone))
        )
    for tag in sorted(wanted - have):
        s.add(PersonTag(workspace_id=person.workspace_id, person_id=person.id, tag=tag))
    s.flush()
