"""The Art. 30 record and the transfer register carry the complete record, in every format, read
back by real parsers (csv, openpyxl, json, html.parser, pypdf; report_support.read_back): every
item the registry holds is shown, and every item it lacks is named as missing in its row. The
record is checked item by item against GDPR Art. 30(1) and 30(2).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from clirun import FIXTURES, flowreg
from report_support import GENERATED, NORTHWIND, make_fr, read_back

from lineage.api import Flowreg
from lineage.reports import build_report
from lineage.reports.model import Report
from lineage.reports.render import render
from registry.loader import load_registry_file

FORMATS = ["csv", "xlsx", "json", "md", "html", "pdf"]
COMPLETE = FIXTURES / "northwind_complete.yaml"
DAY = date(2021, 10, 1)
# GDPR Art. 30(1) (controller) and 30(2) (processor), item by item (shared/reference/transfer-law.md
# "Records of processing").
ART30 = {
    "30(1)(a)": "name and contact details of the controller, joint controller, representative and DPO",
    "30(1)(b)": "purposes",
    "30(1)(c)": "categories of data subjects and of personal data",
    "30(1)(d)": "categories of recipients",
    "30(1)(e)": "transfers to third countries",
    "30(1)(f)": "time limits for erasure",
    "30(1)(g)": "security measures",
    "30(2)(a)": "name and contact details of the processor, each controller served, representative and DPO",
    "30(2)(b)": "categories of processing carried out on behalf of each controller",
    "30(2)(c)": "transfers to third countries",
    "30(2)(d)": "security measures",
}
# What the complete fixture holds for each item, as the record must show it.
HELD = [
    "Northwind Mail B.V.", "Herengracht 1, Amsterdam, NL", "privacy@northwind.example", "Dana Ortiz",
    "dpo@northwind.example", "Rep Ltd", "rep@example.eu", "jca-adnet",
    "Art. 9 special category", "Art. 9(2)(a)", "Art. 10 criminal-offence data", "365 days", "1095 days", "730 days",
    "TLS everywhere", "encryption at rest", "role-based access control",
    "dpa-bouncer", "contracts/dpa-bouncer.pdf", "specific", "dpa-mailer", "contracts/dpa-mailer.pdf",
    "ShopCo B.V.", "privacy@shopco.example", "dpa-shopco",
]


def build(fr: Flowreg, kind: str, day: date) -> Report:
    return build_report(fr, kind, day, rev=1, generated_at=GENERATED)


@pytest.fixture(scope="module")
def complete(tmp_path_factory: pytest.TempPathFactory) -> Flowreg:
    return make_fr(tmp_path_factory.mktemp("complete") / "db", load_registry_file(COMPLETE).content())


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Flowreg:
    return make_fr(tmp_path_factory.mktemp("bare") / "db", load_registry_file(NORTHWIND).content())


# --- the Art. 30 checklist ------------------------------------------------------------------------
def test_the_record_answers_every_art30_item_where_it_says(complete: Flowreg) -> None:
    report = build(complete, "ropa", DAY)
    checklist = report.section("checklist").records()
    items = [r["item"] for r in checklist if str(r["item"]).startswith("30(")]
    assert items == list(ART30)
    names = {s.name: s for s in report.sections}
    for row in checklist:
        assert ART30.get(row["item"], row["requirement"]).split()[-1] in str(row["requirement"])
        for part in str(row["where"]).split(";"):
            section, _, columns = part.split("(and")[0].strip().partition(":")
            assert section in names, (row["item"], section)
            keys = [c.key for c in names[section].columns]
            for column in filter(None, (c.strip() for c in columns.split(","))):
                assert column in keys, (row["item"], section, column)
                assert names[section].rows, (row["item"], section)
    assert {r["item"]: r["state"] for r in checklist} == dict.fromkeys([*ART30, "28(3)"], "held")


def test_a_bare_registry_is_told_each_missing_item(bare: Flowreg) -> None:
    states = {r["item"]: r["state"] for r in build(bare, "ropa", date(2020, 8, 1)).section("checklist").records()}
    assert states["30(1)(a)"] == ("missing: Controller (legal name), Address, Contact, Data protection officer "
                                  "(Art. 37), DPO contact")
    assert states["30(1)(b)"] == "missing: the purpose of flows signup, mailer-to-bouncer"
    assert states["30(1)(f)"] == "missing: the retention of categories subscriber.contact, subscriber.contact.email"
    assert states["30(1)(g)"] == "missing: the security measures of systems webapp, mailer"
    assert states["28(3)"] == "missing: a dpa in force for flows web-to-mailer, mailer-to-bouncer"
    assert states["30(2)(a)"].startswith("not applicable")  # Northwind processes for no one here


def test_record_sections_hold_the_items(complete: Flowreg) -> None:
    report = build(complete, "ropa", DAY)
    details = {r["item"]: r["value"] for r in report.section("controller_details").records()}
    assert details["Controller (legal name)"] == "Northwind Mail B.V."
    assert details["Representative country"] == "IE"
    assert "AdNet Corp (US), contact: privacy@adnet.example (jca-adnet)" in details["Joint controllers (Art. 26)"]
    categories = {r["category"]: r for r in report.section("categories").records()}
    assert categories["subscriber.health"]["condition"] == "Art. 9(2)(a)"
    assert categories["subscriber.contact.email"]["retention"] == "1095 days (as subscriber.contact)"
    assert categories["subscriber"]["retention"] == "(not recorded in the registry)"
    contracts = {r["processor"]: r for r in report.section("processor_contracts").records()}
    assert contracts["Bouncer Ltd (bouncer)"]["agreement"] == "dpa-bouncer"
    assert contracts["Bouncer Ltd (bouncer)"]["term"] == "2019-03-15 to 2027-03-15"
    assert contracts["Northwind B.V. (northwind-nl)"]["counterpart"] == "shopco"
    served = report.section("controllers_served").records()
    assert [(r["party"], r["contact"]) for r in served] == [("shopco", "privacy@shopco.example")]
    [processing] = [a for a in report.section("processor").records() if a["activity"] == "mailings for customers"]
    assert processing["controllers"] == ("ShopCo B.V. (NL), contact: privacy@shopco.example",)
    [health] = [a for a in report.section("controller").records() if a["activity"] == "health newsletters"]
    assert health["special_categories"] == ("Health notes (subscriber.health): Art. 9 special category, condition Art. 9(2)(a)",)
    assert "category Health notes: 365 days" in health["retention"]
    assert any(line.startswith("Northwind Inc.: dpa-mailer (signed 2019-03-01)") for line in health["processor_contracts"])


@pytest.mark.parametrize("fmt", FORMATS)
def test_ropa_in_every_format_shows_every_item(complete: Flowreg, fmt: str) -> None:
    text = read_back(render(build(complete, "ropa", DAY), fmt), fmt)
    for probe in HELD:
        assert probe in text, f"{probe!r} missing from the RoPA in {fmt}"
    assert "30(2)(d)" in text and "held" in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_ropa_in_every_format_names_what_is_missing(bare: Flowreg, fmt: str) -> None:
    text = read_back(render(build(bare, "ropa", date(2020, 8, 1)), fmt), fmt)
    for probe in ("(not recorded in the registry)", "missing: Controller (legal name)",
                  "missing: the security measures of systems webapp, mailer", "missing: no dpa in force on 2020-08-01"):
        assert probe in text, f"{probe!r} missing from the RoPA in {fmt}"


# --- the transfer register ------------------------------------------------------------------------
TIA_HELD = ["tia-bouncer-br", "2021-10-01", "proceed-with-measures", "end-to-end encryption", "2023-10-01",
            "tia/bouncer-br.pdf", "dpa-bouncer", "contracts/dpa-bouncer.pdf", "dpa-mailer"]


def test_the_register_lists_each_covered_hops_assessment_and_dpa(complete: Flowreg) -> None:
    report = build(complete, "transfers", DAY)
    rows = {(r["flow"], r["regime"]): r for r in report.section("assessments").records()}
    bouncer = rows[("mailer-to-bouncer", "EU GDPR")]
    assert (bouncer["assessment"], bouncer["assessed"], bouncer["outcome"], bouncer["review_by"], bouncer["document"]) == (
        "tia-bouncer-br", "2021-10-01", "proceed-with-measures", "2023-10-01", "tia/bouncer-br.pdf")
    assert bouncer["measures"] == ("end-to-end encryption",) and bouncer["tool"] == "scc-bouncer"
    overdue = rows[("web-to-mailer", "EU GDPR")]
    assert overdue["assessment"] == "missing: tia-mailer-us was due for review on 2021-06-01"
    dpas = {r["flow"]: r for r in report.section("dpas").records()}
    assert dpas["mailer-to-bouncer"]["agreement"] == "dpa-bouncer" and dpas["mailer-to-bouncer"]["state"] == "in force"
    eu = {r["flow"]: r for r in report.section("eu").records()}
    assert eu["mailer-to-bouncer"]["assessment"].startswith("tia-bouncer-br (assessed 2021-10-01)")
    assert eu["fraud-to-adnet"]["dpa"] == "not needed (no processor role)"
    before = {r["flow"]: r for r in build(complete, "transfers", date(2021, 9, 15)).section("assessments").records()}
    assert before["mailer-to-bouncer"]["assessment"] == "missing: no assessment in force on 2021-09-15"
    early = build(complete, "transfers", date(2020, 7, 15)).section("eu").records()
    assert {r["flow"]: r["assessment"] for r in early}["mailer-to-bouncer"] == "not needed (before 2020-07-16)"
    assert {r["flow"]: r["assessment"] for r in early}["web-to-mailer"].startswith("tia-mailer-us (assessed 2020-06-01)")


@pytest.mark.parametrize("fmt", FORMATS)
def test_transfer_register_in_every_format(complete: Flowreg, fmt: str) -> None:
    text = read_back(render(build(complete, "transfers", DAY), fmt), fmt)
    for probe in [*TIA_HELD, "missing: tia-mailer-us was due for review on 2021-06-01"]:
        assert probe in text, f"{probe!r} missing from the transfer register in {fmt}"


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_cli_writes_both_reports_in_every_format(fmt: str, tmp_path: Path) -> None:
    db = tmp_path / "db"
    assert flowreg("apply", COMPLETE, db=db).code == 0
    for kind, probes in (("ropa", ["Dana Ortiz", "dpa-shopco", "Art. 9(2)(a)"]), ("transfers", TIA_HELD)):
        out = tmp_path / f"{kind}.{fmt}"
        result = flowreg("report", kind, "--as-of", DAY.isoformat(), "-o", out, db=db)
        assert result.code == 0, result.stderr
        text = read_back(out.read_bytes(), fmt)
        for probe in probes:
            assert probe in text, (kind, fmt, probe)
