"""What the JSON body of an sObject write must be before DML sees it: an object whose values
are scalars (and an `attributes` object). Anything else is refused the way Salesforce's JSON
deserializer refuses it: 400 JSON_PARSER_ERROR for the whole request."""

from __future__ import annotations

from typing import Any

from leadbridge.sandbox.jsonbody import token
from leadbridge.sandbox.salesforce.org import Org
from leadbridge.sandbox.salesforce.replies import Reply, json_parser_error


def sobject_fields(
    org: Org, sobject: str | None, value: Any, column: int = 1, *, children: bool = False
) -> dict[str, Any]:
    """`value` as a record's field map. With `children`, object values are left for the caller
    (sObject Tree nests child records under their relationship name)."""
    if not isinstance(value, dict):
        raise Reply(
            400,
            json_parser_error(
                f"Can not deserialize SObject out of {token(value)} token at "
                f"[line:1, column:{column}]"
            ),
        )
    for key, item in value.items():
        if key == "attributes":
            if item is not None and not isinstance(item, dict):
                raise Reply(
                    400,
                    json_parser_error(
                        f"Can not deserialize SObject attributes out of {token(item)} token"
                    ),
                )
            continue
        if isinstance(item, list) or (isinstance(item, dict) and not children):
            known = org.field_of(sobject, key) if sobject and org.canonical(sobject) else None
            kind = known["type"] if known else "string"
            raise Reply(
                400,
                json_parser_error(
                    f"Cannot deserialize instance of {kind} from {token(item)} value: {key}"
                ),
            )
    return value
