"""Every hint the Salesforce connector gives is an instruction (what to do), never a second
description of what went wrong, and the error carries it with the field it is about."""

from __future__ import annotations

import re

import pytest

from leadbridge.connectors.errors import PermanentError
from leadbridge.connectors.salesforce.client import HINTS, error_for

# The verbs a fix starts with; a hint that starts otherwise ("the field is read-only …")
# describes the problem again instead of saying what to do.
INSTRUCTIONS = ("fill", "use", "shorten", "correct", "merge", "change", "give", "restore", "run")
INSTRUCTIONS += ("make",)


@pytest.mark.parametrize("code", sorted(HINTS))
def test_each_hint_says_what_to_do(code: str) -> None:
    hint = HINTS[code]
    assert hint.split()[0] in INSTRUCTIONS, hint
    assert not re.search(r"\b(\w+) \1\b", hint), hint  # no "Salesforce Salesforce"


@pytest.mark.parametrize(
    ("code", "message", "fields", "field"),
    [
        (
            "REQUIRED_FIELD_MISSING",
            "Required fields are missing: [LastName]",
            ["LastName"],
            "LastName",
        ),
        ("INACTIVE_OWNER_OR_USER", "operation performed with inactive user [005x]", [], "OwnerId"),
        (
            "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
            "bad value for restricted picklist field: leadbridge",
            ["LeadSource"],
            "LeadSource",
        ),
    ],
)
def test_a_refused_record_carries_its_field_and_a_fix(
    code: str, message: str, fields: list[str], field: str
) -> None:
    error = error_for(code, message, fields, 400)
    assert isinstance(error, PermanentError)
    assert (error.field, error.hint) == (field, HINTS[code])
    assert error.hint and error.hint not in message and message not in error.hint
