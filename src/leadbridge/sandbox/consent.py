"""The OAuth consent page the sandboxes show (a form that posts the decision back)."""

from __future__ import annotations

import html

from fastapi.responses import HTMLResponse


def consent_page(
    title: str, prompt: str, params: dict[str, str], allow: str, deny: str
) -> HTMLResponse:
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
        for k, v in params.items()
    )
    return HTMLResponse(
        f"<html><body><h1>{html.escape(title)}</h1><p>{html.escape(prompt)}</p>"
        f'<form method="post">{hidden}'
        f'<button name="decision" value="{allow}">{allow.title()}</button> '
        f'<button name="decision" value="{deny}">{deny.title()}</button></form></body></html>'
    )


def refusal_page(title: str, problem: str) -> HTMLResponse:
    return HTMLResponse(f"<h1>{html.escape(title)}</h1><p>{html.escape(problem)}</p>", 400)
