"""Writes through the HubSpot connector: what the portal holds afterwards, one result per input
in input order whatever order the sandbox answers in, and what was (not) sent."""

from __future__ import annotations

from leadbridge.connectors.errors import PermanentError, TransientError
from leadbridge.connectors.hubspot.catalog import COMPANY_FIELD

from .conftest import Portal

BATCH = "POST /crm/v3/objects/{object_type}/batch/create"


async def test_one_result_per_input_in_input_order_with_207s(portal: Portal) -> None:
    sb = portal.sandbox
    hs = portal.connector()
    companies = await hs.write(
        "companies",
        "create",
        [(f"c{i}", {"name": f"Co {i}", "domain": f"co{i}.example"}) for i in range(3)],
    )
    assert [r.ref for r in companies] == ["c0", "c1", "c2"] and all(r.created for r in companies)
    ids = [r.remote_id for r in companies]
    rows = [
        (i, {"email": f"P{i}@x.example", "lastname": f"L{i}", COMPANY_FIELD: ids[i % 3]})
        for i in range(230)
    ]
    rows[17] = (17, {"email": "gone@x.example", "lastname": "G", COMPANY_FIELD: "999"})  # 207
    rows[150] = (150, {"firstname": "No", "lastname": "Mail"})  # no key: created plainly
    results = await hs.write("contacts", "create", rows)

    assert [r.ref for r in results] == list(range(230))
    assert [i for i, r in enumerate(results) if not r.ok] == [17]
    error = results[17].error
    assert isinstance(error, PermanentError) and error.code == "INVALID_ASSOCIATION"
    assert error.field == COMPANY_FIELD and error.hint
    # Matched by e-mail and values, never by position: each id holds its own input.
    for (ref, values), result in zip(rows, results, strict=True):
        if ref == 17:
            continue
        held = sb.record("contacts", str(result.remote_id))["properties"]
        assert held["lastname"] == values["lastname"], ref
        assert held.get("associatedcompanyid", "") == values.get(COMPANY_FIELD, "")
    assert sb.count("contacts") == 229
    assert sb.find("contacts", "gone@x.example", "email") is None
    assert portal.calls(BATCH) == 1 + 3 + 1  # companies; 229 keyed contacts; 1 without e-mail
    await hs.aclose()


async def test_companies_are_told_apart_by_their_values(portal: Portal) -> None:
    sb = portal.sandbox
    hs = portal.connector()
    rows = [(i, {"name": f"Acme {i % 40}", "domain": f"acme{i}.example"}) for i in range(120)]
    rows += [
        (120, {"name": "Twin"}),
        (121, {"name": "Twin"}),
        (122, {"name": "Twin", "domain": "t.example"}),
    ]
    results = await hs.write("companies", "create", rows)
    assert all(r.ok and r.created for r in results)
    assert len({r.remote_id for r in results}) == 123 and sb.count("companies") == 123
    for (_, values), result in zip(rows, results, strict=True):
        held = sb.record("companies", str(result.remote_id))["properties"]
        assert (held["name"], held.get("domain")) == (values["name"], values.get("domain"))
    # Two identical inputs never share a batch (their answers could not be told apart).
    assert portal.calls(BATCH) == 3
    await hs.aclose()


async def test_values_are_checked_before_sending(portal: Portal) -> None:
    sb = portal.sandbox
    archived = sb.add_owner("left@portal.example", "Left", "Rep", archived=True)
    hs = portal.connector()
    await hs.schema("contacts")
    before = dict(sb.calls)
    rows = [
        ("stage", {"email": "a@x.example", "lifecyclestage": "hot"}),
        ("ro", {"email": "b@x.example", "createdate": "2026-01-01T00:00:00Z"}),
        ("unknown", {"email": "c@x.example", "favourite_colour": "red"}),
        ("number", {"email": "d@x.example", "hs_lead_status": "NEW", "followercount": "lots"}),
        ("empty", {"jobtitle": "CTO"}),
        ("owner", {"email": "e@x.example", "hubspot_owner_id": archived["id"]}),
        ("mail", {"email": "not an address"}),
        ("company", {"email": "f@x.example", COMPANY_FIELD: "acme"}),
    ]
    results = await hs.write("contacts", "create", rows)
    codes = {r.ref: r.error.code for r in results if r.error is not None}
    assert codes == {
        "stage": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "ro": "INVALID_FIELD_FOR_INSERT_UPDATE",
        "unknown": "INVALID_FIELD",
        "number": "INVALID_INTEGER",
        "empty": "REQUIRED_FIELD_MISSING",
        "owner": "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
        "mail": "INVALID_EMAIL_ADDRESS",
        "company": "INVALID_ASSOCIATION",
    }
    assert "allowed values: subscriber, lead," in (results[0].error.hint or "")  # type: ignore[union-attr]
    assert archived["id"] not in (results[5].error.hint or "")  # type: ignore[union-attr]
    assert dict(sb.calls) == before and sb.count("contacts") == 0  # not one call spent
    # One bad record in a batch fails alone; the others are written.
    mixed = await hs.write(
        "contacts",
        "create",
        [(1, {"email": "ok@x.example"}), (2, {"email": "x@x.example", "lifecyclestage": "hot"})],
    )
    assert [r.ok for r in mixed] == [True, False] and sb.count("contacts") == 1
    await hs.aclose()


async def test_a_taken_email_hands_back_its_contact_with_the_before_image(portal: Portal) -> None:
    sb = portal.sandbox
    theirs = sb.console.create("contacts", {"email": "test@example.com", "firstname": "Tess"})
    hs = portal.connector()
    companies = await hs.write(
        "companies", "create", [(0, {"name": "Example", "domain": "example.com"})]
    )
    company = str(companies[0].remote_id)
    results = await hs.write(
        "contacts",
        "create",
        [
            ("hub-1", {"email": "TEST@example.com", "firstname": "Tessa", COMPANY_FIELD: company}),
            ("hub-2", {"email": "new@example.com", "firstname": "Ned", "jobtitle": "CEO"}),
        ],
    )
    adopted, made = results
    assert adopted.ok and not adopted.created and adopted.remote_id == theirs.id
    assert adopted.record is not None and adopted.record["firstname"] == "Tess"  # before ours
    assert made.ok and made.created
    held = sb.record("contacts", theirs.id)["properties"]
    assert held["firstname"] == "Tessa"
    assert held["associatedcompanyid"] == company
    assert sb.count("contacts") == 2
    await hs.aclose()


async def test_a_create_resent_after_a_lost_answer_duplicates_nothing(portal: Portal) -> None:
    """The write lands, the answer is a 502 (the after-commit knob); the HTTP layer sends it
    again; HubSpot's e-mail uniqueness hands back what the first attempt made: created."""
    sb = portal.sandbox
    hs = portal.connector()
    companies = await hs.write(
        "companies", "create", [(0, {"name": "Lost", "domain": "lost.example"})]
    )
    company = str(companies[0].remote_id)
    old = sb.console.create("contacts", {"email": "old@lost.example", "firstname": "Old"})
    with sb.portal.lock:  # a contact made long before this run
        sb.portal.records["contacts"][old.id].props["createdate"] = "2020-01-01T00:00:00Z"
    sb.ctx.rng = Draws(0.0)  # the first write's answer is lost after it landed
    sb.knobs.error_after_commit_rate = 0.5
    rows = [
        (i, {"email": f"p{i}@lost.example", "lastname": f"L{i}", COMPANY_FIELD: company})
        for i in range(50)
    ]
    rows.append((50, {"email": "old@lost.example", "lastname": "Older"}))
    results = await hs.write("contacts", "create", rows)
    sb.knobs.error_after_commit_rate = 0.0

    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    assert [r.created for r in results] == [True] * 50 + [False]
    adopted = results[50]
    assert adopted.remote_id == old.id and adopted.record is not None
    assert adopted.record["lastname"] is None  # the before-image of what we wrote over
    held = sb.record("contacts", old.id)["properties"]
    assert (held["firstname"], held["lastname"]) == ("Old", "Older")
    assert sb.count("contacts") == 51
    for result in results[:50]:
        assert (
            sb.record("contacts", str(result.remote_id))["properties"]["associatedcompanyid"]
            == company
        )
    assert portal.calls(BATCH) == 1 + 2  # the company; the contacts' first attempt and resend
    await hs.aclose()


async def test_an_upsert_resent_after_a_lost_answer_still_says_created(portal: Portal) -> None:
    sb = portal.sandbox
    hs = portal.connector()
    sb.console.create("contacts", {"email": "known@x.example", "firstname": "Known"})
    sb.ctx.rng = Draws(0.0)
    sb.knobs.error_after_commit_rate = 0.5
    rows = [(i, {"email": f"u{i}@x.example", "firstname": f"U{i}"}) for i in range(30)]
    rows.append((30, {"email": "Known@x.example", "firstname": "Renamed"}))
    results = await hs.write("contacts", "upsert", rows)
    sb.knobs.error_after_commit_rate = 0.0
    assert all(r.ok for r in results)
    assert [r.created for r in results] == [True] * 30 + [False]
    assert sb.count("contacts") == 31
    assert sb.find("contacts", "known@x.example", "email")["properties"]["firstname"] == "Renamed"  # type: ignore[index]
    again = await hs.write("contacts", "upsert", rows[:2])
    assert [r.created for r in again] == [False, False] and sb.count("contacts") == 31
    assert portal.calls("POST /crm/v3/objects/{object_type}/batch/upsert") == 3
    await hs.aclose()


async def test_update_moves_and_clears_the_primary_company_and_delete_archives(
    portal: Portal,
) -> None:
    sb = portal.sandbox
    hs = portal.connector()
    a, b = await hs.write(
        "companies",
        "create",
        [(0, {"name": "A", "domain": "a.example"}), (1, {"name": "B", "domain": "b.example"})],
    )
    made = await hs.write(
        "contacts",
        "create",
        [(i, {"email": f"m{i}@a.example", COMPANY_FIELD: a.remote_id}) for i in range(3)],
    )
    ids = [str(r.remote_id) for r in made]
    updated = await hs.write(
        "contacts",
        "update",
        [
            (0, {"Id": ids[0], "jobtitle": "CTO", COMPANY_FIELD: b.remote_id}),
            (1, {"Id": ids[1], COMPANY_FIELD: ""}),
            (2, {"Id": "73183578999999", "jobtitle": "Ghost"}),
            (3, {"Id": ids[2], "email": "m0@a.example"}),  # another contact's e-mail: 409
        ],
    )
    assert [r.ok for r in updated] == [True, True, False, False]
    assert updated[2].error is not None and updated[2].error.code == "OBJECT_NOT_FOUND"
    assert updated[3].error is not None and updated[3].error.code == "CONFLICT"
    first, second = (sb.record("contacts", i) for i in ids[:2])
    assert first["properties"]["jobtitle"] == "CTO"
    assert first["properties"]["associatedcompanyid"] == b.remote_id
    assert [c["id"] for c in first["associations"]["companies"]] == [a.remote_id, b.remote_id]
    assert second["properties"].get("associatedcompanyid", "") == ""
    gone = await hs.write("contacts", "delete", [(0, {"Id": ids[2]})])
    assert gone[0].ok and sb.count("contacts") == 2 and sb.count("contacts", archived=True) == 1
    await hs.aclose()


async def test_updates_of_merged_away_ids_land_on_the_merged_record(portal: Portal) -> None:
    sb = portal.sandbox
    hs = portal.connector()
    one = sb.console.create("contacts", {"email": "one@m.example"})
    two = sb.console.create("contacts", {"email": "two@m.example"})
    merged = sb.console.merge("contacts", one.id, two.id)
    (result,) = await hs.write("contacts", "update", [("x", {"Id": two.id, "jobtitle": "VP"})])
    assert result.ok and result.remote_id == merged.id
    assert sb.record("contacts", merged.id)["properties"]["jobtitle"] == "VP"
    await hs.aclose()


async def test_owners_are_read_only_and_companies_have_no_upsert_key(portal: Portal) -> None:
    hs = portal.connector()
    (owner,) = await hs.write("owners", "create", [(0, {"email": "x@y.example"})])
    assert isinstance(owner.error, PermanentError)
    (company,) = await hs.write("companies", "upsert", [(0, {"name": "X", "domain": "x.example"})])
    assert company.error is not None and company.error.code == "NO_UNIQUE_KEY"
    assert portal.sandbox.count("companies") == 0
    await hs.aclose()


async def test_a_lost_answer_to_a_keyless_create_is_not_resent(portal: Portal) -> None:
    sb = portal.sandbox
    hs = portal.connector()
    sb.knobs.error_after_commit_rate = 1.0
    results = await hs.write(
        "companies", "create", [(0, {"name": "Once", "domain": "once.example"})]
    )
    sb.knobs.error_after_commit_rate = 0.0
    assert isinstance(results[0].error, TransientError) and "may have been created" in str(
        results[0].error
    )
    assert sb.count("companies") == 1 and portal.calls(BATCH) == 1  # landed once, sent once
    await hs.aclose()


class Draws:
    """The sandbox's fault dice, loaded: these values first, then never a fault."""

    def __init__(self, *values: float) -> None:
        self.values = list(values)

    def random(self) -> float:
        return self.values.pop(0) if self.values else 0.99
