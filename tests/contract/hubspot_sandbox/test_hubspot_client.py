"""hubspot-api-client 12, unchanged, against the sandbox: every call goes through the client's
own API over a real socket, and each test checks what the portal now holds."""

from __future__ import annotations

import pytest
from hubspot.crm.associations.v4 import AssociationSpec
from hubspot.crm.associations.v4.models import (
    BatchInputPublicAssociationMultiPost,
    PublicAssociationMultiPost,
)
from hubspot.crm.contacts import (
    BatchInputSimplePublicObjectBatchInputForCreate,
    BatchInputSimplePublicObjectBatchInputUpsert,
    Filter,
    FilterGroup,
    PublicMergeInput,
    PublicObjectSearchRequest,
    SimplePublicObjectBatchInputForCreate,
    SimplePublicObjectBatchInputUpsert,
    SimplePublicObjectInput,
    SimplePublicObjectInputForCreate,
)
from hubspot.crm.contacts.exceptions import ApiException, NotFoundException
from hubspot.crm.properties import PropertyCreate

from .conftest import ServedPortal


def test_create_get_update_archive(portal: ServedPortal) -> None:
    api = portal.client().crm.contacts.basic_api
    created = api.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={"email": "Darth.Vader@Farbfox.de", "firstname": "Darth"}
        )
    )
    assert created.properties["lifecyclestage"] == "lead"
    assert created.properties["hs_email_domain"] == "farbfox.de"
    got = api.get_by_id(created.id, properties=["email", "firstname", "phone"])
    assert got.properties["email"] == "darth.vader@farbfox.de"
    assert got.properties["phone"] is None
    api.update(created.id, simple_public_object_input=SimplePublicObjectInput(
        properties={"lastname": "Vader"}))  # fmt: skip
    assert portal.sandbox.record("contacts", created.id)["properties"]["lastname"] == "Vader"
    api.archive(created.id)
    assert portal.sandbox.count("contacts") == 0
    assert portal.sandbox.count("contacts", archived=True) == 1
    with pytest.raises(NotFoundException) as missing:
        api.get_by_id(created.id)
    assert missing.value.headers["X-HubSpot-NotFound"] == "true"


def test_batch_create_and_upsert_by_email(portal: ServedPortal) -> None:
    batch = portal.client().crm.contacts.batch_api
    inputs = [
        SimplePublicObjectBatchInputForCreate(
            properties={"email": f"test{n}@example.org", "firstname": f"Test {n}"}
        )
        for n in range(1, 11)
    ]
    made = batch.create(
        batch_input_simple_public_object_batch_input_for_create=(
            BatchInputSimplePublicObjectBatchInputForCreate(inputs=inputs)
        )
    )
    emails = [r.properties["email"] for r in made.results]
    assert sorted(emails) == sorted(f"test{n}@example.org" for n in range(1, 11))
    assert emails != [f"test{n}@example.org" for n in range(1, 11)]  # never in input order
    upserted = batch.upsert(
        batch_input_simple_public_object_batch_input_upsert=(
            BatchInputSimplePublicObjectBatchInputUpsert(
                inputs=[
                    SimplePublicObjectBatchInputUpsert(
                        id="test1@example.org", id_property="email", properties={"lastname": "One"}
                    ),
                    SimplePublicObjectBatchInputUpsert(
                        id="new@example.org", id_property="email", properties={"lastname": "New"}
                    ),
                ]
            )
        )
    )
    assert {r.properties["email"]: r.new for r in upserted.results} == {
        "test1@example.org": False,
        "new@example.org": True,
    }
    assert portal.sandbox.count("contacts") == 11
    one = portal.sandbox.find("contacts", "test1@example.org", "email")
    assert one is not None and one["properties"]["lastname"] == "One"


def test_search_pages_through_every_match(portal: ServedPortal) -> None:
    for n in range(25):
        portal.sandbox.console.create("contacts", {"email": f"p{n}@paging.example"})
    portal.sandbox.console.create("contacts", {"email": "other@elsewhere.example"})
    search = portal.client().crm.contacts.search_api
    seen: list[str] = []
    after = None
    while True:
        page = search.do_search(
            public_object_search_request=PublicObjectSearchRequest(
                filter_groups=[FilterGroup(filters=[Filter(
                    property_name="email", operator="CONTAINS_TOKEN", value="paging.example")])],
                sorts=["createdate"],
                limit=10,
                after=after,
            )
        )  # fmt: skip
        assert page.total == 25
        seen += [r.id for r in page.results]
        if page.paging is None:
            break
        after = page.paging.next.after
    assert len(seen) == len(set(seen)) == 25


def test_associations_v4(portal: ServedPortal) -> None:
    client = portal.client()
    company = portal.sandbox.console.create("companies", {"name": "Acme", "domain": "acme.com"})
    contact = portal.sandbox.console.create("contacts", {"email": "ann@acme.com"})
    made = client.crm.associations.v4.basic_api.create(
        "contacts",
        contact.id,
        "companies",
        company.id,
        association_spec=[AssociationSpec(association_category="HUBSPOT_DEFINED",
                                          association_type_id=1)],
    )  # fmt: skip
    assert made.labels == ["Primary"]
    listed = client.crm.associations.v4.basic_api.get_page("companies", company.id, "contacts")
    rows = [
        (r.to_object_id, sorted(t.type_id for t in r.association_types)) for r in listed.results
    ]
    assert rows == [(contact.id, [2, 280])]
    deal = portal.sandbox.console.create("deals", {"dealname": "D", "dealstage": "qualifiedtobuy"})
    batch = client.crm.associations.v4.batch_api.create(
        "deals",
        "contacts",
        batch_input_public_association_multi_post=BatchInputPublicAssociationMultiPost(
            inputs=[
                PublicAssociationMultiPost(
                    _from={"id": deal.id},
                    to={"id": contact.id},
                    types=[AssociationSpec(association_category="HUBSPOT_DEFINED",
                                           association_type_id=3)],
                )
            ]
        ),
    )  # fmt: skip
    assert batch.status == "COMPLETE"
    assert (
        portal.sandbox.record("contacts", contact.id)["properties"]["associatedcompanyid"]
        == company.id
    )
    assert portal.sandbox.associations("contacts", contact.id, "deals") == [(deal.id, [4])]


def test_owners_and_properties(portal: ServedPortal) -> None:
    client = portal.client()
    gone = portal.sandbox.add_owner("left@portal.example", "Left", "Company", archived=True)
    active = client.crm.owners.owners_api.get_page(email="ann.rep@portal.example")
    assert [o.email for o in active.results] == ["ann.rep@portal.example"]
    archived = client.crm.owners.owners_api.get_page(archived=True)
    assert [(o.id, o.user_id) for o in archived.results] == [(gone["id"], None)]
    props = client.crm.properties.core_api.get_all("contacts")
    assert len(props.results) == 354
    client.crm.properties.core_api.create(
        "contacts",
        property_create=PropertyCreate(
            name="customer_code", label="Customer code", type="string", field_type="text",
            group_name="contactinformation", has_unique_value=True,
        ),
    )  # fmt: skip
    assert len(client.crm.properties.core_api.get_all("contacts").results) == 355
    contact = client.crm.contacts.basic_api.create(
        simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={"email": "c@code.example", "customer_code": "C-1"}
        )
    )
    found = client.crm.contacts.basic_api.get_by_id("C-1", id_property="customer_code")
    assert found.id == contact.id


def test_merge_through_the_client(portal: ServedPortal) -> None:
    api = portal.client().crm.contacts.basic_api
    a = portal.sandbox.console.create("contacts", {"email": "a@merge.example", "firstname": "A"})
    b = portal.sandbox.console.create("contacts", {"email": "b@merge.example", "lastname": "B"})
    merged = api.merge(public_merge_input=PublicMergeInput(
        primary_object_id=a.id, object_id_to_merge=b.id))  # fmt: skip
    assert merged.id not in (a.id, b.id)
    for old in (a.id, b.id):
        assert api.get_by_id(old).id == merged.id
    held = portal.sandbox.record("contacts", merged.id)["properties"]
    assert set(held["hs_merged_object_ids"].split(";")) == {a.id, b.id}
    assert held["email"] == "a@merge.example" and "lastname" not in held
    assert portal.sandbox.count("contacts") == 1
    with pytest.raises(ApiException) as taken:
        api.create(simple_public_object_input_for_create=SimplePublicObjectInputForCreate(
            properties={"email": "b@merge.example"}))  # fmt: skip
    assert taken.value.status == 409 and f"Existing ID: {merged.id}" in taken.value.body
