"""Apollo's defaults for the lead push: the hub owns what it pushes (name, domain, the owner
assigned in the hub, the website); Apollo keeps everything else it knows of an account."""

from __future__ import annotations

from leadbridge.policy.fields import field_map
from leadbridge.policy.preset import Preset

# `website` is not an Apollo account field: the connector puts it into the account custom field
# the lead push's `website_field` setting names (connectors/apollo/connector.py).
PRESET = Preset(
    maps={
        "account": (
            field_map("name", "name", "hub_to_crm"),
            field_map("domain", "domain", "hub_to_crm"),
            field_map("owner", "owner_id", "hub_to_crm"),
            field_map("website", "website", "hub_to_crm"),
        )
    },
    create_people_as="",
    missing_field_hint="create the account custom field in Apollo (Settings → Fields)",
)
