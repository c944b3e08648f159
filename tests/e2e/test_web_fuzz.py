"""500 random malformed requests against every route of the OpenAPI document (and the pages):
wrong types, huge and odd path parameters, garbage bodies and query strings. Each answers 4xx
(or a 2xx where the input happens to be valid), never a 5xx."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadbridge.hub.connections import Connections

from .web_world import Web, make_web

junk_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=80
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | junk_text,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(junk_text, inner, max_size=5),
    max_leaves=20,
)
path_values = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(["people", "companies", "salesforce", "%00", "..", "1e9", "-1", "0", " "]),
    st.text(st.characters(codec="ascii", categories=("L", "N", "P")), min_size=1, max_size=30),
)
bodies = st.one_of(
    json_values.map(lambda v: ("json", v)),
    st.binary(max_size=200).map(lambda b: ("raw", b)),
    st.dictionaries(junk_text, junk_text, max_size=4).map(lambda d: ("form", d)),
)
queries = st.dictionaries(
    st.sampled_from(["limit", "offset", "q", "email", "company_id", "job", "class", "wait", "x"]),
    st.one_of(junk_text, st.integers(-(2**70), 2**70).map(str)),
    max_size=4,
)

PAGES = ["/", "/runs", "/errors", "/records", "/records/{kind}/{record_id}", "/plan", "/policy"]


@pytest.fixture(scope="module")
def fuzz_web(tmp_path_factory: pytest.TempPathFactory) -> Web:
    from cryptography.fernet import Fernet

    from leadbridge.hub.db import Hub
    from leadbridge.secrets import SecretBox

    directory = tmp_path_factory.mktemp("fuzz")
    hub = Hub.open(f"sqlite:///{directory / 'hub.db'}")
    web = make_web(Connections(hub, SecretBox(Fernet.generate_key())))
    web.api("POST", "/api/v1/people", json={"email": "a@b.io", "company": "b.io"})
    web.login()
    return web


def routes(web: Web) -> list[tuple[str, str]]:
    schema = web.client.app.openapi()  # type: ignore[attr-defined]
    out = [(m.upper(), p) for p, ms in schema["paths"].items() for m in ms if p != "/healthz"]
    return out + [("GET", p) for p in PAGES] + [("POST", "/runs"), ("POST", "/errors/retry")]


@settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)
@given(data=st.data())
def test_malformed_requests_are_answered_4xx_never_5xx(fuzz_web: Web, data: Any) -> None:
    method, template = data.draw(st.sampled_from(routes(fuzz_web)))
    path = re.sub(
        r"\{(\w+)\}",
        lambda m: (
            str(data.draw(path_values, label=m.group(1))).replace("/", "_").replace("?", "_") or "x"
        ),
        template,
    )
    kind, body = data.draw(bodies)
    token = data.draw(st.sampled_from(["write", "read", None]))
    kw: dict[str, Any] = {"params": data.draw(queries)}
    if kind == "json":
        kw["content"] = json.dumps(body, allow_nan=True)
        kw["headers"] = {"content-type": "application/json"}
    elif kind == "raw":
        kw["content"] = body
        kw["headers"] = {
            "content-type": data.draw(
                st.sampled_from(["application/json", "text/csv", "multipart/form-data; boundary=x"])
            )
        }
    else:
        kw["data"] = body
    if method == "POST" and template.startswith("/api/v1/runs") and not template.endswith("undo"):
        kw["params"]["wait"] = "0"
    response = fuzz_web.api(method, path, token=token, **kw)
    assert response.status_code < 500, (method, path, kind, body, response.text[:300])
