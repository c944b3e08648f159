"""The Salesforce sandbox's OAuth, sessions, limits and error bodies against the reference."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import ssl

import httpx

from .conftest import ServedOrg


def client(org: ServedOrg) -> httpx.Client:
    return httpx.Client(
        base_url=org.url, verify=ssl.create_default_context(cafile=str(org.ca)), trust_env=False
    )


def test_web_server_flow_with_pkce_and_refresh(sf_org: ServedOrg) -> None:
    redirect = "https://hub.example/oauth/salesforce"
    client_id, secret = sf_org.sandbox.register_connected_app([redirect])
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    )
    with client(sf_org) as http:
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect,
            "state": "st-1",
            "code_challenge": challenge,
            "scope": "api refresh_token",
        }
        assert http.get("/services/oauth2/authorize", params=params).status_code == 200
        back = http.post("/services/oauth2/authorize", data={**params, "decision": "allow"})
        location = httpx.URL(back.headers["location"])
        assert back.status_code == 302 and location.params["state"] == "st-1"
        form = {
            "grant_type": "authorization_code",
            "code": location.params["code"],
            "client_id": client_id,
            "client_secret": secret,
            "redirect_uri": redirect,
        }
        bad = http.post("/services/oauth2/token", data={**form, "code_verifier": "wrong"})
        assert bad.status_code == 400 and bad.json()["error"] == "invalid_request"
        # the code was spent by the failed attempt: authorize again
        back = http.post("/services/oauth2/authorize", data={**params, "decision": "allow"})
        form["code"] = httpx.URL(back.headers["location"]).params["code"]
        tokens = http.post(
            "/services/oauth2/token", data={**form, "code_verifier": verifier}
        ).json()
        assert set(tokens) == {
            "access_token",
            "refresh_token",
            "signature",
            "scope",
            "instance_url",
            "id",
            "token_type",
            "issued_at",
        }  # no expires_in, as the real one
        assert isinstance(tokens["issued_at"], str) and tokens["issued_at"].isdigit()
        expected = base64.b64encode(
            hmac.new(
                secret.encode(), (tokens["id"] + tokens["issued_at"]).encode(), hashlib.sha256
            ).digest()
        ).decode()
        assert tokens["signature"] == expected
        auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        assert http.get("/services/data/v59.0/limits/", headers=auth).status_code == 200
        assert http.get(tokens["id"].replace(sf_org.url, ""), headers=auth).json()[
            "organization_id"
        ]
        refreshed = http.post(
            "/services/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": tokens["refresh_token"],
                "client_id": client_id,
                "client_secret": secret,
            },
        ).json()
        assert (
            "refresh_token" not in refreshed and refreshed["access_token"] != tokens["access_token"]
        )
        denied = http.post("/services/oauth2/authorize", data={**params, "decision": "deny"})
        assert httpx.URL(denied.headers["location"]).params["error"] == "access_denied"


def test_sessions_expire_with_invalid_session_id(sf_org: ServedOrg) -> None:
    sf_org.sandbox.knobs.session_expiry_calls = 2
    auth = sf_org.auth()
    with client(sf_org) as http:
        assert http.get("/services/data/v59.0/limits", headers=auth).status_code == 200
        assert http.get("/services/data/v59.0/limits", headers=auth).status_code == 200
        r = http.get("/services/data/v59.0/limits", headers=auth)
        assert r.status_code == 401
        assert r.json() == [
            {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
        ]
        assert http.get("/services/data/v59.0/limits").status_code == 401


def test_daily_limit_and_limit_info_header(sf_org: ServedOrg) -> None:
    sf_org.sandbox.org.daily_limit = 3
    auth = sf_org.auth()
    with client(sf_org) as http:
        assert http.get("/services/data/").status_code == 200  # the versions list is free
        seen = [
            http.get("/services/data/v59.0/limits", headers=auth).headers["Sforce-Limit-Info"]
            for _ in range(3)
        ]
        assert seen == ["api-usage=1/3", "api-usage=2/3", "api-usage=3/3"]
        r = http.get("/services/data/v59.0/limits", headers=auth)
        assert r.status_code == 403
        assert r.json() == [
            {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
        ]


def test_record_errors_have_the_real_codes(sf_org: ServedOrg) -> None:
    org = sf_org.sandbox.org
    org.restrict_picklist("Lead", "LeadSource")
    org.add_custom_field("Contact", "Ext__c", external_id=True)
    auth = sf_org.auth()
    base = "/services/data/v59.0/sobjects"
    with client(sf_org) as http:
        r = http.post(
            f"{base}/Lead/",
            headers=auth,
            json={"LastName": "A", "Company": "B", "LeadSource": "Fax"},
        )
        assert r.status_code == 400 and r.json() == [
            {
                "message": "Lead Source: bad value for restricted picklist field: Fax",
                "errorCode": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                "fields": ["LeadSource"],
            }
        ]
        r = http.post(
            f"{base}/Lead/", headers=auth, json={"LastName": "A", "Company": "B", "Email": "nope"}
        )
        assert r.json()[0]["errorCode"] == "INVALID_EMAIL_ADDRESS"
        r = http.post(
            f"{base}/Lead/", headers=auth, json={"LastName": "A", "Company": "B", "Foo__c": 1}
        )
        assert r.json()[0]["errorCode"] == "INVALID_FIELD"
        assert http.get(f"{base}/Lead/00Q000000000000AAA", headers=auth).status_code == 404
        for _ in range(2):
            org.create("Contact", {"LastName": "Twin", "Ext__c": "E1"})
        r = http.patch(f"{base}/Contact/Ext__c/E1", headers=auth, json={"LastName": "X"})
        assert (
            r.status_code == 300
            and len(r.json()) == 2
            and r.json()[0].startswith(f"{base}/Contact/003")
        )
        too_many = {
            "records": [{"attributes": {"type": "Account"}, "Name": str(i)} for i in range(201)]
        }
        r = http.post("/services/data/v59.0/composite/sobjects", headers=auth, json=too_many)
        assert r.status_code == 400 and org.rows("Account") == []
        r = http.get(
            "/services/data/v59.0/query", params={"q": "SELECT Nope FROM Lead"}, headers=auth
        )
        assert r.status_code == 400 and r.json()[0]["errorCode"] == "INVALID_FIELD"


def test_duplicate_rules_alert_and_block(sf_org: ServedOrg) -> None:
    from leadbridge.sandbox.salesforce.org import DuplicateRule, ValidationRule

    org = sf_org.sandbox.org
    org.duplicate_rules["Contact"].append(DuplicateRule("Contact_Email_Alert", ("Email",)))
    org.duplicate_rules["Lead"].append(DuplicateRule("Lead_Block", ("Email",), block=True))
    org.validation_rules["Account"].append(
        ValidationRule(
            "Need_Website", lambda r: not r.get("Website"), "Give the account a website", "Website"
        )
    )
    first = org.create("Contact", {"LastName": "A", "Email": "a@x.io"}).id
    org.create("Lead", {"LastName": "A", "Company": "X", "Email": "a@x.io"})
    auth = sf_org.auth()
    url = "/services/data/v59.0/sobjects"
    with client(sf_org) as http:
        r = http.post(f"{url}/Contact/", headers=auth, json={"LastName": "B", "Email": "A@x.io"})
        (body,) = r.json()
        assert r.status_code == 400 and body["errorCode"] == "DUPLICATES_DETECTED"
        assert body["duplicateResult"]["allowSave"] is True
        match = body["duplicateResult"]["matchResults"][0]["matchRecords"][0]["record"]
        assert match["Id"] == first
        saved = http.post(
            f"{url}/Contact/",
            json={"LastName": "B", "Email": "a@x.io"},
            headers={**auth, "Sforce-Duplicate-Rule-Header": "allowSave=true"},
        )
        assert saved.status_code == 201
        blocked = http.post(
            f"{url}/Lead/",
            json={"LastName": "B", "Company": "Y", "Email": "a@x.io"},
            headers={**auth, "Sforce-Duplicate-Rule-Header": "allowSave=true"},
        )
        assert blocked.json()[0]["duplicateResult"]["allowSave"] is False
        r = http.post(f"{url}/Account/", headers=auth, json={"Name": "No site"})
        assert r.json() == [
            {
                "message": "Give the account a website",
                "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                "fields": ["Website"],
            }
        ]
    assert len([r for r in org.rows("Contact")]) == 2 and len(org.rows("Lead")) == 1


def test_admin_convert_merge_and_undelete_as_clients_see_them(sf_org: ServedOrg) -> None:
    org = sf_org.sandbox.org
    lead = org.create("Lead", {"LastName": "Lee", "Company": "Acme", "Email": "lee@acme.io"}).id
    keep = org.create("Contact", {"LastName": "Keep"}).id
    lose = org.create("Contact", {"LastName": "Lose"}).id
    auth = sf_org.auth()
    data = "/services/data/v59.0"
    with client(sf_org) as http:
        converted = http.post(f"/__admin__/convert/{lead}").json()
        row = org.row("Lead", lead)
        assert row["IsConverted"] and row["ConvertedContactId"] == converted["contactId"]
        r = http.patch(f"{data}/sobjects/Lead/{lead}", headers=auth, json={"Title": "x"})
        assert r.json()[0]["errorCode"] == "CANNOT_UPDATE_CONVERTED_LEAD"
        assert org.row("Contact", converted["contactId"])["Email"] == "lee@acme.io"

        assert (
            http.post(f"/__admin__/merge/Contact/{keep}", params={"losers": lose}).status_code
            == 200
        )
        q = (
            "SELECT Id, MasterRecordId FROM Contact "
            "WHERE IsDeleted = true AND MasterRecordId != null"
        )
        merged = http.get(f"{data}/queryAll/", params={"q": q}, headers=auth).json()["records"]
        assert [(m["Id"], m["MasterRecordId"]) for m in merged] == [(lose, keep)]
        live = http.get(
            f"{data}/query/", params={"q": "SELECT Id FROM Contact"}, headers=auth
        ).json()
        assert lose not in [r["Id"] for r in live["records"]]

        assert http.post(f"/__admin__/undelete/Contact/{lose}").status_code == 200
        assert not org.row("Contact", lose)["IsDeleted"]


def test_a_seeded_org_looks_like_a_real_one(sf_org: ServedOrg) -> None:
    from leadbridge.sandbox.salesforce.seed import seed_org

    report = seed_org(sf_org.sandbox.org, accounts=200, leads=400, seed=3)
    auth = sf_org.auth()
    q = "/services/data/v59.0/query"
    with client(sf_org) as http:

        def count(soql: str) -> int:
            return int(http.get(q, params={"q": soql}, headers=auth).json()["totalSize"])

        assert (
            count("SELECT COUNT() FROM Contact")
            == report.contacts + report.duplicates + report.converted
        )
        assert count("SELECT COUNT() FROM Lead WHERE IsConverted = true") == report.converted > 0
        assert report.duplicates > 0
        contacts = http.get(q, params={"q": "SELECT Email FROM Contact"}, headers=auth).json()
        emails = [r["Email"].lower() for r in contacts["records"]]
        assert len(emails) - len(set(emails)) >= report.duplicates  # same person, case changed
