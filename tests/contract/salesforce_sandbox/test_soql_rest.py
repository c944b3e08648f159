"""The SOQL engine behind the sandbox's REST /query and /queryAll, over HTTPS."""

from __future__ import annotations

import httpx

from ..conftest import ServedOrg


def test_parent_fields_nest_and_owner_is_a_user(api: httpx.Client, sf_org: ServedOrg) -> None:
    org = sf_org.sandbox.org
    acme = org.create("Account", {"Name": "Acme"}).id
    ng = org.create("Contact", {"LastName": "Ng", "AccountId": acme}).id
    org.create("Lead", {"LastName": "Lo", "Company": "Initech"})
    body = api.get(
        "query/", params={"q": f"select lastname, account.name from contact where id = '{ng}'"}
    ).json()
    assert body == {
        "totalSize": 1,
        "done": True,
        "records": [
            {
                "attributes": {
                    "type": "Contact",
                    "url": f"/services/data/v59.0/sobjects/Contact/{ng}",
                },
                "LastName": "Ng",
                "Account": {
                    "attributes": {
                        "type": "Account",
                        "url": f"/services/data/v59.0/sobjects/Account/{acme}",
                    },
                    "Name": "Acme",
                },
            }
        ],
    }
    (lead,) = api.get("query", params={"q": "SELECT Owner.Name FROM Lead"}).json()["records"]
    assert lead["Owner"]["attributes"]["type"] == "User"
    assert lead["Owner"]["Name"] == org.row("User", org.integration_user)["Name"]


def test_count_and_errors_as_salesforce_sends_them(api: httpx.Client, sf_org: ServedOrg) -> None:
    org = sf_org.sandbox.org
    for name in ("A", "B", "C"):
        org.create("Contact", {"LastName": name})
    count = api.get("query", params={"q": "SELECT COUNT() FROM Contact WHERE LastName != 'B'"})
    assert count.json() == {"totalSize": 2, "done": True, "records": []}

    bad = api.get("query", params={"q": "SELECT Id FROM Contact WHERE CreatedDate > '2024-01-01'"})
    assert bad.status_code == 400
    (err,) = bad.json()
    assert err["errorCode"] == "INVALID_FIELD"
    assert err["message"].endswith(
        "value of filter criterion for field 'CreatedDate' must be of type dateTime and should "
        "not be enclosed in quotes"
    )
    mixed = api.get(
        "query", params={"q": "SELECT Id FROM Contact WHERE Id = null OR Id != null AND Id = null"}
    )
    assert (mixed.status_code, mixed.json()[0]["errorCode"]) == (400, "MALFORMED_QUERY")
