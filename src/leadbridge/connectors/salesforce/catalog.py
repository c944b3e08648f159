"""Salesforce as the engine sees it: Users own records; Accounts are companies; a person is a
Contact (it wins) or a Lead (whose conversion moves it to a Contact and an Account); deals are
Opportunities (their people, OpportunityContactRole, are not synced yet)."""

from __future__ import annotations

from datetime import timedelta

from leadbridge.connectors.catalog import Catalog, Relation, Stream

STAMPS = frozenset({"SystemModstamp", "LastModifiedDate"})  # change with any edit
SECOND = timedelta(seconds=1)  # a real org stamps whole seconds
CONVERSION = ("IsConverted", "ConvertedContactId", "ConvertedAccountId")


def _address(prefix: str) -> dict[str, str]:
    """The address roles of a compound address field (a Contact's Mailing…, an Account's
    Billing…, a Lead's bare Street…)."""
    return {
        "street": f"{prefix}Street",
        "city": f"{prefix}City",
        "postcode": f"{prefix}PostalCode",
        "country": f"{prefix}Country",
    }


CATALOG = Catalog(
    system="salesforce",
    label="Salesforce",
    scope_label="org",
    creates="intent",
    streams=(
        Stream(
            "User",
            "user",
            roles={
                "email": "Email",
                "first_name": "FirstName",
                "last_name": "LastName",
                "active": "IsActive",
            },
            creatable=False,
            stamps=STAMPS,
            stamp_precision=SECOND,
        ),
        Stream(
            "Account",
            "company",
            roles={
                "name": "Name",
                "domain": "Website",
                "phone": "Phone",
                "owner": "OwnerId",
                **_address("Billing"),
            },
            stamps=STAMPS,
            stamp_precision=SECOND,
            section="account",
        ),
        Stream(
            "Contact",
            "person",
            rank=0,
            roles={
                "email": "Email",
                "first_name": "FirstName",
                "last_name": "LastName",
                "phone": "Phone",
                "mobile_phone": "MobilePhone",
                "owner": "OwnerId",
                **_address("Mailing"),
            },
            company=Relation("lookup", "Account", field="AccountId", required=True),
            read_fields=("AccountId",),
            stamps=STAMPS,
            stamp_precision=SECOND,
            section="contact",
        ),
        Stream(
            "Lead",
            "person",
            rank=1,
            roles={
                "email": "Email",
                "first_name": "FirstName",
                "last_name": "LastName",
                "company_name": "Company",
                "domain": "Website",
                "phone": "Phone",
                "mobile_phone": "MobilePhone",
                "owner": "OwnerId",
                **_address(""),
            },
            read_fields=CONVERSION,
            stamps=STAMPS,
            stamp_precision=SECOND,
            section="lead",
        ),
    ),
    deals=Stream(
        "Opportunity",
        "deal",
        roles={
            "name": "Name",
            "amount": "Amount",
            "close_date": "CloseDate",
            "stage": "StageName",
            "owner": "OwnerId",
            "company": "AccountId",
        },
        company=Relation("lookup", "Account", field="AccountId"),
        read_fields=("IsClosed", "IsWon", "Probability"),
        stamps=STAMPS,
        section="opportunity",
        noun="opportunity",
    ),
)
