"""`leadbridge sandbox …`: the local emulators of the outside APIs."""

from __future__ import annotations

from typing import Annotated

import typer

from leadbridge.cli.app import sandbox_app


@sandbox_app.command("apollo")
def sandbox_apollo(
    port: Annotated[int, typer.Option(help="loopback port")] = 8780,
    users: Annotated[int, typer.Option(help="seeded Apollo users")] = 5,
    accounts: Annotated[int, typer.Option(help="seeded Apollo accounts")] = 0,
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
) -> None:
    """Serve the Apollo sandbox on 127.0.0.1:PORT (prints its API key)."""
    from leadbridge.sandbox.apollo import run

    run(port=port, seed_users=users, seed_accounts=accounts, seed=seed)


@sandbox_app.command("salesforce")
def sandbox_salesforce(
    port: Annotated[int, typer.Option(help="loopback port")] = 8790,
    https: Annotated[bool, typer.Option(help="serve HTTPS with a generated CA")] = True,
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
    accounts: Annotated[
        int, typer.Option(help="seed this many accounts (and contacts, leads)")
    ] = 0,
) -> None:
    """Serve the Salesforce sandbox on 127.0.0.1:PORT (prints its CA file and a session id)."""
    from leadbridge.sandbox.salesforce import run as run_salesforce

    run_salesforce(port=port, https=https, seed=seed, accounts=accounts)


@sandbox_app.command("hubspot")
def sandbox_hubspot(
    port: Annotated[int, typer.Option(help="loopback port")] = 8800,
    seed: Annotated[int, typer.Option(help="random seed")] = 1,
    companies: Annotated[
        int, typer.Option(help="seed this many companies (and their contacts, deals)")
    ] = 0,
    tier: Annotated[
        str, typer.Option(help="rate-limit tier: free, starter, professional, enterprise")
    ] = "free",
) -> None:
    """Serve the HubSpot sandbox on 127.0.0.1:PORT (prints its URL and a private-app token)."""
    from leadbridge.sandbox.hubspot import TIERS
    from leadbridge.sandbox.hubspot import run as run_hubspot

    if tier not in TIERS:
        raise typer.BadParameter(f"unknown tier {tier!r}; one of {', '.join(TIERS)}")
    run_hubspot(port=port, seed=seed, companies=companies, tier=tier)
