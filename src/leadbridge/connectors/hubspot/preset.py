"""HubSpot's defaults: the CRM sync tutorial's ownership policy in HubSpot's properties. The CRM
owns the lifecycle stage, the lead status and the owner; the hub owns enrichment (e-mail, title,
phones, company name and size); first and last name are shared, the latest change wins.

Not mapped by default: a company's `industry` (an enumeration of HubSpot's own values, which
free-text hub industries would fail), and no source field (HubSpot's default schema has no
writable one: a custom property takes it).
"""

from __future__ import annotations

from leadbridge.connectors.hubspot.catalog import COMPANY_FIELD
from leadbridge.policy.fields import field_map
from leadbridge.policy.preset import Preset

PRESET = Preset(
    maps={
        "contact": (
            field_map("first_name", "firstname", "both"),
            field_map("last_name", "lastname", "both"),
            field_map("email", "email", "hub_to_crm"),
            field_map("title", "jobtitle", "hub_to_crm"),
            field_map("phone", "phone", "hub_to_crm"),
            field_map("mobile_phone", "mobilephone", "hub_to_crm"),
            field_map("company_name", "company", "hub_to_crm"),
            field_map("stage", "lifecyclestage", "crm_to_hub"),
            field_map("lead_status", "hs_lead_status", "crm_to_hub"),
            field_map("owner", "hubspot_owner_id", "crm_to_hub"),
        ),
        "company": (
            field_map("name", "name", "hub_to_crm"),
            field_map("domain", "domain", "hub_to_crm", "auto_fill"),
            field_map("employee_count", "numberofemployees", "hub_to_crm"),
            field_map("owner", "hubspot_owner_id", "crm_to_hub"),
        ),
    },
    create_people_as="contact",
    crm_owned={
        # The tutorial's disaster: a hub that writes lifecycle stages resets the funnel.
        "lifecyclestage": "lifecycle stage",
        "hs_lead_status": "lead status",
        "hubspot_owner_id": "the sales owner",
        "dealstage": "deal stage",
    },
    filled_by_engine={"contact": frozenset({COMPANY_FIELD})},
    refused={"lead": "HubSpot has no Lead object in this API: create people as contacts"},
    missing_field_hint="create the property on HubSpot {object} (Settings > Properties), or "
    "fix the policy's field map",
)
