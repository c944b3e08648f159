"""What is HubSpot's own in the sync, as a person meets it: `leadbridge connect hubspot` (a private
app's token, or OAuth in the browser with `state` checked), the policy's HubSpot objects and
their lint, the Lead object refused with HubSpot's reason, and the person's company as an
association, set on create and followed on pull. Assertions on what the portal holds."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from leadbridge.connectors.errors import AuthError
from leadbridge.engine.sync.lint import check
from leadbridge.engine.systems.hubspot import connect_with_oauth
from leadbridge.hub.connections import Connections
from leadbridge.policy.crm import CustomField, FieldMap, ObjectMap
from leadbridge.sandbox.hubspot import HubSpotSandbox
from leadbridge.sandbox.server import ServedApp, free_port

from .cli_runner import lb, wide_terminal  # noqa: F401 (an autouse fixture)
from .crm_twins import HubSpotTwin

POLICY = "version: 1\nsyncs:\n  hubspot:\n    connection: hubspot\n"


@pytest.fixture
def portal() -> Iterator[tuple[HubSpotSandbox, str]]:
    """A HubSpot sandbox, not connected yet: the user connects it."""
    sandbox = HubSpotSandbox(seed=13)
    sandbox.add_owner("owner@portal.example", "Portal", "Owner")
    with ServedApp(sandbox.app) as served:
        sandbox.set_base_url(served.url)
        yield sandbox, served.url


def one_line_error(result: Any, *expected: str) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    for part in expected:
        assert part in lines[0], result.output
    return str(lines[0])


def test_connect_with_a_private_app_token_then_sync_through_the_cli(
    portal: tuple[HubSpotSandbox, str], tmp_path: Path
) -> None:
    sandbox, url = portal
    token = sandbox.issue_private_app_token()
    bad = lb("connect", "hubspot", "--token", "pat-na1-not-a-token", "--base-url", url)
    one_line_error(bad, "error:")
    assert "pat-na1-not-a-token" not in bad.output  # a secret is never echoed
    assert "connection hubspot" not in lb("status").output  # nothing half-made was saved

    result = lb("connect", "hubspot", "--token", token, "--base-url", url)
    assert result.exit_code == 0, result.output
    assert f"connected hubspot (portal {sandbox.portal_id})" in result.output
    assert token not in result.output
    (tmp_path / "leadbridge.yaml").write_text(POLICY)
    one_line_error(lb("pull"), "setup window")
    status = lb("status").output
    assert f"connection hubspot (hubspot, portal {sandbox.portal_id})" in status
    assert f"hubspot sync (portal {sandbox.portal_id}): setup window open" in status

    company = sandbox.console.create("companies", {"name": "Acme", "domain": "acme.io"}).id
    contact = sandbox.console.create("contacts", {"email": "ann@acme.io", "lastname": "Ann"}).id
    sandbox.console.associate("contacts", contact, "companies", company, type_id=1)
    assert lb("activate").exit_code == 0
    pulled = lb("pull")
    assert pulled.exit_code == 0, pulled.output
    assert "linked_contact 1" in pulled.output and "linked_company 1" in pulled.output
    pushed = lb("push")
    assert pushed.exit_code == 0, pushed.output

    # Reconnecting the same portal with a new token keeps the sync state.
    again = lb(
        "connect", "hubspot", "--token", sandbox.issue_private_app_token(), "--base-url", url
    )
    assert "reconnected hubspot" in again.output and "sync state is kept" in again.output
    assert "setup window open" not in lb("status").output
    assert sandbox.count("contacts") == 1 and sandbox.count("companies") == 1


def test_connect_with_oauth_in_the_browser_checks_state(
    portal: tuple[HubSpotSandbox, str], connections: Connections
) -> None:
    sandbox, url = portal
    port = free_port()
    redirect = f"http://127.0.0.1:{port}/callback"
    client_id, secret = sandbox.register_oauth_app([redirect])

    def browser(authorize: str, state: str | None = None) -> None:
        """A person opens the URL and grants access; the browser follows the redirect."""
        query = {k: v[0] for k, v in parse_qs(urlparse(authorize).query).items()}
        if state is not None:
            query["state"] = state
        granted = httpx.post(f"{url}/oauth/authorize", data={**query, "decision": "grant"})
        location = granted.headers["location"]
        assert location.startswith(redirect)
        httpx.get(location)

    def connect(state: str | None = None) -> Any:
        def announce(authorize: str) -> None:
            assert authorize.startswith(f"{url}/oauth/authorize?")
            threading.Thread(target=browser, args=(authorize, state), daemon=True).start()

        return asyncio.run(
            connect_with_oauth(
                connections,
                name="hubspot",
                client_id=client_id,
                client_secret=secret,
                base_url=url,
                redirect_port=port,
                announce=announce,
                wait_seconds=20,
            )
        )

    with pytest.raises(AuthError, match="state"):  # a callback that is not ours
        connect(state="forged")
    assert connections.all() == []
    done = connect()
    assert done.info.remote_scope == str(sandbox.portal_id) and not done.reconnected
    creds, _ = connections.credentials(done.info.id)
    assert creds["refresh_token"] and creds["client_id"] == client_id
    # The stored tokens work, and refresh themselves when they expire.
    from leadbridge.engine.systems.hubspot import open_hubspot

    async def owners_twice() -> int:
        hs = open_hubspot(connections, connections.get("hubspot"))
        try:
            first = len(await hs.client.owners(archived=False))
            sandbox.expire_tokens()
            return first + len(await hs.client.owners(archived=False))
        finally:
            await hs.aclose()

    assert asyncio.run(owners_twice()) == 2
    after, _ = connections.credentials(done.info.id)
    assert after["access_token"] != creds["access_token"]  # refreshed and stored


def test_the_lead_object_is_refused_with_hubspots_reason(
    portal: tuple[HubSpotSandbox, str], tmp_path: Path
) -> None:
    sandbox, url = portal
    assert lb("connect", "hubspot", "--token", sandbox.issue_private_app_token(),
              "--base-url", url).exit_code == 0  # fmt: skip
    (tmp_path / "leadbridge.yaml").write_text(POLICY + "    push: {create_people_as: Lead}\n")
    one_line_error(lb("push"), "create_people_as", "HubSpot has no Lead object in this API")
    one_line_error(lb("policy", "check"), "HubSpot has no Lead object in this API")
    (tmp_path / "leadbridge.yaml").write_text(
        POLICY + "    lead:\n      fields: [{hub: title, crm: jobtitle, direction: hub_to_crm}]\n"
    )
    one_line_error(lb("pull"), "lead: HubSpot has no Lead object in this API")


def test_policy_check_lints_against_the_portals_properties(twin_hubspot: HubSpotTwin) -> None:
    from leadbridge.connectors.hubspot.preset import PRESET

    def lint(policy: Any) -> tuple[list[str], list[str]]:
        report = asyncio.run(check(twin_hubspot.ctx(policy)))
        return report.warnings, report.errors

    warnings, errors = lint(twin_hubspot.policy)
    assert errors == [] and not [w for w in warnings if "hub→CRM" in w], (warnings, errors)
    policy = twin_hubspot.policy.model_copy(deep=True)
    policy.objects["contact"] = ObjectMap(
        fields=[
            FieldMap(hub="stage", crm="lifecyclestage", direction="hub_to_crm")
            if f.crm == "lifecyclestage"
            else f
            for f in PRESET.object_map("contact").fields
        ]
        + [
            FieldMap(hub="title", crm="job_title", direction="hub_to_crm"),
            FieldMap(hub="custom.score", crm="hs_object_id", direction="hub_to_crm"),
        ]
    )
    policy.custom_fields = [CustomField(name="score", object="person")]
    warnings, errors = lint(policy)
    assert "contacts.lifecyclestage (lifecycle stage) is written hub→CRM" in "\n".join(warnings)
    assert "contacts.job_title does not exist in this portal (did you mean jobtitle?)" in errors
    assert "contacts.hs_object_id is read-only: it cannot be written from the hub" in errors


def test_the_company_is_an_association_set_on_create_and_followed_on_pull(
    twin_hubspot: HubSpotTwin,
) -> None:
    hs = twin_hubspot
    hs.activate()
    hs.pull(manual=True)
    alone = hs.person(last_name="Solo", email="solo@nowhere.io")  # no company: created alone
    pid = hs.person(
        last_name="Ann", email="ann@one.io", company={"name": "One", "domain": "one.io"}
    )
    hs.push()
    (_, ann), (_, solo) = hs.person_link(pid), hs.person_link(alone)
    one = hs.link("company", hs.get_person(pid).company_id or 0)["companies"]
    assert hs.hs.associations("contacts", ann, "companies") == [(one, [1, 279])]
    assert hs.hs.associations("contacts", solo, "companies") == []
    # A HubSpot user moves Ann to another company: the hub follows.
    two = hs.remote_company("Two", "two.io")
    hs.hs.console.associate("contacts", ann, "companies", two, type_id=1)
    hs.pull()
    moved = hs.get_person(pid).company_id
    assert moved is not None and hs.link("company", moved) == {"companies": two}


@pytest.fixture
def twin_hubspot(hub: Any, connections: Connections) -> Iterator[HubSpotTwin]:
    from .crm_twins import hubspot_world

    yield from hubspot_world(hub, connections)


def test_the_readme_hubspot_policy_loads_and_passes_policy_check(
    twin_hubspot: HubSpotTwin, tmp_path: Path
) -> None:
    from leadbridge.cli.crm import read_policy

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in readme.split("```yaml\n")[1:]]
    (example,) = [b for b in blocks if "connection: hubspot" in b]
    (tmp_path / "leadbridge.yaml").write_text(example, encoding="utf-8")
    policy = read_policy(tmp_path / "leadbridge.yaml").sync("hubspot")
    twin_hubspot.restricted_source()  # the custom property the example's source goes to
    report = asyncio.run(check(twin_hubspot.ctx(policy)))
    assert report.errors == [] and report.warnings == [], (report.errors, report.warnings)
