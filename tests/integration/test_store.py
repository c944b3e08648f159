"""The hub store on SQLite and PostgreSQL: schema, constraints, credentials, imports, leases."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.fernet import Fernet
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from leadbridge.connectors.oauth import OAuthTokens
from leadbridge.hub.connections import Connections, ConnectionTokenStore
from leadbridge.hub.db import Hub
from leadbridge.hub.imports import ImportFileError, import_companies, import_users
from leadbridge.hub.tables import Base, Company, Connection, RecordLink, User, Workspace
from leadbridge.jobs.lease import Lease, LeaseHeld
from leadbridge.secrets import SecretBox, SecretKeyError

STAGES = ["pending", "target", "education", "solution", "evaluation", "ready_to_buy"]


def test_migrations_build_exactly_the_models(any_hub: Hub) -> None:
    with any_hub.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_default_workspace_is_created_once(any_hub: Hub) -> None:
    first = any_hub.workspace_id
    assert Hub(any_hub.engine).workspace_id == first
    with any_hub.session() as s:
        assert [w.name for w in s.scalars(select(Workspace))] == ["default"]


def test_record_links_are_unique_on_both_sides(any_hub: Hub) -> None:
    ws = any_hub.workspace_id
    common = dict(
        workspace_id=ws,
        remote_system="apollo",
        remote_scope="t1",
        remote_object="account",
        hub_object="company",
        status="created",
    )
    with any_hub.session() as s:
        s.add(RecordLink(hub_id=1, remote_id="a1", **common))
    with pytest.raises(IntegrityError), any_hub.session() as s:
        s.add(RecordLink(hub_id=1, remote_id="a2", **common))  # one hub record, two accounts
    with pytest.raises(IntegrityError), any_hub.session() as s:
        s.add(RecordLink(hub_id=2, remote_id="a1", **common))  # one account, two hub records
    with any_hub.session() as s:  # another team is another scope
        s.add(RecordLink(hub_id=1, remote_id="a1", **{**common, "remote_scope": "t2"}))
        # pending intents have no remote id yet; several may coexist
        s.add(RecordLink(hub_id=3, remote_id=None, **{**common, "status": "pending"}))
        s.add(RecordLink(hub_id=4, remote_id=None, **{**common, "status": "pending"}))


def test_check_constraints_reject_unknown_enum_values(any_hub: Hub) -> None:
    with pytest.raises(IntegrityError), any_hub.session() as s:
        s.add(Company(workspace_id=any_hub.workspace_id, name="X", domain="x.com", icp_fit="great"))


def test_credentials_are_sealed_at_rest(any_hub: Hub) -> None:
    box = SecretBox(Fernet.generate_key())
    conns = Connections(any_hub, box)
    info = conns.save(
        kind="apollo",
        name="apollo",
        base_url="http://127.0.0.1:1",
        credentials={"api_key": "sk-live-SECRET-123"},
        remote_scope="t1",
    )
    with any_hub.engine.connect() as conn:
        raw = conn.execute(text("SELECT credentials FROM connections")).scalar_one()
    assert "SECRET" not in raw
    assert conns.credentials(info.id)[0] == {"api_key": "sk-live-SECRET-123"}
    with pytest.raises(SecretKeyError, match="cannot be decrypted"):
        Connections(any_hub, SecretBox(Fernet.generate_key())).credentials(info.id)


def test_token_store_swaps_tokens_only_from_the_version_read(any_hub: Hub) -> None:
    conns = Connections(any_hub, SecretBox(Fernet.generate_key()))
    info = conns.save(
        kind="apollo",
        name="apollo",
        base_url="http://x",
        credentials={
            "access_token": "a1-token-value",
            "refresh_token": "r1-token-value",
            "client_id": "c",
            "client_secret": "s",
            "expires_at": 1.0,
        },
    )
    store = ConnectionTokenStore(conns, info.id)
    loaded = asyncio.run(store.load())
    assert loaded is not None and loaded.tokens.refresh_token == "r1-token-value"
    version = loaded.version
    new = OAuthTokens("a2-token-value", "r2-token-value", 99.0)
    assert asyncio.run(store.save(new, version)) == version + 1
    creds, new_version = conns.credentials(info.id)
    assert (creds["access_token"], creds["refresh_token"], creds["client_secret"]) == (
        "a2-token-value",
        "r2-token-value",
        "s",
    )
    assert new_version == version + 1
    # A writer that read the old version loses: the stored pair stays the winner's.
    late = OAuthTokens("a3-token-value", "r3-token-value", 99.0)
    assert asyncio.run(store.save(late, version)) is None
    assert conns.credentials(info.id)[0]["refresh_token"] == "r2-token-value"
    reloaded = asyncio.run(store.load())
    assert reloaded is not None and reloaded.version == version + 1
    assert "a2" not in repr(reloaded.tokens)


def write(path: Path, body: str) -> Path:
    path.write_text(body)
    return path


def test_import_companies_reports_bad_rows_and_writes_the_good(
    any_hub: Hub, tmp_path: Path
) -> None:
    import_users(any_hub, write(tmp_path / "u.csv", "email,first_name\nann@team.io,Ann\n"))
    report = import_companies(
        any_hub,
        write(
            tmp_path / "c.csv",
            (
                "Company Name,Website,ICP Fit,Stage,Owner Email,Employees,Quarantine\n"
                "Acme,https://www.acme.com/,strong,evaluation,ann@team.io,120,\n"
                "NoDomain,,strong,evaluation,ann@team.io,5,\n"
                "Bad Fit,bad.io,meh,evaluation,ann@team.io,5,\n"
                "Ghost,ghost.io,strong,evaluation,nobody@team.io,5,\n"
                "Dup,acme.com,strong,evaluation,,5,\n"
                "Count,count.io,moderate,target,,12x,\n"
                'Beta,beta.io,moderate,solution,,"1,200",yes\n'
            ),
        ),
        STAGES,
    )
    assert (report.created, report.updated) == (2, 0)
    reasons = dict(report.errors)
    assert reasons[3] == "missing domain"
    assert "ICP fit 'meh' is not one of: strong" in reasons[4]
    assert "not a hub user" in reasons[5]
    assert "already on row 2" in reasons[6]
    assert "whole number" in reasons[7]
    with any_hub.session() as s:
        rows = {c.domain: c for c in s.scalars(select(Company))}
    assert set(rows) == {"acme.com", "beta.io"}
    assert rows["acme.com"].owner_id is not None and rows["acme.com"].employee_count == 120
    assert rows["beta.io"].quarantine == "quarantined" and rows["beta.io"].employee_count == 1200


def test_reimport_upserts_by_domain_and_leaves_untouched_rows_alone(
    any_hub: Hub, tmp_path: Path
) -> None:
    csv1 = write(
        tmp_path / "a.csv", "name,domain,icp_fit\nAcme,acme.com,strong\nBeta,beta.io,moderate\n"
    )
    import_companies(any_hub, csv1, STAGES)
    with any_hub.session() as s:
        before = {c.domain: c.updated_at for c in s.scalars(select(Company))}
    csv2 = write(tmp_path / "b.csv", "name,domain\nAcme Corp,ACME.com\nBeta,beta.io\n")
    report = import_companies(any_hub, csv2, STAGES)
    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    with any_hub.session() as s:
        after = {c.domain: c for c in s.scalars(select(Company))}
    assert after["acme.com"].name == "Acme Corp" and after["acme.com"].icp_fit == "strong"
    assert after["beta.io"].updated_at == before["beta.io"]
    assert after["acme.com"].updated_at > before["acme.com"]


def test_strict_import_writes_nothing_when_a_row_is_bad(any_hub: Hub, tmp_path: Path) -> None:
    report = import_companies(
        any_hub, write(tmp_path / "c.csv", "name,domain\nA,a.com\nB,\n"), STAGES, strict=True
    )
    assert not report.written and report.errors == [(3, "missing domain")]
    with any_hub.session() as s:
        assert s.scalars(select(Company)).all() == []


def test_import_file_errors_are_clear(hub: Hub, tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="no such file"):
        import_companies(hub, tmp_path / "missing.csv", STAGES)
    with pytest.raises(ImportFileError, match="needs a domain"):
        import_companies(hub, write(tmp_path / "x.csv", "name,size\nA,3\n"), STAGES)
    (tmp_path / "bin.csv").write_bytes(bytes(range(256)) * 8)
    with pytest.raises(ImportFileError, match="not a text file"):
        import_companies(hub, tmp_path / "bin.csv", STAGES)
    report = import_companies(
        hub, write(tmp_path / "y.csv", "name,domain\nA,a.com,extra\n"), STAGES
    )
    assert "more cells than header" in report.errors[0][1]


def test_import_users_validates_emails(any_hub: Hub, tmp_path: Path) -> None:
    report = import_users(
        any_hub,
        write(
            tmp_path / "u.csv",
            (
                "Email,First Name,Active\nAnn@Team.io,Ann,yes\nbob@,Bob,yes\nann@team.io,Ann2,yes\n"
                "cy@team.io,Cy,maybe\n"
            ),
        ),
    )
    assert report.created == 1
    assert [n for n, _ in report.errors] == [3, 4, 5]
    with any_hub.session() as s:
        assert [u.email for u in s.scalars(select(User))] == ["ann@team.io"]


def test_lease_excludes_a_second_holder_until_released_or_expired(any_hub: Hub) -> None:
    first = Lease(any_hub, "apollo-push:1")
    second = Lease(any_hub, "apollo-push:1")
    with first:
        assert not second.acquire()
        with pytest.raises(LeaseHeld, match="already running"):
            second.__enter__()
    assert second.acquire()
    second.release()
    dead = Lease(any_hub, "apollo-push:2", ttl=timedelta(seconds=-1))  # expired at once
    assert dead.acquire()
    assert Lease(any_hub, "apollo-push:2").acquire()


def test_connection_rows_never_hold_plain_secrets_in_settings(any_hub: Hub) -> None:
    conns = Connections(any_hub, SecretBox(Fernet.generate_key()))
    conns.save(
        kind="apollo",
        name="a",
        base_url="http://x",
        credentials={"api_key": "k-123"},
        settings={"apollo_push": {"batch_size": 50}},
    )
    with any_hub.session() as s:
        row = s.scalar(select(Connection))
        assert row is not None and "k-123" not in str(row.settings)
