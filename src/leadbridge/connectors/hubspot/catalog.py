"""HubSpot as the engine sees it: owners own records; companies are companies; a person is a
contact (one person stream: HubSpot has no Lead object in this API).

The person's company is an association (contact -> company, primary type 1), exposed under the
contact property `associatedcompanyid`, which HubSpot keeps equal to the primary company's id:
reads fill it, and a write that carries it is turned into the primary association by the
connector (never sent as a property). The engine can treat it like a lookup field.

How a create survives a lost answer (`creates="upsert"`):
- a contact with an e-mail: HubSpot refuses a second contact with the same e-mail (409, "Existing
  ID: N"), so a create is sent again freely and a taken e-mail hands back the contact that holds
  it (made by our lost attempt: `created`; someone else's: adopted and updated) — an upsert by
  e-mail, in one call with the company association (connector.py);
- a contact without an e-mail, and a company (domain is not unique in HubSpot): created once,
  never resent; the engine's create intent is matched afterwards by domain, then name (companies)
  or by the values sent (contacts), as for Salesforce.
"""

from __future__ import annotations

from datetime import timedelta

from leadbridge.connectors.catalog import Catalog, Relation, Stream

CONTACTS, COMPANIES, OWNERS, DEALS = "contacts", "companies", "owners", "deals"
COMPANY_FIELD = "associatedcompanyid"
DEAL_COMPANY = COMPANY_FIELD  # a deal's primary company, filled by the connector (deal_links)
DEAL_CONTACTS = "associatedcontactids"  # a deal's contacts' ids, filled by the connector
MERGED = "hs_merged_object_ids"  # ';'-separated ids a merged record was made from
# The last-modified stamp of each object (reference A3): contacts differ from the rest.
MODIFIED = {
    CONTACTS: "lastmodifieddate",
    COMPANIES: "hs_lastmodifieddate",
    DEALS: "hs_lastmodifieddate",
}
STAMPS = frozenset({"lastmodifieddate", "hs_lastmodifieddate"})
MILLISECOND = timedelta(milliseconds=1)  # HubSpot stamps epoch milliseconds
# A contact's and a company's address properties, by role.
ADDRESS = {"street": "address", "city": "city", "postcode": "zip", "country": "country"}

CATALOG = Catalog(
    system="hubspot",
    label="HubSpot",
    scope_label="portal",
    creates="upsert",
    # Search shows a write "a few seconds" later (reference A4): a read vouches for less.
    read_lag=timedelta(seconds=15),
    streams=(
        Stream(
            OWNERS,
            "user",
            roles={
                "email": "email",
                "first_name": "firstName",
                "last_name": "lastName",
                "active": "active",  # not `archived` (a deactivated user)
            },
            creatable=False,
            noun="owner",
        ),
        Stream(
            COMPANIES,
            "company",
            roles={
                "name": "name",
                "domain": "domain",
                "phone": "phone",
                "owner": "hubspot_owner_id",
                **ADDRESS,
            },
            read_fields=(MERGED,),
            stamps=STAMPS,
            stamp_precision=MILLISECOND,
            section="company",
            noun="company",
        ),
        Stream(
            CONTACTS,
            "person",
            roles={
                "email": "email",
                "first_name": "firstname",
                "last_name": "lastname",
                "company_name": "company",
                "phone": "phone",
                "mobile_phone": "mobilephone",
                "owner": "hubspot_owner_id",
                **ADDRESS,
            },
            company=Relation("association", COMPANIES, field=COMPANY_FIELD),
            read_fields=(COMPANY_FIELD, MERGED),
            stamps=STAMPS,
            stamp_precision=MILLISECOND,
            section="contact",
            noun="contact",
            upsert_key="email",
        ),
    ),
    # A deal's stage is a stage id of its pipeline (/crm/v3/pipelines/deals); its company and
    # contacts are associations the connector exposes as fields (deal_links.py).
    deals=Stream(
        DEALS,
        "deal",
        roles={
            "name": "dealname",
            "amount": "amount",
            "close_date": "closedate",
            "stage": "dealstage",
            "pipeline": "pipeline",
            "owner": "hubspot_owner_id",
            "company": DEAL_COMPANY,
            "people": DEAL_CONTACTS,
        },
        company=Relation("association", COMPANIES, field=DEAL_COMPANY),
        read_fields=(MERGED,),
        stamps=STAMPS,
        stamp_precision=MILLISECOND,
        section="deal",
        noun="deal",
    ),
)
