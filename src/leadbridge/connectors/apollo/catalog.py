"""Apollo as the engine sees it: a team's accounts are companies (created through bulk_create
with dedupe, so a resend adopts instead of duplicating) and its users own them."""

from __future__ import annotations

from leadbridge.connectors.catalog import Catalog, Stream

CATALOG = Catalog(
    system="apollo",
    label="Apollo",
    scope_label="team",
    creates="dedupe",
    streams=(
        Stream(
            "user",
            "user",
            roles={"email": "email", "first_name": "first_name", "last_name": "last_name"},
            creatable=False,
        ),
        Stream(
            "account",
            "company",
            roles={"name": "name", "domain": "domain", "owner": "owner_id"},
            stamps=frozenset({"updated_at"}),
            section="account",
        ),
    ),
)
