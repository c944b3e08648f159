"""A sync scope as SQL (engine/sync/push/select.py), on SQLite and PostgreSQL: tags and
personas select the people they say, and nobody else."""

from __future__ import annotations

from typing import Any

from sqlalchemy import not_, select

from leadbridge.engine.sync.push.select import in_scope
from leadbridge.hub.db import Hub
from leadbridge.hub.edits import create
from leadbridge.hub.tables import Person
from leadbridge.policy.crm import PolicyFile

PERSONAS = {
    "vp": {"title_contains": ["VP", "50%"]},
    "hot_unstaged": {"stages": ["Interested", "No stage"], "lead_statuses": ["Working"]},
    "tagged_cto": {"title_contains": ["cto"], "tags": ["board"]},
}


def matched(hub: Hub, scope: dict[str, Any]) -> list[str]:
    """Who the scope selects; NOT of it selects everyone else (no NULL leaves one out)."""
    policy = PolicyFile.model_validate({"personas": PERSONAS, "syncs": {"s": {"scope": scope}}})
    condition = in_scope(policy.sync("s").scope)
    with hub.session() as s:
        inside = sorted(str(e) for e in s.scalars(select(Person.email).where(condition)))
        outside = list(s.scalars(select(Person.email).where(not_(condition))))
        total = list(s.scalars(select(Person.email)))
        assert sorted([*inside, *outside]) == sorted(total)
        return inside


def test_tags_and_personas_select_exactly_their_people(any_hub: Hub) -> None:
    people = {
        "vp@x.io": {"title": "Senior vp, Sales"},
        "pct@x.io": {"title": "Saves 50% of costs"},
        "like@x.io": {"title": "Saves 50 percent"},  # `%` is a character, not a wildcard
        "hot@x.io": {"lead_status": "Working"},
        "hot_staged@x.io": {"lead_status": "Working", "stage": "Interested"},
        "cold@x.io": {"lead_status": "Working", "stage": "Cold"},
        "cto@x.io": {"title": "CTO", "tags": ["Board"]},
        "cto_untagged@x.io": {"title": "CTO"},
        "webinar@x.io": {"tags": ["webinar", "other"]},
        "nobody@x.io": {},
    }
    with any_hub.session() as s:
        for email, values in people.items():
            person = Person(workspace_id=any_hub.workspace_id, email_status="verified")
            create(s, person, {"email": email, **values}, origin="user")

    assert matched(any_hub, {"tags": ["WEBINAR"]}) == ["webinar@x.io"]
    assert matched(any_hub, {"personas": ["vp"]}) == ["pct@x.io", "vp@x.io"]
    assert matched(any_hub, {"personas": ["hot_unstaged"]}) == ["hot@x.io", "hot_staged@x.io"]
    assert matched(any_hub, {"personas": ["tagged_cto"]}) == ["cto@x.io"]
    assert matched(any_hub, {"tags": ["webinar"], "personas": ["tagged_cto", "vp"]}) == [
        "cto@x.io",
        "pct@x.io",
        "vp@x.io",
        "webinar@x.io",
    ]


def test_a_merged_person_keeps_the_tags_of_both(any_hub: Hub) -> None:
    from leadbridge.hub.edits import get_field
    from leadbridge.hub.removal import merge_records

    with any_hub.session() as s:
        ws = any_hub.workspace_id
        keep = create(
            s, Person(workspace_id=ws), {"email": "a@x.io", "tags": ["q3"]}, origin="user"
        )
        other = create(
            s,
            Person(workspace_id=ws),
            {"email": "a2@x.io", "tags": ["webinar", "q3"]},
            origin="user",
        )
        taken = merge_records(s, keep, other, origin="user")
        assert taken["tags"] == ["q3", "webinar"]
        assert get_field(keep, "tags") == ["q3", "webinar"]
