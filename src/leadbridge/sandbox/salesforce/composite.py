"""Composite (`POST /composite`) and Composite Batch (`POST /composite/batch`): several REST
calls in one request, each answered as it would be alone (reference §3 and the REST guide).

/composite: up to 25 subrequests (at most 5 of them queries or collections) on sObject,
query/queryAll and collection resources, run in order as one API call; a later subrequest reads
an earlier one's answer through `@{referenceId.field}` / `@{referenceId.records[0].Id}` in its
url or body (case-sensitive). allOrNone rolls back every write of the request when one
subrequest fails and answers the others with PROCESSING_HALTED; without it, only the
subrequests that reference a failed one are not run. A malformed request (no referenceId, a bad
or duplicate one, a forbidden header, an unsupported resource) is refused whole with a 400.

/composite/batch: up to 25 independent subrequests (limits, sObject, query resources; urls as
`vXX.X/...`), each committed on its own and counted as an API call; haltOnError answers the
ones after a failure with 412 BATCH_PROCESSING_HALTED.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from leadbridge.sandbox.jsonbody import token
from leadbridge.sandbox.salesforce.replies import Reply, json_parser_error
from leadbridge.sandbox.salesforce.resources import DATA_URL, Answer, Call, Kind, Resources

MAX_SUBREQUESTS = 25
MAX_QUERIES_OR_COLLECTIONS = 5
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")  # case-sensitive, as documented
COMPOSITE_KINDS: tuple[Kind, ...] = ("sobject", "query", "collection")
BATCH_KINDS: tuple[Kind, ...] = ("limits", "sobject", "query")
INHERITED_HEADERS = ("accept", "authorization", "content-type")
REFERENCE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]*$")
REFERENCE = re.compile(r"@\{([^{}]*)\}")
PATH = re.compile(r"^([A-Za-z0-9_]+)((?:\.[^.\[\]]+|\[\d+\])*)$")
STEP = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")
ROLLED_BACK = [
    {
        "errorCode": "PROCESSING_HALTED",
        "message": "The transaction was rolled back since another operation in the same "
        "transaction failed.",
    }
]
BATCH_HALTED = [  # wording (K): the code is documented, the message is not
    {"errorCode": "BATCH_PROCESSING_HALTED", "message": "Batch processing halted per request"}
]


def bad_request(message: str) -> Reply:
    return Reply(400, json_parser_error(message))


def too_many(what: str, count: int, limit: int) -> Reply:
    # The limits are documented; the code and wording of the refusal are not (K).
    message = f"The request has {count} {what}; at most {limit} are allowed"
    return Reply(400, [{"errorCode": "LIMIT_EXCEEDED", "message": message}])


class Unresolved(Exception):
    """A reference with no value: its subrequest failed, or the path is not in its answer."""

    def __init__(self, expression: str) -> None:
        name = re.split(r"[.\[]", expression, maxsplit=1)[0]
        super().__init__(f"Invalid reference specified. No value for {expression} found in {name}.")


def lookup(answers: dict[str, Any], expression: str) -> Any:
    found = PATH.match(expression)
    if found is None or found[1] not in answers:
        raise Unresolved(expression)
    value = answers[found[1]]
    for name, index in STEP.findall(found[2]):
        if name:
            if not isinstance(value, dict) or name not in value:
                raise Unresolved(expression)
            value = value[name]
        else:
            if not isinstance(value, list) or int(index) >= len(value):
                raise Unresolved(expression)
            value = value[int(index)]
    return value


def as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value)  # numbers, true/false, null, objects as JSON text


def resolve(value: Any, answers: dict[str, Any]) -> Any:
    """Every @{...} in the strings of `value` replaced; a string that is one reference takes
    the referenced value with its JSON type (bodies nest 100 levels at most: recursion is fine)."""
    if isinstance(value, str):
        whole = REFERENCE.fullmatch(value)
        if whole is not None:
            return lookup(answers, whole[1])
        return REFERENCE.sub(lambda m: as_text(lookup(answers, m[1])), value)
    if isinstance(value, list):
        return [resolve(v, answers) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, answers) for k, v in value.items()}
    return value


@dataclass
class Subrequest:
    method: str
    url: str
    body: Any
    headers: dict[str, str]
    reference_id: str = ""


def required(item: dict[str, Any], key: str, kind: type) -> Any:
    value = item.get(key)
    if value is None:
        raise bad_request(f"'{key}' is a required field.")
    if not isinstance(value, kind):
        raise bad_request(f"Cannot deserialize instance of {kind.__name__} from {token(value)}")
    return value


def subrequest(item: Any, body_key: str) -> Subrequest:
    if not isinstance(item, dict):
        raise bad_request(f"Can not deserialize Subrequest out of {token(item)} token")
    method = required(item, "method", str)
    if method not in METHODS:
        raise bad_request(f"Invalid HTTP method: {method}; use one of {', '.join(METHODS)}")
    headers = item.get("httpHeaders") or {}
    if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
        raise bad_request("httpHeaders must be an object of strings")
    inherited = [h for h in headers if h.lower() in INHERITED_HEADERS]
    if inherited:
        raise bad_request(f"A subrequest inherits the {inherited[0]} header: do not set it")
    return Subrequest(method, required(item, "url", str), item.get(body_key), headers)


def flag(body: dict[str, Any], key: str) -> bool:
    value = body.get(key, False)
    if not isinstance(value, bool):
        raise bad_request(f"Cannot deserialize instance of boolean from {token(value)}: {key}")
    return value


def items_of(call: Call, key: str) -> tuple[dict[str, Any], list[Any]]:
    body = call.json()
    if not isinstance(body, dict):
        raise bad_request(f"Can not deserialize the request out of {token(body)} token")
    items = body.get(key)
    if not isinstance(items, list) or not items:
        raise bad_request(f"'{key}' is a required field: a list of subrequests")
    if len(items) > MAX_SUBREQUESTS:
        raise too_many("subrequests", len(items), MAX_SUBREQUESTS)
    return body, items


def add_composite_routes(resources: Resources) -> None:
    gate = resources.gate
    org = gate.org

    def kind_of(sub: Subrequest, allowed: tuple[Kind, ...]) -> Kind | None:
        """The resource's kind (None when nothing serves the url: the subrequest answers 404
        or 405); a resource of another kind refuses the whole request."""
        found = DATA_URL.match(sub.url)
        if found is None:
            raise bad_request(f"The url must begin with /services/data/vXX.X/: {sub.url}")
        resource, _, _ = resources.find(sub.method, found["rest"] or "")
        if resource is not None and resource.kind not in allowed:
            raise bad_request(f"The resource is not supported in this request: {sub.url}")
        return resource.kind if resource is not None else None

    def location(sub_url: str, answer: Answer) -> dict[str, str]:
        body = answer.body
        if answer.status != 201 or not isinstance(body, dict) or not body.get("id"):
            return {}
        found, version = org.find(str(body["id"])), DATA_URL.match(sub_url)
        if found is None or version is None:
            return {}
        return {
            "Location": f"/services/data/v{version['version']}/sobjects/{found[0]}/{body['id']}"
        }

    def failed(kind: Kind | None, answer: Answer) -> bool:
        if answer.status >= 400:
            return True
        # A collection with allOrNone answers 200 and fails record by record.
        return kind == "collection" and any(
            isinstance(r, dict) and r.get("success") is False for r in answer.body or []
        )

    def composite(call: Call) -> Answer:
        body, items = items_of(call, "compositeRequest")
        all_or_none = flag(body, "allOrNone")
        flag(body, "collateSubrequests")  # accepted; subrequests always run in order here
        subs: list[Subrequest] = []
        for item in items:
            sub = subrequest(item, "body")
            sub.reference_id = required(item, "referenceId", str)
            if not REFERENCE_ID.match(sub.reference_id):
                raise bad_request(
                    f"Provided referenceId ('{sub.reference_id}') must start with a letter or "
                    "a number, and it can contain only letters, numbers and underscores ('_')."
                )
            if any(s.reference_id == sub.reference_id for s in subs):
                raise bad_request(f"Duplicate referenceId provided: {sub.reference_id}")
            subs.append(sub)
        kinds = [kind_of(sub, COMPOSITE_KINDS) for sub in subs]
        heavy = sum(1 for k in kinds if k in ("query", "collection"))
        if heavy > MAX_QUERIES_OR_COLLECTIONS:
            raise too_many("query or collection subrequests", heavy, MAX_QUERIES_OR_COLLECTIONS)
        answers: dict[str, Any] = {}  # referenceId -> body, for the subrequests that succeeded
        out: list[tuple[dict[str, Any], bool]] = []  # (result, it failed)
        with org.transaction() as journal:
            for sub, kind in zip(subs, kinds, strict=True):
                if all_or_none and any(bad for _, bad in out):
                    out.append((item_of(sub, Answer(400, ROLLED_BACK)), False))
                    continue
                try:
                    url, sub_body = resolve(sub.url, answers), resolve(sub.body, answers)
                except Unresolved as exc:
                    halted = [{"errorCode": "PROCESSING_HALTED", "message": str(exc)}]
                    out.append((item_of(sub, Answer(400, halted)), True))
                    continue
                answer = resources.run(
                    sub.method,
                    url,
                    user_id=call.user_id,
                    body=sub_body,
                    headers=sub.headers,
                    kinds=COMPOSITE_KINDS,
                    all_or_none=all_or_none,
                )
                answer.headers = location(url, answer)
                bad = failed(kind, answer)
                if answer.status < 400:
                    answers[sub.reference_id] = answer.body
                out.append((item_of(sub, answer), bad))
            if all_or_none and any(bad for _, bad in out):
                journal.rollback()
                out = [(result, bad) if bad else (rolled_back(result), bad) for result, bad in out]
        return Answer(200, {"compositeResponse": [result for result, _ in out]})

    def batch(call: Call) -> Answer:
        body, items = items_of(call, "batchRequests")
        halt = flag(body, "haltOnError")
        subs = []
        for item in items:
            sub = subrequest(item, "richInput")
            if isinstance(item, dict) and item.get("binaryPartName") is not None:
                raise bad_request("Binary parts are not supported by this sandbox")
            # Batch urls name the version without the prefix: "v59.0/sobjects/Account/001...".
            if not sub.url.startswith("/"):
                sub.url = "/services/data/" + sub.url
            kind_of(sub, BATCH_KINDS)
            subs.append(sub)
        results: list[dict[str, Any]] = []
        halted = has_errors = False
        for number, sub in enumerate(subs):
            if halted:
                results.append({"statusCode": 412, "result": BATCH_HALTED})
                continue
            if number and not gate.charge():  # each subrequest is an API call; one is paid
                answer = Answer(403, gate.limit_exceeded())
            else:
                answer = resources.run(
                    sub.method,
                    sub.url,
                    user_id=call.user_id,
                    body=sub.body,
                    headers=sub.headers,
                    kinds=BATCH_KINDS,
                )
            results.append({"statusCode": answer.status, "result": answer.body})
            if answer.status >= 400:
                has_errors = True
                halted = halt
        return Answer(200, {"hasErrors": has_errors, "results": results})

    resources.add("POST", ("/composite", "/composite/"), composite, "composite")
    resources.add("POST", ("/composite/batch", "/composite/batch/"), batch, "composite")


def item_of(sub: Subrequest, answer: Answer) -> dict[str, Any]:
    return {
        "body": answer.body,
        "httpHeaders": answer.headers,
        "httpStatusCode": answer.status,
        "referenceId": sub.reference_id,
    }


def rolled_back(result: dict[str, Any]) -> dict[str, Any]:
    """A subresponse undone with the rest of an allOrNone request: 400 PROCESSING_HALTED."""
    return {**result, "body": ROLLED_BACK, "httpHeaders": {}, "httpStatusCode": 400}
