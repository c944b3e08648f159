"""Catalog sanity, against the schema each connector reads from its system: the engine names
remote fields only through the catalog and the preset, so every name there must exist."""

from __future__ import annotations

from typing import get_args

from leadbridge.connectors.catalog import CreateMode, Kind

from .pair import Pair

# The roles the engine knows, by kind (connectors/catalog.py).
ROLES = {
    "person": {
        "email",
        "first_name",
        "last_name",
        "company_name",
        "domain",
        "owner",
        "phone",
        "mobile_phone",  # what the duplicate audit compares, with the mailing address:
        "street",
        "city",
        "postcode",
        "country",
    },
    "company": {"name", "domain", "owner", "phone", "street", "city", "postcode", "country"},
    "user": {"email", "first_name", "last_name", "active"},
    "deal": {"name", "amount", "close_date", "stage", "pipeline", "owner", "company", "people"},
}


async def test_roles_relations_and_read_fields_name_fields_the_schema_has(pair: Pair) -> None:
    connector = pair.connect()
    catalog = pair.catalog
    assert catalog.creates in get_args(CreateMode)
    assert set(ROLES) == set(get_args(Kind))
    for kind in ("company", "user"):  # what every sync needs: companies, and their owners
        assert catalog.of_kind(kind), f"{catalog.label} has no {kind} stream"
    assert all(s.kind != "deal" for s in catalog.streams), "the deal stream is Catalog.deals"
    for stream in catalog.streams:
        assert set(stream.roles) <= ROLES[stream.kind], (stream.name, set(stream.roles))
        schema = await connector.schema(stream.name)
        named = [*stream.roles.values(), *stream.read_fields]
        if stream.company is not None and stream.company.field:
            named.append(stream.company.field)
        missing = [name for name in named if schema.field(name) is None]
        assert not missing, f"{stream.name}: the schema has no {missing}"
        if stream.company is not None:
            target = catalog.stream(stream.company.target)
            assert target.kind == "company", f"{stream.name}'s company is a {target.kind}"
            assert stream.kind == "person"
        if stream.upsert_key is not None:
            assert catalog.creates == "upsert" and stream.upsert_key in stream.roles
        if stream.creatable and stream.kind != "user":
            assert stream.section, f"{stream.name} is written but no policy section maps it"


async def test_the_preset_maps_fields_each_section_s_schema_has(pair: Pair) -> None:
    connector = pair.connect()
    preset, catalog = pair.preset, pair.catalog
    assert preset.maps, f"{catalog.label}'s preset maps nothing"
    for section, maps in preset.maps.items():
        stream = catalog.by_section(section)
        assert stream is not None, f"the preset maps section {section!r}, which no stream has"
        schema = await connector.schema(stream.name)
        for m in maps:
            f = schema.field(m.crm)
            assert f is not None, f"{section}: the schema has no {m.crm}"
            if m.direction in ("hub_to_crm", "both"):
                assert f.writable, f"{section}.{m.crm} is written from the hub but read-only"
    people = [s.section for s in catalog.of_kind("person")]
    if preset.create_people_as:
        assert preset.create_people_as in people
    for section, names in preset.filled_by_engine.items():
        stream = catalog.by_section(section)
        assert stream is not None
        schema = await connector.schema(stream.name)
        assert all(schema.field(n) is not None for n in names), (section, names)


async def test_the_deal_stream_names_fields_the_schema_has_and_its_stages(pair: Pair) -> None:
    connector = pair.connect()
    stream = pair.catalog.deals
    if stream is None:
        assert not hasattr(connector, "deal_stages")
        return
    assert stream.kind == "deal" and {"name", "stage"} <= set(stream.roles) <= ROLES["deal"]
    schema = await connector.schema(stream.name)
    named = [*stream.roles.values(), *stream.read_fields]
    if stream.company is not None:
        assert pair.catalog.stream(stream.company.target).kind == "company"
        assert stream.roles.get("company") == stream.company.field
        if stream.company.via == "association":  # filled by the connector, not a property
            named = [n for n in named if n != stream.company.field]
    named = [n for n in named if n != stream.roles.get("people")]  # ids, not a property
    missing = [name for name in named if schema.field(name) is None]
    assert not missing, f"{stream.name}: the schema has no {missing}"
    stages = await connector.deal_stages()
    assert stages and all(s.value and s.label for s in stages)
    assert any(s.won for s in stages) and any(s.closed and not s.won for s in stages)
