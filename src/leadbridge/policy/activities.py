"""Which activities a CRM sync pushes (hub → CRM only; activities are never pulled), in the
words of the product documents' activity push settings:

    activities:
      emails:
        enabled: true
        outgoing_sent_from_hub: true      # "outgoing emails sent within Apollo" (or the hub)
        outgoing_not_sent_from_hub: false # "outgoing emails not sent within Apollo"
        incoming_replies: true            # "incoming emails that are replies to those"
        incoming_other: false             # "incoming emails from all other sources"
        internal: false                   # between the connected mailboxes' domains
        push_when_not_in_crm: false       # creates contacts: `policy check` warns
        mailbox_domains: [team.example]   # the connected mailboxes' domains
        sequence: all | replies_only      # flood control for sequence e-mails
        sequence_subtype: false           # sequence sends as their own subtype/type
        title_template: "Email: {subject}"
        exclude:                          # the e-mail push exclusion filter
          - from: {domains: [board.example]}
            subject: [confidential]
            join: and                     # how From and To combine: and | or
      notes: {enabled: true}
      tasks: {enabled: true, title_template: "Task: {subject}"}
      calls: {enabled: true, title_template: "Call: {outcome}"}
      meetings: {enabled: true, all_calendar_events: false}
      summaries: {enabled: true}          # conversation summaries, as a note on the deal

A title template names an activity's fields in braces: {subject}, {kind}, {direction},
{outcome}, {duration} (minutes:seconds), {person} (e-mail), {date} (YYYY-MM-DD), {sequence}.
"""

from __future__ import annotations

import re
import string
from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from leadbridge.policy.fields import Strict

DOMAIN = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+")
TEMPLATE_FIELDS = ("subject", "kind", "direction", "outcome", "duration", "person", "date",
                   "sequence")  # fmt: skip


def template_problem(template: str) -> str | None:
    """Why a title template cannot be filled (an unknown field, a stray brace), or None."""
    try:
        names = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
    except ValueError as exc:
        return f"title template {template!r}: {exc}"
    unknown = [n for n in names if n not in TEMPLATE_FIELDS]
    if unknown:
        return (
            f"title template {template!r} names {', '.join(repr(u) for u in unknown)} "
            f"(known: {', '.join(TEMPLATE_FIELDS)})"
        )
    return None


def _template(value: str) -> str:
    problem = template_problem(value)
    if problem:
        raise ValueError(problem)
    return value


class Addresses(Strict):
    """One side (From or To) of an exclusion rule."""

    domains: list[str] = Field(default_factory=list)
    addresses: list[str] = Field(default_factory=list)

    @field_validator("domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        out = []
        for raw in value:
            domain = raw.strip().lower().lstrip("@").removeprefix("www.").rstrip(".")
            if "." not in domain or not DOMAIN.fullmatch(domain):
                raise ValueError(f"{raw!r} is not a domain")
            out.append(domain)
        return out

    @field_validator("addresses")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        return [v.strip().lower() for v in value if v.strip()]

    @property
    def empty(self) -> bool:
        return not self.domains and not self.addresses


class ExclusionRule(Strict):
    """E-mails matching every criterion set on the rule are not pushed (AND within a rule);
    From and To are joined by `join`. CC and BCC are never looked at."""

    from_: Addresses = Field(default_factory=Addresses, alias="from")
    to: Addresses = Field(default_factory=Addresses)
    subject: list[str] = Field(default_factory=list)
    join: Literal["and", "or"] = "and"

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("subject")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        return [v.strip().lower() for v in value if v.strip()]


class EmailPush(Strict):
    enabled: bool = True
    outgoing_sent_from_hub: bool = True
    outgoing_not_sent_from_hub: bool = False
    incoming_replies: bool = True
    incoming_other: bool = False
    internal: bool = False
    push_when_not_in_crm: bool = False
    mailbox_domains: list[str] = Field(default_factory=list)
    sequence: Literal["all", "replies_only"] = "all"
    sequence_subtype: bool = False
    title_template: str = "Email: {subject}"
    exclude: list[ExclusionRule] = Field(default_factory=list)

    _title = field_validator("title_template")(_template)

    @field_validator("mailbox_domains")
    @classmethod
    def _domains(cls, value: list[str]) -> list[str]:
        return Addresses._domains(value)


class Toggle(Strict):
    enabled: bool = True


class TitledPush(Strict):
    enabled: bool = True
    title_template: str = "{subject}"

    _title = field_validator("title_template")(_template)


class TaskPush(TitledPush):
    title_template: str = "Task: {subject}"


class CallPush(TitledPush):
    title_template: str = "Call: {outcome}"


class MeetingPush(Strict):
    enabled: bool = True
    # Push meetings none of whose participants is in the CRM too.
    all_calendar_events: bool = False


class ActivityPush(Strict):
    """A sync's activity push. Off unless the policy turns it on."""

    enabled: bool = False
    emails: EmailPush = Field(default_factory=EmailPush)
    notes: Toggle = Field(default_factory=Toggle)
    tasks: TaskPush = Field(default_factory=TaskPush)
    calls: CallPush = Field(default_factory=CallPush)
    meetings: MeetingPush = Field(default_factory=MeetingPush)
    summaries: Toggle = Field(default_factory=Toggle)

    def warnings(self) -> list[str]:
        """The settings the product documents say to use with caution (they create contacts)."""
        out: list[str] = []
        if not self.enabled:
            return out
        if self.emails.enabled and self.emails.push_when_not_in_crm:
            out.append(
                "activities.emails.push_when_not_in_crm is on: e-mails with people the CRM "
                "does not have create contacts for them"
            )
        if self.meetings.enabled and self.meetings.all_calendar_events:
            out.append(
                "activities.meetings.all_calendar_events is on: meetings with no participant "
                "in the CRM are pushed too (on records you may not expect)"
            )
        if self.emails.enabled and self.emails.internal and not self.emails.mailbox_domains:
            out.append(
                "activities.emails.internal is on but mailbox_domains is empty: no e-mail "
                "counts as internal"
            )
        if (
            self.emails.enabled
            and self.emails.outgoing_sent_from_hub
            and (self.emails.sequence == "all" and not self.emails.sequence_subtype)
        ):
            out.append(
                "activities.emails: every sequence e-mail is pushed as a plain e-mail and can "
                "flood timelines; consider sequence: replies_only or sequence_subtype: true"
            )
        return out
