"""Which activities a CRM sync pushes, and under which title: pure functions of an activity's
facts and the sync's activity policy (policy/activities.py). `plan`, `explain` and the push
share `decide`, so a preview never lies.

The e-mail rules, as the product documents state them:

- an e-mail is one of: internal (From and every To on the connected mailboxes' domains, never
  a free-mail domain), outgoing sent from the hub/Apollo, outgoing not sent from it, incoming
  reply to one sent from it, incoming from another source; each class has its toggle;
- flood control: with `sequence: replies_only` a send of a sequence is not pushed (its replies
  are, as incoming replies); with `sequence_subtype` sends are written as their own subtype;
- the exclusion filter: an e-mail matching any rule is not pushed. Within a rule every
  criterion set must hold (AND): the From side, the To side (joined with each other by the
  rule's `join`, AND or OR) and the subject keywords (each must appear). A side holds when
  an address on it (the sender; any recipient) is on one of the side's domains and, when
  addresses are listed, is one of them. CC and BCC are never looked at;
- an e-mail whose person is not in the CRM waits unless `push_when_not_in_crm`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from leadbridge.normalize.email import FREE_MAIL
from leadbridge.policy.activities import ActivityPush, Addresses, ExclusionRule

EMPTY_BRACKETS = re.compile(r"\(\s*\)|\[\s*\]")
EmailClass = str  # internal | outgoing_hub | outgoing_other | reply | incoming_other


@dataclass(frozen=True)
class ActivityFacts:
    """What the decision needs to know about one activity, read from the hub beforehand."""

    kind: str
    occurred_at: datetime | None = None
    subject: str | None = None
    direction: str | None = None
    from_email: str | None = None
    to_emails: tuple[str, ...] = ()
    sent_from_hub: bool = False
    sent_from_sequence: bool = False
    reply_to_hub: bool = False  # an incoming e-mail in a thread the hub/Apollo sent into
    person_email: str | None = None
    person_in_crm: bool = False
    company_in_crm: bool = False
    deal_in_crm: bool = False
    # A meeting attendee (or its person) is a record of the CRM.
    participant_in_crm: bool = False
    call_outcome: str | None = None
    call_duration_seconds: int | None = None


@dataclass(frozen=True)
class Decision:
    push: bool
    reason: str  # why (skips: what setting to change)
    title: str | None = None
    sequence_subtype: bool = False  # write it as the sequence subtype / type


def domain_of(address: str | None) -> str:
    return (address or "").rpartition("@")[2].strip().lower()


def is_internal(from_email: str | None, to: Sequence[str], mailbox_domains: Sequence[str]) -> bool:
    """Between the connected mailboxes' domains: the sender and every recipient on them. A
    free-mail domain is never one (two gmail.com addresses are not colleagues)."""
    ours = {d for d in mailbox_domains if d not in FREE_MAIL}
    if not from_email or not to or not ours:
        return False
    return all(domain_of(a) in ours for a in (from_email, *to))


def _on_side(side: Addresses, addresses: Sequence[str]) -> bool:
    for address in addresses:
        a = address.strip().lower()
        domain = domain_of(a)
        in_domains = not side.domains or any(
            domain == d or domain.endswith("." + d) for d in side.domains
        )
        if in_domains and (not side.addresses or a in side.addresses):
            return True
    return False


def rule_matches(
    rule: ExclusionRule, from_email: str | None, to: Sequence[str], subject: str | None
) -> bool:
    """Whether an e-mail matches one exclusion rule (see the module's docstring)."""
    sides = []
    if not rule.from_.empty:
        sides.append(_on_side(rule.from_, [from_email] if from_email else []))
    if not rule.to.empty:
        sides.append(_on_side(rule.to, to))
    held = []
    if sides:
        held.append(all(sides) if rule.join == "and" else any(sides))
    if rule.subject:
        text = (subject or "").lower()
        held.append(all(k in text for k in rule.subject))
    return bool(held) and all(held)


def excluded_by(
    rules: Sequence[ExclusionRule], from_email: str | None, to: Sequence[str], subject: str | None
) -> int | None:
    """The number (1-based) of the first rule an e-mail matches, or None."""
    for number, rule in enumerate(rules, 1):
        if rule_matches(rule, from_email, to, subject):
            return number
    return None


def email_class(facts: ActivityFacts, mailbox_domains: Sequence[str]) -> EmailClass:
    if is_internal(facts.from_email, facts.to_emails, mailbox_domains):
        return "internal"
    if facts.direction == "incoming":
        return "reply" if facts.reply_to_hub else "incoming_other"
    return "outgoing_hub" if facts.sent_from_hub or facts.sent_from_sequence else "outgoing_other"


CLASS_SETTING = {
    "internal": ("internal", "an internal e-mail"),
    "outgoing_hub": ("outgoing_sent_from_hub", "an outgoing e-mail sent from the hub"),
    "outgoing_other": ("outgoing_not_sent_from_hub", "an outgoing e-mail not sent from the hub"),
    "reply": ("incoming_replies", "a reply to an e-mail sent from the hub"),
    "incoming_other": ("incoming_other", "an incoming e-mail from another source"),
}
KIND_SECTION = {
    "email": "emails",
    "call": "calls",
    "meeting": "meetings",
    "note": "notes",
    "task": "tasks",
    "summary": "summaries",
}


def title(template: str, facts: ActivityFacts) -> str:
    duration = facts.call_duration_seconds
    values = {
        "subject": facts.subject or "",
        "kind": facts.kind,
        "direction": facts.direction or "",
        "outcome": facts.call_outcome or "",
        "duration": f"{duration // 60}:{duration % 60:02d}" if duration is not None else "",
        "person": facts.person_email or "",
        "date": facts.occurred_at.date().isoformat() if facts.occurred_at else "",
        "sequence": "sequence" if facts.sent_from_sequence else "",
    }
    text = EMPTY_BRACKETS.sub("", template.format(**values))  # "({duration})" with none
    text = " ".join(text.split())
    return text.strip(" :-") or facts.kind.capitalize()


def decide(facts: ActivityFacts, policy: ActivityPush) -> Decision:
    """Whether to push one activity, why, and its title in the CRM."""
    if not policy.enabled:
        return Decision(False, "activity push is off (activities.enabled)")
    section = KIND_SECTION[facts.kind]
    setting = getattr(policy, section)
    if not setting.enabled:
        return Decision(False, f"{section} are not pushed (activities.{section}.enabled)")
    if facts.kind == "email":
        return _email(facts, policy)
    if facts.kind == "summary":
        if not facts.deal_in_crm:
            return Decision(False, "a conversation summary goes on a deal in the CRM: none")
        return Decision(True, "a conversation summary", facts.subject or "Conversation summary")
    if facts.kind == "meeting" and not (facts.participant_in_crm or facts.person_in_crm):
        if not policy.meetings.all_calendar_events:
            return Decision(
                False,
                "no participant is in the CRM (activities.meetings.all_calendar_events)",
            )
        if not facts.company_in_crm:
            return Decision(False, "neither a participant nor the company is in the CRM yet")
    elif not (facts.person_in_crm or facts.company_in_crm):
        return Decision(False, "its person and company are not in the CRM yet")
    template = getattr(setting, "title_template", "{subject}")
    return Decision(True, f"a {facts.kind}", title(template, facts))


def _email(facts: ActivityFacts, policy: ActivityPush) -> Decision:
    emails = policy.emails
    kind = email_class(facts, emails.mailbox_domains)
    name, said = CLASS_SETTING[kind]
    if not getattr(emails, name):
        return Decision(False, f"{said} (activities.emails.{name} is off)")
    sequence_send = facts.sent_from_sequence and facts.direction != "incoming"
    if sequence_send and emails.sequence == "replies_only":
        return Decision(False, "a sequence send (activities.emails.sequence: replies_only)")
    rule = excluded_by(emails.exclude, facts.from_email, facts.to_emails, facts.subject)
    if rule is not None:
        return Decision(False, f"excluded by rule {rule} of activities.emails.exclude")
    if not facts.person_in_crm:
        if not emails.push_when_not_in_crm:
            return Decision(
                False,
                "its person is not in the CRM yet (activities.emails.push_when_not_in_crm)",
            )
        if not facts.company_in_crm:
            return Decision(False, "neither its person nor its company is in the CRM yet")
    subtype = sequence_send and emails.sequence_subtype
    return Decision(True, said, title(emails.title_template, facts), sequence_subtype=subtype)
