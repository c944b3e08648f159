"""The CRM sync tutorial's clean-up checks before connecting: invalid e-mail formats, test
contacts (@test.com, "Test User", the team's own domain) and records with no activity for 12
months."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from leadbridge.engine.audit.sources import Source
from leadbridge.hub.tables import as_utc
from leadbridge.normalize.domain import normalize_domain
from leadbridge.normalize.email import FREE_MAIL, email_is_valid, email_parts
from leadbridge.normalize.person import first_name_key, last_name_key

STALE_AFTER = timedelta(days=365)
TEST_DOMAINS = frozenset(
    {"test.com", "example.com", "example.org", "example.net", "mailinator.com", "test.de"}
)
TEST_NAMES = frozenset({"test", "testuser", "tester", "dummy", "fake", "asdf", "sample"})
CHECKS = {
    "invalid_email": "invalid e-mail format",
    "test_contact": "test contact",
    "stale": "no activity for 12 months",
}


@dataclass(frozen=True)
class Finding:
    check: str  # a key of CHECKS
    index: int  # the record in its source
    detail: str


def team_domains(user_emails: list[str]) -> frozenset[str]:
    """The team's own company domains: its users' e-mail domains, webmail aside."""
    out = set()
    for email in user_emails:
        domain = normalize_domain(email)
        if domain and domain not in FREE_MAIL:
            out.add(domain)
    return frozenset(out)


def check(source: Source, team: frozenset[str], now: datetime) -> list[Finding]:
    """Every finding on a source's person records, in record order."""
    if source.records.kind != "person":
        return []
    columns = source.records.columns
    out: list[Finding] = []
    for i in range(len(source.records)):
        email = columns["email"][i]
        if email and not email_is_valid(email):
            out.append(Finding("invalid_email", i, f"{email!r} is not a valid address"))
        reason = _test_reason(email, columns["first_name"][i], columns["last_name"][i], team)
        if reason:
            out.append(Finding("test_contact", i, reason))
        modified = as_utc(source.modified[i]) if i < len(source.modified) else None
        if modified is not None and now - modified > STALE_AFTER:
            out.append(Finding("stale", i, f"last modified {modified:%Y-%m-%d}"))
    return out


def _test_reason(
    email: str | None, first: str | None, last: str | None, team: frozenset[str]
) -> str | None:
    if email:
        domain = email_parts(email.strip().lower())[1]
        if domain in TEST_DOMAINS:
            return f"a test address ({email})"
        registrable = normalize_domain(domain) if domain else None
        if registrable and registrable in team:
            return f"the team's own domain ({email})"
    names = {k for k in (first_name_key(first), last_name_key(last)) if k}
    if names & TEST_NAMES:
        return f"a test name ({' '.join(v for v in (first, last) if v)})"
    return None
