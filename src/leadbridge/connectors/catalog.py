"""What a connector declares about its system, so that the engine never names a remote object
or field: its streams and their canonical kinds, the fields that play a known role in each,
how a person points at its company, how a read is windowed, how a create is made idempotent.

Roles (remote field names by what they mean to the engine):

    person   email, first_name, last_name, company_name (a company as text), domain, owner,
             phone, mobile_phone, street, city, postcode, country (what the duplicate audit
             compares; the address is the mailing address)
    company  name, domain (a website or domain: compared by registrable domain), owner, phone,
             street, city, postcode, country (the billing address)
    user     email, first_name, last_name, active
    deal     name, amount, close_date, stage, pipeline, owner, company (a lookup to the company
             stream; a system whose deal reads do not carry it leaves it out), people (the
             ids of the deal's person records, a list; where the system exposes them)

A catalog's deal stream is declared apart (`Catalog.deals`): the person/company engine never
iterates it; the deal sync (engine/deals) reads and writes it, and the connector describes its
pipelines and stages (`DealStage`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from leadbridge.normalize import company_name_key, email_key, normalize_domain

Kind = Literal["company", "person", "user", "deal"]
# How a create survives a lost answer: an intent matched afterwards by its keys and values
# (Salesforce), a create the server dedupes (Apollo's bulk_create with run_dedupe), or an upsert
# on a unique key (HubSpot: a contact's e-mail; see Stream.upsert_key).
CreateMode = Literal["intent", "dedupe", "upsert"]


@dataclass(frozen=True)
class Relation:
    """How a person is tied to its company: a lookup field on the person, or an association."""

    via: Literal["lookup", "association"]
    target: str  # the company stream
    field: str | None = None  # the lookup field (an association: the field reads expose it as)
    # A person of this stream cannot be created without a company (a Salesforce contact is
    # made with its account); otherwise one without a company is created alone.
    required: bool = False


@dataclass(frozen=True)
class Stream:
    name: str  # the remote object, as the API names it
    kind: Kind
    roles: Mapping[str, str] = field(default_factory=dict)
    # Among one kind's streams, the lower rank wins for one identity (a contact over a lead).
    rank: int = 0
    company: Relation | None = None  # person streams
    creatable: bool = True
    # Fields every read takes besides the mapped ones (the roles', the events').
    read_fields: tuple[str, ...] = ()
    # Fields that change with any edit (a modification stamp): never a change of a value.
    stamps: frozenset[str] = frozenset()
    # What the system's modification stamp is cut to (Salesforce: whole seconds): a hub change
    # within the same tick cannot be ordered against it (engine/sync/resolve.py).
    stamp_precision: timedelta = timedelta(microseconds=1)
    # The policy section that maps this stream (`contact:` in leadbridge.yaml).
    section: str = ""
    # One record as people say it ("contact" for HubSpot's `contacts`); the name lower-cased
    # when empty. Counts and messages use it.
    noun: str = ""
    # With `creates="upsert"`: the role whose value makes a create idempotent (the system
    # hands back the record holding it instead of making a second one). A create without it
    # is a plain create, sent once and matched afterwards through its intent.
    upsert_key: str | None = None

    def one(self) -> str:
        return self.noun or self.name.lower()

    def many(self) -> str:
        one = self.one()
        return one[:-1] + "ies" if one.endswith("y") else one + "s"

    def role(self, name: str) -> str | None:
        return self.roles.get(name)

    def value(self, fields: Mapping[str, Any], role: str) -> Any:
        name = self.roles.get(role)
        return fields.get(name) if name else None

    def fields_to_read(self, mapped: list[str]) -> list[str]:
        return list(dict.fromkeys([*self.roles.values(), *self.read_fields, *mapped]))

    def match_keys(self, fields: Mapping[str, Any]) -> tuple[str | None, str | None, str | None]:
        """(e-mail, domain, name) keys of a record of this stream, for matching offline."""
        if self.kind == "company":
            return (
                None,
                normalize_domain(self.value(fields, "domain")),
                company_name_key(self.value(fields, "name")),
            )
        if self.kind != "person":
            return email_key(self.value(fields, "email")), None, None
        return (
            email_key(self.value(fields, "email")),
            normalize_domain(self.value(fields, "domain")),
            company_name_key(self.value(fields, "company_name")),
        )


@dataclass(frozen=True)
class DealStage:
    """One stage of one of the CRM's deal pipelines: `value` is what a deal's stage field
    holds (Salesforce: the StageName; HubSpot: the stage id), `label` what people see."""

    pipeline: str | None  # the pipeline's value (HubSpot: its id); None: the CRM has one
    pipeline_label: str | None
    value: str
    label: str
    probability: float | None = None  # 0..1
    closed: bool = False
    won: bool = False


@dataclass(frozen=True)
class Catalog:
    system: str  # the key links and mirror rows are stored under ("salesforce")
    label: str  # how people name it ("Salesforce")
    streams: tuple[Stream, ...]
    creates: CreateMode = "intent"
    scope_label: str = "org"  # what one connection reaches: an org, a portal, a team
    # How long after a write an incremental read may still miss it (an eventually consistent
    # search index): a read up to `cap` vouches for what was written before `cap - read_lag`.
    read_lag: timedelta = timedelta(0)
    # The deal stream (a Salesforce Opportunity, HubSpot deals), None where there is none.
    deals: Stream | None = None

    def plain_create(self, stream: Stream, values: Mapping[str, Any]) -> bool:
        """Whether a create with these values can only make a new record: sent twice, it
        would make two (no server-side dedupe, no upsert key among the values)."""
        if self.creates == "dedupe":
            return False
        key = stream.upsert_key if self.creates == "upsert" else None
        return not (key and stream.value(values, key))

    def stream(self, name: str) -> Stream:
        for s in (*self.streams, *((self.deals,) if self.deals else ())):
            if s.name == name:
                return s
        raise KeyError(f"{self.label} has no stream {name!r}")

    def of_kind(self, kind: Kind) -> list[Stream]:
        """The streams of one kind, the winning variant first."""
        return sorted((s for s in self.streams if s.kind == kind), key=lambda s: s.rank)

    def first(self, kind: Kind) -> Stream:
        found = self.of_kind(kind)
        if not found:
            raise KeyError(f"{self.label} has no {kind} stream")
        return found[0]

    def by_section(self, section: str) -> Stream | None:
        wanted = section.strip().lower()
        return next((s for s in self.streams if s.section == wanted), None)

    def read_order(self) -> list[Stream]:
        """Users (owners) first, then companies (a person's company is linked before it), then
        people, the winning variant first."""
        order = {"user": 0, "company": 1, "person": 2}
        return sorted(self.streams, key=lambda s: (order[s.kind], s.rank))
