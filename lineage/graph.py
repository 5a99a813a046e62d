"""The graph of one registry revision: built once, shared by every query and date.

Nodes are subject groups, systems and parties; each flow is an edge keyed by its id. Category
containment is precomputed so that "flows that carry C" is an index lookup, not a scan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

import networkx as nx

from registry.model import Flow, Party, Registry, SubjectGroup, System

NODE_KINDS = ("subject", "system", "party")


@dataclass
class RegistryGraph:
    """A registry and its flow graph, with indices for category and node look-ups.

    `used` holds every category id that some flow carries: regime state is tracked for exactly
    these ids (tracking others would add nothing, see `lineage.regimes`).
    """

    registry: Registry
    graph: nx.MultiDiGraph
    flows: dict[str, Flow]
    children: dict[str, list[str]]
    used: frozenset[str]
    carried_used: dict[str, tuple[str, ...]]
    flows_by_used: dict[str, list[Flow]]
    order: dict[str, int] = field(default_factory=dict)
    _subtree_cache: dict[str, frozenset[str]] = field(default_factory=dict)
    _carrying_cache: dict[str, list[Flow]] = field(default_factory=dict)

    # --- nodes -------------------------------------------------------------------------------
    def node_kind(self, node: str) -> str | None:
        return self.graph.nodes[node]["kind"] if node in self.graph else None

    def element(self, node: str) -> SubjectGroup | System | Party:
        return self.graph.nodes[node]["element"]

    def countries(self, node: str) -> tuple[str, ...]:
        """Where a node is: a system's hosting country, a party's seat, a group's locations."""
        return self.graph.nodes[node]["countries"]

    def organisation(self, node: str) -> Party | None:
        """The party behind a node: itself, or a system's owner; None for subject groups."""
        return self.graph.nodes[node]["org"]

    # --- categories --------------------------------------------------------------------------
    def subtree(self, category: str) -> frozenset[str]:
        """A category and all its descendants.

        >>> g = build_graph(Registry.model_validate({"flowreg": 1, "organization": "x",
        ...     "categories": [{"id": "a", "name": "A"}, {"id": "a.b", "name": "B"}]}))
        >>> sorted(g.subtree("a"))
        ['a', 'a.b']
        """
        cached = self._subtree_cache.get(category)
        if cached is None:
            out, stack = {category}, [category]
            while stack:
                for child in self.children.get(stack.pop(), ()):
                    out.add(child)
                    stack.append(child)
            cached = self._subtree_cache[category] = frozenset(out)
        return cached

    def ancestors(self, category: str) -> list[str]:
        """The category's ancestors, nearest first."""
        out = []
        head, dot, _ = category.rpartition(".")
        while dot:
            out.append(head)
            head, dot, _ = head.rpartition(".")
        return out

    def related_used(self, category: str) -> frozenset[str]:
        """Used ids whose data is part of, or contains, `category`'s data."""
        return self.used & (self.subtree(category) | set(self.ancestors(category)))

    def flows_carrying(self, category: str) -> list[Flow]:
        """Flows that carry the category, part of it or a whole that contains it (any date), in
        registry order. Computed once per category: callers must not change the list."""
        cached = self._carrying_cache.get(category)
        if cached is None:
            seen: dict[str, Flow] = {}
            for used_id in self.related_used(category):
                for flow in self.flows_by_used[used_id]:
                    seen.setdefault(flow.id, flow)
            order = self.order
            cached = self._carrying_cache[category] = sorted(seen.values(), key=lambda f: order[f.id])
        return cached

    # --- flows -------------------------------------------------------------------------------
    def out_flows(self, node: str, day: date | None = None) -> Iterator[Flow]:
        for _, _, flow in self.graph.out_edges(node, data="flow"):
            if day is None or flow.valid_on(day):
                yield flow

    def in_flows(self, node: str, day: date | None = None) -> Iterator[Flow]:
        for _, _, flow in self.graph.in_edges(node, data="flow"):
            if day is None or flow.valid_on(day):
                yield flow

    def active_flows(self, day: date | None) -> Iterator[Flow]:
        return (f for f in self.flows.values() if day is None or f.valid_on(day))


def build_graph(registry: Registry) -> RegistryGraph:
    """Build the flow graph and its indices from a validated registry."""
    graph = nx.MultiDiGraph()
    parties = {p.id: p for p in registry.parties}
    for group in registry.subjects:
        graph.add_node(group.id, kind="subject", element=group, org=None, countries=tuple(group.location))
    for party in registry.parties:
        graph.add_node(party.id, kind="party", element=party, org=party,
                       countries=(party.country,) if party.country else ())
    for system in registry.systems:
        graph.add_node(system.id, kind="system", element=system, org=parties.get(system.owner),
                       countries=(system.country,) if system.country else ())

    children: dict[str, list[str]] = defaultdict(list)
    for category in registry.categories:
        if category.parent:
            children[category.parent].append(category.id)

    flows = {f.id: f for f in registry.flows}
    used = frozenset(c for f in registry.flows for c in f.carries)
    rg = RegistryGraph(registry, graph, flows, dict(children), used, {}, defaultdict(list),
                       {f.id: i for i, f in enumerate(registry.flows)})
    for flow in registry.flows:
        graph.add_edge(flow.from_, flow.to, key=flow.id, flow=flow)
        carried = _carried_used(rg, flow.carries)
        rg.carried_used[flow.id] = carried
        for used_id in carried:
            rg.flows_by_used[used_id].append(flow)
    return rg


def _carried_used(rg: RegistryGraph, carries: Iterable[str]) -> tuple[str, ...]:
    out: set[str] = set()
    for category in carries:
        out |= rg.subtree(category) & rg.used
    return tuple(sorted(out))
