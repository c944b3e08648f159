"""Real Salesforce traffic (shared/data/salesforce-recorded, from a real org) replayed against
the sandbox: the same requests must get the same statuses and bodies, ids aside."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import requests

from .conftest import ServedOrg

# A copy of ../shared/data/salesforce-recorded (BSD-3, see its LICENSE), kept with the tests so
# the suite does not depend on where shared/ sits.
RECORDED = Path(__file__).resolve().parents[1] / "data" / "salesforce-recorded"
ID = re.compile(r"\b(00[13Q]|006)[A-Za-z0-9]{15}\b")
# Not in the sandbox yet: child subqueries (SELECT ..., (SELECT ... FROM Opportunities)).
UNSUPPORTED = ("(select", "%28select")


def recordings() -> list[Path]:
    return sorted(RECORDED.glob("Test*.json"))


def shape(value: Any, ids: dict[str, str]) -> Any:
    """The body with recorded ids mapped to ours, ready to compare."""
    text = json.dumps(value)
    text = ID.sub(lambda m: ids.get(m.group(0), "<id>"), text)
    return json.loads(text.replace("vxx.0", "v59.0"))


def same_shape(recorded: Any, mine: Any) -> bool:
    """Same keys and value kinds, recursively (lists compared by their first element)."""
    if isinstance(recorded, dict) and isinstance(mine, dict):
        return recorded.keys() == mine.keys() and all(
            same_shape(recorded[k], mine[k]) for k in recorded
        )
    if isinstance(recorded, list) and isinstance(mine, list):
        return not recorded or not mine or same_shape(recorded[0], mine[0])
    return recorded is None or mine is None or type(recorded) is type(mine)


@pytest.mark.parametrize("recording", recordings(), ids=lambda p: p.stem)
def test_recorded_traffic_replays_identically(sf_org: ServedOrg, recording: Path) -> None:
    http = sf_org.session()
    auth = sf_org.auth()
    ids: dict[str, str] = {}
    replayed = 0
    for step in json.loads(recording.read_text()):
        path = step["path"].replace("vxx.0", "v59.0")
        if any(marker in path.lower() for marker in UNSUPPORTED):
            continue
        body = shape(step["request_body"], ids) if step["request_body"] is not None else None
        request = requests.Request(step["method"], sf_org.url + path, json=body, headers=auth)
        got = http.send(http.prepare_request(request))
        assert got.status_code == step["status"], (path, got.text)
        mine = got.json() if got.content else None
        recorded_ids = [m.group(0) for m in ID.finditer(json.dumps(step["response_body"]))]
        for theirs, ours in zip(
            recorded_ids, [m.group(0) for m in ID.finditer(json.dumps(mine))], strict=False
        ):
            ids.setdefault(theirs, ours)
        if "/query" in path or "recordCount" in path:
            # Totals depend on what the recorded org already held (and recordCount is an
            # estimate in real orgs): compare the shape of the answer.
            assert same_shape(step["response_body"], mine), (path, mine)
        else:
            assert shape(step["response_body"], ids) == mine, path
        replayed += 1
    if not replayed:
        pytest.skip("every request of this recording uses a resource the sandbox lacks yet")
