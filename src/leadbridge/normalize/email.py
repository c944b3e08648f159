"""E-mail normalisation: syntax check without DNS, lower-cased for matching."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email


class InvalidEmail(ValueError):
    pass


def normalize_email(raw: str | None) -> str | None:
    """The lower-cased address, None for blank input; InvalidEmail for a malformed one."""
    if raw is None or not raw.strip():
        return None
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidEmail(f"{raw!r} is not a valid e-mail address: {exc}") from exc
    return result.normalized.lower()
