"""One "CRM world" per CRM, with the same helpers, so that a scenario is written once and runs
against Salesforce and HubSpot: the hub side (CrmWorld's), and the CRM side as a person sees it
(records made and edited as a CRM user, rows of what the CRM holds, merges), named through
canonical names (`F`) instead of each CRM's fields."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx

from leadbridge.engine.systems.hubspot import connect_with_token
from leadbridge.hub.connections import Connections
from leadbridge.hub.db import Hub
from leadbridge.policy.crm import CrmSync
from leadbridge.sandbox.server import ServedApp

from .crm_world import CrmWorld, connect


@dataclass(frozen=True)
class Owned:
    """A CRM-owned field: its hub field, the CRM's field, the value a CRM user gives it, and
    the value a hub edit tries to give it."""

    hub: str
    crm: str
    crm_value: str
    hub_value: str


class Twin(CrmWorld):
    """What every CRM world offers the shared scenarios (CrmWorld gives the hub side)."""

    F: ClassVar[dict[str, str]]  # canonical name -> the CRM's field
    person_stream: str  # what a hub person is created as by default
    owned: tuple[Owned, ...]  # CRM-owned fields, never overwritten by the hub
    rounds_status: Owned  # the CRM-owned field the 1,000 rounds edit
    reads_merges: bool  # incremental reads report merged-away records (Salesforce: with deletes)

    def remote_company(self, name: str, domain: str, *, duplicate: bool = False) -> str: ...
    def remote_person(self, email: str, last_name: str, company: str | None = None) -> str: ...
    def remote_contact(self, **values: str) -> str: ...  # canonical names, the address's too
    def edit_remote(self, stream: str, record_id: str, values: dict[str, Any]) -> None: ...
    def people(self) -> list[dict[str, Any]]: ...  # live person records, each with "id"
    def companies(self) -> list[dict[str, Any]]: ...
    def person_row(self, stream: str, record_id: str) -> dict[str, Any] | None: ...
    def company_row(self, record_id: str) -> dict[str, Any] | None: ...
    def merge_people(self, stream: str, primary: str, other: str) -> str: ...
    def delete_remote(self, stream: str, record_id: str) -> None: ...
    def restore_remote(self, stream: str, record_id: str) -> None: ...
    def restricted_source(self) -> tuple[str, str]: ...  # (field, an allowed value)
    def make_campaign(self, name: str) -> str: ...  # a campaign (static list) made in the CRM
    def campaign_members(self, campaign: str) -> list[str]: ...  # its members' person ids
    def deny_campaign_members(self, deny: bool = True) -> None: ...  # the user's permission

    def person_link(self, person_id: int) -> tuple[str, str]:
        ((stream, rid),) = self.link("person", person_id).items()
        return stream, rid


class SalesforceTwin(Twin):
    F: ClassVar[dict[str, str]] = {
        "first_name": "FirstName",
        "last_name": "LastName",
        "email": "Email",
        "title": "Title",
        "name": "Name",
        "employee_count": "NumberOfEmployees",
    }
    person_stream = "Lead"
    # Merge losers come with the deletions read (queryAll on IsDeleted): by `leadbridge pull`,
    # or a scheduled pull every pull.deletions_minutes, not by every incremental read.
    reads_merges = False
    owned = (Owned("lead_status", "Status", "Working - Contacted", "Closed - Not Converted"),)
    rounds_status = owned[0]
    _statuses = ("Working - Contacted", "Open - Not Contacted")

    def remote_company(self, name: str, domain: str, *, duplicate: bool = False) -> str:
        values = {"Name": name, "Website": domain}
        return str(self.org.create("Account", values, allow_dup_save=duplicate).id)

    def remote_person(self, email: str, last_name: str, company: str | None = None) -> str:
        values = {"LastName": last_name, "Email": email}
        if company:
            values["AccountId"] = company
        return str(self.org.create("Contact", values).id)

    _contact: ClassVar[dict[str, str]] = {
        "first_name": "FirstName",
        "last_name": "LastName",
        "email": "Email",
        "street": "MailingStreet",
        "city": "MailingCity",
        "postcode": "MailingPostalCode",
        "country": "MailingCountry",
    }

    def remote_contact(self, **values: str) -> str:
        fields = {self._contact[k]: v for k, v in values.items()}
        return str(self.org.create("Contact", fields, allow_dup_save=True).id)

    def edit_remote(self, stream: str, record_id: str, values: dict[str, Any]) -> None:
        assert self.org.update(stream, record_id, values).success

    def people(self) -> list[dict[str, Any]]:
        return [{**r, "id": r["Id"]} for kind in ("Contact", "Lead") for r in self.rows(kind)]

    def companies(self) -> list[dict[str, Any]]:
        return [{**r, "id": r["Id"]} for r in self.rows("Account")]

    def person_row(self, stream: str, record_id: str) -> dict[str, Any] | None:
        row = self.org.row(stream, record_id)
        return None if row is None or row.get("IsDeleted") else row

    def company_row(self, record_id: str) -> dict[str, Any] | None:
        return self.person_row("Account", record_id)

    def merge_people(self, stream: str, primary: str, other: str) -> str:
        self.org.merge(stream, primary, [other])
        return primary  # Salesforce's master keeps its id

    def delete_remote(self, stream: str, record_id: str) -> None:
        assert self.org.delete(stream, record_id).success  # an Account takes its Contacts

    def restore_remote(self, stream: str, record_id: str) -> None:
        self.org.undelete(stream, record_id)

    def restricted_source(self) -> tuple[str, str]:
        self.org.restrict_picklist("Lead", "LeadSource")
        return "LeadSource", "Web"

    def status_values(self) -> tuple[str, ...]:
        return self._statuses

    def make_campaign(self, name: str) -> str:
        return str(self.org.create("Campaign", {"Name": name, "Type": "Webinar"}).id)

    def campaign_members(self, campaign: str) -> list[str]:
        return sorted(
            str(r["LeadId"] or r["ContactId"])
            for r in self.rows("CampaignMember")
            if r["CampaignId"] == campaign
        )

    def deny_campaign_members(self, deny: bool = True) -> None:
        self.org.deny_campaign_members = deny


@dataclass
class HubSpotParts:
    sandbox: Any
    url: str
    token: str = field(repr=False)


class HubSpotTwin(Twin):
    F: ClassVar[dict[str, str]] = {
        "first_name": "firstname",
        "last_name": "lastname",
        "email": "email",
        "title": "jobtitle",
        "name": "name",
        "employee_count": "numberofemployees",
    }
    person_stream = "contacts"
    reads_merges = True
    owned = (
        Owned("lead_status", "hs_lead_status", "IN_PROGRESS", "UNQUALIFIED"),
        Owned("stage", "lifecyclestage", "salesqualifiedlead", "customer"),
    )
    rounds_status = owned[0]

    @property
    def hs(self) -> Any:
        return self.sandbox

    def remote_company(self, name: str, domain: str, *, duplicate: bool = False) -> str:
        return str(self.hs.console.create("companies", {"name": name, "domain": domain}).id)

    def remote_person(self, email: str, last_name: str, company: str | None = None) -> str:
        record = self.hs.console.create("contacts", {"email": email, "lastname": last_name})
        if company:
            self.hs.console.associate("contacts", record.id, "companies", company, type_id=1)
        return str(record.id)

    _contact: ClassVar[dict[str, str]] = {
        "first_name": "firstname",
        "last_name": "lastname",
        "email": "email",
        "street": "address",
        "city": "city",
        "postcode": "zip",
        "country": "country",
    }

    def remote_contact(self, **values: str) -> str:
        fields = {self._contact[k]: v for k, v in values.items()}
        return str(self.hs.console.create("contacts", fields).id)

    def edit_remote(self, stream: str, record_id: str, values: dict[str, Any]) -> None:
        self.hs.console.update(stream, record_id, values)

    def _rows(self, kind: str) -> list[dict[str, Any]]:
        return [{**r["properties"], "id": r["id"]} for r in self.hs.objects(kind)]

    def people(self) -> list[dict[str, Any]]:
        return self._rows("contacts")

    def companies(self) -> list[dict[str, Any]]:
        return self._rows("companies")

    def person_row(self, stream: str, record_id: str) -> dict[str, Any] | None:
        return next((r for r in self._rows(stream) if r["id"] == record_id), None)

    def company_row(self, record_id: str) -> dict[str, Any] | None:
        return self.person_row("companies", record_id)

    def merge_people(self, stream: str, primary: str, other: str) -> str:
        return str(self.hs.console.merge(stream, primary, other).id)

    def delete_remote(self, stream: str, record_id: str) -> None:
        self.hs.console.archive(stream, record_id)

    def restore_remote(self, stream: str, record_id: str) -> None:
        self.hs.console.restore(stream, record_id)

    def restricted_source(self) -> tuple[str, str]:
        """A custom enumeration property, made as a portal admin would (Properties API)."""
        parts = self.hs
        token = parts.issue_private_app_token()
        answer = httpx.post(
            f"{self.url}/crm/v3/properties/contacts",
            headers={"Authorization": f"Bearer {token}"},
            json={
                "name": "lead_origin",
                "label": "Lead origin",
                "type": "enumeration",
                "fieldType": "select",
                "groupName": "contactinformation",
                "options": [
                    {"label": "Web", "value": "web"},
                    {"label": "Event", "value": "event"},
                ],
            },
        )
        assert answer.status_code == 201, answer.text
        return "lead_origin", "web"

    def status_values(self) -> tuple[str, ...]:
        return ("IN_PROGRESS", "OPEN")

    def make_campaign(self, name: str) -> str:
        return str(self.hs.make_list(name))

    def campaign_members(self, campaign: str) -> list[str]:
        return sorted(self.hs.list_members(campaign))

    def deny_campaign_members(self, deny: bool = True) -> None:
        """The private app without `crm.lists.write` (or with it again)."""
        self.hs.set_private_app_scope("crm.lists.write", not deny)


def hubspot_world(hub: Hub, connections: Connections) -> Iterator[HubSpotTwin]:
    """A HubSpot sandbox on a real loopback socket, connected with a private app's token."""
    from leadbridge.sandbox.hubspot import HubSpotSandbox

    sandbox = HubSpotSandbox(seed=7)
    sandbox.knobs.burst_limit = 100_000  # the limits have their own tests
    sandbox.knobs.search_per_second = 100_000
    sandbox.add_owner("owner@portal.example", "Portal", "Owner")
    with ServedApp(sandbox.app) as served:
        sandbox.set_base_url(served.url)
        token = sandbox.issue_private_app_token()
        done = asyncio.run(
            connect_with_token(connections, name="hubspot", token=token, base_url=served.url)
        )
        settings = dict(done.info.settings)
        settings["search_per_second"] = 100_000
        connections.update_settings(done.info.id, settings)
        yield HubSpotTwin(
            sandbox, served.url, hub, connections, CrmSync(connection="hubspot"), "hubspot"
        )


def salesforce_world(hub: Hub, connections: Connections) -> Iterator[SalesforceTwin]:
    from leadbridge.sandbox.salesforce import SalesforceSandbox

    sandbox = SalesforceSandbox(seed=7)
    cert, key, ca = sandbox.tls_files()
    with ServedApp(sandbox.app, ssl_certfile=cert, ssl_keyfile=key) as served:
        sandbox.set_base_url(served.url)
        connect((sandbox, served.url, str(ca)), hub, connections)
        yield SalesforceTwin(sandbox, served.url, hub, connections, CrmSync())
