"""Salesforce's defaults: the CRM sync tutorial's ownership policy in Salesforce's fields (the
CRM owns lead status and the owner; the hub owns enrichment; names are shared, latest wins)."""

from __future__ import annotations

from leadbridge.policy.fields import FieldMap, field_map
from leadbridge.policy.preset import Preset


def _people(lead: bool) -> tuple[FieldMap, ...]:
    fields = [
        field_map("first_name", "FirstName", "both"),
        field_map("last_name", "LastName", "both"),
        field_map("email", "Email", "hub_to_crm"),
        field_map("title", "Title", "hub_to_crm"),
        field_map("phone", "Phone", "hub_to_crm"),
        field_map("mobile_phone", "MobilePhone", "hub_to_crm"),
        field_map("owner", "OwnerId", "crm_to_hub"),
    ]
    if lead:
        fields += [
            field_map("company_name", "Company", "hub_to_crm"),
            field_map("lead_status", "Status", "crm_to_hub"),
        ]
    return tuple(fields)


PRESET = Preset(
    maps={
        "lead": _people(lead=True),
        "contact": _people(lead=False),
        "account": (
            field_map("name", "Name", "hub_to_crm"),
            field_map("domain", "Website", "hub_to_crm", "auto_fill"),
            field_map("industry", "Industry", "hub_to_crm"),
            field_map("employee_count", "NumberOfEmployees", "hub_to_crm"),
            field_map("owner", "OwnerId", "crm_to_hub"),
        ),
    },
    create_people_as="lead",
    crm_owned={"Status": "lead status", "OwnerId": "the sales owner", "StageName": "deal stage"},
    filled_by_engine={"contact": frozenset({"AccountId"})},
    source_fields={"person": "LeadSource", "company": "AccountSource"},
    missing_field_hint="create the custom field in Salesforce (Setup → Object Manager → {object} "
    "→ Fields & Relationships) or fix the policy's field map",
)
