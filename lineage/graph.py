"""The graph of one registry revision: built once, shared by every query and date.

Nodes are subject groups, systems and parties; each flow is an edge keyed by its id. Category
containment is precomputed so that "flows that carry C" is an index lookup, not a scan.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import networkx as nx

from registry.category_use import carried_used, carried_used_of, children_of, subtree
from registry.model import Element, Flow, Party, Registry, SubjectGroup, System

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
    # What the data holds where and when (`lineage.holdings`), per law areas: it depends on the
    # flows and the nodes' places only, so it is shared by every date and by a copy of the graph
    # that changes other sections (`dataclasses.replace`, as what-if does with mechanisms).
    holdings: dict[tuple, object] = field(default_factory=dict, compare=False, repr=False)
    # Where holdings an earlier run kept for this very graph are read from before computing
    # them (`lineage.snapshots`): called with the graph, the labels and the law.
    holdings_from: Callable[..., object | None] | None = field(default=None, compare=False, repr=False)

    # --- nodes -------------------------------------------------------------------------------
    # Node attributes are read from networkx's node dict directly: the engine reads them for
    # every hop, and `graph.nodes[node]` builds a view lookup each time.
    def node_kind(self, node: str) -> str | None:
        data = self.graph._node.get(node)
        return data["kind"] if data is not None else None

    def element(self, node: str) -> SubjectGroup | System | Party:
        return self.graph._node[node]["element"]

    def nodes_in_order(self) -> Iterator[tuple[str, dict]]:
        """(node, attributes) of every node: subject groups, parties, systems, in registry
        order (the same whether the graph was built whole or extended by `extend_graph`)."""
        nodes = self.graph.nodes
        registry = self.registry
        for section in (registry.subjects, registry.parties, registry.systems):
            for element in section:
                yield element.id, nodes[element.id]

    def countries(self, node: str) -> tuple[str, ...]:
        """Where a node is: a system's hosting country, a party's seat, a group's locations."""
        return self.graph._node[node]["countries"]

    def organisation(self, node: str) -> Party | None:
        """The party behind a node: itself, or a system's owner; None for subject groups."""
        return self.graph._node[node]["org"]

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
            cached = self._subtree_cache[category] = subtree(self.children, category)
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

    children = children_of(registry.categories)
    flows = {f.id: f for f in registry.flows}
    used = frozenset(c for f in registry.flows for c in f.carries)
    rg = RegistryGraph(registry, graph, flows, children, used, {}, defaultdict(list),
                       {f.id: i for i, f in enumerate(registry.flows)})
    rg.carried_used.update(carried_used_of(registry.flows, rg.subtree, used))
    for flow in registry.flows:
        graph.add_edge(flow.from_, flow.to, key=flow.id, flow=flow)
        for used_id in rg.carried_used[flow.id]:
            rg.flows_by_used[used_id].append(flow)
    return rg


def _carried_used(rg: RegistryGraph, carries: Iterable[str]) -> tuple[str, ...]:
    return carried_used(carries, rg.subtree, rg.used)


def extend_graph(rg: RegistryGraph, registry: Registry, added: Mapping[str, Sequence[Element]]) -> RegistryGraph | None:
    """The graph of `registry`, which is `rg.registry` with the `added` elements appended
    (`registry.additions.Extension`), built in time that grows with the addition.

    Returns None when the addition changes what the category indices are built from (a new
    category, or a flow carrying a category no flow carried before): build that graph with
    `build_graph`. `rg` itself is not changed, as queries may still be reading it: the new graph
    shares its unchanged parts and copies only the containers the addition touches.

    >>> from registry.additions import extend_registry, extension_of
    >>> from registry.loader import load_registry_file
    >>> base = load_registry_file("tests/fixtures/northwind.yaml")
    >>> bigger = extend_registry(base, {"parties": [{"id": "n", "name": "N", "kind": "subprocessor",
    ...     "country": "FR"}], "flows": [{"id": "to-n", "from": "webapp", "to": "n",
    ...     "carries": ["subscriber.contact"]}]})
    >>> rg = extend_graph(build_graph(base), bigger, extension_of(bigger).elements)
    >>> [f.id for f in rg.in_flows("n")]
    ['to-n']
    """
    flows_added = [f for f in added.get("flows", ()) if isinstance(f, Flow)]
    if added.get("categories") or any(c not in rg.used for f in flows_added for c in f.carries):
        return None
    graph = _shallow_copy(rg.graph)
    parties = {p.id: p for p in added.get("parties", ()) if isinstance(p, Party)}
    for group in added.get("subjects", ()):
        _add_node(graph, group.id, kind="subject", element=group, org=None, countries=tuple(group.location))
    for party in parties.values():
        _add_node(graph, party.id, kind="party", element=party, org=party,
                  countries=(party.country,) if party.country else ())
    for system in added.get("systems", ()):
        owner = parties.get(system.owner) or registry.get(system.owner)
        _add_node(graph, system.id, kind="system", element=system, org=owner,
                  countries=(system.country,) if system.country else ())

    flows, order, carried_used = dict(rg.flows), dict(rg.order), dict(rg.carried_used)
    flows_by_used = defaultdict(list, rg.flows_by_used)  # the lists are copied where appended
    copied: set[tuple[str, str]] = set()
    copied_lists: set[str] = set()
    new = RegistryGraph(registry, graph, flows, rg.children, rg.used, carried_used, flows_by_used,
                        order, rg._subtree_cache)
    for flow in flows_added:
        _add_edge(graph, flow, copied)
        flows[flow.id], order[flow.id] = flow, len(order)
        carried = carried_used[flow.id] = _carried_used(new, flow.carries)
        for used_id in carried:
            if used_id not in copied_lists:
                flows_by_used[used_id] = list(flows_by_used[used_id])
                copied_lists.add(used_id)
            flows_by_used[used_id].append(flow)
    return new


def _shallow_copy(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    # networkx keeps a graph in three dicts of dicts (`_node`, `_succ` = `_adj`, `_pred`);
    # copying their outer level is O(nodes) and lets single nodes be replaced without touching
    # the original, where `graph.copy()` would copy every edge (O(flows)).
    out = nx.MultiDiGraph()
    out.graph = graph.graph
    out._node = dict(graph._node)
    out._adj = out._succ = dict(graph._succ)
    out._pred = dict(graph._pred)
    return out


def _add_node(graph: nx.MultiDiGraph, node: str, **attrs: object) -> None:
    graph._node[node] = attrs
    graph._succ[node] = {}
    graph._pred[node] = {}


def _add_edge(graph: nx.MultiDiGraph, flow: Flow, copied: set[tuple[str, str]]) -> None:
    """Add a flow's edge, copying the adjacency dicts it changes (once per node)."""
    u, v = flow.from_, flow.to
    for side, node in (("s", u), ("p", v)):
        if (side, node) not in copied:
            table = graph._succ if side == "s" else graph._pred
            table[node] = dict(table[node])
            copied.add((side, node))
    # succ[u][v] and pred[v][u] are one key dict in networkx; a fresh copy replaces both.
    keys = dict(graph._succ[u].get(v, {}))
    keys[flow.id] = {"flow": flow}
    graph._succ[u][v] = keys
    graph._pred[v][u] = keys
