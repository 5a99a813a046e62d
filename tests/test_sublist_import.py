"""`flowreg import-list`: a real published sub-processor list (Stakater's, tests/fixtures/sublists)
in Markdown, and the same rows as CSV and XLSX, imported into a registry that validates.

Nothing is mocked: files are parsed by the real readers (csv, openpyxl), the CLI runs as a
subprocess against a real SQLite store, and the result is validated and judged by the engine.
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from clirun import NORTHWIND, flowreg
from openpyxl import Workbook

from lineage.api import Flowreg
from registry.additions import extend_registry
from registry.errors import FlowregError
from registry.loader import load_registry_file, load_registry_text
from registry.sqlite_store import SqliteStore
from registry.sublist_import import ListError, country_of, list_additions, read_table, tools_of
from registry.yamlexport import to_yaml

STAKATER = Path(__file__).resolve().parent / "fixtures" / "sublists" / "stakater-subprocessors.md"
# What each row of the published list must become: (country, mechanism kinds claimed).
EXPECTED = {
    "Digital Realty + OpenMetal": ("NL", []),          # "EU (Amsterdam)": a city, read as one (and said)
    "AWS": ("SE", []),                                 # "EU (Sweden)", "GDPR": no transfer tool
    "Stakater AB": ("SE", []),
    "Stakater Czech s.r.o.": ("CZ", []),
    "Stakater Pakistan SMC-Pvt Ltd": ("PK", ["scc"]),  # "Intra-group Agreement with SCCs"
}


def _rows(table) -> list[list[str]]:
    return [[row[h].text for h in table.headers] for row in table.rows]


def _check(registry, additions) -> None:
    extended = extend_registry(registry, additions)
    load_registry_text(to_yaml(extended))  # the whole registry validates as a file
    for name, (country, kinds) in EXPECTED.items():
        party = next(p for p in extended.parties if p.name == name)
        assert party.country == country, name
        assert party.public_list is True and party.kind.value == "subprocessor"
        flow = next(f for f in extended.flows if f.to == party.id)
        assert (flow.from_, flow.carries, flow.role.value) == ("mailer", ["subscriber.contact"], "subprocessor")
        claimed = [extended.get(u) for u in flow.under]
        assert sorted(m.kind.value for m in claimed) == kinds, name
        for m in claimed:
            assert m.members == ["northwind-inc", party.id]


@pytest.fixture(scope="module")
def northwind():
    return load_registry_file(NORTHWIND)


def test_the_published_markdown_list_imports_with_each_rows_country_and_mechanism(northwind) -> None:
    table = read_table(STAKATER)
    assert len(table.rows) == 5, "both tables of the page, same header"
    result = list_additions(northwind, table, system="mailer", categories=["subscriber.contact"])
    assert result.columns == {"name": "Supplier", "purpose": "Function", "location": "Geographic Location",
                              "mechanism": "Legal basis"}
    _check(northwind, result.additions)
    aws = next(f for f in result.additions["flows"] if f["to"] == "aws")
    assert aws["purpose"] == "Route 53 for DNS Management; S3 for Backups", "HTML list items as plain text"
    notes = "\n".join(result.notes)
    assert ("row 7, column Geographic Location: 'EU (Amsterdam)' read as Amsterdam, a city in NL (GeoNames); "
            "check the party's country") in notes
    assert "row 16, column Legal basis: 'Intra-group Agreement with SCCs' read as scc" in notes


def test_the_same_rows_as_csv_and_xlsx(tmp_path: Path, northwind) -> None:
    table = read_table(STAKATER)
    as_csv = tmp_path / "list.csv"
    with as_csv.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f).writerows([table.headers, *_rows(table)])
    as_xlsx = tmp_path / "list.xlsx"
    book = Workbook()
    book.active.title = "Subprocessors"
    book.active.append(table.headers)
    for row in _rows(table):
        book.active.append(row)
    book.save(as_xlsx)
    for path in (as_csv, as_xlsx):
        result = list_additions(northwind, read_table(path), system="mailer", categories=["subscriber.contact"])
        _check(northwind, result.additions)


def test_the_imported_parties_are_judged_by_the_engine(tmp_path: Path, northwind) -> None:
    result = list_additions(northwind, read_table(STAKATER), system="mailer", categories=["subscriber.contact"])
    store = SqliteStore(tmp_path / "db")
    store.append(extend_registry(northwind, result.additions).content(), author="t", message="list")
    hops = {h.flow: h for h in Flowreg(store).flows("subscriber.contact", date(2020, 8, 1))}
    pakistan = hops["mailer-to-stakater-pakistan-smc-pvt-ltd"].regimes["eu"]
    assert (pakistan.status.value, pakistan.basis) == ("covered", ("scc-stakater-pakistan-smc-pvt-ltd",))
    assert hops["mailer-to-aws"].status.value == "not_required", "Sweden is inside the EEA"
    assert hops["mailer-to-digital-realty-openmetal"].status.value == "not_required", "Amsterdam is inside the EEA"


def test_every_problem_names_its_row_and_column(tmp_path: Path, northwind) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("Vendor,Country,Transfer mechanism\n"
                   "Acme,Atlantis,SCCs\n"
                   "Globex,US,carrier pigeon\n"
                   ",DE,SCCs\n"
                   "Initech,Germany,DPF\n", encoding="utf-8")
    with pytest.raises(ListError) as caught:
        list_additions(northwind, read_table(bad), system="mailer", categories=["subscriber.contact"])
    assert caught.value.problems == [
        "row 2, column Country: 'Atlantis' is not a country name or ISO code",
        "row 3, column Transfer mechanism: 'carrier pigeon' names no transfer mechanism flowreg knows "
        "(SCC, IDTA, UK Addendum, BCR, DPF, Privacy Shield, adequacy)",
        "row 4, column Vendor: no name",
    ]


@pytest.mark.parametrize(("text", "expected"), [
    ("Sweden", "SE"), ("USA", "US"), ("United Kingdom", "GB"), ("EU (Sweden)", "SE"), ("de", "DE"),
    ("Czech Republic", "CZ"), ("EU", None), ("US / EU", None),
    # a city: the most populous of that name (GeoNames), in Europe when the list says so
    ("EU (Amsterdam)", "NL"), ("Europe (Dublin)", "IE"), ("EU (Frankfurt am Main)", "DE"), ("Global (Toronto)", "CA"), ("Atlantis", ValueError),
])
def test_locations(text: str, expected: str | type | None) -> None:
    if expected is ValueError:  # a bare place name is no country (and not read as a town)
        with pytest.raises(ValueError, match="is not a country name"):
            country_of(text)
        return
    assert country_of(text)[0] == expected


@pytest.mark.parametrize(("text", "tools"), [
    ("Standard Contractual Clauses", [("scc", "eu")]), ("SCCs + UK Addendum", [("uk-addendum", "uk"), ("scc", "eu")]),
    ("EU-U.S. Data Privacy Framework", [("eu-us-dpf", "framework")]), ("DPF", [("eu-us-dpf", "framework")]),
    ("BCR", [("bcr", "eu")]), ("Adequacy decision", []), ("IDTA", [("idta", "uk")]),
])
def test_mechanism_words(text: str, tools: list) -> None:
    assert tools_of(text)[0] == tools


def test_bad_arguments_are_clear(northwind) -> None:
    table = read_table(STAKATER)
    with pytest.raises(FlowregError, match="--system: 'nope' is not a system"):
        list_additions(northwind, table, system="nope", categories=["subscriber.contact"])
    with pytest.raises(FlowregError, match="--category: unknown category 'x'"):
        list_additions(northwind, table, system="mailer", categories=["x"])
    with pytest.raises(FlowregError, match="--columns: no column 'Nope'"):
        list_additions(northwind, table, system="mailer", categories=["subscriber.contact"], columns={"name": "Nope"})


def test_cli_dry_run_additions_and_proposal(tmp_path: Path) -> None:
    db = tmp_path / "db"
    assert flowreg("apply", NORTHWIND, db=db).code == 0
    args = ("import-list", STAKATER, "--system", "mailer", "-c", "subscriber.contact")
    dry = flowreg(*args, "--dry-run", db=db)
    assert dry.code == 0, dry.stderr
    assert "+  - id: stakater-pakistan-smc-pvt-ltd" in dry.stdout and "+    country: PK" in dry.stdout
    assert "columns: name = 'Supplier'" in dry.stderr and "nothing written" in dry.stderr
    out = tmp_path / "additions.yaml"
    written = flowreg(*args, "-o", out, db=db)
    assert written.code == 0, written.stderr
    assert "name: Stakater Pakistan SMC-Pvt Ltd" in out.read_text(encoding="utf-8")
    proposed = flowreg(*args, "--propose", "-m", "published list", db=db)
    assert proposed.code == 0 and proposed.stdout.startswith("proposal 1:"), proposed.stderr
    proposals = SqliteStore(db).proposals()
    assert len(proposals) == 1 and len(SqliteStore(db).history()) == 1, "a proposal, not a revision"
    bad = flowreg("import-list", STAKATER, "--system", "mailer", "-c", "subscriber.contact", "--columns", "oops", db=db)
    assert bad.code == 1 and "--columns: 'oops' is not FIELD=HEADER" in bad.stderr
