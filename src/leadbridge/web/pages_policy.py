"""Pages: the effective policy with its lint results (against each connection's live schema), the
policy file edited with the loader's own validation (a refused file is shown with its line
numbers and nothing is written), and the lead push's settings (validated by their model). A saved
policy is used by the scheduler from its next tick on."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from leadbridge.connectors.errors import ConnectorError
from leadbridge.engine.sync.context import SyncRefused
from leadbridge.engine.systems import LEAD_PUSH_SYSTEMS, sections
from leadbridge.hub.connections import ConnectionNotFound
from leadbridge.policy.apollo_push import ApolloPushSettings, SettingsError
from leadbridge.policy.loader import DEFAULT_PATH, PolicyError, parse_policy
from leadbridge.web import operations
from leadbridge.web.pages_main import User
from leadbridge.web.render import page
from leadbridge.web.security import web_state
from leadbridge.web.state import WebState

router = APIRouter(include_in_schema=False)
MAX_POLICY = 200_000


def policy_path(state: WebState) -> Path:
    return state.policy_path or DEFAULT_PATH


def policy_text(state: WebState) -> tuple[str, bool]:
    """The policy file's text, or the defaults written out when there is no file."""
    path = policy_path(state)
    if path.exists():
        try:
            return path.read_text(encoding="utf-8"), True
        except (OSError, UnicodeDecodeError):
            pass
    data = operations.policy_of(state).model_dump(mode="json", exclude_defaults=False)
    return yaml.safe_dump(data, sort_keys=False), False


def _lead_push_settings(state: WebState) -> list[dict[str, Any]]:
    out = []
    for c in state.connections.all():
        if c.kind in LEAD_PUSH_SYSTEMS:
            try:
                current = ApolloPushSettings.load(c.settings.get("apollo_push"))
                values, problem = current.model_dump(mode="json"), None
            except SettingsError as exc:
                values, problem = dict(c.settings.get("apollo_push") or {}), str(exc)
            out.append({"connection": c.name, "id": c.id, "values": values, "problem": problem})
    return out


def _page(
    request: Request,
    *,
    text: str | None = None,
    problems: list[str] | None = None,
    message: str | None = None,
    lint: dict[str, Any] | None = None,
    status: int = 200,
) -> HTMLResponse:
    state = web_state(request)
    current, from_file = policy_text(state)
    return page(
        request,
        "policy.html",
        status_code=status,
        text=text if text is not None else current,
        from_file=from_file,
        path=str(policy_path(state)),
        syncs=list(operations.policy_of(state).syncs),
        problems=problems or [],
        message=message,
        lint=lint or {},
        settings=_lead_push_settings(state),
    )


@router.get("/policy")
def policy(request: Request, user: User) -> HTMLResponse:
    return _page(request)


@router.post("/policy/lint")
async def lint(request: Request, user: User) -> HTMLResponse:
    state = web_state(request)
    results: dict[str, Any] = {}
    for name in operations.policy_of(state).syncs:
        try:
            results[name] = await operations.lint(state, name)
        except (
            ConnectorError,
            ConnectionNotFound,
            SyncRefused,
            operations.OperationRefused,
        ) as exc:
            results[name] = {"errors": [str(exc)], "warnings": [], "notes": []}
    return _page(request, lint=results)


@router.post("/policy")
async def save_policy(
    request: Request, user: User, text: Annotated[str, Form(max_length=MAX_POLICY)]
) -> HTMLResponse:
    state = web_state(request)
    path = policy_path(state)
    try:
        parsed = parse_policy(text, str(path), sections())
    except PolicyError as exc:
        return _page(request, text=text, problems=exc.problems, status=422)
    path.write_text(text, encoding="utf-8")
    state.policy = parsed
    if state.runner is not None:
        await state.runner.use_policy(parsed)
    return _page(request, message=f"saved {path}; the scheduler uses it from its next tick")


@router.post("/settings/{connection_id}")
async def save_settings(request: Request, user: User, connection_id: int) -> HTMLResponse:
    state = web_state(request)
    info = next((c for c in state.connections.all() if c.id == connection_id), None)
    if info is None or info.kind not in LEAD_PUSH_SYSTEMS:
        return _page(request, problems=[f"no lead-push connection {connection_id}"], status=404)
    form = await request.form()
    changes = {
        k: str(v)[:2000] for k, v in form.items() if k != "csrf_token" and isinstance(v, str)
    }
    try:
        current = ApolloPushSettings.load(info.settings.get("apollo_push")).with_changes(changes)
    except SettingsError as exc:
        return _page(request, problems=[f"{info.name}: {exc}"], status=422)
    state.connections.update_settings(
        info.id, {**info.settings, "apollo_push": current.model_dump(mode="json")}
    )
    return _page(request, message=f"{info.name}: lead push settings saved")
