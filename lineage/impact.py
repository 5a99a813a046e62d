"""Impact: what depends on a party, system, subject group, mechanism or framework on a date."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from lineage.evaluation import Evaluation
from lineage.graph import RegistryGraph
from lineage.law import Law
from registry.errors import NotFoundError
from registry.ids import FRAMEWORK_IDS
from registry.model import Flow, Mechanism


@dataclass(frozen=True)
class Impact:
    """What a node touches: the hops at it, the data in them, whose data it is, who gets it next."""

    node: str
    kind: str
    nodes: list[str]
    categories: list[str]
    subjects: list[str]
    hops_in: list[str]
    hops_out: list[str]
    downstream_hops: list[str]
    onward_recipients: list[str]
    mechanisms: list[str]
    # The lists a page of the answer runs through, in order (`lineage.paging.page_sections`).
    PAGED: ClassVar[tuple[str, ...]] = ("categories", "subjects", "hops_in", "hops_out",
                                        "downstream_hops", "onward_recipients", "mechanisms")

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def impact(rg: RegistryGraph, node: str, day: date, *, law: Law | None = None) -> Impact:
    """What depends on `node` on `day`.

    For a party, its own systems count as part of it; for a mechanism or framework, the hops
    that claim or rely on it are the hops "at" it. `subjects` are the groups whose data reaches
    those hops; `onward_recipients` the parties the data reaches after them.

    >>> from registry.loader import load_registry_file
    >>> from lineage.graph import build_graph
    >>> rg = build_graph(load_registry_file("tests/fixtures/northwind.yaml"))
    >>> i = impact(rg, "northwind-inc", date(2020, 8, 1))
    >>> i.subjects, i.onward_recipients
    (['subscribers-eea'], ['bouncer'])
    """
    kind = rg.registry.kind_of(node) or ("framework" if node in FRAMEWORK_IDS else None)
    if kind not in ("party", "system", "subject", "mechanism", "framework"):
        raise NotFoundError(f"unknown party, system, subject group, mechanism or framework '{node}'")
    if kind in ("mechanism", "framework"):
        active = list(rg.active_flows(day))
        ev = Evaluation(rg, day, law)
        relying = [f for f in active if node in f.under or node in ev.hop(f.id).basis]
        members = set()
        element = rg.registry.get(node)
        if isinstance(element, Mechanism):
            members = set(element.members)
        return _around(rg, node, kind, sorted(members), hops_in=relying, hops_out=relying, day=day)

    nodes = {node}
    if kind == "party":
        nodes |= {s.id for s in rg.registry.systems if s.owner == node}
    hops_in = [f for n in sorted(nodes) for f in rg.in_flows(n, day)]
    hops_out = [f for n in sorted(nodes) for f in rg.out_flows(n, day)]
    return _around(rg, node, kind, sorted(nodes), hops_in=hops_in, hops_out=hops_out, day=day)


def _around(
    rg: RegistryGraph, node: str, kind: str, nodes: list[str], *,
    hops_in: list[Flow], hops_out: list[Flow], day: date,
) -> Impact:
    own = set(nodes)
    upstream, _ = _walk(rg, day, [(f.from_, c) for f in hops_in for c in rg.carried_used[f.id]], forward=False)
    _, downstream_flows = _walk(rg, day, [(f.to, c) for f in hops_out for c in rg.carried_used[f.id]], forward=True)
    subjects = sorted({n for n in upstream if rg.node_kind(n) == "subject"})
    if kind == "subject":
        subjects = [node]
    onward = sorted({
        org.id for f in downstream_flows + hops_out
        if (org := rg.organisation(f.to)) is not None and org.id not in own and f.to not in own
    })
    categories = sorted({c for f in hops_in + hops_out for c in f.carries})
    mechanisms = sorted({
        m.id for m in rg.registry.mechanisms if own & set(m.members)
    }) if kind == "party" else nodes if kind == "mechanism" else []
    if kind == "framework":
        mechanisms = [node]
    return Impact(
        node=node, kind=kind, nodes=nodes if kind in ("party", "system", "subject") else [],
        categories=categories, subjects=subjects,
        hops_in=_ids(rg, hops_in), hops_out=_ids(rg, hops_out),
        downstream_hops=_ids(rg, downstream_flows), onward_recipients=onward, mechanisms=mechanisms,
    )


def _ids(rg: RegistryGraph, flows: Iterable[Flow]) -> list[str]:
    return sorted({f.id for f in flows}, key=rg.order.__getitem__)


def _walk(
    rg: RegistryGraph, day: date, starts: list[tuple[str, str]], *, forward: bool
) -> tuple[set[str], list[Flow]]:
    """The nodes reachable from `starts` ((node, category) pairs) along flows that carry the
    category, and the flows walked. Only flows at visited nodes are read.

    The categories that reached a node are one bit mask, so a node is expanded once per new
    set of categories, not once per category (a hub reached with hundreds of categories would
    otherwise have all its flows read hundreds of times).
    """
    bits: dict[str, int] = {}
    at_node: dict[str, list[tuple[Flow, int]]] = {}

    def bit(category: str) -> int:
        if category not in bits:
            bits[category] = 1 << len(bits)
        return bits[category]

    reached: dict[str, int] = {}
    for node, category in starts:
        reached[node] = reached.get(node, 0) | bit(category)
    queue = deque(reached)
    expanded: dict[str, int] = {}
    picked: dict[str, Flow] = {}
    while queue:
        node = queue.popleft()
        fresh = reached[node] & ~expanded.get(node, 0)
        if not fresh:
            continue
        expanded[node] = reached[node]
        steps = at_node.get(node)
        if steps is None:  # read once; a node gaining categories later is expanded again
            steps = at_node[node] = [
                (f, sum(bit(c) for c in rg.carried_used[f.id]))
                for f in (rg.out_flows(node, day) if forward else rg.in_flows(node, day))
            ]
        for f, mask in steps:
            moved = mask & fresh
            if not moved:
                continue
            picked.setdefault(f.id, f)
            nxt = f.to if forward else f.from_
            before = reached.get(nxt, 0)
            if moved & ~before:
                reached[nxt] = before | moved
                queue.append(nxt)
    return set(reached), list(picked.values())
