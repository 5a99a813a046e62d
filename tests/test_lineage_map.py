"""The lineage map file (shared/lineage-map.md): validated like the registry, every error with
its key path and line, all at once; the fixture map of the Marquez sample is valid; matching is
first-match-wins, datasets case-sensitive, fields case-insensitive."""

from __future__ import annotations

from pathlib import Path

import pytest
from clirun import flowreg

from lineage.discovery.matching import MapMatcher
from registry.errors import RegistryError
from registry.lineage_map import (
    load_lineage_map_bytes,
    load_lineage_map_file,
    load_lineage_map_text,
)
from registry.loader import load_registry_file

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "openlineage"
REGISTRY = load_registry_file(FIXTURES / "food_delivery.yaml")


def issues(text: str) -> list[str]:
    with pytest.raises(RegistryError) as caught:
        load_lineage_map_text(text, REGISTRY)
    return [str(i) for i in caught.value.issues]


def test_the_fixture_map_is_valid() -> None:
    lineage_map = load_lineage_map_file(FIXTURES / "food_delivery.map.yaml", REGISTRY)
    assert lineage_map.nodes() == {"analytics", "promo-agency", "orders-db", "helpdesk-vendor"}
    assert lineage_map.datasets[5].categories == ["courier"]


def test_every_problem_has_its_key_path_and_line() -> None:
    text = """openlineage_map: 1
colour: blue
datasets:
  - match: "pg://eu/*"
    system: orders-db
    owner: me
  - match: "pg://x/*"
    system: promo-agency
  - match: "s3://y/*"
    party: nobody
  - match: "s3://z/*"
    system: orders-db
    party: promo-agency
  - match: "  "
    system: analytics
  - match: "s3://w/*"
    party: promo-agency
    categories: [customer.contact, customer.salary]
  - "pg://v/*"
fields:
  - match: "*email*"
    category: customer.email
  - match: "*phone*"
"""
    assert issues(text) == [
        "colour: unknown key 'colour' (line 2)",
        "datasets[0].owner: unknown key 'owner' (line 6)",
        "datasets[1].system: 'promo-agency' is a party, not a system (write 'party: promo-agency') (line 8)",
        "datasets[2].party: unknown party 'nobody' (line 10)",
        "datasets[3]: a dataset entry needs exactly one of 'system' or 'party' (line 11)",
        "datasets[4].match: a match pattern may not be empty (line 14)",
        "datasets[5].categories[1]: unknown category 'customer.salary' (line 18)",
        "datasets[6]: expected a mapping with a 'match', got str (line 19)",
        "fields[0].category: unknown category 'customer.email' (line 22)",
        "fields[1].category: required key is missing (line 23)",
    ]


def test_versions_shapes_and_yaml_errors() -> None:
    assert issues("openlineage_map: 2\n") == ["openlineage_map: unsupported map version 2; this flowreg reads version 1 (line 1)"]
    assert issues("datasets: []\n") == ["openlineage_map: required key is missing (line 1)"]
    assert issues("openlineage_map: 1\ndatasets: {match: x}\n") == ["datasets: expected a list, got dict (line 2)"]
    assert issues("- 1\n") == ["(file): a map is a mapping of keys, not list (line 1)"]
    assert issues("") == ["(file): the file is empty; a map needs 'openlineage_map: 1'"]
    assert issues("openlineage_map: 1\nopenlineage_map: 1\n") == [
        "openlineage_map: duplicate key 'openlineage_map' (first at line 1) (line 2)"]
    assert issues("openlineage_map: [1\n")[0].startswith("(file): YAML syntax error")
    with pytest.raises(RegistryError, match="not UTF-8"):
        load_lineage_map_bytes(b"openlineage_map: 1\n\xff\n", REGISTRY)
    with pytest.raises(RegistryError, match="cannot read"):
        load_lineage_map_file(FIXTURES / "missing.yaml", REGISTRY)
    assert issues("openlineage_map: 1\ndatasets:\n  - {match: 'x', system: orders-db, personal: false,"
                  " categories: [customer]}\n") == [
        "datasets[0]: 'categories' and 'personal: false' contradict each other (line 3)"]
    assert issues("openlineage_map: 1\nfields:\n  - {match: '*', tag: pii, category: customer}\n"
                  "  - {tag: pii, category: customer.nope}\n") == [
        "fields[0]: a field entry needs exactly one of 'match' or 'tag' (line 3)",
        "fields[1].category: unknown category 'customer.nope' (line 4)"]


def test_first_match_wins_datasets_are_case_sensitive_fields_are_not() -> None:
    lineage_map = load_lineage_map_text("""openlineage_map: 1
datasets:
  - {match: "pg://eu/shop.public.customers", system: orders-db, categories: [customer.contact]}
  - {match: "pg://eu/*", system: analytics}
  - {match: "pg://eu/agg.*", system: orders-db, personal: false}
fields:
  - {match: "*mail*", category: customer.contact.email}
  - {match: "*", category: customer}
""", REGISTRY)
    m = MapMatcher(lineage_map)
    assert m.node("pg://eu/shop.public.customers") == "orders-db"
    assert m.node("pg://eu/agg.daily") == "analytics"  # the earlier glob matched first
    assert m.node("PG://EU/shop") is None
    assert m.categories("pg://eu/shop.public.customers", ("EMAIL", "id")) == {
        "customer.contact.email", "customer", "customer.contact"}
    assert m.categories("nowhere/x", ("email",)) == frozenset()


def test_the_command_prints_the_map_errors_and_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    assert flowreg("apply", FIXTURES / "food_delivery.yaml", db=db).code == 0
    bad = tmp_path / "map.yaml"
    bad.write_text("openlineage_map: 1\ndatasets:\n  - match: 'x/*'\n    system: nope\n")
    result = flowreg("lineage-check", FIXTURES / "marquez-food-delivery.json", "--map", bad,
                     "--as-of", "2020-03-01", "--propose", db=db)
    assert result.code == 1 and result.stdout == ""
    assert "the lineage map has 1 problem" in result.stderr
    assert "datasets[0].system: unknown system 'nope' (line 4)" in result.stderr
    history = flowreg("history", "--format", "json", db=db).json()
    assert len(history) == 1
