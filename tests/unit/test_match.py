"""The matcher: what must match (nicknames, typos, phone formats, company suffixes, personal vs
work e-mail) and what must not (namesakes elsewhere, colleagues on one switchboard), with the
evidence it gives; and the normalisation keys it stands on."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import phonenumbers
import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from leadbridge.engine.audit.hygiene import check, team_domains
from leadbridge.engine.audit.sources import Source
from leadbridge.match import Entity, Records, find_duplicates, possible_duplicates
from leadbridge.normalize.company import company_core
from leadbridge.normalize.email import canonical_email, email_is_valid
from leadbridge.normalize.person import first_name_key, last_name_key, nickname_equal
from leadbridge.normalize.phone import phone_key

from ..crm_dupes import generate

ROBERT = Entity(
    "crm 1", "Robert", "Smith", "rsmith@acme.com", "(415) 867-5309",
    company="Acme Inc.", domain="https://www.acme.com",
)  # fmt: skip
POOL = [
    ROBERT,
    Entity("crm 2", "Robert", "Smith", "robert.smith@globex.com", company="Globex LLC",
           domain="globex.com"),
    Entity("crm 3", "Alice", "Jones", "alice@acme.com", "415.867.5309", company="Acme Inc.",
           domain="acme.com"),
    Entity("crm 4", "Priya", "Raman", "priya@initech.io", company="Initech"),
]  # fmt: skip


def _matched(candidate: Entity) -> list[str]:
    return [m.ref for m in possible_duplicates(candidate, POOL, 0.9)]


@pytest.mark.parametrize(
    "candidate",
    [
        # another e-mail, the same name and company domain: the push guard's case
        Entity("new", "Robert", "Smith", "bob@acme.com", domain="acme.com"),
        # nickname, personal e-mail, the phone written another way, a legal-suffix variant
        Entity("new", "Bob", "Smith", "bob.smith@gmail.com", "+1 415 867 5309",
               company="ACME Corporation"),
        # typos in both names, the work e-mail
        Entity("new", "Robrt", "Smtih", "rsmith@acme.com"),
        # upper case, the same mailbox with a +tag, a website spelling
        Entity("new", "ROBERT", "SMITH", "RSmith+crm@Acme.com", domain="ACME.COM/about"),
    ],
)  # fmt: skip
def test_the_same_person_matches(candidate: Entity) -> None:
    assert _matched(candidate) == ["crm 1"]


@pytest.mark.parametrize(
    "candidate",
    [
        # a namesake at yet another company
        Entity("new", "Robert", "Smith", "robert@hooli.com", company="Hooli", domain="hooli.com"),
        # a colleague on the switchboard, at the same company
        Entity("new", "Maria", "Garcia", "maria@acme.com", "415-867-5309", company="Acme"),
        # the same name and nothing else
        Entity("new", "Robert", "Smith"),
        # same first name at the same company, another family name
        Entity("new", "Robert", "Jones", "rjones@acme.com", domain="acme.com"),
    ],
)  # fmt: skip
def test_different_people_do_not_match(candidate: Entity) -> None:
    assert _matched(candidate) == []


def test_a_match_says_why() -> None:
    candidate = Entity("new", "Bob", "Smith", "bob.smith@gmail.com", "+1 415 867 5309")
    [match] = possible_duplicates(candidate, POOL, 0.5)
    assert match.ref == "crm 1" and match.index == 0
    assert 0.5 <= match.confidence <= 1.0
    by_field = {a.field: a for a in match.evidence}
    assert by_field["first name"].level == "nickname"
    assert by_field["first name"].detail == "Bob ~ Robert"
    assert by_field["last name"].level == "same"
    assert by_field["phone"].level == "same"
    assert by_field["e-mail"].level == "different" and by_field["e-mail"].weight < 0
    assert "first name nickname (Bob ~ Robert)" in match.explain()


def test_the_threshold_is_the_callers() -> None:
    candidate = Entity("new", "Robrt", "Smith", None, company="Acme")
    loose = possible_duplicates(candidate, POOL, 0.5)
    strict = possible_duplicates(candidate, POOL, 0.999999)
    assert [m.ref for m in loose] == ["crm 1"]
    assert strict == []


def test_companies_match_by_domain_and_name_without_legal_forms() -> None:
    records = Records.of(
        "company",
        [
            Entity("a", company="Acme Inc.", domain="https://www.acme.com"),
            Entity("b", company="ACME Corporation", domain="acme.com"),
            Entity("c", company="Acme Holdings", domain="acmeholdings.com"),
            Entity("d", company="Globex", domain="globex.com"),
        ],
    )
    found = find_duplicates(records)
    assert [c.members for c in found.clusters] == [(0, 1)]


def test_the_audit_finds_the_known_duplicates_of_a_generated_crm() -> None:
    data = generate(4000, seed=3)
    found = find_duplicates(data.records)
    truth = data.true_pairs()
    pairs = {
        (x, y) for c in found.clusters for i, x in enumerate(c.members) for y in c.members[i + 1 :]
    }
    right = len(pairs & truth)
    assert right / len(pairs) >= 0.99  # precision
    assert right / len(truth) >= 0.95  # recall


def test_normalisation_keys() -> None:
    assert first_name_key("Dr. José-Luis") == "jose"
    assert last_name_key("O'Brien-Smith Jr.") == "obriensmith"
    assert nickname_equal("bob", "robert") and nickname_equal("bill", "will")
    assert not nickname_equal("robert", "alice")
    assert company_core("The Acme Co., Ltd. (USA)") == "acme"
    assert company_core("Ørsted A/S") == "orsted"
    assert company_core("Acme Holdings LLC") == "acme holdings"
    assert canonical_email("john.smith+crm@googlemail.com") == "johnsmith@gmail.com"
    assert phone_key("(415) 867-5309") == phone_key("+1 415.867.5309") == "+14158675309"
    assert phone_key("+44 20 7946 0958") == "+442079460958"
    assert phone_key("867-5309") is None and phone_key("n/a") is None


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"\(?[2-9]\d\d\)?[ .-]?[2-9]\d\d[ .-]?\d{4}", fullmatch=True))
def test_the_phone_fast_path_agrees_with_phonenumbers(raw: str) -> None:
    number = phonenumbers.parse(raw, "US")
    if phonenumbers.is_valid_number(number):
        assert phone_key(raw) == phonenumbers.format_number(number, 0)
    elif phone_key(raw) is not None:  # a US/CA number in an area code's unassigned range
        assert phonenumbers.is_possible_number(number)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"[a-zA-Z0-9._+-]{1,20}@[a-zA-Z0-9.-]{1,20}\.[a-zA-Z]{2,6}", fullmatch=True))
def test_the_email_fast_check_agrees_with_email_validator(raw: str) -> None:
    try:
        validate_email(raw, check_deliverability=False)
        valid = True
    except EmailNotValidError:
        valid = False
    assert email_is_valid(raw) == valid


def test_hygiene_checks() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    records = Records.of(
        "person",
        [
            Entity("1", "Ann", "Lee", "ann@@acme.com"),
            Entity("2", "Test", "User", "qa@acme.io"),
            Entity("3", "Sam", "Ito", "sam@ourteam.com"),
            Entity("4", "Kim", "Ng", "kim@test.com"),
            Entity("5", "Lia", "Ro", "lia@acme.io"),
            Entity("6", "Eve", "Ma", "eve@acme.io"),
        ],
    )
    modified = [now] * 4 + [now - timedelta(days=400), now - timedelta(days=300)]
    source = Source(records, ["x"] * 6, modified)  # type: ignore[arg-type]
    team = team_domains(["me@ourteam.com", "boss@gmail.com"])
    assert team == frozenset({"ourteam.com"})
    found = {(f.check, f.index) for f in check(source, team, now)}
    assert found == {
        ("invalid_email", 0),
        ("test_contact", 1),
        ("test_contact", 2),
        ("test_contact", 3),
        ("stale", 4),
    }


def test_a_home_address_is_evidence_where_no_employer_explains_it() -> None:
    """People without e-mail or company (a mailing list, FEBRL): the same house on one street,
    with spacing typos, is one person even with swapped or retyped names; colleagues at one
    office address with other names are not."""
    home = Entity("a", "bryce", "rees", street="16 meldrum street\nrp 155232", postcode="3128",
                  city="arana hills")  # fmt: skip
    swapped = Entity("b", "rees", "bryce", street="16 meldrumstreet", postcode="3128",
                     city="arana hulls")  # fmt: skip
    assert [m.ref for m in possible_duplicates(home, [swapped], 0.99)] == ["b"]
    (match,) = possible_duplicates(home, [swapped], 0.99)
    assert "street address similar" in match.explain()
    neighbour = Entity("c", "alice", "walsh", street="18 meldrum street", postcode="3128")
    assert possible_duplicates(home, [neighbour], 0.5) == []  # another house, other names
    office = dict(street="1 Market Street", city="San Francisco", postcode="94105",
                  company="Acme Inc.", domain="acme.com")  # fmt: skip
    alice = Entity("d", "Alice", "Jones", **office)
    assert possible_duplicates(Entity("e", "Carol", "Jones", **office), [alice], 0.5) == []


def test_the_name_change_rate_is_taken_from_the_data() -> None:
    """Where many pairs share a personal mailbox and still differ in name, a differing name
    weighs less against a match than in data where names hold."""
    from leadbridge.match.keys import Keys
    from leadbridge.match.scoring import score

    def weight(renamed: int) -> float:
        people = []
        for i in range(300):
            people.append(Entity(f"{i}a", "Ann", f"Lee{i}", f"p{i}@mail.example"))
            first = "Zoe" if i < renamed else "Ann"
            people.append(Entity(f"{i}b", first, f"Lee{i}", f"p{i}@mail.example"))
        records = Records.of("person", people)
        keys = Keys.of(records)
        a, b = np.arange(0, 600, 2), np.arange(1, 600, 2)
        scored = score(keys, a, b, "person")
        return float(scored.weights["first_name"][0])

    assert weight(150) > weight(3) + 3  # -1.7 bits against about -6.6


def test_the_fast_paths_change_no_pair_and_no_score(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocking's combined codes made dense only near overflow, and similarities run once per
    distinct pair of values, give what the plain ways give: the same candidate pairs in the
    same order, and the same similarity for every pair."""
    from rapidfuzz import distance, process

    from leadbridge.match import blocking
    from leadbridge.match.keys import Keys
    from leadbridge.match.scoring import _similarity

    keys = Keys.of(generate(3_000, seed=3).records)
    a, b = blocking.candidate_pairs(keys, "person")
    monkeypatch.setattr(blocking, "DENSE_ABOVE", 0)  # dense after every part: the plain way
    dense_a, dense_b = blocking.candidate_pairs(keys, "person")
    assert len(a) > 1_000
    assert np.array_equal(a, dense_a) and np.array_equal(b, dense_b)
    ca, cb = keys.last.codes[a], keys.last.codes[b]
    both = (ca >= 0) & (cb >= 0) & (ca != cb)
    scorer = distance.JaroWinkler.normalized_similarity
    plain = process.cpdist(keys.last.strings(ca[both]), keys.last.strings(cb[both]), scorer=scorer)
    fast = _similarity(keys.last, ca[both], cb[both], scorer)
    assert both.sum() > 100
    assert np.array_equal(np.asarray(plain, dtype=np.float64), fast)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(["", "a", "B", "a "]), st.text(max_size=6))))
def test_factorize_codes_values_as_a_dict_would(raw: list[str | None]) -> None:
    """Grouping by hash with a sort gives the dict's answer: each value's code into the distinct
    values, first seen first."""
    from leadbridge.match.keys import factorize

    codes, values = factorize(raw)
    assert values == list(dict.fromkeys(raw))
    assert [values[c] for c in codes.tolist()] == raw


def test_factorize_survives_a_hash_collision() -> None:
    from leadbridge.match.keys import factorize

    assert hash(-1) == hash(-2)  # CPython's one famous collision
    codes, values = factorize([-1, -2, -1, 5])
    assert values == [-1, -2, 5] and codes.tolist() == [0, 1, 0, 2]


def test_a_country_that_differs_takes_the_address_agreement_away() -> None:
    """Namesakes on a King Street in a London: one person in one country, two people when one
    London is in Canada. A country spelt two ways is one country."""
    home = dict(street="10 King Street", city="London", postcode=None)
    uk = Entity("a", "Maria", "Garcia", "maria.g@gmail.com", country="United Kingdom", **home)
    same = Entity("b", "Maria", "Garcia", "mgarcia@yahoo.com", country="UK", **home)
    (match,) = possible_duplicates(uk, [same], 0.99)
    assert "street address same (10 King Street)" in match.explain()
    assert "country same" in match.explain()
    canada = Entity("c", "Maria", "Garcia", "mgarcia@yahoo.com", country="Canada", **home)
    assert possible_duplicates(uk, [canada], 0.5) == []
    # Without countries the address decides, as before.
    alone = Entity("d", "Maria", "Garcia", "m@x.example", **home)
    assert possible_duplicates(alone, [Entity("e", "Maria", "Garcia", "g@y.example", **home)])


_ODD_PHONES = st.sampled_from(
    ["", "\x1e", "+44 20 7946 0958", "+1 (415) 867-5309 x12", "\u0664\u0661\u0665 867 5309",
     "\t415.867.5309 ", "+1+4158675309", "1 911 867 5309", "(800) 555-0199", "n/a", "+1415",
     "415\x00867 5309", "1-415-867-5309", "4158675309\xa0", "+33 1 42 68 53 00"]
)  # fmt: skip


_PLAIN_PHONE = r"(\+?1[ .-]?)?\(?[0-9]{3}\)?[ .-]?[0-9]{3}[ .-/]?[0-9]{4}"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            _ODD_PHONES,
            st.from_regex(_PLAIN_PHONE, fullmatch=True),
            st.text(alphabet="0123456789 +()-./\xa0\x1ex", max_size=16),
        ),
        max_size=30,
    )
)
def test_the_bulk_phone_keys_are_phone_key_one_by_one(raws: list[str | None]) -> None:
    from leadbridge.normalize.phone import phone_keys

    assert phone_keys(raws) == [phone_key(raw) for raw in raws]
    assert phone_keys(raws, "GB") == [phone_key(raw, "GB") for raw in raws]


_ODD_EMAILS = st.sampled_from(
    ["", " ", "\x1e", "Ann@Acme.com ", "john.smith+crm@googlemail.com", "J.Smith@Gmail.com",
     "no-at-sign", "@acme.com", "a+@x.io", "José@exämple.com", "\"quoted\"@x.com", "a@b@c.com",
     "ΣΑΣ@x.gr", "x@gmail.com.evil.io", "+tag@acme.com"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.none(),
            _ODD_EMAILS,
            st.from_regex(
                r"[A-Za-z0-9._+-]{1,12}@(gmail\.com|acme\.io|[a-z]{1,8}\.com)", fullmatch=True
            ),
            st.text(alphabet="abAB.+@ \x1e\t\u00e9", max_size=12),
        ),
        max_size=30,
    )
)
def test_the_bulk_mailboxes_are_the_mailbox_one_by_one(raws: list[str | None]) -> None:
    from leadbridge.match.keys import _mailbox, mailboxes

    assert mailboxes(raws) == [_mailbox(raw) if raw else None for raw in raws]
