"""What a reader sees: the law named as it stood on the date, and never an unverified placeholder.

The law file grades facts (P, S, S1, U); a grade is for maintainers. Every text the engine
writes (each hop's reason, per regime and overall, the bases it relied on, each finding's title,
message and fix) on the Twilio seed and on northwind, across every date the law file names (the
day before, of and after) and every year from 1999 to 2032, must read as words a DPO could sign:
no "(U)", "number U" or other placeholder, and the regime named as its law was then.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from functools import cache
from typing import Any

import pytest

from lineage.api import Flowreg
from lineage.evaluation import evaluate
from lineage.findings import findings
from lineage.graph import RegistryGraph, build_graph
from lineage.law import load_law
from lineage.reports import build_report
from registry.loader import load_registry_file
from registry.sqlite_store import SqliteStore

LAW = load_law()
ONE_DAY = timedelta(days=1)
REGISTRIES = {"twilio": "seeds/twilio.yaml", "northwind": "tests/fixtures/northwind.yaml"}
PLACEHOLDER = re.compile(r"\bU\)|\(U\b|\bnumber U\b|\bverify\b|\bTODO\b|\bTBD\b|\bXXX\b|\?\?|\bunverified\b", re.I)
DAYS = sorted({d + k * ONE_DAY for d in LAW.boundary_dates() for k in (-1, 0, 1)}
              | {date(year, 6, 30) for year in range(1999, 2033)})


@cache
def graph(name: str) -> RegistryGraph:
    return build_graph(load_registry_file(REGISTRIES[name]))


def texts(rg: RegistryGraph, day: date) -> list[str]:
    """Every sentence the engine writes about the registry on `day`."""
    out: list[str] = []
    for hop in evaluate(rg, day).hops():
        out += [hop.reason, *hop.basis]
        out += [v.reason for v in hop.regimes.values()]
    for f in findings(rg, day):
        out += [f.title, f.message, f.fix]
    return out


@pytest.mark.parametrize("name", list(REGISTRIES))
def test_no_placeholder_reaches_a_reader(name: str) -> None:
    rg = graph(name)
    seen = 0
    for day in DAYS:
        for text in texts(rg, day):
            seen += 1
            assert not PLACEHOLDER.search(text), f"{day}: {text}"
    assert seen > 1000


def test_the_law_files_user_facing_values_carry_no_placeholder() -> None:
    """Instruments, framework names, citations and regime names are read by users as they are."""
    values = [a.instrument for a in LAW.data.adequacy] + [f.name for f in LAW.data.frameworks]
    values += [f.ended_by or "" for f in LAW.data.frameworks]
    values += [cite for row in LAW.data.derogations for cite in row.cite.values()]
    values += [r.cite for r in LAW.data.recognitions]
    values += [n.name for info in LAW.regimes.values() for n in (*info.names,)] + [i.name for i in LAW.regimes.values()]
    for value in values:
        assert not PLACEHOLDER.search(value), value


def regime_words(rg: RegistryGraph, day: date) -> str:
    return "\n".join(texts(rg, day))


def test_dates_before_2018_05_25_are_worded_as_directive_95_46() -> None:
    rg = graph("twilio")
    before, after = regime_words(rg, date(2018, 5, 24)), regime_words(rg, date(2018, 5, 25))
    assert "EU Directive 95/46/EC:" in before and "EU GDPR" not in before
    assert "EU GDPR:" in after and "Directive 95/46/EC" not in after


def test_swiss_dates_before_2023_09_01_are_worded_as_the_fadp_of_1992() -> None:
    rg = graph("twilio")
    before, after = regime_words(rg, date(2023, 8, 31)), regime_words(rg, date(2023, 9, 1))
    assert "Swiss FADP of 1992" in before and "Swiss FADP (revised)" not in before
    assert "Swiss FADP (revised)" in after and "of 1992" not in after


def test_derogations_are_cited_by_the_law_in_force() -> None:
    rg = graph("twilio")
    hop = evaluate(rg, date(2018, 5, 24)).hop("platform-to-carrier-row")
    assert hop.regimes["eu"].reason.endswith("(Art. 26(1)(b) of Directive 95/46/EC)")
    assert hop.regimes["ch"].reason.endswith("(Art. 6(2)(c) FADP of 1992)")
    hop = evaluate(rg, date(2024, 1, 1)).hop("platform-to-carrier-row")
    assert hop.regimes["eu"].reason.endswith("(Art. 49(1)(b))")
    assert hop.regimes["ch"].reason.endswith("(Art. 17(1)(b)(1) FADP)")


def test_a_missing_processor_contract_is_cited_by_the_law_in_force() -> None:
    """Directive 95/46/EC Art. 17(3) required the processor's contract until 2018-05-24; GDPR
    Art. 28(3) from 2018-05-25 (law file: obligations, duty processor-contract)."""
    rg = graph("twilio")
    def cited(day: date) -> set[str]:
        found = [f for f in findings(rg, day) if f.rule == "processor-without-dpa"]
        assert found
        return {cite for f in found for cite in ("Directive 95/46/EC Art. 17(3)", "GDPR Art. 28(3)")
                if f"on {day} ({cite})" in f.message}
    assert cited(date(2018, 5, 24)) == {"Directive 95/46/EC Art. 17(3)"}
    assert cited(date(2018, 5, 25)) == {"GDPR Art. 28(3)"}


def test_one_organisation_cites_edpb_criterion_2() -> None:
    found = [v.reason for d in (date(2019, 1, 1), date(2025, 1, 1)) for h in evaluate(graph("twilio"), d).hops()
             for v in h.regimes.values() if "one organisation" in v.reason]
    assert found and all(r.endswith("EDPB Guidelines 05/2021, criterion 2)") for r in found)


@pytest.fixture(scope="module")
def seed_reports(tmp_path_factory: pytest.TempPathFactory) -> Any:
    store = SqliteStore(tmp_path_factory.mktemp("words") / "flowreg.db")
    store.append(load_registry_file(REGISTRIES["twilio"]).content(), author="test", message="seed")
    fr = Flowreg(store)
    yield lambda kind, day: json.dumps(build_report(fr, kind, day).content(), default=str)
    fr.close()


@pytest.mark.parametrize("kind", ["flows", "ropa", "transfers", "findings"])
def test_reports_name_the_law_as_it_stood_and_carry_no_placeholder(seed_reports: Any, kind: str) -> None:
    before, after = seed_reports(kind, date(2018, 5, 24)), seed_reports(kind, date(2026, 11, 29))
    for text in (before, after):
        assert not PLACEHOLDER.search(text), PLACEHOLDER.search(text)
    assert "GDPR" not in before.replace("UK GDPR", "")
    assert "Directive 95/46/EC" not in after
    if kind != "ropa":
        assert "Directive 95/46/EC" in before
