"""Reports in every format, read back with real parsers; escaping, formula neutralisation, the
change notice, determinism and report content, on the Northwind example and the Twilio seed.
"""

from __future__ import annotations

import copy
import io
import json
import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from report_support import (
    EVIL,
    GENERATED,
    NORTHWIND,
    NW_DAY,
    TW_DAY,
    HTMLText,
    build,
    make_fr,
    northwind_store,
    read_back,
    read_csv,
    twilio_store,
)

from lineage.api import Flowreg
from lineage.reports import KINDS, build_report
from lineage.reports.neutralise import neutralise
from lineage.reports.render import FORMATS, render
from lineage.reports.to_markdown import md_escape
from registry.errors import FlowregError, NotFoundError
from registry.loader import load_registry_file


@pytest.fixture(scope="module")
def northwind(tmp_path_factory: pytest.TempPathFactory) -> Flowreg:
    return northwind_store(tmp_path_factory)


@pytest.fixture(scope="module")
def twilio(tmp_path_factory: pytest.TempPathFactory) -> Flowreg:
    return twilio_store(tmp_path_factory)


# What each report must show for each registry (something only a correct report contains).
PROBES = {
    "northwind": {
        "flows": ["mailer-to-bouncer", "scc-bouncer", "invalid"],
        "ropa": ["Bouncer Ltd", "scc-bouncer", "Subscribers in the EEA"],
        "transfers": ["web-to-mailer", "northwind-bcr", "covered"],
        "subprocessors": ["Bouncer Ltd", "subscriber.contact.email"],
        "findings": ["transfer-invalid", "mailer-to-bouncer"],
        "changes": ["Acme DNS Ltd", "acme-dns"],
    },
    "twilio": {
        "flows": ["platform-to-carrier-row", "derogation-contract"],
        "ropa": ["twilio-bcr-controller", "Sift Science, Inc."],
        "transfers": ["platform-to-infra-edge", "scc-infra-edge"],
        "subprocessors": ["Transcription provider", "content.voice.recording"],
        "findings": ["subprocessor-unlisted", "infra-provider-edge"],
        "changes": ["SpeechCo Transcription Inc.", "speechco"],
    },
}


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("which", ["northwind", "twilio"])
def test_every_report_in_every_format_reads_back(which: str, kind: str, fmt: str, request: pytest.FixtureRequest) -> None:
    fr: Flowreg = request.getfixturevalue(which)
    report = build(fr, kind, NW_DAY if which == "northwind" else TW_DAY)
    text = read_back(render(report, fmt), fmt)
    revision = fr.revision(2 if kind == "changes" else 1)
    assert revision.hash in text, "every output states the revision hash"
    assert report.metadata["as_of"] in text
    assert "2026-01-02T03:04:05" in text, "every output states when it was generated"
    for probe in PROBES[which][kind]:
        assert probe in text, f"{probe!r} missing from the {kind} report in {fmt}"


# --- format details -------------------------------------------------------------------------
def test_csv_layout_has_a_section_column_and_about_rows(northwind: Flowreg) -> None:
    report = build(northwind, "flows", NW_DAY)
    rows = read_csv(render(report, "csv"))
    assert list(rows[0])[:3] == ["section", "field", "value"]
    about = {r["field"]: r["value"] for r in rows if r["section"] == "about"}
    assert about["Revision hash"] == northwind.revision(1).hash
    assert about["As of"] == "2020-08-01"
    hops = {r["Flow"]: r for r in rows if r["section"] == "hops"}
    assert set(hops) == {"signup", "web-to-mailer", "mailer-to-bouncer"}
    assert hops["mailer-to-bouncer"]["Status"] == "invalid"
    assert hops["web-to-mailer"]["Mechanism or decision relied on"] == "BCR 'northwind-bcr'"
    assert hops["web-to-mailer"]["Destination countries"] == "US"


def test_xlsx_has_about_sheet_frozen_headers_and_filters(northwind: Flowreg) -> None:
    report = build(northwind, "transfers", NW_DAY)
    wb = load_workbook(io.BytesIO(render(report, "xlsx")))
    assert wb.sheetnames[0] == "About"
    about = {row[0]: row[1] for row in wb["About"].iter_rows(min_row=2, values_only=True)}
    assert about["Revision hash"] == northwind.revision(1).hash
    for section in report.sections:
        ws = wb[section.title[:31]]
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref.startswith("A1:")
        header = [c.value for c in ws[1]]
        assert header == [c.title for c in section.columns]
        assert ws.max_row == max(len(section.rows) + 1, 1)
    eu = wb["EU GDPR"]
    header = [c.value for c in eu[1]]
    rows = [dict(zip(header, r, strict=True)) for r in eu.iter_rows(min_row=2, values_only=True)]
    assert {r["Flow"]: r["Status"] for r in rows} == {"web-to-mailer": "covered", "mailer-to-bouncer": "invalid"}


def test_json_is_the_report_dict(northwind: Flowreg) -> None:
    report = build(northwind, "findings", NW_DAY)
    data = json.loads(render(report, "json"))
    assert data == json.loads(json.dumps(report.to_dict()))
    rows = data["sections"][0]["rows"]
    assert {(r["rule"], r["flow"]) for r in rows if r["severity"] == "high"} >= {("transfer-invalid", "mailer-to-bouncer")}


def test_pdf_flow_report_has_a_diagram_page_and_the_hop(northwind: Flowreg) -> None:
    report = build(northwind, "flows", NW_DAY, category="subscriber.contact")
    reader = PdfReader(io.BytesIO(render(report, "pdf")))
    pages = [p.extract_text() for p in reader.pages]
    assert any("Flow diagram" in p for p in pages)
    diagram = next(p for p in pages if "Flow diagram" in p)
    assert "mailer-to-bouncer" in diagram and "bouncer (BR)" in diagram
    assert northwind.revision(1).hash in " ".join(pages)
    assert reader.metadata.title == report.title


# --- hostile text ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Flowreg:
    content = copy.deepcopy(load_registry_file(NORTHWIND).content())
    content["categories"].append({"id": "subscriber.evil", "name": "+SUM(1,2)"})
    for pid, name in (("evil", EVIL), ("at", "@cmd|' /C calc'!A0"), ("minus", "-2+3")):
        content["parties"].append({"id": pid, "name": name, "kind": "subprocessor", "country": "US"})
        content["flows"].append({
            "id": f"mailer-to-{pid}", "from": "mailer", "to": pid, "carries": ["subscriber.evil"],
            "role": "subprocessor", "purpose": '=HYPERLINK("http://evil.example","x")',
        })
    return make_fr(tmp_path_factory.mktemp("evil") / "db", content)


def test_html_escapes_every_value(hostile: Flowreg) -> None:
    for kind in ("subprocessors", "flows", "ropa", "transfers", "findings"):
        data = render(build_report(hostile, kind, NW_DAY), "html").decode("utf-8")
        parser = HTMLText()
        parser.feed(data)
        assert "script" not in parser.tags, f"a <script> tag got through in the {kind} report"
        assert EVIL not in data
        if kind in ("subprocessors", "flows", "ropa"):
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in data
            assert EVIL in " ".join(parser.text), "the name reads back as the text it is"


def test_markdown_never_lets_html_through(hostile: Flowreg) -> None:
    data = render(build_report(hostile, "subprocessors", NW_DAY), "md").decode("utf-8")
    assert EVIL not in data
    assert "\\<script\\>alert(1)\\</script\\>" in data
    assert md_escape("a|b") == "a\\|b"


def test_csv_keeps_names_and_neutralises_formulas(hostile: Flowreg) -> None:
    rows = [r for r in read_csv(render(build_report(hostile, "subprocessors", NW_DAY), "csv")) if r["section"] == "subprocessors"]
    by_id = {r["Id"]: r for r in rows}
    assert by_id["evil"]["Sub-processor"] == EVIL, "unharmed: no formula, so no apostrophe"
    assert by_id["at"]["Sub-processor"] == "'@cmd|' /C calc'!A0"
    assert by_id["minus"]["Sub-processor"] == "'-2+3"
    assert by_id["evil"]["Purpose"] == "'=HYPERLINK(\"http://evil.example\",\"x\")"
    assert by_id["evil"]["Categories of personal data"] == "'+SUM(1,2) (subscriber.evil)"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


def test_xlsx_neutralises_formulas(hostile: Flowreg) -> None:
    wb = load_workbook(io.BytesIO(render(build_report(hostile, "subprocessors", NW_DAY), "xlsx")))
    ws = wb["Sub-processors"]
    cells = [c for row in ws.iter_rows(min_row=2) for c in row if c.value is not None]
    assert all(c.data_type != "f" for c in cells), "no cell is a formula"
    values = {c.value for c in cells}
    assert "'=HYPERLINK(\"http://evil.example\",\"x\")" in values
    assert "'+SUM(1,2) (subscriber.evil)" in values
    assert "'@cmd|' /C calc'!A0" in values and "'-2+3" in values
    assert EVIL in values


def test_neutralise_rules() -> None:
    for bad in ("=1", "+1", "-1", "@x", "\tx", "\rx"):
        assert neutralise(bad) == "'" + bad
    assert neutralise("ok=1") == "ok=1"
    assert neutralise("") == ""


def test_pdf_transliterates_text_outside_latin1(tmp_path: Path) -> None:
    content = copy.deepcopy(load_registry_file(NORTHWIND).content())
    content["parties"][2]["name"] = "Bouncer Zürich \u6771\u4eac \u2014 \u201cquoted\u201d"
    fr = make_fr(tmp_path / "db", content)
    text = read_back(render(build_report(fr, "subprocessors", NW_DAY), "pdf"), "pdf")
    assert 'Bouncer Zürich ?? - "quoted"' in text
    assert "transliterated" in text


# --- the change notice ----------------------------------------------------------------------
@pytest.mark.parametrize("which", ["northwind", "twilio"])
def test_change_notice_lists_exactly_the_new_subprocessor(which: str, request: pytest.FixtureRequest) -> None:
    fr: Flowreg = request.getfixturevalue(which)
    report = build_report(fr, "changes", None, from_rev=1, to_rev=2)
    rows = report.section("changes").records()
    assert len(rows) == 1
    row = rows[0]
    notice = fr.revision(2).created_at.date()
    expected = {
        "northwind": ("acme-dns", "CA", ("Email address (subscriber.contact.email)",)),
        "twilio": ("speechco", "US", ("Call recordings (content.voice.recording)",)),
    }[which]
    assert (row["change"], row["party"], row["country"], row["categories"]) == ("new", *expected)
    assert row["processing_countries"] == (expected[1],)
    assert row["notice_date"] == notice.isoformat()
    assert row["objection_deadline"] == (notice + timedelta(days=30)).isoformat()
    assert report.metadata["objection_deadline"] == row["objection_deadline"]
    assert report.metadata["from_revision"] == 1 and report.metadata["revision"] == 2


def test_change_notice_period_and_date_are_configurable(northwind: Flowreg) -> None:
    report = build_report(northwind, "changes", date(2024, 3, 1), from_rev=1, to_rev=2, notice_days=45)
    row = report.section("changes").records()[0]
    assert row["notice_date"] == "2024-03-01" and row["objection_deadline"] == "2024-04-15"
    assert report.metadata["notice_days"] == 45


def test_change_notice_reports_changed_and_removed(tmp_path: Path) -> None:
    base = load_registry_file(NORTHWIND).content()
    changed = copy.deepcopy(base)
    changed["flows"][2]["carries"] = ["subscriber.contact"]
    changed["notice_days"] = 14
    removed = copy.deepcopy(base)
    removed["flows"] = removed["flows"][:2]
    fr = make_fr(tmp_path / "db", base, changed, removed)
    rows = build_report(fr, "changes", date(2025, 1, 1), from_rev=1, to_rev=2).section("changes").records()
    assert [(r["change"], r["party"]) for r in rows] == [("changed", "bouncer")]
    assert "categories: added subscriber.contact; removed subscriber.contact.email" in rows[0]["what_changed"]
    assert rows[0]["objection_deadline"] == "2025-01-15", "the newer registry's notice_days"
    rows = build_report(fr, "changes", date(2025, 1, 1), from_rev=2, to_rev=3).section("changes").records()
    assert [(r["change"], r["party"], r["objection_deadline"]) for r in rows] == [("removed", "bouncer", None)]


def test_changes_needs_from(northwind: Flowreg) -> None:
    with pytest.raises(FlowregError, match="--from"):
        build_report(northwind, "changes", None)
    with pytest.raises(NotFoundError):
        build_report(northwind, "changes", None, from_rev=9)


# --- determinism ----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_same_revision_and_date_give_the_same_content(kind: str, twilio: Flowreg) -> None:
    first = build(twilio, kind, TW_DAY)
    later = build_report(
        twilio, kind, None if kind == "changes" else TW_DAY, rev=None if kind == "changes" else 1,
        from_rev=1 if kind == "changes" else None, to_rev=2 if kind == "changes" else None,
        generated_at=GENERATED + timedelta(hours=5),
    )
    assert first.metadata["generated_at"] != later.metadata["generated_at"]
    assert first.content() == later.content()
    again = build(twilio, kind, TW_DAY)
    for fmt in ("csv", "json", "md", "html"):
        assert render(first, fmt) == render(again, fmt), f"{fmt} output of {kind} differs between runs"


def test_a_different_date_gives_a_different_answer(northwind: Flowreg) -> None:
    def hop(day: date) -> dict[str, Any]:
        rows = build_report(northwind, "flows", day, rev=1).section("hops").records()
        return next(r for r in rows if r["flow"] == "web-to-mailer")

    # the day before Schrems II the recipient's Privacy Shield certification makes the US
    # adequate; from 2020-07-16 the hop rests on the group's BCR
    assert (hop(date(2020, 7, 15))["status"], hop(date(2020, 7, 15))["relied_on"]) == ("adequate", ("EU-US Privacy Shield",))
    assert (hop(date(2020, 7, 16))["status"], hop(date(2020, 7, 16))["relied_on"]) == ("covered", ("BCR 'northwind-bcr'",))


# --- report content -------------------------------------------------------------------------
def test_flow_report_for_one_category(twilio: Flowreg) -> None:
    report = build_report(twilio, "flows", TW_DAY, rev=1, category="content.message_body")
    hops = {r["flow"]: r for r in report.section("hops").records()}
    assert hops["platform-to-carrier-row"]["status"] == "derogation"
    assert hops["platform-to-carrier-row"]["destination_countries"] == "BR"
    assert "Viber Media S.à r.l." in report.section("recipients").column("name")
    assert report.diagram is not None and {e.flow for e in report.diagram.edges} == set(hops)
    with pytest.raises(NotFoundError):
        build_report(twilio, "flows", TW_DAY, category="no.such.category")


def test_ropa_fills_third_countries_and_safeguards(twilio: Flowreg) -> None:
    report = build_report(twilio, "ropa", TW_DAY, rev=1)
    controller = {r["activity"]: r for r in report.section("controller").records()}
    processor = {r["activity"]: r for r in report.section("processor").records()}
    support = controller["customer support"]
    assert "SG" in support["third_countries"]
    assert any("twilio-bcr-controller" in s for s in support["safeguards"])
    assert "Developer customers in the EEA" in support["categories_of_individuals"]
    assert any("1095 days" in r for r in support["retention"])
    routing = processor["communications routing"]
    assert any("derogation-contract" in s and s.startswith("BR") for s in routing["safeguards"])
    assert "Cloud infrastructure provider, regional facility outside the US (generic) (SG)" in routing["subprocessors"]
    assert "transcription" in processor and "transcription" not in controller
    assert "billing" in controller and "billing" not in processor
    org = report.section("organisation").column("party")
    assert org == ["twilio-inc", "twilio-ireland", "twilio-group-gb", "twilio-group-apac"]


def test_transfer_register_per_regime(twilio: Flowreg) -> None:
    report = build_report(twilio, "transfers", TW_DAY, rev=1)
    assert [s.name for s in report.sections] == ["eu", "ch", "assessments", "dpas", "summary"]
    eu = {r["flow"]: r for r in report.section("eu").records()}
    assert eu["platform-to-infra-edge"]["tool_kind"] == ("scc",)
    assert eu["platform-to-infra-edge"]["dpv_term"] == ("eu-gdpr:SCCByCommission",)
    assert eu["records-to-foreign-authorities"]["dpv_term"] == ("eu-gdpr:A49-1-f",)
    assert eu["ireland-to-crm"]["dpv_term"] == ("flowreg:EUUSPrivacyShield",)
    assert eu["ireland-to-crm"]["tool_kind"] == ("framework",)
    assert eu["records-to-acquirer"]["status"] == "unknown", "hops without a location are listed"
    ch = {r["flow"]: r for r in report.section("ch").records()}
    assert ch["records-to-apac-affiliate"]["status"] == "invalid"
    assert all(not r["flow"].startswith("end-users") for r in eu.values()), "collection is not a transfer"


def test_subprocessor_list(twilio: Flowreg) -> None:
    rows = {r["party"]: r for r in build_report(twilio, "subprocessors", TW_DAY, rev=1).section("subprocessors").records()}
    assert set(rows) == {"twilio-ireland", "twilio-group-apac", "infra-provider", "infra-provider-edge", "transcription-provider"}
    assert rows["infra-provider-edge"]["public_list"] is None
    assert rows["transcription-provider"]["categories"] == ("Call recordings (content.voice.recording)",)



def test_every_output_names_the_revision_in_its_own_words(northwind: Flowreg) -> None:
    report = build(northwind, "subprocessors", NW_DAY)
    html = render(report, "html").decode()
    parser = HTMLText()
    parser.feed(html)
    assert parser.meta["flowreg:revision_hash"] == northwind.revision(1).hash
    assert parser.meta["flowreg:as_of"] == "2020-08-01"
    footer = re.search(r"<footer>(.*)</footer>", html)
    assert footer and "revision 1" in footer.group(1)



def test_reports_are_the_same_on_every_backend(backend: Flowreg, tmp_path: Path) -> None:
    registry = load_registry_file(NORTHWIND)
    backend.apply(registry, author="test", message="northwind")
    embedded = make_fr(tmp_path / "reference.db", registry.content())
    for kind in ("flows", "ropa", "transfers", "subprocessors", "findings"):
        here = build_report(backend, kind, NW_DAY).content()
        there = build_report(embedded, kind, NW_DAY).content()
        assert here["sections"] == there["sections"], kind
        assert build_report(backend, kind, NW_DAY).metadata["revision_hash"] == backend.revision().hash

