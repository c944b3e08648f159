import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadbridge.normalize import normalize_domain, normalize_email, website_for
from leadbridge.normalize.email import InvalidEmail


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://www.Example.co.uk/about", "example.co.uk"),
        ("shop.acme.io", "acme.io"),
        ("bob@acme.com", "acme.com"),
        ("http://user@x.com:8080/p?q=1", "x.com"),
        ("ACME.COM.", "acme.com"),
        ("localhost", None),
        ("acme", None),
        ("", None),
        (None, None),
        ("-bad-.com", None),
        ("foo bar.com", None),
    ],
)
def test_normalize_domain(raw: str | None, expected: str | None) -> None:
    assert normalize_domain(raw) == expected


@given(st.text(max_size=60))
def test_normalize_domain_is_idempotent_and_never_raises(raw: str) -> None:
    once = normalize_domain(raw)
    if once is not None:
        assert normalize_domain(once) == once
        assert once == once.lower() and "/" not in once and not once.startswith("www.")


def test_normalize_email() -> None:
    assert normalize_email("  Bob.Smith@Example.COM ") == "bob.smith@example.com"
    assert normalize_email("") is None
    with pytest.raises(InvalidEmail, match="not a valid e-mail"):
        normalize_email("bob@")


def test_website_for() -> None:
    assert website_for("acme.com") == "https://acme.com"
    assert website_for("acme.com", "www.acme.com/home") == "https://www.acme.com/home"
    assert website_for(None) is None
