"""Lineage queries: flows of a category, its recipients, paths between nodes, impact of a node.

Pure functions over a `RegistryGraph` and a date. Each touches the flows that carry the data it
is asked about, not the whole graph, so they stay fast as the registry grows.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import Any, ClassVar

from lineage.evaluation import Evaluation
from lineage.graph import RegistryGraph
from lineage.law import Law, load_law
from lineage.regimes import propagate
from lineage.safeguards import evaluate_hop
from lineage.status import HopStatus
from registry.errors import NotFoundError
from registry.ids import PartyKind
from registry.model import Flow


def _need_category(rg: RegistryGraph, category: str) -> None:
    if rg.registry.kind_of(category) != "category":
        raise NotFoundError(f"unknown category '{category}'")


def _need_node(rg: RegistryGraph, node: str) -> None:
    if rg.node_kind(node) is None:
        raise NotFoundError(f"unknown subject group, system or party '{node}'")


def _ordered(rg: RegistryGraph, flows: Iterable[Flow]) -> list[Flow]:
    order = rg.order
    return sorted(flows, key=lambda f: order[f.id])


def flows(
    rg: RegistryGraph, category: str, day: date, *, from_node: str | None = None, law: Law | None = None,
    evaluation: Evaluation | None = None,
) -> list[HopStatus]:
    """Every hop active on `day` that carries `category` (itself, a part of it, or a whole that
    contains it), with each hop's status for that category's data. With `from_node`, only the
    hops reachable from that node along such hops. `evaluation` is the date's full evaluation
    when the caller keeps one (see `_statuses`).

    >>> from registry.loader import load_registry_file
    >>> from lineage.graph import build_graph
    >>> rg = build_graph(load_registry_file("tests/fixtures/northwind.yaml"))
    >>> [(h.flow, h.status.value) for h in flows(rg, "subscriber.contact.email", date(2020, 8, 1))]
    [('signup', 'not_required'), ('web-to-mailer', 'covered'), ('mailer-to-bouncer', 'invalid')]
    """
    _need_category(rg, category)
    law = law or load_law()
    related = rg.related_used(category)
    carrying = [f for f in rg.flows_carrying(category) if f.valid_on(day)]  # in registry order
    scope = len(carrying)
    if from_node is not None:
        _need_node(rg, from_node)
        carrying = _ordered(rg, _reachable_flows(carrying, [from_node]))
    return _statuses(rg, law, day, carrying, related, evaluation, scope)


# A question about data that more than this share of the registry's flows carry is answered
# from the date's full evaluation: computed once, it then serves every later query of that
# revision and date. A smaller question reads only its own categories' holdings (computed once
# per graph and category, `lineage.holdings`), which is cheaper than a full evaluation (a
# one-off CLI query, the check after a registration).
FULL_EVALUATION_SHARE = 0.05


def _statuses(
    rg: RegistryGraph, law: Law, day: date, flows: list[Flow], related: frozenset[str],
    evaluation: Evaluation | None, scope: int,
) -> list[HopStatus]:
    """The statuses of `flows` (active on `day`) for the data of the used category ids `related`,
    of which `scope` active flows carry some.

    Without the date's full evaluation only the holdings of `related` are read (and computed on
    first use). With it (`Flowreg` keeps one per revision and date), its regime state serves:
    holdings are per category, so the full state and one limited to `related` agree on those
    categories; and a hop that carries nothing outside `related` has exactly its evaluated
    status. The answers are the same either way.
    """
    usable = evaluation is not None and evaluation.rg is rg and evaluation.day == day
    if usable and not evaluation.complete and scope >= FULL_EVALUATION_SHARE * len(rg.flows):
        evaluation.hops()
    if not usable or not evaluation.complete:
        state = propagate(rg, law, day, related)
        return [evaluate_hop(rg, law, state, f, day, related) for f in flows]
    out = []
    for f in flows:
        if related.issuperset(rg.carried_used[f.id]):
            out.append(evaluation.hop(f.id))
        else:
            out.append(evaluate_hop(rg, evaluation.law, evaluation.state, f, day, related))
    return out


def _reachable_flows(candidates: list[Flow], starts: Iterable[str]) -> list[Flow]:
    out_of: dict[str, list[Flow]] = {}
    for flow in candidates:
        out_of.setdefault(flow.from_, []).append(flow)
    seen_nodes, picked = set(starts), []
    queue = deque(seen_nodes)
    while queue:
        for flow in out_of.get(queue.popleft(), ()):
            picked.append(flow)
            if flow.to not in seen_nodes:
                seen_nodes.add(flow.to)
                queue.append(flow.to)
    return picked


@dataclass(frozen=True)
class Recipient:
    """An organisation a category reaches."""

    party: str
    name: str
    kind: str
    country: str | None
    hops: int = field(metadata={"description": "Fewest flows from where the data enters."})
    onward: bool = field(metadata={"description": "Received from another recipient, not the group."})
    via: str = field(metadata={"description": "The flow by which it first receives the data."})
    nodes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "nodes": list(self.nodes)}


def recipients(rg: RegistryGraph, category: str, day: date) -> list[Recipient]:
    """Every organisation the category reaches on `day`, directly or onward, nearest first.

    >>> from registry.loader import load_registry_file
    >>> from lineage.graph import build_graph
    >>> rg = build_graph(load_registry_file("tests/fixtures/northwind.yaml"))
    >>> [(r.party, r.hops, r.onward) for r in recipients(rg, "subscriber", date(2020, 8, 1))]
    [('northwind-nl', 1, False), ('northwind-inc', 2, False), ('bouncer', 3, False)]
    """
    _need_category(rg, category)
    carrying = [f for f in rg.flows_carrying(category) if f.valid_on(day)]
    targets = {f.to for f in carrying}
    origins = sorted({f.from_ for f in carrying if f.from_ not in targets})
    out_of: dict[str, list[Flow]] = {}
    for flow in carrying:  # in registry order (`flows_carrying`): the first flow found wins
        out_of.setdefault(flow.from_, []).append(flow)
    # Breadth first, one level of hops at a time; each level is read in node id order.
    seen = set(origins)
    first: dict[str, Flow] = {}
    levels: list[list[str]] = []
    level = origins
    while level:
        reached = []
        for node in level:
            for flow in out_of.get(node, ()):
                if flow.to not in seen:
                    seen.add(flow.to)
                    first[flow.to] = flow
                    reached.append(flow.to)
        if reached:
            levels.append(sorted(reached))
        level = reached

    found: dict[str, Recipient] = {}
    nodes: dict[str, list[str]] = {}  # a party's nodes (itself, its systems), nearest first
    for hops, node in ((n + 1, node) for n, reached in enumerate(levels) for node in reached):
        party = rg.organisation(node)
        if party is None:
            continue
        if party.id in found:
            nodes[party.id].append(node)
            continue
        sender = rg.organisation(first[node].from_)
        onward = sender is not None and sender.id != party.id and sender.kind is not PartyKind.AFFILIATE
        found[party.id] = Recipient(
            party.id, party.name, party.kind.value, party.country, hops, onward, first[node].id, (node,)
        )
        nodes[party.id] = [node]
    return [r if len(nodes[r.party]) == 1 else replace(r, nodes=tuple(nodes[r.party]))
            for r in found.values()]


@dataclass(frozen=True)
class PathResult:
    """The hops that connect two nodes, and one shortest chain of them."""

    source: str
    target: str
    hops: list[HopStatus]
    shortest: list[str]
    PAGED: ClassVar[tuple[str, ...]] = ("hops",)  # what a page runs through (`lineage.paging`)

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.source, "to": self.target, "shortest": self.shortest,
                "hops": [h.to_dict() for h in self.hops]}


def path(
    rg: RegistryGraph, source: str, target: str, day: date, *, category: str | None = None,
    law: Law | None = None, evaluation: Evaluation | None = None,
) -> PathResult:
    """The hops on any route from `source` to `target` on `day` (carrying `category` if given),
    each with its status, plus one shortest route as flow ids (empty when none). `evaluation`:
    the date's full evaluation when the caller keeps one."""
    _need_node(rg, source)
    _need_node(rg, target)
    law = law or load_law()
    if category is not None:
        _need_category(rg, category)
        # In registry order (as flows_carrying gives them): the shortest route picked among
        # equally short ones must not depend on the process's hash seed.
        candidates = [f for f in rg.flows_carrying(category) if f.valid_on(day)]
    else:
        candidates = list(rg.active_flows(day))
    forward = _reach(candidates, source, forward=True)
    backward = _reach(candidates, target, forward=False)
    on_route = [f for f in candidates if f.from_ in forward and f.to in backward]
    shortest = _shortest(on_route, source, target)
    if category is not None:
        hops = _statuses(rg, law, day, on_route, rg.related_used(category), evaluation, len(candidates))
    else:
        usable = evaluation is not None and evaluation.rg is rg and evaluation.day == day
        ev = evaluation if usable else Evaluation(rg, day, law)
        if len(on_route) >= FULL_EVALUATION_SHARE * len(rg.flows):
            ev.hops()  # evaluate every hop at once (rule above), not hop by hop
        hops = [ev.hop(f.id) for f in on_route]
    return PathResult(source, target, hops, shortest)


def _reach(candidates: list[Flow], start: str, *, forward: bool) -> set[str]:
    step: dict[str, list[str]] = {}
    for f in candidates:
        a, b = (f.from_, f.to) if forward else (f.to, f.from_)
        step.setdefault(a, []).append(b)
    seen, queue = {start}, deque([start])
    while queue:
        for nxt in step.get(queue.popleft(), ()):
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _shortest(on_route: list[Flow], source: str, target: str) -> list[str]:
    out_of: dict[str, list[Flow]] = {}
    for f in on_route:
        out_of.setdefault(f.from_, []).append(f)
    came: dict[str, Flow | None] = {source: None}
    queue = deque([source])
    while queue and target not in came:
        node = queue.popleft()
        for f in out_of.get(node, ()):
            if f.to not in came:
                came[f.to] = f
                queue.append(f.to)
    if target not in came or source == target:
        return []
    chain, node = [], target
    while (f := came[node]) is not None:
        chain.append(f.id)
        node = f.from_
    return chain[::-1]
