"""OAuth 2.0: authorize page -> approve -> code -> token -> call -> refresh rotates -> expiry."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from leadbridge.sandbox.apollo import ApolloSandbox

from .conftest import Clock, Served

REDIRECT = "https://app.example/callback"


@dataclass
class App:
    client_id: str
    secret: str
    http: httpx.Client

    def authorize(self, **params: str) -> httpx.Response:
        query = {
            "client_id": self.client_id,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "state": "xyz",
            **params,
        }
        return self.http.get("/oauth/authorize", params=query)

    def approve(self, **params: str) -> httpx.Response:
        form = {
            "client_id": self.client_id,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "state": "xyz",
            "decision": "approve",
            **params,
        }
        return self.http.post("/oauth/authorize", data=form)

    def code(self, **params: str) -> str:
        back = self.approve(**params)
        assert back.status_code == 302, back.text
        return httpx.URL(back.headers["location"]).params["code"]

    def token(self, **form: str) -> httpx.Response:
        sent = {"client_id": self.client_id, "client_secret": self.secret, **form}
        return self.http.post("/api/v1/oauth/token", data=sent)

    def exchange(self, code: str) -> dict:
        r = self.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
        assert r.status_code == 200, r.text
        return r.json()

    def refresh(self, refresh_token: str, **form: str) -> httpx.Response:
        return self.token(grant_type="refresh_token", refresh_token=refresh_token, **form)

    def call(
        self, access_token: str, method: str = "GET", path: str = "users/search"
    ) -> httpx.Response:
        return self.http.request(
            method, f"/api/v1/{path}", headers={"Authorization": f"Bearer {access_token}"}
        )


@pytest.fixture
def app(served: Served) -> Iterator[App]:
    client_id, secret = served.sandbox.register_oauth_app(
        [REDIRECT], scopes=["users_list", "account_read", "accounts_search"]
    )
    with served.bare() as http:
        yield App(client_id, secret, http)


def test_the_code_flow_end_to_end(sandbox: ApolloSandbox, app: App, clock: Clock) -> None:
    page = app.authorize()
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "Approve" in page.text and app.client_id in page.text

    back = app.approve()
    assert back.status_code == 302
    location = httpx.URL(back.headers["location"])
    assert str(location).startswith(REDIRECT) and location.params["state"] == "xyz"

    tokens = app.exchange(location.params["code"])
    assert set(tokens) == {
        "access_token",
        "token_type",
        "expires_in",
        "refresh_token",
        "scope",
        "created_at",
    }
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 30 * 24 * 3600
    assert tokens["created_at"] == int(clock.now)
    assert set(tokens["scope"].split()) == {
        "users_list",
        "account_read",
        "accounts_search",
        "read_user_profile",
        "app_scopes",
    }
    r = app.call(tokens["access_token"])
    assert r.status_code == 200 and r.json()["users"][0]["id"] == sandbox.state.admin["id"]
    assert r.headers["x-minute-requests-left"]  # rate headers once authenticated

    # A refresh rotates: the old access and refresh tokens die at once.
    new = app.refresh(tokens["refresh_token"]).json()
    assert new["access_token"] != tokens["access_token"]
    old = app.call(tokens["access_token"])
    assert old.status_code == 401 and old.json()["error_code"] == "INVALID_ACCESS_TOKEN"
    reused = app.refresh(tokens["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    assert app.call(new["access_token"]).status_code == 200

    clock.advance(30 * 24 * 3600)  # access tokens last 30 days
    expired = app.call(new["access_token"])
    assert expired.status_code == 401 and expired.json()["error_code"] == "INVALID_ACCESS_TOKEN"
    assert "expired" in expired.json()["error"]
    fresh = app.refresh(new["refresh_token"]).json()  # the refresh token still works
    assert app.call(fresh["access_token"]).status_code == 200


def test_scopes_are_enforced_per_endpoint(sandbox: ApolloSandbox, app: App) -> None:
    tokens = app.exchange(app.code(scope="account_read"))
    assert tokens["scope"] == "account_read app_scopes read_user_profile"
    account = sandbox.add_account(name="Acme")
    assert app.call(tokens["access_token"], path=f"accounts/{account['id']}").status_code == 200
    assert app.call(tokens["access_token"], path="users/api_profile").status_code == 200
    r = app.call(tokens["access_token"], "POST", "accounts")
    assert r.status_code == 403 and r.json()["error_code"] == "API_INACCESSIBLE"
    assert "account_write" in r.json()["error"]
    assert sandbox.accounts() == [account]
    # Scopes beyond the registration are not granted; a refresh may narrow, never widen.
    wide = app.exchange(app.code(scope="account_read account_write"))
    assert "account_write" not in wide["scope"].split()
    narrowed = app.refresh(wide["refresh_token"], scope="users_list account_write").json()
    assert narrowed["scope"] == "app_scopes read_user_profile"


def test_the_authorize_page_refuses_unknown_clients_and_redirects(app: App) -> None:
    unknown = app.authorize(client_id="nope")
    assert unknown.status_code == 400 and "Unknown client_id" in unknown.text
    elsewhere = app.authorize(redirect_uri="https://evil.example/cb")
    assert elsewhere.status_code == 400 and "redirect_uri" in elsewhere.text
    assert app.authorize(response_type="token").status_code == 400
    assert app.approve(redirect_uri="https://evil.example/cb").status_code == 400


def test_denying_redirects_with_apollos_refusal(app: App) -> None:
    back = app.approve(decision="deny")
    params = httpx.URL(back.headers["location"]).params
    assert back.status_code == 302 and "code" not in params
    assert (params["status_code"], params["state"]) == ("403", "xyz")


def test_codes_are_single_use_short_lived_and_bound_to_the_redirect(app: App, clock: Clock) -> None:
    code = app.code()
    app.exchange(code)
    again = app.token(grant_type="authorization_code", code=code)
    assert (again.status_code, again.json()["error"]) == (400, "invalid_grant")

    late = app.code()
    clock.advance(601)
    assert app.token(grant_type="authorization_code", code=late).json()["error"] == "invalid_grant"

    moved = app.token(
        grant_type="authorization_code", code=app.code(), redirect_uri="https://other.example/cb"
    )
    assert moved.json()["error"] == "invalid_grant"


def test_pkce_s256_the_verifier_must_match_the_challenge(app: App) -> None:
    from leadbridge.engine.systems.apollo_connect import pkce_pair

    verifier, challenge = pkce_pair()
    page = app.authorize(code_challenge=challenge, code_challenge_method="S256")
    assert page.status_code == 200 and challenge in page.text  # carried through the consent
    code = app.code(code_challenge=challenge, code_challenge_method="S256")

    missing = app.token(grant_type="authorization_code", code=code, redirect_uri=REDIRECT)
    assert (missing.status_code, missing.json()) == (
        400,
        {
            "error": "invalid_request",
            "error_description": "Missing required parameter: code_verifier.",
        },
    )
    wrong = app.token(grant_type="authorization_code", code=code, code_verifier=pkce_pair()[0])
    assert (wrong.status_code, wrong.json()["error"]) == (400, "invalid_grant")
    # Like Doorkeeper, a failed check does not spend the code: its holder can still redeem it.
    right = app.token(grant_type="authorization_code", code=code, code_verifier=verifier)
    assert right.status_code == 200 and app.call(right.json()["access_token"]).status_code == 200


def test_pkce_plain_and_refusals(app: App) -> None:
    plain = app.code(code_challenge="a-plain-challenge-of-43-characters-or-more-x")
    ok = app.token(
        grant_type="authorization_code",
        code=plain,
        code_verifier="a-plain-challenge-of-43-characters-or-more-x",
    )
    assert ok.status_code == 200
    # A verifier for a code issued without a challenge is refused, as Doorkeeper does.
    unasked = app.token(grant_type="authorization_code", code=app.code(), code_verifier="x" * 43)
    assert unasked.json()["error"] == "invalid_grant"
    odd = app.authorize(code_challenge="c" * 43, code_challenge_method="S512")
    assert odd.status_code == 400 and "code_challenge_method" in odd.text


def test_token_endpoint_errors(app: App) -> None:
    wrong_secret = app.http.post(
        "/api/v1/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": app.code(),
            "client_id": app.client_id,
            "client_secret": "wrong",
        },
    )
    assert (wrong_secret.status_code, wrong_secret.json()["error"]) == (401, "invalid_client")
    assert wrong_secret.headers["cache-control"] == "no-store"
    assert app.token(grant_type="password").json()["error"] == "unsupported_grant_type"
    assert app.token().json() == {
        "error": "invalid_request",
        "error_description": "Missing required parameter: grant_type.",
    }
    assert app.token(grant_type="authorization_code").json()["error"] == "invalid_request"


def test_client_secret_basic_and_revocation(app: App) -> None:
    basic = base64.b64encode(f"{app.client_id}:{app.secret}".encode()).decode()
    r = app.http.post(
        "/api/v1/oauth/token",
        data={"grant_type": "authorization_code", "code": app.code()},
        headers={"Authorization": f"Basic {basic}"},
    )
    tokens = r.json()
    assert r.status_code == 200
    revoked = app.http.post(
        "/api/v1/oauth/revoke",
        data={
            "token": tokens["refresh_token"],
            "client_id": app.client_id,
            "client_secret": app.secret,
        },
    )
    assert revoked.status_code == 200
    assert app.call(tokens["access_token"]).status_code == 401
    assert app.refresh(tokens["refresh_token"]).json()["error"] == "invalid_grant"


def test_token_ttl_knob_and_forced_expiry(sandbox: ApolloSandbox, app: App, clock: Clock) -> None:
    sandbox.knobs.access_token_ttl = 60
    tokens = app.exchange(app.code())
    assert tokens["expires_in"] == 60
    clock.advance(59)
    assert app.call(tokens["access_token"]).status_code == 200
    clock.advance(1)
    assert app.call(tokens["access_token"]).status_code == 401

    sandbox.knobs.expire_tokens_every = 2  # chaos: every 2nd bearer call finds its token dead
    fresh = app.refresh(tokens["refresh_token"]).json()
    assert app.call(fresh["access_token"]).status_code == 200
    assert app.call(fresh["access_token"]).status_code == 401
    assert app.call(fresh["access_token"]).status_code == 401  # and it stays dead
