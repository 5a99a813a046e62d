"""A registration extends the graph and the evaluations instead of rebuilding them: the result
must be exactly what rebuilding gives, and what was extended must stay as it was.

The registries are the benchmark's synthetic ones (realistic shape: chains, hubs, every kind of
tool) at a small size, plus hand-made cases for the fallbacks.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from bench.generator import build
from lineage.api import Flowreg
from lineage.evaluation import Evaluation
from lineage.graph import RegistryGraph, build_graph, extend_graph
from lineage.law import load_law
from lineage.regimes import propagate
from registry.additions import extend_registry, extension_of
from registry.loader import load_registry_data
from registry.registration import add_subprocessor
from registry.sqlite_store import SqliteStore

LAW = load_law()
DAYS = [date(2015, 6, 1), date(2019, 3, 1), date(2020, 7, 16), date(2023, 7, 10), date(2026, 11, 29)]


@pytest.fixture(scope="module")
def synthetic() -> tuple[Any, dict[str, Any]]:
    made = build(400, seed=11)
    registry = load_registry_data(made.registry)
    probes = dict(made.probes)
    # The generator's registration category is carried by some flow at 100k, not always at 400.
    carried = {c for f in registry.flows if f.from_ == probes["register_from"] for c in f.carries}
    probes["register_categories"] = [sorted(carried)[0]]
    return registry, probes


def graph_snapshot(rg: RegistryGraph) -> dict[str, Any]:
    """Everything a query can read from a graph, in comparable form."""
    return {
        "nodes": [(n, d["kind"], d["element"], d["org"], d["countries"]) for n, d in rg.nodes_in_order()],
        "node_set": sorted(rg.graph.nodes),
        "out": {n: [(v, k, f.id) for _, v, k, f in rg.graph.out_edges(n, keys=True, data="flow")] for n in rg.graph},
        "in": {n: [(u, k, f.id) for u, _, k, f in rg.graph.in_edges(n, keys=True, data="flow")] for n in rg.graph},
        "flows": list(rg.flows), "order": rg.order, "carried": rg.carried_used,
        "by_used": {c: [f.id for f in fs] for c, fs in rg.flows_by_used.items() if fs},
        "used": rg.used, "children": rg.children, "registry": rg.registry.content(),
    }


def hops_of(ev: Evaluation) -> list[dict[str, Any]]:
    return [h.to_dict() for h in ev.hops()]


def sub_processor(registry: Any, probes: dict[str, Any], n: int) -> Any:
    return add_subprocessor(
        registry, party_id=f"new-sub-{n}", name=f"New sub {n}", country=["US", "IN", "CH", "GB"][n % 4],
        categories=probes["register_categories"], from_system=probes["register_from"],
        under=["eu-us-dpf"] if n % 2 else [], certifications=[{"framework": "eu-us-dpf", "valid_from": "2024-01-02"}],
    )


def test_extended_graph_is_the_rebuilt_graph_and_the_old_one_is_untouched(synthetic):
    registry, probes = synthetic
    rg = build_graph(registry)
    before = graph_snapshot(rg)
    current, graph = registry, rg
    for n in range(3):
        bigger = sub_processor(current, probes, n)
        extension = extension_of(bigger)
        assert extension is not None and extension.base is current
        graph = extend_graph(graph, bigger, extension.elements)
        assert graph is not None
        assert graph_snapshot(graph) == graph_snapshot(build_graph(bigger))
        current = bigger
    assert graph_snapshot(rg) == before


@pytest.mark.parametrize("day", DAYS, ids=str)
def test_extended_evaluation_is_a_fresh_evaluation(synthetic, day):
    registry, probes = synthetic
    rg = build_graph(registry)
    ev = Evaluation(rg, day, LAW)
    old_hops = hops_of(ev)
    old_masks = dict(ev.state.masks)
    bigger = sub_processor(registry, probes, 1)
    new_rg = extend_graph(rg, bigger, extension_of(bigger).elements)
    extended = ev.extended(new_rg, extension_of(bigger).elements)
    assert extended is not None and extended.complete
    fresh = Evaluation(build_graph(bigger), day, LAW)
    assert hops_of(extended) == hops_of(fresh)
    assert extended.state.masks == propagate(build_graph(bigger), LAW, day).masks
    assert len(hops_of(extended)) == len(old_hops) + sum(f.valid_on(day) for f in bigger.flows[-1:])
    # The evaluation it came from still answers for the old graph.
    assert hops_of(ev) == old_hops and ev.state.masks == old_masks


def test_a_flow_into_a_node_data_leaves_falls_back(synthetic):
    registry, probes = synthetic
    rg = build_graph(registry)
    day = DAYS[-1]
    hub = next(f.from_ for f in registry.flows if f.from_ != probes["register_from"]
               and rg.node_kind(f.from_) == "system" and f.valid_on(day))
    bigger = extend_registry(registry, {"flows": [{"id": "into-hub", "from": probes["register_from"], "to": hub,
                                                   "carries": probes["register_categories"]}]})
    new_rg = extend_graph(rg, bigger, extension_of(bigger).elements)
    assert graph_snapshot(new_rg) == graph_snapshot(build_graph(bigger))
    ev = Evaluation(rg, day, LAW)
    ev.hops()
    assert ev.extended(new_rg, extension_of(bigger).elements) is None


def test_new_categories_or_carried_categories_rebuild_the_graph(synthetic):
    registry, probes = synthetic
    rg = build_graph(registry)
    unused = next(c.id for c in registry.categories if c.id not in rg.used
                  and not (rg.subtree(c.id) & rg.used))
    with_category = extend_registry(registry, {"categories": [{"id": "zz-new", "name": "New"}]})
    assert extend_graph(rg, with_category, extension_of(with_category).elements) is None
    carrying_unused = add_subprocessor(registry, party_id="p-unused", name="P", country="US",
                                       categories=[unused], from_system=probes["register_from"])
    assert extend_graph(rg, carrying_unused, extension_of(carrying_unused).elements) is None


def test_a_new_mechanism_re_evaluates(synthetic):
    registry, _ = synthetic
    rg = build_graph(registry)
    parties = [p.id for p in registry.parties[:2]]
    bigger = extend_registry(registry, {"mechanisms": [{"id": "new-bcr", "kind": "bcr", "regime": "eu",
                                                        "members": parties}]})
    new_rg = extend_graph(rg, bigger, extension_of(bigger).elements)
    ev = Evaluation(rg, DAYS[-1], LAW)
    ev.hops()
    assert ev.extended(new_rg, extension_of(bigger).elements) is None


def test_flowreg_registration_answers_like_a_fresh_open(synthetic, tmp_path):
    registry, probes = synthetic
    store = SqliteStore(tmp_path / "s.db")
    fr = Flowreg(store, law=LAW)
    fr.apply(registry, author="t", message="base", expected_head=None)
    for day in DAYS[-2:]:
        fr.findings(day)  # fill the caches that registration extends
    for n in range(4):
        head = store.head()
        updated = sub_processor(fr.registry(), probes, n)
        revision = fr.apply(updated, author="t", message=f"reg {n}", expected_head=head.number)
        assert extension_of(updated) is None  # applied once; no chain of registries kept alive
        assert revision.number == head.number + 1
    fresh = Flowreg(SqliteStore(tmp_path / "s.db"), law=LAW)
    assert fresh.registry().content() == fr.registry().content()
    for day in DAYS:
        assert [h.to_dict() for h in fr.hops(day)] == [h.to_dict() for h in fresh.hops(day)]
        assert [f.to_dict() for f in fr.findings(day)] == [f.to_dict() for f in fresh.findings(day)]
        for category in probes["roots"][:2] + probes["register_categories"]:
            assert [h.to_dict() for h in fr.flows(category, day)] == [h.to_dict() for h in fresh.flows(category, day)]
        found = fr.path(probes["register_from"], "new-sub-3", day, category=probes["register_categories"][0])
        assert found.to_dict() == fresh.path(probes["register_from"], "new-sub-3", day,
                                              category=probes["register_categories"][0]).to_dict()
    rows = store._conn.execute("SELECT number, base FROM revisions ORDER BY number").fetchall()
    assert rows == [(1, None), (2, 1), (3, 2), (4, 3), (5, 4)]


def test_a_registry_not_read_here_is_written_whole(synthetic, tmp_path):
    registry, probes = synthetic
    store = SqliteStore(tmp_path / "s.db")
    Flowreg(store, law=LAW).apply(registry, author="t", message="base", expected_head=None)
    other = Flowreg(SqliteStore(tmp_path / "s.db"), law=LAW)
    # Extended from a registry this Flowreg did not read: it cannot vouch for the base.
    other.apply(sub_processor(registry, probes, 0), author="t", message="reg", expected_head=1)
    rows = store._conn.execute("SELECT number, base FROM revisions ORDER BY number").fetchall()
    assert rows == [(1, None), (2, None)]
    assert other.registry().content() == sub_processor(registry, probes, 0).content()
