"""The SOQL engine against a small in-memory org built from the recorded describes."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from leadbridge.sandbox.salesforce import soql

from .memory import MemorySource

NOW = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)  # a Wednesday


@pytest.fixture(scope="module")
def org() -> MemorySource:
    src = MemorySource("Contact", "Account", "Lead", "User")
    src.ids["acme"] = src.add("Account", Name="Acme", Industry="Energy", NumberOfEmployees=120)
    src.ids["globex"] = src.add("Account", Name="Globex", AnnualRevenue=2.5e6)
    src.ids["ada"] = src.add("User", Name="Ada Admin", Email="ada@x.io")
    rows = [
        ("Ng", "ng@x.io", src.ids["acme"], datetime(2026, 11, 25, 9, tzinfo=UTC), date(1990, 5, 1)),
        ("Lee", None, src.ids["acme"], datetime(2026, 11, 24, 23, 59, tzinfo=UTC), None),
        ("Le%", "p@x.io", None, datetime(2026, 11, 2, tzinfo=UTC), date(1985, 1, 31)),
        ("Zed", "z@y.io", src.ids["globex"], datetime(2026, 10, 31, 12, tzinfo=UTC), None),
        ("ter_x", "t@y.io", None, datetime(2025, 6, 1, tzinfo=UTC), None),
    ]
    for last, email, account, created, birthdate in rows:
        src.add(
            "Contact",
            LastName=last,
            Email=email,
            AccountId=account,
            CreatedDate=created,
            Birthdate=birthdate,
            OwnerId=src.ids["ada"],
        )
    src.add("Contact", LastName="Gone", IsDeleted=True)
    src.add("Lead", LastName="Lo", Company="Initech", OwnerId=src.ids["ada"])
    return src


def run(org: MemorySource, text: str, **kw: object) -> soql.QueryResult:
    return soql.execute(soql.parse(text), org, now=NOW, **kw)


def names(org: MemorySource, where: str) -> list[str]:
    result = run(org, f"SELECT LastName FROM Contact WHERE {where} ORDER BY LastName")
    return [r["LastName"] for r in result.records]


def test_records_come_in_api_shape_with_canonical_casing(org: MemorySource) -> None:
    result = run(
        org,
        "select lastname, EMAIL, createddate, BirthDate, isdeleted from contact "
        "where lastname = 'NG'",
    )
    (record,) = result.records
    assert result.total_size == 1
    assert record == {
        "attributes": {
            "type": "Contact",
            "url": f"/services/data/v59.0/sobjects/Contact/{org.records['Contact'][0]['Id']}",
        },
        "LastName": "Ng",
        "Email": "ng@x.io",
        "CreatedDate": "2026-11-25T09:00:00.000+0000",
        "Birthdate": "1990-05-01",
        "IsDeleted": False,
    }
    assert list(record) == [
        "attributes",
        "LastName",
        "Email",
        "CreatedDate",
        "Birthdate",
        "IsDeleted",
    ]


def test_numbers_stay_json_numbers(org: MemorySource) -> None:
    records = run(
        org, "SELECT Name, NumberOfEmployees, AnnualRevenue FROM Account ORDER BY Name"
    ).records
    assert [(r["Name"], r["NumberOfEmployees"], r["AnnualRevenue"]) for r in records] == [
        ("Acme", 120, None),
        ("Globex", None, 2.5e6),
    ]


def test_parent_fields_nest_with_their_attributes(org: MemorySource) -> None:
    records = run(
        org,
        "SELECT LastName, Account.Name, account.industry, Owner.Name FROM Contact "
        "WHERE LastName IN ('Ng', 'Le%') ORDER BY LastName",
    ).records
    assert records[0]["Account"] is None  # Le% has no account
    assert records[1]["Account"] == {
        "attributes": {
            "type": "Account",
            "url": f"/services/data/v59.0/sobjects/Account/{org.ids['acme']}",
        },
        "Name": "Acme",
        "Industry": "Energy",
    }
    assert records[1]["Owner"]["Name"] == "Ada Admin"
    assert list(records[1]) == ["attributes", "LastName", "Account", "Owner"]


def test_polymorphic_owner_resolves_to_the_user_it_points_at(org: MemorySource) -> None:
    (lead,) = run(org, "SELECT Owner.Name, Owner.Email FROM Lead").records
    assert lead["Owner"]["attributes"]["type"] == "User"
    assert (lead["Owner"]["Name"], lead["Owner"]["Email"]) == ("Ada Admin", "ada@x.io")


def test_filter_on_parent_field(org: MemorySource) -> None:
    assert names(org, "Account.Name = 'acme'") == ["Lee", "Ng"]
    assert names(org, "Account.Name = null") == ["Le%", "ter_x"]


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("Email = null", ["Lee"]),
        ("Email != null AND NOT LastName LIKE 'z%'", ["Le%", "Ng", "ter_x"]),
        ("LastName LIKE 'le\\%'", ["Le%"]),  # \% is a literal percent sign
        ("LastName LIKE 'le%'", ["Le%", "Lee"]),
        ("LastName LIKE 'ter\\_%'", ["ter_x"]),
        ("LastName LIKE '_e_'", ["Le%", "Lee", "Zed"]),
        ("LastName IN ('ng', 'ZED')", ["Ng", "Zed"]),
        ("LastName NOT IN ('Ng', 'Lee')", ["Le%", "ter_x", "Zed"]),
        ("Email != 'ng@x.io'", ["Le%", "Lee", "ter_x", "Zed"]),  # != keeps the nulls
        ("(Email LIKE '%.io' OR LastName = 'Lee') AND AccountId != null", ["Lee", "Ng", "Zed"]),
        ("NOT (LastName = 'Ng' OR LastName = 'Zed')", ["Le%", "Lee", "ter_x"]),
        ("LastName > 'm' AND LastName <= 'TER_X'", ["Ng", "ter_x"]),
        ("Birthdate < 1990-01-01", ["Le%"]),
        ("Birthdate >= 1990-05-01", ["Ng"]),
        ("CreatedDate > 2026-11-24T23:59:00Z", ["Ng"]),
        ("CreatedDate >= 2026-11-24T23:59:00Z", ["Lee", "Ng"]),
        ("CreatedDate = 2026-11-25T10:00:00.000+0100", ["Ng"]),  # an instant, not a wall time
        ("CreatedDate = 2026-11-25T01:00:00-08:00", ["Ng"]),
        ("CreatedDate = TODAY", ["Ng"]),
        ("CreatedDate = YESTERDAY", ["Lee"]),
        ("CreatedDate = LAST_N_DAYS:1", ["Lee", "Ng"]),
        ("CreatedDate < LAST_N_DAYS:30", ["ter_x"]),
        ("CreatedDate = THIS_MONTH", ["Le%", "Lee", "Ng"]),
        ("CreatedDate = LAST_MONTH", ["Zed"]),
        ("CreatedDate = THIS_WEEK", ["Lee", "Ng"]),
        ("CreatedDate > TODAY", []),
        ("CreatedDate = NEXT_N_DAYS:3", []),
        ("Birthdate != null AND Birthdate < THIS_YEAR", ["Le%", "Ng"]),
    ],
)
def test_where(org: MemorySource, where: str, expected: list[str]) -> None:
    assert names(org, where) == expected


def test_ids_match_in_15_and_18_char_forms(org: MemorySource) -> None:
    acme = org.ids["acme"]
    assert names(org, f"AccountId = '{acme[:15]}'") == ["Lee", "Ng"]
    assert names(org, f"AccountId IN ('{acme.upper()}')") == ["Lee", "Ng"]


def test_order_by_several_fields_with_nulls(org: MemorySource) -> None:
    def order(clause: str) -> list[str]:
        text = f"SELECT LastName FROM Contact ORDER BY {clause}"
        return [r["LastName"] for r in run(org, text).records]

    assert order("AccountId NULLS LAST, LastName DESC") == ["Ng", "Lee", "Zed", "ter_x", "Le%"]
    assert order("Email ASC, LastName") == ["Lee", "Ng", "Le%", "ter_x", "Zed"]
    assert order("Email DESC") == ["Zed", "ter_x", "Le%", "Ng", "Lee"]  # nulls last on DESC
    assert order("Email DESC NULLS FIRST") == ["Lee", "Zed", "ter_x", "Le%", "Ng"]
    assert order("Birthdate NULLS LAST, CreatedDate DESC") == ["Le%", "Ng", "Lee", "Zed", "ter_x"]


def test_limit_offset_and_total_size(org: MemorySource) -> None:
    result = run(org, "SELECT LastName FROM Contact ORDER BY LastName LIMIT 2 OFFSET 1")
    assert [r["LastName"] for r in result.records] == ["Lee", "Ng"] and result.total_size == 2
    assert run(org, "SELECT Id FROM Contact OFFSET 2000").total_size == 0


def test_count_and_count_of_a_field(org: MemorySource) -> None:
    assert run(org, "SELECT COUNT() FROM Contact") == ([], 5)
    assert run(org, "SELECT COUNT() FROM Contact WHERE Email != null LIMIT 2") == ([], 2)
    assert run(org, "SELECT COUNT(Email) FROM Contact").records == [
        {"attributes": {"type": "AggregateResult"}, "expr0": 4}
    ]
    assert run(org, "SELECT COUNT(Id) n FROM Contact").records[0]["n"] == 5


def test_deleted_rows_only_with_include_deleted(org: MemorySource) -> None:
    assert "Gone" not in names(org, "LastName != null")
    result = run(org, "SELECT LastName FROM Contact WHERE IsDeleted = true", include_deleted=True)
    assert [r["LastName"] for r in result.records] == ["Gone"]


def test_minimal_source_without_row_lookup_still_resolves_parents(org: MemorySource) -> None:
    assert not hasattr(org, "row") and not hasattr(org, "canonical")
    (ng,) = run(org, "SELECT Account.Name FROM Contact WHERE LastName = 'Ng'").records
    assert ng["Account"]["Name"] == "Acme"


# --- errors ---------------------------------------------------------------------------------


def error_of(org: MemorySource, text: str) -> soql.SoqlError:
    with pytest.raises(soql.SoqlError) as info:
        run(org, text)
    return info.value


def test_unknown_field_message_is_salesforces() -> None:
    err = error_of(MemorySource("Lead"), "SELECT Id, Foo FROM Lead")
    assert err.error_code == "INVALID_FIELD"
    assert err.message == (
        "\nSELECT Id, Foo FROM Lead\n           ^\nERROR at Row:1:Column:12\n"
        "No such column 'Foo' on entity 'Lead'. If you are attempting to use a custom field, be "
        "sure to append the '__c' after the custom field name. Please reference your WSDL or the "
        "describe call for the appropriate names."
    )


def test_datetime_field_against_a_string_is_refused(org: MemorySource) -> None:
    err = error_of(org, "SELECT Id FROM Contact WHERE CreatedDate > '2024-01-01T00:00:00Z'")
    assert err.error_code == "INVALID_FIELD"
    assert err.message.endswith(
        "ERROR at Row:1:Column:44\nvalue of filter criterion for field 'CreatedDate' must be of "
        "type dateTime and should not be enclosed in quotes"
    )


@pytest.mark.parametrize(
    ("text", "code", "tail"),
    [
        ("", "MALFORMED_QUERY", "SOQL statements cannot be empty or null"),
        ("SELECT FROM Contact", "MALFORMED_QUERY", "unexpected token: 'FROM'"),
        ("SELECT Id Contact", "MALFORMED_QUERY", "unexpected token: 'Contact'"),
        ("SELECT Id FROM Contact WHERE", "MALFORMED_QUERY", "unexpected token: '<EOF>'"),
        (
            "SELECT Id FROM Contact WHERE LastName = 'a' AND Email = 'b' OR Title = 'c'",
            "MALFORMED_QUERY",
            "unexpected token: 'OR'",
        ),
        ("SELECT Id FROM Contact WHERE LastName = 'a", "MALFORMED_QUERY", "unexpected token: ''a'"),
        ("SELECT Id FROM Contact LIMIT x", "MALFORMED_QUERY", "unexpected token: 'x'"),
        ("SELECT Id FROM Nope", "INVALID_TYPE", "sObject type 'Nope' is not supported."),
        ("SELECT Nope.Name FROM Contact", "INVALID_FIELD", "Didn't understand relationship 'Nope'"),
        (
            "SELECT Account.Nope FROM Contact",
            "INVALID_FIELD",
            "No such column 'Nope' on entity 'Account'",
        ),
        (
            "SELECT Id FROM Contact OFFSET 2001",
            "NUMBER_OUTSIDE_VALID_RANGE",
            "offset allowed is 2000",
        ),
        (
            "SELECT Id FROM Contact WHERE Birthdate = 2024-01-01T00:00:00Z",
            "INVALID_FIELD",
            "type date",
        ),
        ("SELECT Id FROM Contact WHERE CreatedDate = 2024-01-01", "INVALID_FIELD", "type dateTime"),
        (
            "SELECT Id FROM Contact WHERE LastName = 5",
            "INVALID_FIELD",
            "should be enclosed in quotes",
        ),
        ("SELECT Id FROM Account WHERE NumberOfEmployees = '5'", "INVALID_FIELD", "type int and"),
        ("SELECT Id FROM Contact WHERE IsDeleted = 'true'", "INVALID_FIELD", "type boolean"),
        (
            "SELECT Id FROM Contact WHERE AccountId = 'abc'",
            "INVALID_QUERY_FILTER_OPERATOR",
            "invalid ID field: abc",
        ),
        (
            "SELECT Id FROM Contact WHERE LastName = 'a\\%'",
            "MALFORMED_QUERY",
            "Illegal character sequence '\\%'",
        ),
        (
            "SELECT Id FROM Contact WHERE LastName LIKE 'a\\d'",
            "MALFORMED_QUERY",
            "Illegal character sequence '\\d'",
        ),
        ("SELECT Id FROM Contact WHERE CreatedDate LIKE '2024%'", "INVALID_FIELD", "LIKE"),
        (
            "SELECT LastName, COUNT(Id) FROM Contact",
            "MALFORMED_QUERY",
            "must be grouped or aggregated",
        ),
    ],
)
def test_errors(org: MemorySource, text: str, code: str, tail: str) -> None:
    err = error_of(org, text)
    assert (err.error_code, tail in err.message) == (code, True), err.message


def test_string_escapes_decode(org: MemorySource) -> None:
    org.add("Contact", LastName="O'Brien\\x")
    try:
        assert names(org, "LastName = 'o\\'brien\\\\X'") == ["O'Brien\\x"]
        assert names(org, "LastName = 'O\\u0027Brien\\\\x'") == ["O'Brien\\x"]
    finally:
        org.records["Contact"].pop()
