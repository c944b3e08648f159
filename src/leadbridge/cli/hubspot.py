"""`leadbridge connect hubspot`: a portal through a private app's token, or OAuth in the browser."""

from __future__ import annotations

from typing import Annotated

import typer

from leadbridge.cli.app import PolicyOpt, connect_app
from leadbridge.cli.context import Context, console, err, friendly
from leadbridge.cli.crm import setup_note, setup_window

API_BASE = "https://api.hubapi.com"


@connect_app.command("hubspot")
@friendly
def connect_hubspot(
    token: Annotated[
        str | None,
        typer.Option(
            envvar="LEADBRIDGE_HUBSPOT_TOKEN",
            help="a private app's access token (or the env variable)",
            show_default=False,
        ),
    ] = None,
    oauth: Annotated[bool, typer.Option(help="authorise a public app with OAuth 2.0")] = False,
    client_id: Annotated[str | None, typer.Option(envvar="LEADBRIDGE_HUBSPOT_CLIENT_ID")] = None,
    client_secret: Annotated[
        str | None, typer.Option(envvar="LEADBRIDGE_HUBSPOT_CLIENT_SECRET", show_default=False)
    ] = None,
    base_url: Annotated[str, typer.Option(help="HubSpot API base (or a sandbox's URL)")] = API_BASE,
    name: Annotated[str, typer.Option(help="connection name")] = "hubspot",
    redirect_port: Annotated[int, typer.Option(help="loopback port for the callback")] = 8768,
    code: Annotated[str | None, typer.Option(help="an authorization code already obtained")] = None,
    redirect_uri: Annotated[str | None, typer.Option(help="redirect URI used with --code")] = None,
    setup_hours: Annotated[
        float | None,
        typer.Option(help="setup window in hours (default: the policy's setup_window_hours)"),
    ] = None,
    policy: PolicyOpt = None,
) -> None:
    """Connect a HubSpot portal (--token for a private app, or --oauth); automatic sync waits
    for the setup window."""
    import asyncio

    from leadbridge.engine.systems import hubspot

    if oauth == bool(token):
        err.print(
            "[red]error:[/red] give --token (or LEADBRIDGE_HUBSPOT_TOKEN) for a private app, "
            "or --oauth with --client-id and --client-secret"
        )
        raise typer.Exit(2)
    if oauth and not (client_id and client_secret):
        err.print("[red]error:[/red] --oauth needs --client-id and --client-secret")
        raise typer.Exit(2)
    setup_hours, source = setup_window(policy, name, setup_hours)
    ctx = Context()
    if token:
        done = asyncio.run(
            hubspot.connect_with_token(
                ctx.connections,
                name=name,
                token=token,
                base_url=base_url,
                setup_window_hours=setup_hours,
            )
        )
    else:
        assert client_id and client_secret
        done = asyncio.run(
            hubspot.connect_with_oauth(
                ctx.connections,
                name=name,
                client_id=client_id,
                client_secret=client_secret,
                base_url=base_url,
                redirect_port=redirect_port,
                code=code,
                redirect_uri=redirect_uri,
                setup_window_hours=setup_hours,
                announce=lambda url: console.print(
                    f"Open this URL to authorise:\n{url}", soft_wrap=True
                ),
            )
        )
    info = done.info
    if done.reconnected:
        console.print(
            f"reconnected {info.name} (portal {info.remote_scope}) with new credentials; "
            "the sync state is kept"
        )
        return
    console.print(
        f"connected {info.name} (portal {info.remote_scope}); "
        + setup_note(setup_hours, source, info.name),
        markup=False,
    )
