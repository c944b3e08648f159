"""Secrets: masked by value wherever they appear, keys that are several, logs that never tell."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from leadbridge.connectors.oauth import HeaderKeyAuth, OAuthTokens
from leadbridge.hub.connections import Connections
from leadbridge.hub.db import Hub
from leadbridge.secrets import (
    SECRET_VALUES,
    KeyRing,
    SecretBox,
    SecretKeyError,
    load_keys,
    redact,
    redact_text,
    remember,
    replace_key_file,
)
from leadbridge.settings import Settings

KEY = "Zx81-live-key-9f3a2b7c"


def test_a_remembered_value_is_masked_in_free_text_in_every_echoed_form() -> None:
    assert redact_text(f"Bad request for {KEY}") == f"Bad request for {KEY}"  # not known yet
    remember(KEY)
    for text in (
        f"Bad request for {KEY}",
        f'{{"HTTP_X_API_KEY"=>"{KEY}"}}',
        f"url?key={KEY}&x=1",
        f"json: {KEY!r}",
    ):
        assert KEY not in redact_text(text)
        assert "***" in redact_text(text)
    assert redact({"note": [f"echo {KEY}"]}) == {"note": ["echo ***"]}


def test_special_characters_are_masked_raw_url_encoded_and_json_escaped() -> None:
    secret = 'p@ss "word"/with+stuff'
    remember(secret)
    assert redact_text(f"raw {secret}") == "raw ***"
    assert redact_text('body {"s": "p@ss \\"word\\"/with+stuff"}') == 'body {"s": "***"}'
    assert redact_text("q=p%40ss%20%22word%22%2Fwith%2Bstuff") == "q=***"


def test_short_values_are_not_remembered_so_words_survive() -> None:
    remember("abc", "", None, 42)
    assert redact_text("abc 42") == "abc 42"
    assert len(SECRET_VALUES) == 0


def test_patterns_still_catch_secrets_never_held() -> None:
    assert redact_text("Authorization: Bearer abc.def") == "Authorization: Bearer ***"
    assert redact_text('{"api_key": "never-seen-1"}') == '{"api_key": "***"}'
    assert redact_text('{"client_secret"=>"never-seen-2"}') == '{"client_secret"=>"***"}'
    assert redact_text("POST /token?refresh_token=never-seen-3&x=1") == (
        "POST /token?refresh_token=***&x=1"
    )
    assert redact_text("x-api-key: never-seen-4") == "x-api-key: ***"
    # Prose that merely names a secret is left alone.
    assert redact_text("the password: is too short") == "the password: is too short"


def test_redact_masks_mappings_by_key() -> None:
    data = {"api_key": "k", "nested": [{"refresh_token": "r"}], "note": "Bearer abc"}
    assert redact(data) == {
        "api_key": "***",
        "nested": [{"refresh_token": "***"}],
        "note": "Bearer ***",
    }


def test_credentials_tokens_and_keys_become_known_when_held() -> None:
    box = SecretBox(Fernet.generate_key())
    sealed = box.seal({"api_key": "sealed-key-123", "client_id": "public-client-id"})
    SECRET_VALUES.clear()
    box.open(sealed)
    OAuthTokens("access-token-abc", "refresh-token-def")
    HeaderKeyAuth("x-api-key", "header-key-ghi")
    text = redact_text("sealed-key-123 access-token-abc refresh-token-def header-key-ghi")
    assert text == "*** *** *** ***"
    assert redact_text("public-client-id") == "public-client-id"  # not a secret
    key = Fernet.generate_key()
    SecretBox(key)  # the key material itself
    assert redact_text(f"the key is {key.decode()}") == "the key is ***"


def test_the_registry_keeps_the_newest_values_within_its_limit() -> None:
    from leadbridge.secrets.values import SecretValues

    values = SecretValues(limit=3)
    for i in range(5):
        values.add(f"secret-value-{i}")
    assert values.mask("secret-value-0 secret-value-4") == "secret-value-0 ***"


def test_leadbridge_log_records_are_masked_with_their_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    remember(KEY)
    caplog.set_level(logging.INFO)
    log = logging.getLogger("leadbridge.runner")  # a child: the logger filter alone misses it
    log.info("connection answered %s", f'{{"HTTP_X_API_KEY"=>"{KEY}"}}')
    try:
        raise RuntimeError(f"echoed {KEY}")
    except RuntimeError:
        log.exception("the job crashed")
    text = caplog.text + "".join(r.getMessage() for r in caplog.records)
    assert KEY not in text
    assert "HTTP_X_API_KEY" in text and "RuntimeError: echoed ***" in text


def test_several_keys_the_first_seals_every_one_opens(tmp_path: Path) -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    sealed_with_old = SecretBox(old).seal({"api_key": "k-1234567"})
    both = KeyRing([new, old], origin="test")
    box = SecretBox(both)
    assert box.open(sealed_with_old) == {"api_key": "k-1234567"}
    assert SecretBox(new).open(box.seal({"a": 1})) == {"a": 1}  # sealed with the first
    assert SecretBox(new).open(box.reseal(sealed_with_old)) == {"api_key": "k-1234567"}
    env = f"{new.decode()}, {old.decode()}"
    ring = load_keys(Settings(secret_key=env, key_file=tmp_path / "unused"))
    assert ring.keys == [new, old]


def test_a_bad_key_is_named_by_position_never_shown(tmp_path: Path) -> None:
    good = Fernet.generate_key().decode()
    with pytest.raises(SecretKeyError, match="key 2 of LEADBRIDGE_SECRET_KEY") as info:
        load_keys(Settings(secret_key=f"{good},not-a-key", key_file=tmp_path / "k"))
    assert good not in str(info.value)


def test_no_key_file_is_generated_over_sealed_credentials(tmp_path: Path) -> None:
    path = tmp_path / "missing.key"
    ring = load_keys(Settings(secret_key=None, key_file=path), sealed=["apollo"])
    assert not path.exists() and ring.keys == []
    with pytest.raises(SecretKeyError, match=r"missing.*apollo.*init --new-key"):
        SecretBox(ring).open("sealed")
    fresh = load_keys(
        Settings(secret_key=None, key_file=path)
    )  # nothing sealed: a key is made, mode 0600
    assert path.exists() and path.stat().st_mode & 0o777 == 0o600 and len(fresh.keys) == 1


def test_a_ring_follows_its_key_file_when_another_process_rewrites_it(tmp_path: Path) -> None:
    path = tmp_path / "k.key"
    old, new = Fernet.generate_key(), Fernet.generate_key()
    replace_key_file(path, [old])
    ring = KeyRing.from_file(path)
    replace_key_file(path, [new, old])
    assert SecretBox(new).open(SecretBox(ring).seal({"x": 1})) == {"x": 1}


def test_credential_problems_name_what_cannot_be_opened(hub: Hub) -> None:
    mine = Connections(hub, SecretBox(Fernet.generate_key()))
    info = mine.save(kind="apollo", name="apollo", base_url="http://x", credentials={"a": "b"})
    assert mine.credential_problems() == {}
    other = Connections(hub, SecretBox(Fernet.generate_key()))
    assert "cannot be decrypted" in other.credential_problems()[info.id]
