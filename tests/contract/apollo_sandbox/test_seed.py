"""Seeding a realistic team, deterministically; the foreground runner stays on loopback."""

from __future__ import annotations

import pytest

from leadbridge.sandbox.apollo import ApolloSandbox, run, seed_team


def seeded(seed: int) -> tuple[ApolloSandbox, list[tuple]]:
    sandbox = ApolloSandbox(seed=seed, clock=lambda: 1_700_000_000.0)
    team = seed_team(sandbox, users=6, accounts=40, seed=seed)
    view = [(a["id"], a["name"], a["domain"], a["owner_id"]) for a in team.accounts]
    return sandbox, view


def test_seed_team_is_deterministic_and_realistic() -> None:
    sandbox, accounts = seeded(3)
    assert accounts == seeded(3)[1]
    assert accounts != seeded(4)[1]
    users = sandbox.users()
    assert len(users) == 7  # the admin and six reps
    assert all(u["email"].endswith("@sandbox-team.example") and u["title"] for u in users)
    held = sandbox.accounts()
    assert len(held) == 40 and len({a["domain"] for a in held}) == 40
    assert all(a["domain"] and "." in a["domain"] and " " not in a["domain"] for a in held)
    rep_ids = {u["id"] for u in users[1:]}
    assert {a["owner_id"] for a in held} <= rep_ids
    assert {a["account_stage_id"] for a in held} <= {s["id"] for s in sandbox.state.stages}
    assert all(a["sanitized_phone"].startswith("+1") for a in held)


def test_run_refuses_a_non_loopback_host() -> None:
    with pytest.raises(ValueError, match="loopback"):
        run(port=0, host="0.0.0.0")
