"""lineage.between.compare_dates gives `flowreg between`'s answer (lineage.whatif.between_dates)
from each date's own answers, on the Twilio seed at the law's key dates. Nothing is mocked."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from lineage.aggregate import severity_rank
from lineage.between import compare_dates
from lineage.evaluation import Evaluation
from lineage.findings import findings
from lineage.graph import RegistryGraph, build_graph
from lineage.law import load_law
from lineage.queries import flows
from lineage.whatif import between_dates
from registry.loader import load_registry_file

SEED = Path(__file__).resolve().parents[1] / "seeds" / "twilio.yaml"
LAW = load_law()


@pytest.fixture(scope="module")
def rg() -> RegistryGraph:
    return build_graph(load_registry_file(SEED))


def answers(rg: RegistryGraph, day: date) -> tuple[list, list]:
    ev = Evaluation(rg, day, LAW)
    return ev.hops(), findings(rg, day, law=LAW, evaluation=ev)


@pytest.mark.parametrize("before, after", [
    (date(2020, 7, 15), date(2020, 7, 16)),  # Schrems II: Privacy Shield falls
    (date(2020, 12, 31), date(2021, 1, 1)),  # the UK leaves the EU's area
    (date(2018, 12, 27), date(2024, 6, 30)),
])
def test_same_answer_as_flowreg_between(rg: RegistryGraph, before: date, after: date) -> None:
    expected = between_dates(rg, before, after, law=LAW)
    (hops_a, found_a), (hops_b, found_b) = answers(rg, before), answers(rg, after)
    got = compare_dates(before, after, hops_a, hops_b, found_a, found_b)
    assert {(c.flow, c.before.status.value if c.before else None, c.after.status.value if c.after else None)
            for c in got.changed} == {(c.flow, c.before, c.after) for c in expected.changed_hops}
    assert {f.id for f in got.new_findings} == {f.id for f in expected.new_findings}
    assert {f.id for f in got.resolved_findings} == {f.id for f in expected.resolved_findings}
    ranks = [severity_rank(c.after.status) if c.after else 7 for c in got.changed]
    assert ranks == sorted(ranks)  # problems first


def test_schrems_two_shows_privacy_shield_hops_failing(rg: RegistryGraph) -> None:
    before, after = date(2020, 7, 15), date(2020, 7, 16)
    got = compare_dates(before, after, *answers(rg, before)[:1], *answers(rg, after)[:1], [], [])
    viber = next(c for c in got.changed if c.flow == "viber-inbound")
    assert (viber.before.status.value, viber.after.status.value) == ("adequate", "invalid")
    assert got.changed[0].after.status.is_problem  # problems first


def test_scope_to_one_category(rg: RegistryGraph) -> None:
    before, after = date(2020, 7, 15), date(2020, 7, 16)
    a, b = flows(rg, "content", before, law=LAW), flows(rg, "content", after, law=LAW)
    scope = {h.flow for h in a} | {h.flow for h in b}
    got = compare_dates(before, after, a, b, answers(rg, before)[1], answers(rg, after)[1], flows=scope)
    assert got.changed and {c.flow for c in got.changed} <= scope
    assert all(f.flow in scope for f in got.new_findings + got.resolved_findings)
