"""Server-rendered pages: Jinja2 templates (autoescaped) whose every printed value passes through
the secret masking, so a stored message quoting a token is shown masked, never in clear."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from leadbridge.secrets import redact_text
from leadbridge.web.accounts import SignedIn
from leadbridge.web.charts import bar_chart

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")


def _masked(value: Any) -> Any:
    if isinstance(value, Markup):  # our own markup (charts): masked, still markup
        return Markup(redact_text(str(value)))
    return redact_text(value) if isinstance(value, str) else value


templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.finalize = _masked
templates.env.globals["bar_chart"] = bar_chart


def page(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    signed: SignedIn | None = getattr(request.state, "signed_in", None)
    return templates.TemplateResponse(
        request,
        name,
        {
            "user": signed.account if signed else None,
            "csrf_token": signed.csrf_token if signed else "",
            **context,
        },
        status_code=status_code,
    )
