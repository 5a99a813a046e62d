"""Every date in transfer_law.yaml, tested on both sides.

The cases are generated from the law data itself, so a date edited in the file moves its test
with it and a new entry gets a test without anyone writing one:

- regime areas: data collected in a country joins (or leaves) the regime on the boundary, and a
  hop into the country stops (or starts) being inside the area;
- adequacy decisions with a window: a hop from the regime's area into the destination is
  adequate exactly inside the window (judged with a law that keeps only this decision for that
  destination, so an overlapping decision cannot hide the edge), and the real law agrees with
  the file on both sides;
- frameworks: a certified US recipient is adequate exactly while the framework is in force, and a
  flow claiming it is invalid outside that window;
- SCC rules: a contract signed the day before / on new_from and new_until, and one used the day
  before / on valid_until;
- instruments with a fixed start (IDTA, UK Addendum);
- recognitions (a tool approved for one regime accepted by another: an EEA-approved BCR under
  the revised Swiss FADP): the claim covers the other regime's data from the date on;
- the words: a regime's name by period (Directive 95/46/EC / GDPR, the FADP of 1992 / revised
  FADP) and each derogation ground's citation (or the lack of a counterpart) on both sides.

Each case is one named test: `<date> <what> <starts|ends>`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from registry_builders import (
    bcr,
    derogation,
    flow,
    graph_of,
    mechanism,
    party,
    registry,
    scc,
    subjects,
    system,
    transfer,
)

from lineage.evaluation import evaluate
from lineage.law import Law, load_law
from lineage.law.knowledge import LAW_FILE, LawFile
from lineage.status import HopStatus, Status
from registry.ids import DerogationGround

LAW = load_law()
ONE_DAY = timedelta(days=1)
FAR_PAST = date(1990, 1, 1)

# Where a regime's data starts in the generated registries: a country inside its area on every
# date (for the UK, inside from 2021-01-01 only; before, GB data is EU data).
ORIGIN = {"eu": "NL", "uk": "GB", "ch": "CH"}
# A destination no regime in the file ever finds adequate.
NEVER_ADEQUATE = "IN"


@dataclass(frozen=True)
class Side:
    """One side of a boundary: the registry, the day it is evaluated, and what must hold."""

    doc: dict[str, Any]
    day: date
    check: Callable[[HopStatus], None]
    law: Law = field(default=LAW)
    flow: str = "hop"


@dataclass(frozen=True)
class Case:
    boundary: date
    what: str
    make: Callable[[date], Side]

    @property
    def name(self) -> str:
        return f"{self.boundary} {self.what}"


def run(side: Side) -> HopStatus:
    return evaluate(graph_of(side.doc), side.day, side.law).hop(side.flow)


def expand(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        out += LAW.data.groups[name[1:]] if name.startswith("@") else [name]
    return out


def regime_status(hop: HopStatus, regime: str) -> Status | None:
    verdict = hop.regimes.get(regime)
    return verdict.status if verdict else None


def inside(window_from: date | None, window_until: date | None, day: date) -> bool:
    """[from, until): the file's convention, restated here so the tests do not lean on the
    engine's own window check."""
    return (window_from is None or window_from <= day) and (window_until is None or day < window_until)


def in_area(regime: str, country: str, day: date) -> bool:
    return any(country in expand(e.countries) and inside(e.valid_from, e.valid_until, day)
               for e in LAW.regimes[regime].area)


# --- regime areas -------------------------------------------------------------------------------
def area_cases() -> list[Case]:
    cases = []
    for regime, info in LAW.regimes.items():
        undated = [c for e in info.area if e.valid_from is None and e.valid_until is None for c in expand(e.countries)]
        for entry in info.area:
            for edge, boundary in (("starts", entry.valid_from), ("ends", entry.valid_until)):
                if boundary is None:
                    continue
                for country in expand(entry.countries):
                    cases.append(Case(boundary, f"{regime} area {edge} for {country} (collection)",
                                      _area_collection(regime, country, entry.valid_from, entry.valid_until)))
                    if undated:
                        cases.append(Case(boundary, f"{regime} area {edge} for {country} (destination)",
                                          _area_destination(regime, undated[0], country, entry.valid_from, entry.valid_until)))
    return cases


def _area_collection(regime: str, country: str, start: date | None, end: date | None) -> Callable[[date], Side]:
    """Subjects in `country` -> a US system -> India: the regime rides along exactly while the
    country is inside its area."""
    doc = registry(subjects("people", country), system("us-app", "US"), party("in-co", NEVER_ADEQUATE),
                   flow("collect", "people", "us-app"), flow("hop", "us-app", "in-co"))

    def make(day: date) -> Side:
        def check(hop: HopStatus) -> None:
            if inside(start, end, day):
                assert regime_status(hop, regime) is Status.UNCOVERED
            else:
                assert regime not in hop.regimes
        return Side(doc, day, check)
    return make


def _area_destination(regime: str, origin: str, country: str, start: date | None, end: date | None) -> Callable[[date], Side]:
    """Data from `origin` (always inside the area) -> a system in `country`: not a transfer
    exactly while `country` is inside the area."""
    doc = transfer(country, src=origin)

    def make(day: date) -> Side:
        def check(hop: HopStatus) -> None:
            verdict = hop.regimes[regime]
            judged_inside = verdict.status is Status.NOT_REQUIRED and "inside the" in verdict.reason
            assert judged_inside is inside(start, end, day), verdict
        return Side(doc, day, check)
    return make


# --- adequacy -----------------------------------------------------------------------------------
def adequacy_cases() -> list[Case]:
    cases = []
    for decision in LAW.data.adequacy:
        for edge, boundary in (("starts", decision.valid_from), ("ends", decision.valid_until)):
            if boundary is None:
                continue
            for dest in expand(decision.destination):
                what = f"{decision.regime} adequacy {dest} {edge} ({decision.instrument})"
                cases.append(Case(boundary, what, _adequacy(decision, dest)))
    return cases


def _isolated(decision: Any, dest: str) -> Law:
    """The real law with `decision` as the only adequacy decision for (regime, dest)."""
    others = [a for a in LAW.data.adequacy if not (a.regime == decision.regime and dest in expand(a.destination))]
    only = decision.model_copy(update={"destination": [dest]})
    return Law(LAW.data.model_copy(update={"adequacy": [*others, only]}))


def _oracle_adequate(regime: str, dest: str, day: date, certified: set[str]) -> set[str]:
    """Instruments the file says make a commercial recipient in `dest` adequate on `day`."""
    out = set()
    for a in LAW.data.adequacy:
        if a.regime != regime or dest not in expand(a.destination) or not inside(a.valid_from, a.valid_until, day):
            continue
        if a.framework:
            fw = LAW.frameworks[a.framework]
            if not inside(fw.valid_from, fw.valid_until, day) or a.framework not in certified:
                continue
        out.add(a.instrument)
    return out


def _adequacy(decision: Any, dest: str) -> Callable[[date], Side]:
    regime = decision.regime
    certified = {decision.framework: FAR_PAST} if decision.framework else None
    doc = transfer(dest, src=ORIGIN[regime], dst_kind="other", certified=certified)
    isolated = _isolated(decision, dest)

    def make(day: date) -> Side:
        def check(hop: HopStatus) -> None:
            # 1. with only this decision for the destination, the status flips at its edge
            if inside(decision.valid_from, decision.valid_until, day):
                assert hop.status is Status.ADEQUATE
                assert hop.regimes[regime].basis == (decision.framework or decision.instrument,)
            elif regime in hop.regimes:
                expected = Status.NOT_REQUIRED if in_area(regime, dest, day) else Status.UNCOVERED
                assert regime_status(hop, regime) is expected
            else:
                # the regime is absent only because its data does not exist yet (UK GDPR in 2020)
                assert not in_area(regime, ORIGIN[regime], day)
            # 2. with the real law, the engine agrees with the file on this side too
            real = evaluate(graph_of(doc), day).hop("hop")
            if regime in real.regimes and not in_area(regime, dest, day):
                want = _oracle_adequate(regime, dest, day, set(certified or ()))
                verdict = real.regimes[regime]
                assert (verdict.status is Status.ADEQUATE) is bool(want), (verdict, want)
                if want:
                    by_instrument = {a.framework or a.instrument: a.instrument for a in LAW.data.adequacy}
                    assert by_instrument[verdict.basis[0]] in want
        return Side(doc, day, check, law=isolated)
    return make


# --- frameworks ---------------------------------------------------------------------------------
def framework_cases() -> list[Case]:
    cases = []
    for fw in LAW.data.frameworks:
        for edge, boundary in (("starts", fw.valid_from), ("ends", fw.valid_until)):
            if boundary is None:
                continue
            for claimed in (False, True):
                how = "claimed" if claimed else "not claimed"
                cases.append(Case(boundary, f"framework {fw.id} {edge} ({how})", _framework(fw, claimed)))
    return cases


def _framework(fw: Any, claimed: bool) -> Callable[[date], Side]:
    origin = ORIGIN[fw.regime]
    doc = transfer(fw.destination, src=origin, certified={fw.id: FAR_PAST}, under=[fw.id] if claimed else [])

    def make(day: date) -> Side:
        def check(hop: HopStatus) -> None:
            verdict = hop.regimes[fw.regime]
            if inside(fw.valid_from, fw.valid_until, day):
                assert verdict.status is Status.ADEQUATE and verdict.basis == (fw.id,)
            elif not claimed:
                assert verdict.status is Status.UNCOVERED
            else:
                assert verdict.status is Status.INVALID and verdict.basis == (fw.id,)
                if fw.valid_until and day >= fw.valid_until:
                    ended = f" ({fw.ended_by})" if fw.ended_by else ""
                    assert verdict.reason == f"{fw.name} invalid since {fw.valid_until}{ended}"
                else:
                    assert verdict.reason == f"{fw.name} not in force before {fw.valid_from}"
        return Side(doc, day, check)
    return make


# --- SCC rules ----------------------------------------------------------------------------------
def scc_cases() -> list[Case]:
    cases = []
    for rule in LAW.data.scc:
        label = f"SCC {rule.version} ({rule.regime})"
        if rule.new_from:
            cases.append(Case(rule.new_from, f"{label} opens to new contracts", _scc_signed(rule, covered_from=True)))
        if rule.new_until:
            cases.append(Case(rule.new_until, f"{label} closes to new contracts", _scc_signed(rule, covered_from=False)))
        if rule.valid_until:
            cases.append(Case(rule.valid_until, f"{label} ends", _scc_used(rule)))
    return cases


def _scc_doc(rule: Any, signed: date) -> dict[str, Any]:
    return transfer("US", src=ORIGIN[rule.regime], under=["scc-x"],
                    mechanisms=[scc("scc-x", rule.version, "exporter", "importer", signed=signed, regime=rule.regime)])


def _scc_signed(rule: Any, *, covered_from: bool) -> Callable[[date], Side]:
    """A contract signed on `day`, used that day: covered on one side of the edge only."""
    edge = rule.new_from if covered_from else rule.new_until

    def make(day: date) -> Side:
        def check(hop: HopStatus) -> None:
            expected = Status.COVERED if (day >= edge) is covered_from else Status.INVALID
            assert regime_status(hop, rule.regime) is expected, hop.reason
            if expected is Status.INVALID:
                assert f"signed {day}" in hop.regimes[rule.regime].reason
        return Side(_scc_doc(rule, day), day, check)
    return make


def _scc_used(rule: Any) -> Callable[[date], Side]:
    """A contract signed on the last day new contracts could use the version, used on `day`."""
    signed = (rule.new_until or rule.valid_until) - ONE_DAY
    doc = _scc_doc(rule, signed)

    def make(day: date) -> Side:
        def check(hop: HopStatus) -> None:
            if day < rule.valid_until:
                assert regime_status(hop, rule.regime) is Status.COVERED, hop.reason
            else:
                assert regime_status(hop, rule.regime) is Status.INVALID
                assert hop.regimes[rule.regime].reason == (
                    f"SCC 'scc-x': SCC {rule.version} no longer valid since {rule.valid_until}")
        return Side(doc, day, check)
    return make


# --- instruments with a start fixed by law ------------------------------------------------------
def instrument_cases() -> list[Case]:
    cases = []
    for inst in LAW.data.instruments:
        for edge, boundary in (("starts", inst.valid_from), ("ends", inst.valid_until)):
            if boundary is not None:
                cases.append(Case(boundary, f"{inst.kind} ({inst.regime}) {edge}", _instrument(inst)))
    return cases


def _instrument(inst: Any) -> Callable[[date], Side]:
    signed = (inst.valid_from or date(2000, 1, 1)) - timedelta(days=30)
    doc = transfer("US", src=ORIGIN[inst.regime], under=["tool"], mechanisms=[
        mechanism("tool", inst.kind, ["exporter", "importer"], regime=inst.regime, valid_from=signed)])

    def make(day: date) -> Side:
        def check(hop: HopStatus) -> None:
            expected = Status.COVERED if inside(inst.valid_from, inst.valid_until, day) else Status.INVALID
            assert regime_status(hop, inst.regime) is expected, hop.reason
        return Side(doc, day, check)
    return make


# --- recognitions ------------------------------------------------------------------------------
def recognition_cases() -> list[Case]:
    cases = []
    for rec in LAW.data.recognitions:
        for edge, boundary in (("starts", rec.valid_from), ("ends", rec.valid_until)):
            if boundary is not None:
                what = f"{rec.kind} approved for {rec.approved} serves {rec.serves} {edge}"
                cases.append(Case(boundary, what, _recognised(rec)))
    return cases


def _recognised(rec: Any) -> Callable[[date], Side]:
    """Data of the accepting regime to a non-adequate destination, inside the group, under a tool
    approved for the other regime."""
    assert rec.kind == "bcr", "a new kind of recognition needs its own registry here"
    doc = transfer(NEVER_ADEQUATE, src=ORIGIN[rec.serves], under=["group-tool"],
                   mechanisms=[bcr("group-tool", "exporter", "importer", regime=rec.approved)])

    def make(day: date) -> Side:
        def check(hop: HopStatus) -> None:
            verdict = hop.regimes[rec.serves]
            if inside(rec.valid_from, rec.valid_until, day):
                assert verdict.status is Status.COVERED and rec.cite in verdict.reason, verdict
            else:
                assert verdict.status is Status.INVALID and "does not cover" in verdict.reason, verdict
        return Side(doc, day, check)
    return make


CASES = sorted(area_cases() + adequacy_cases() + framework_cases() + scc_cases() + instrument_cases()
               + recognition_cases(), key=lambda c: c.boundary)


# --- the words: names and citations by date -----------------------------------------------------
def _in_force(periods: list[Any], day: date) -> Any:
    found = [p for p in periods if inside(p.valid_from, p.valid_until, day)]
    assert len(found) <= 1, found
    return found[0] if found else None


def name_cases() -> list[Case]:
    cases = []
    for regime, info in LAW.regimes.items():
        for period in info.names:
            for edge, boundary in (("starts", period.valid_from), ("ends", period.valid_until)):
                if boundary is not None:
                    cases.append(Case(boundary, f"{regime} named {period.name!r} {edge}", _named(regime)))
    return cases


def _named(regime: str) -> Callable[[date], Side]:
    doc = transfer(NEVER_ADEQUATE, src=ORIGIN[regime])

    def make(day: date) -> Side:
        def check(hop: HopStatus) -> None:
            period = _in_force(LAW.regimes[regime].names, day)
            name = period.name if period else LAW.regimes[regime].name
            assert hop.reason == f"{name}: no transfer tool claimed; {NEVER_ADEQUATE} is not adequate for {name} on {day}"
        return Side(doc, day, check)
    return make


def derogation_cases() -> list[Case]:
    cases = []
    for row in LAW.data.derogations:
        for edge, boundary in (("starts", row.valid_from), ("ends", row.valid_until)):
            if boundary is None:
                continue
            for ground in DerogationGround:
                what = f"{row.regime} derogation {ground.value} cited by {row.source} {edge}"
                cases.append(Case(boundary, what, _derogation(row.regime, ground.value)))
    return cases


def _derogation(regime: str, ground: str) -> Callable[[date], Side]:
    doc = transfer(NEVER_ADEQUATE, src=ORIGIN[regime], under=["der"], mechanisms=[derogation("der", ground, regime)])

    def make(day: date) -> Side:
        def check(hop: HopStatus) -> None:
            row = _in_force([r for r in LAW.data.derogations if r.regime == regime], day)
            verdict = hop.regimes[regime]
            cite = row.cite.get(ground) if row else None
            if row is None or cite is not None:
                assert verdict.status is Status.DEROGATION and verdict.reason == f"derogation 'der' ({cite})", verdict
            else:
                assert verdict.status is Status.INVALID and "has no counterpart" in verdict.reason, verdict
        return Side(doc, day, check)
    return make


WORDING = sorted(name_cases() + derogation_cases(), key=lambda c: c.boundary)


@pytest.mark.parametrize("case", WORDING, ids=[c.name for c in WORDING])
def test_wording_boundary(case: Case) -> None:
    """Each side reads as the law stood that day (`Side.check`), and the words change here."""
    before, at = case.make(case.boundary - ONE_DAY), case.make(case.boundary)
    hop_before, hop_at = run(before), run(at)
    before.check(hop_before)
    at.check(hop_at)
    assert hop_before.reason.replace(str(before.day), "DAY") != hop_at.reason.replace(str(at.day), "DAY")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_boundary(case: Case) -> None:
    before, at = case.make(case.boundary - ONE_DAY), case.make(case.boundary)
    hop_before, hop_at = run(before), run(at)
    before.check(hop_before)
    at.check(hop_at)
    # whatever flips, it flips exactly here: the verdicts differ (not merely the dated reason)
    assert verdicts(hop_before) != verdicts(hop_at)


def verdicts(hop: HopStatus) -> tuple[Status, dict[str, tuple[Status, tuple[str, ...]]]]:
    return hop.status, {r: (v.status, v.basis) for r, v in hop.regimes.items()}


def test_every_boundary_date_has_a_case():
    covered = {c.boundary for c in CASES + WORDING}
    assert set(LAW.boundary_dates()) <= covered, sorted(set(LAW.boundary_dates()) - covered)
    assert len(LAW.boundary_dates()) > 30


def test_case_names_are_unique():
    names = [c.name for c in CASES + WORDING]
    assert len(names) == len(set(names))


# --- the file itself ----------------------------------------------------------------------------
RAW = yaml.safe_load(Path(LAW_FILE).read_text(encoding="utf-8"))
FACT_LISTS = ("adequacy", "frameworks", "scc", "instruments", "derogations", "recognitions")
DATE_KEYS = ("valid_from", "valid_until", "new_from", "new_until")


def raw_facts() -> list[tuple[str, dict[str, Any]]]:
    out = []
    for regime, info in RAW["regimes"].items():
        out += [(f"regimes.{regime}.area[{i}]", e) for i, e in enumerate(info["area"])]
        out += [(f"regimes.{regime}.names[{i}]", e) for i, e in enumerate(info.get("names", []))]
    for name in FACT_LISTS:
        out += [(f"{name}[{i}]", e) for i, e in enumerate(RAW.get(name, []))]
    return out


@pytest.mark.parametrize(("where", "fact"), raw_facts(), ids=[w for w, _ in raw_facts()])
def test_every_fact_has_a_resolving_source_and_a_verify_grade(where, fact):
    assert fact.get("source") in RAW["sources"], f"{where}: source {fact.get('source')!r} is not in `sources`"
    source = RAW["sources"][fact["source"]]
    assert source["title"].strip()
    url = urlparse(source["url"])
    assert url.scheme == "https" and url.netloc, f"{where}: {source['url']!r} is not an https address"
    assert fact.get("verify") in ("P", "S", "S1", "U"), f"{where}: verify grade {fact.get('verify')!r}"


def test_boundary_dates_are_every_date_in_the_facts():
    written = {fact[k] for _, fact in raw_facts() for k in DATE_KEYS if k in fact}
    assert all(isinstance(d, date) for d in written)
    assert set(LAW.boundary_dates()) == written
    assert LAW.boundary_dates() == sorted(written)


def test_windows_are_ordered():
    for where, fact in raw_facts():
        start, end = fact.get("valid_from") or fact.get("new_from"), fact.get("valid_until")
        if start and end:
            assert start < end, where
        if fact.get("new_until") and fact.get("valid_until"):
            assert fact["new_until"] <= fact["valid_until"], where


def test_every_adequacy_framework_is_a_known_framework_with_the_same_regime():
    for decision in LAW.data.adequacy:
        if decision.scope == "certified":
            fw = LAW.frameworks[decision.framework]
            assert fw.regime == decision.regime and [fw.destination] == decision.destination
        else:
            assert decision.framework is None


def test_a_fact_citing_an_unknown_source_is_refused():
    data = yaml.safe_load(Path(LAW_FILE).read_text(encoding="utf-8"))
    data["adequacy"][0]["source"] = "nowhere"
    with pytest.raises(ValueError, match="unknown sources: \\['nowhere'\\]"):
        Law(LawFile.model_validate(data))


def test_a_fact_without_a_verify_grade_is_refused():
    data = yaml.safe_load(Path(LAW_FILE).read_text(encoding="utf-8"))
    del data["frameworks"][0]["verify"]
    with pytest.raises(ValueError, match="verify"):
        LawFile.model_validate(data)
