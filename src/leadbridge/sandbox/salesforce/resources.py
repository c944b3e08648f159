"""The REST data resources (everything under /services/data/vXX.X/ but Bulk 2.0) as one table
of synchronous operations, served two ways:

- as FastAPI routes: each request passes the gate (session, limit, knobs), then its operation
  runs with a `Call` (version, caller, path and query parameters, headers, body);
- as subrequests of /composite and /composite/batch (`Resources.run`): the same operation, in
  process, without another pass through the gate, so a composite request is one API call and
  runs atomically under the org's lock.

An operation answers an `Answer` or raises `Reply`; both become the same HTTP response.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import Headers, QueryParams
from starlette.routing import compile_path

from leadbridge.sandbox import jsonbody
from leadbridge.sandbox.salesforce.gate import Gate
from leadbridge.sandbox.salesforce.replies import NOT_FOUND, Reply, json_parser_error

# What a resource is, for the composite resources that take only some of them as subrequests.
Kind = Literal["meta", "limits", "sobject", "query", "collection", "composite"]
DATA_URL = re.compile(r"^/services/data/v(?P<version>[^/?#]+)(?P<rest>/[^?#]*)?(?:\?(?P<q>.*))?$")
METHOD_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
NO_BODY = object()


@dataclass
class Call:
    version: str
    user_id: str
    params: dict[str, str]
    query: Mapping[str, str]
    headers: Mapping[str, str]  # case-insensitive (starlette Headers)
    raw: bytes = b""  # the body as sent (HTTP requests)
    parsed: Any = NO_BODY  # the body already parsed (composite subrequests)
    all_or_none: bool = False  # a composite request's allOrNone, which binds its collections

    def json(self) -> Any:
        """The body ({} when there is none); unreadable JSON answers 400 JSON_PARSER_ERROR."""
        if self.parsed is not NO_BODY:
            return {} if self.parsed is None else self.parsed
        if not self.raw:
            return {}
        try:
            self.parsed = jsonbody.parse(self.raw)
        except jsonbody.BadJson as exc:
            raise Reply(400, json_parser_error(str(exc))) from None
        return self.parsed

    def column(self) -> int:
        """1-based column where the body's first token starts (for parser-style messages)."""
        stripped = self.raw.lstrip()
        return len(self.raw) - len(stripped) + 1 if stripped else 1


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Op = Callable[[Call], Answer]


@dataclass(frozen=True)
class Resource:
    method: str
    path: str  # under /services/data/v{version}
    pattern: re.Pattern[str]
    op: Op
    kind: Kind


def respond(answer: Answer) -> Response:
    if answer.status == 204:
        return Response(status_code=204, headers=answer.headers)
    return JSONResponse(answer.body, answer.status, headers=answer.headers)


def method_not_allowed(method: str, allowed: Iterable[str]) -> list[dict[str, str]]:
    ordered = sorted(set(allowed), key=lambda m: METHOD_ORDER.index(m) if m in METHOD_ORDER else 9)
    return [
        {
            "errorCode": "METHOD_NOT_ALLOWED",
            "message": f"HTTP Method '{method}' not allowed. Allowed are {','.join(ordered)}",
        }
    ]


class Resources:
    def __init__(self, gate: Gate, api: APIRouter) -> None:
        self.gate, self.api = gate, api
        self.table: list[Resource] = []

    def add(self, method: str, paths: Iterable[str], op: Op, kind: Kind) -> None:
        for path in paths:
            pattern, _, _ = compile_path(path)
            self.table.append(Resource(method, path, pattern, op, kind))
            self.api.add_api_route(path, self._endpoint(op), methods=[method])

    def _endpoint(self, op: Op) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            session = await self.gate(request)
            params = {k: str(v) for k, v in request.path_params.items() if k != "version"}
            call = Call(
                str(request.path_params["version"]),
                session.user_id,
                params,
                request.query_params,
                request.headers,
                raw=await request.body(),
            )
            return respond(op(call))

        return endpoint

    def find(self, method: str, rest: str) -> tuple[Resource | None, dict[str, str], list[str]]:
        """The resource serving `method rest` (rest: the path under /services/data/vXX.X), its
        path parameters, and the methods the path allows (for a 405)."""
        allowed: list[str] = []
        for resource in self.table:
            match = resource.pattern.match(rest)
            if match is None:
                continue
            if resource.method == method:
                return resource, match.groupdict(), [method]
            allowed.append(resource.method)
        return None, {}, allowed

    def run(
        self,
        method: str,
        url: str,
        *,
        user_id: str,
        body: Any,
        headers: Mapping[str, str],
        kinds: tuple[Kind, ...],
        all_or_none: bool = False,
    ) -> Answer:
        """One subrequest: `url` is /services/data/vXX.X/... with its query string. A resource
        of another kind than `kinds` raises ValueError (the caller refuses the whole request)."""
        found = DATA_URL.match(url)
        if found is None:
            raise ValueError(f"The URL must begin with /services/data/vXX.X/: {url}")
        rest = found["rest"] or ""
        resource, params, allowed = self.find(method, rest)
        if resource is None:
            if allowed:
                return Answer(405, method_not_allowed(method, allowed))
            return Answer(404, NOT_FOUND)
        if resource.kind not in kinds:
            raise ValueError(f"The resource {rest} is not supported in this request")
        call = Call(
            found["version"],
            user_id,
            params,
            QueryParams(found["q"] or ""),
            Headers(headers=dict(headers)),
            parsed=body,
            all_or_none=all_or_none,
        )
        try:
            return resource.op(call)
        except Reply as exc:
            return Answer(exc.status, exc.body, exc.headers)
