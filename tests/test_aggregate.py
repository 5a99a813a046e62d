"""lineage.aggregate: the grouped views the flow explorer draws, on the Twilio seed and on a
generated 10k-flow registry (nothing mocked: real registries, the real engine)."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from lineage import aggregate as A
from lineage.graph import RegistryGraph, build_graph
from lineage.law import load_law
from lineage.queries import flows
from lineage.status import HopStatus, RegimeStatus, Status
from registry.loader import load_registry_data, load_registry_file

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # bench/ is a folder run from the repository root, not installed
    sys.path.insert(0, str(ROOT))

from bench import generator  # noqa: E402

SEED = ROOT / "seeds" / "twilio.yaml"
LAW = load_law()


@pytest.fixture(scope="module")
def seed() -> RegistryGraph:
    return build_graph(load_registry_file(SEED))


@pytest.fixture(scope="module")
def large() -> RegistryGraph:
    return build_graph(load_registry_data(generator.generate(10_000)))


def hop(flow: str, source: str, target: str, status: str, *, regimes: dict[str, str] | None = None,
        kind: str | None = "subprocessor", basis: tuple[str, ...] = ()) -> HopStatus:
    per = {r: RegimeStatus(r, Status(s), f"{r} says {s}", basis) for r, s in (regimes or {}).items()}
    return HopStatus(flow, source, target, ("DE",), ("US",), ("c",), Status(status), "", per, recipient_kind=kind)


# --- ordering and filters -----------------------------------------------------------------------
def test_problems_come_first_invalid_and_uncovered_before_everything() -> None:
    statuses = ["not_required", "adequate", "unknown", "covered", "uncovered", "derogation", "invalid"]
    ordered = A.problems_first(hop(str(i), "a", "b", s) for i, s in enumerate(statuses))
    assert [h.status.value for h in ordered] == [
        "invalid", "uncovered", "unknown", "derogation", "covered", "adequate", "not_required"]


def test_filters_by_status_regime_kind_and_tool() -> None:
    hops = [
        hop("1", "a", "b", "invalid", regimes={"eu": "invalid", "uk": "covered"}, basis=("scc-1",)),
        hop("2", "a", "c", "covered", regimes={"uk": "covered"}, kind="carrier", basis=("idta-1",)),
        hop("3", "a", "d", "not_required"),
    ]
    ids = lambda hs: [h.flow for h in hs]  # noqa: E731
    assert ids(A.filter_hops(hops)) == ["1", "2", "3"]
    assert ids(A.filter_hops(hops, statuses={"invalid"})) == ["1"]
    assert ids(A.filter_hops(hops, regimes={"uk"})) == ["1", "2"]
    # with a regime, the status asked about is that regime's: hop 1 is covered for UK GDPR
    assert ids(A.filter_hops(hops, regimes={"uk"}, statuses={"covered"})) == ["1", "2"]
    assert ids(A.filter_hops(hops, regimes={"uk"}, statuses={"invalid"})) == []
    assert ids(A.filter_hops(hops, kinds={"carrier"})) == ["2"]
    assert ids(A.filter_hops(hops, tools={"scc-1", "idta-1"})) == ["1", "2"]


# --- steps and units ----------------------------------------------------------------------------
def test_steps_follow_the_data_and_survive_cycles() -> None:
    hops = [hop("1", "s", "a", "not_required"), hop("2", "a", "b", "covered"), hop("3", "b", "a", "covered"),
            hop("4", "x", "y", "covered"), hop("5", "y", "x", "covered")]  # a cycle nothing enters
    same = {n: n for n in "sabxy"}
    assert A.steps(hops, same) == {"s": 0, "a": 1, "b": 2, "x": 0, "y": 1}


def test_units_are_organisations_and_hops_inside_one_are_not_drawn(seed: RegistryGraph) -> None:
    hops = flows(seed, "content", date(2018, 12, 27), law=LAW)
    units = A.units(seed, hops)
    assert units["comms-records"] == units["comms-api"] == "twilio-inc"  # systems -> their owner
    assert units["end-users-eea"] == "end-users-eea"  # a subject group is itself
    agg = A.aggregate_by(seed, hops, "organisation")
    inside = [h for h in hops if units[h.source] == units[h.target]]
    assert agg.internal == len(inside) > 0
    drawn = {f for link in agg.links for f in link.flows}
    assert not drawn & {h.flow for h in inside}


# --- the aggregate --------------------------------------------------------------------------------
@pytest.mark.parametrize("by", A.GROUP_BYS)
def test_every_hop_is_in_a_node_and_bands_count_hops(seed: RegistryGraph, by: A.GroupBy) -> None:
    hops = flows(seed, "content", date(2018, 12, 27), law=LAW)
    agg = A.aggregate_by(seed, hops, by, top=3, depth=2)
    held = Counter(f for n in agg.nodes if n.column > 0 for f in n.flows)
    entering = {f for n in agg.nodes if n.column == 0 for f in n.flows}
    for h in hops:
        assert held[h.flow] >= 1 or h.flow in entering, h.flow
    for node in agg.nodes:
        assert sum(node.statuses.values()) == len(node.flows)
    per_column = Counter(n.column for n in agg.nodes if n.bucket != "further")
    assert max(per_column.values()) <= 3 + 1  # top groups and one "other"
    for link in agg.links:  # a band joins one step to the next and has one status
        assert agg.nodes[link.target].column == agg.nodes[link.source].column + 1
        assert {h.status for h in hops if h.flow in link.flows} == {link.status}


def test_grouping_by_status_places_each_hop_by_its_own_status(seed: RegistryGraph) -> None:
    hops = flows(seed, "content", date(2021, 1, 1), law=LAW)
    agg = A.aggregate_by(seed, hops, "status", top=10, depth=5)
    status_of = {h.flow: h.status.value for h in hops}
    for link in agg.links:
        target = agg.nodes[link.target]
        if target.bucket == "group":
            assert {status_of[f] for f in link.flows} == {target.key}


def test_problem_groups_are_never_folded_before_quiet_ones() -> None:
    hops = [hop("in", "s", "hub", "not_required")]
    hops += [hop(f"q{i}", "hub", f"quiet{i}", "covered") for i in range(5)]
    hops += [hop("p", "hub", "bad", "invalid")]
    same = {n: n for h in hops for n in (h.source, h.target)}
    agg = A.aggregate(hops, same, same, top=2, depth=3)
    step2 = [n for n in agg.nodes if n.column == 2]
    assert step2[0].key == "bad" and step2[-1].bucket == "other" and len(step2[-1].groups) == 4


def test_depth_limit_folds_what_lies_further_into_one_node() -> None:
    chain = [hop(str(i), f"n{i}", f"n{i + 1}", "covered") for i in range(6)]
    same = {f"n{i}": f"n{i}" for i in range(7)}
    agg = A.aggregate(chain, same, same, depth=2)
    further = [n for n in agg.nodes if n.bucket == "further"]
    assert [n.column for n in agg.nodes] == [0, 1, 2, 3]
    assert further and set(further[0].flows) == {"2", "3", "4", "5"}


def test_default_chart_of_every_root_category_at_10k_flows_is_legible(large: RegistryGraph) -> None:
    """Acceptance: at most about 40 labelled nodes, whatever the root category and grouping."""
    day = date(2024, 6, 30)
    roots = [c.id for c in large.registry.categories if "." not in c.id]
    for category in roots:
        hops = flows(large, category, day, law=LAW)
        assert len(hops) > 500  # the smear the issue reports: a thousand hops and more
        for by in A.GROUP_BYS:
            agg = A.aggregate_by(large, hops, by)  # the explorer's defaults: top 8, 3 steps
            assert len(agg.nodes) <= 40, (category, by, len(agg.nodes))
            drilled = {f for n in agg.nodes for f in n.flows}
            assert drilled == {h.flow for h in hops}  # every hop is in some group to drill into
            assert max(len(n.flows) for n in agg.nodes) <= 500  # one page of the hops table
