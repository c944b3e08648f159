"""simple-salesforce 1.12.10, unchanged, against the Salesforce sandbox over HTTPS; every test
asserts what the org then holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from simple_salesforce import Salesforce
from simple_salesforce.exceptions import SalesforceExpiredSession, SalesforceMalformedRequest

from .conftest import ServedOrg


@pytest.fixture
def sf(sf_org: ServedOrg) -> Salesforce:
    return Salesforce(
        instance_url=sf_org.url,
        session_id=sf_org.sandbox.issue_session(),
        session=sf_org.session(),
        version="59.0",
    )


def test_create_update_upsert_delete(sf: Salesforce, sf_org: ServedOrg) -> None:
    org = sf_org.sandbox.org
    org.add_custom_field("Contact", "Hub_Id__c", external_id=True, unique=True)
    created = sf.Lead.create({"LastName": "Smith", "Company": "Acme", "Email": "s@acme.com"})
    assert created["success"] and created["id"].startswith("00Q") and len(created["id"]) == 18
    assert sf.Lead.update(created["id"], {"Title": "CTO"}) == 204
    assert org.row("Lead", created["id"])["Title"] == "CTO"
    assert sf.Lead.get(created["id"])["Name"] == "Smith"

    assert sf.Contact.upsert("Hub_Id__c/42", {"LastName": "Ng", "Email": "ng@x.io"}) == 201
    assert sf.Contact.upsert("Hub_Id__c/42", {"LastName": "Ngo"}) == 200
    (contact,) = [r for r in org.rows("Contact") if r.get("Hub_Id__c") == "42"]
    assert contact["LastName"] == "Ngo"
    assert sf.Contact.get_by_custom_id("Hub_Id__c", "42")["Id"] == contact["Id"]

    assert sf.Lead.delete(created["id"]) == 204
    assert org.row("Lead", created["id"])["IsDeleted"] is True
    with pytest.raises(SalesforceMalformedRequest) as info:
        sf.Lead.create({"LastName": "NoCompany"})
    assert info.value.content[0]["errorCode"] == "REQUIRED_FIELD_MISSING"


def test_query_paging_and_query_all(sf: Salesforce, sf_org: ServedOrg) -> None:
    org = sf_org.sandbox.org
    for i in range(450):
        org.create("Contact", {"LastName": f"C{i:03d}", "Email": f"c{i}@x.io"})
    gone = org.create("Contact", {"LastName": "Gone"}).id
    org.delete("Contact", gone)
    sf_org.sandbox.knobs.query_batch_size = 200
    first = sf.query("SELECT Id, LastName FROM Contact ORDER BY LastName")
    assert first["totalSize"] == 450 and not first["done"]
    assert first["nextRecordsUrl"].startswith("/services/data/v59.0/query/")
    names = [
        r["LastName"]
        for r in sf.query_all_iter("SELECT Id, LastName FROM Contact ORDER BY LastName")
    ]
    assert names == [f"C{i:03d}" for i in range(450)]
    everything = sf.query_all(
        "SELECT Id FROM Contact WHERE LastName = 'Gone'", include_deleted=True
    )
    assert [r["Id"] for r in everything["records"]] == [gone]
    assert sf.query("SELECT COUNT() FROM Contact")["totalSize"] == 450


def test_describe_and_limits(sf: Salesforce) -> None:
    names = {o["name"] for o in sf.describe()["sobjects"]}
    assert {"Lead", "Contact", "Account", "Opportunity", "Task", "Event", "User"} <= names
    lead = sf.Lead.describe()
    fields = {f["name"]: f for f in lead["fields"]}
    assert fields["Company"]["length"] == 255 and not fields["Company"]["nillable"]
    assert "Open - Not Contacted" in [p["value"] for p in fields["Status"]["picklistValues"]]
    limits = sf.limits()
    assert limits["DailyApiRequests"]["Max"] == 15000
    assert sf.api_usage["api-usage"].used >= 3


def test_updated_and_deleted_windows(sf: Salesforce, sf_org: ServedOrg) -> None:
    org = sf_org.sandbox.org
    kept = org.create("Account", {"Name": "Kept"}).id
    gone = org.create("Account", {"Name": "Gone"}).id
    org.delete("Account", gone)
    start = datetime.now(UTC) - timedelta(minutes=5)
    end = datetime.now(UTC) + timedelta(minutes=2)
    assert sf.Account.updated(start, end)["ids"] == [kept]
    deleted = sf.Account.deleted(start, end)["deletedRecords"]
    assert [d["id"] for d in deleted] == [gone]


def test_restful_collections(sf: Salesforce, sf_org: ServedOrg) -> None:
    body = {
        "allOrNone": False,
        "records": [
            {"attributes": {"type": "Account"}, "Name": "A1"},
            {"attributes": {"type": "Account"}},  # no Name: fails alone
            {"attributes": {"type": "Contact"}, "LastName": "Z", "Email": "z@x.io"},
        ],
    }
    results = sf.restful("composite/sobjects", method="POST", json=body)
    assert [r["success"] for r in results] == [True, False, True]
    assert results[1]["errors"][0]["statusCode"] == "REQUIRED_FIELD_MISSING"
    org = sf_org.sandbox.org
    assert [r["Name"] for r in org.rows("Account")] == ["A1"]
    body["allOrNone"] = True
    results = sf.restful("composite/sobjects", method="POST", json=body)
    assert results[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert [r["Name"] for r in org.rows("Account")] == ["A1"]  # nothing new was kept
    ids = ",".join(r["Id"] for r in org.rows("Account"))
    deleted = sf.restful("composite/sobjects", method="DELETE", params={"ids": ids})
    assert deleted[0]["success"] and org.rows("Account")[0]["IsDeleted"]


def test_an_expired_session_raises_the_documented_error(sf: Salesforce, sf_org: ServedOrg) -> None:
    sf_org.sandbox.knobs.session_expiry_calls = 1
    sf.query("SELECT Id FROM Lead")
    with pytest.raises(SalesforceExpiredSession) as info:
        sf.query("SELECT Id FROM Lead")
    assert info.value.content[0]["errorCode"] == "INVALID_SESSION_ID"


def test_bulk2_insert_and_query(sf: Salesforce, sf_org: ServedOrg, tmp_path) -> None:  # type: ignore[no-untyped-def]
    records = [{"LastName": f"Bulk{i:04d}", "Email": f"b{i}@x.io"} for i in range(1500)]
    records[7] = {"LastName": "", "Email": "nobody@x.io"}  # required field missing: fails alone
    (result,) = sf.bulk2.Contact.insert(records=records, wait=0.01)
    assert result["numberRecordsProcessed"] == 1500 and result["numberRecordsFailed"] == 1
    org = sf_org.sandbox.org
    assert len(org.rows("Contact")) == 1499
    failed = sf.bulk2.Contact.get_failed_records(result["job_id"])
    assert "REQUIRED_FIELD_MISSING:Required fields are missing: [LastName]:LastName --" in failed
    ok = sf.bulk2.Contact.get_successful_records(result["job_id"])
    header = ok.splitlines()[0].split(",")
    # simple-salesforce orders the uploaded columns from a set: only the first two are fixed
    assert header[:2] == ['"sf__Id"', '"sf__Created"']
    assert sorted(header[2:]) == ['"Email"', '"LastName"']

    pages = list(
        sf.bulk2.Contact.query(
            "SELECT Id, LastName FROM Contact ORDER BY LastName", max_records=1000, wait=0.01
        )
    )
    assert len(pages) == 2
    names = [line.split(",")[1].strip('"') for page in pages for line in page.splitlines()[1:]]
    assert pages[0].splitlines()[0] == '"Id","LastName"'  # the SELECT order
    assert len(names) == 1499 and names[0] == "Bulk0000"
