"""Pure normalisation helpers: no I/O, no network, deterministic."""

from leadbridge.normalize.company import company_name_key
from leadbridge.normalize.domain import normalize_domain, website_for
from leadbridge.normalize.email import email_key, normalize_email

__all__ = ["company_name_key", "email_key", "normalize_domain", "normalize_email", "website_for"]
