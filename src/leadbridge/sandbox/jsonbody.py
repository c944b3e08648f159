"""Request bodies as JSON, safely: what a sandbox's handlers may assume of a parsed body.

`json.loads` alone lets three things through that the real APIs refuse with a 400 and that would
otherwise surface later as a 500: nesting deep enough to exhaust Python's recursion (a
RecursionError inside the parser, or later in any code that walks the value), the non-JSON
constants NaN / Infinity, and undecodable bytes. `parse` refuses all of them with `BadJson`.
The depth limit is 100, Ruby's JSON default (Apollo runs on Rails); Salesforce's parser allows
deeper documents, but no body of its API nests past a dozen levels (stricter, and safe).
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 100


class BadJson(ValueError):
    """The body is not JSON a handler can take; the message says why, in one line."""


class TooDeep(BadJson):
    """Valid JSON nested past the limit (Rails answers it 400, where bad JSON is 422)."""


def _no_constant(name: str) -> Any:
    raise BadJson(f"Unexpected token {name}: not a JSON value")


def depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """Nesting depth of arrays and objects (a scalar is 0), counted without recursion and
    given up just past `limit`."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if not isinstance(item, (dict, list)):
            continue
        children = item.values() if isinstance(item, dict) else item
        deepest = max(deepest, level)
        if deepest > limit:
            return deepest
        stack.extend((c, level + 1) for c in children if isinstance(c, (dict, list)))
    return deepest


def parse(raw: bytes | str, max_depth: int = MAX_DEPTH) -> Any:
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise TooDeep(f"Document nesting depth exceeds the maximum allowed ({max_depth})") from None
    except UnicodeDecodeError:
        raise BadJson("The body is not valid UTF-8") from None
    except BadJson:
        raise
    except ValueError as exc:  # JSONDecodeError, or an integer past Python's digit limit
        raise BadJson(str(exc).split("\n")[0]) from None
    if depth(value, max_depth) > max_depth:
        raise TooDeep(f"Document nesting depth exceeds the maximum allowed ({max_depth})")
    return value


def token(value: Any) -> str:
    """The name a streaming JSON parser (Jackson, behind Salesforce's API) gives the token a
    value starts with: what its 'Can not deserialize ... out of X token' errors name."""
    if isinstance(value, dict):
        return "START_OBJECT"
    if isinstance(value, list):
        return "START_ARRAY"
    if isinstance(value, bool):
        return "VALUE_TRUE" if value else "VALUE_FALSE"
    if isinstance(value, int):
        return "VALUE_NUMBER_INT"
    if isinstance(value, float):
        return "VALUE_NUMBER_FLOAT"
    if isinstance(value, str):
        return "VALUE_STRING"
    return "VALUE_NULL"
