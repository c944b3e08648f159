"""Sync scope on both CRMs: people outside a sync's scope (tags, personas) are not created in
the CRM, the plan counts them and `explain` says why; people already linked keep syncing."""

from __future__ import annotations

from leadbridge.engine.sync.push import plan
from leadbridge.policy.crm import CrmSync, PolicyFile

from .crm_twins import Twin
from .test_crm_both import ready


def scoped(twin: Twin) -> CrmSync:
    """The twin's sync, scoped to the tag `webinar` or the persona `vp` (a VP title)."""
    sync = twin.policy.model_dump(mode="json", exclude={"objects"})
    sync["scope"] = {"tags": ["Webinar"], "personas": ["vp"]}
    policy = PolicyFile.model_validate(
        {"personas": {"vp": {"title_contains": ["VP", "Vice President"]}}, "syncs": {"s": sync}}
    )
    return policy.sync("s")


def emails(twin: Twin) -> set[str]:
    return {str(p[twin.F["email"]]).lower() for p in twin.people()}


def test_people_outside_the_scope_are_not_created_and_explain_says_why(twin: Twin) -> None:
    ready(twin)
    policy = scoped(twin)
    company = twin.company(name="Scope", domain="scope.io")
    tagged = twin.person(
        last_name="Tag", email="tag@scope.io", tags=["webinar", "other"], company=company
    )
    vp = twin.person(
        last_name="Vp", email="vp@scope.io", title="Regional vp of sales", company=company
    )
    outside = twin.person(
        last_name="Out", email="out@scope.io", title="Engineer", tags=["x"], company=company
    )

    counts = plan(twin.ctx(policy)).counts()
    assert counts["person_out_of_scope"] == 1
    assert counts["person_create"] == 2
    (why,) = plan(twin.ctx(policy), person_ids=[outside]).people
    assert why.action == "skip"
    assert "outside the sync scope (tags webinar; personas vp)" in why.describe()

    twin.push(policy)
    assert emails(twin) == {"tag@scope.io", "vp@scope.io"}
    assert twin.link("person", outside) == {}

    # A linked person who leaves the scope keeps syncing its updates (nothing is deleted).
    twin.edit_person(tagged, tags=["other"], title="CTO")
    twin.push(policy)
    stream, rid = twin.person_link(tagged)
    row = twin.person_row(stream, rid)
    assert row is not None and row[twin.F["title"]] == "CTO"
    assert twin.person_link(vp)

    # Tagged into the scope: created by the next push.
    twin.edit_person(outside, tags=["x", "WEBINAR"])
    twin.push(policy)
    assert emails(twin) == {"tag@scope.io", "vp@scope.io", "out@scope.io"}
    assert not twin.errors()
