"""A hub merge takes the other record's deals along: a company's deals, a person's roles."""

from __future__ import annotations

from sqlalchemy import select

from leadbridge.hub.db import Hub
from leadbridge.hub.removal import merge_records
from leadbridge.hub.tables import Company, Deal, DealPerson, Person


def test_merged_records_take_their_deals_along(any_hub: Hub) -> None:
    ws = any_hub.workspace_id
    with any_hub.session() as s:
        keep, other = Company(workspace_id=ws, name="Acme"), Company(workspace_id=ws, name="Acme")
        ann, ann2 = Person(workspace_id=ws, email="ann@acme.io"), Person(workspace_id=ws)
        s.add_all([keep, other, ann, ann2])
        s.flush()
        big = Deal(workspace_id=ws, name="Big", company_id=other.id)
        small = Deal(workspace_id=ws, name="Small", company_id=keep.id)
        s.add_all([big, small])
        s.flush()
        s.add_all(
            [
                DealPerson(workspace_id=ws, deal_id=big.id, person_id=ann2.id),
                DealPerson(workspace_id=ws, deal_id=small.id, person_id=ann2.id),
                DealPerson(workspace_id=ws, deal_id=small.id, person_id=ann.id),
            ]
        )
        s.flush()
        merge_records(s, keep, other, origin="user")
        merge_records(s, ann, ann2, origin="user")
        ids = (keep.id, ann.id, ann2.id, big.id, small.id)
    keep_id, ann_id, ann2_id, big_id, small_id = ids
    with any_hub.session() as s:
        assert {d.name: d.company_id for d in s.scalars(select(Deal))} == {
            "Big": keep_id,
            "Small": keep_id,
        }
        roles = {(r.deal_id, r.person_id) for r in s.scalars(select(DealPerson))}
        assert roles == {(big_id, ann_id), (small_id, ann_id)}
        assert ann2_id not in {p for _, p in roles}
