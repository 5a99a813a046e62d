"""The query layer of the Neo4j backend: the embedded engine's answers, selected on the server.

Every query runs in two steps. Cypher (`lineage.neo4j.select`) finds, on the server, the part of
the revision's graph the question touches: the flows that carry the category's data on the date,
what is reachable from a node, the hops on routes between two nodes, the per-category walks of
an impact, plus the flows upstream of every hop whose status is asked for (regimes travel with
the data and stay while it is kept, so a hop's status depends on where its data came from, by
every flow that started by the date, including those that have ended since). Then the partial registry is
handed to the SAME pure functions the embedded backend uses (`lineage.queries`, `lineage.impact`,
`lineage.findings`, `lineage.whatif`), so statuses, reasons and orderings are identical by
construction, not by a second implementation.

Why the partial answer is exact: regimes only move forward along flows and forward in time, so
the regimes a node holds on a date depend only on the flows that can reach it and started by
that date (`lineage.holdings`); every selection below includes all of those for the nodes whose
hops are evaluated, and never a flow the whole registry does not have. Registry order is kept
(`Part.registry`), so ties break the same way.

Only the answers that cover every hop of the date (`hops`, `findings`, the what-if comparisons)
read every flow that started by that date; `what_if_add` validates the merged registry and so reads the
whole revision, as the embedded backend does.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from lineage import findings as findings_mod
from lineage import impact as impact_mod
from lineage import queries, whatif
from lineage.evaluation import Evaluation
from lineage.graph import RegistryGraph, build_graph
from lineage.law import Law
from lineage.neo4j import select as sel
from lineage.status import HopStatus
from registry.ids import FRAMEWORK_IDS
from registry.model import Registry
from registry.neo4j.store import Neo4jStore

T = TypeVar("T")


def adequacy_destinations(law: Law, basis: str) -> list[str]:
    """Countries an adequacy decision cites as `basis` covers (its framework, else its name)."""
    out: list[str] = []
    for decision in law.data.adequacy:
        if (decision.framework or decision.instrument) == basis:
            for name in decision.destination:
                out += law.data.groups[name[1:]] if name.startswith("@") else [name]
    return list(dict.fromkeys(out))


class Neo4jQueries:
    """`Flowreg`'s query methods on a Neo4jStore (same names, arguments and answers)."""

    def __init__(self, store: Neo4jStore, law: Law) -> None:
        self.store = store
        self.law = law
        self._lock = threading.Lock()
        self._active: OrderedDict[tuple[str, date], RegistryGraph] = OrderedDict()
        self._evaluations: OrderedDict[tuple[str, date], Evaluation] = OrderedDict()

    # --- plumbing ----------------------------------------------------------------------------
    def _select(self, rev: int | None, work: Callable[[Any, list[int], sel.Part], None]) -> RegistryGraph:
        """Run `work(tx, revs, part)` in one read transaction on revision `rev`'s graph
        (materialised first if needed; `revs`: the revisions whose elements make it up) and
        build the partial graph it gathered."""
        state = self.store.ensure_graph_state(rev)

        def run(tx: Any) -> sel.Part:
            part = sel.new_part(tx, state.info.number)
            work(tx, state.revs, part)
            return part

        return build_graph(self.store.read(run, doing="querying").registry())

    def _cached(self, cache: OrderedDict, key: Any, make: Callable[[], T]) -> T:
        with self._lock:
            if key in cache:
                cache.move_to_end(key)
                return cache[key]
        value = make()
        with self._lock:
            cache[key] = value
            while len(cache) > 8:
                cache.popitem(last=False)
        return value

    def graph_as_of(self, day: date, rev: int | None = None, *, extra: tuple[str, ...] = ()) -> RegistryGraph:
        """Every flow that started by `day` with what evaluating and checking them needs (the
        rules, agreements, assessments and the organisation's own parties too): the whole answer
        of `hops` and `findings` covers each hop active on `day`, and their regimes depend on
        every flow that started by then."""
        def work(tx: Any, revs: list[int], part: sel.Part) -> None:
            sel.add_flows(tx, revs, part, sel.started_flows(tx, revs, day))
            named = sel.add_rules(tx, revs, part)
            sel.add_record(tx, revs, part)
            sel.complete(tx, revs, part, nodes=extra, categories=named)

        if extra:
            return self._select(rev, work)
        key = (self.store.revision_info(rev).hash, day)
        return self._cached(self._active, key, lambda: self._select(rev, work))

    def evaluation(self, day: date, number: int | None = None) -> Evaluation:
        """All hop statuses of a revision on a date (reads every flow that started by then)."""
        key = (self.store.revision_info(number).hash, day)
        return self._cached(self._evaluations, key,
                            lambda: Evaluation(self.graph_as_of(day, number), day, self.law))

    # --- queries -----------------------------------------------------------------------------
    def flows(self, category: str, day: date, *, from_node: str | None = None, rev: int | None = None) -> list[HopStatus]:
        """`lineage.queries.flows`: the category's flows that started by the date are an index
        seek; with `from_node`, what it reaches is a quantified path pattern, and the flows
        upstream of that (which decide the statuses) a server-side breadth-first walk."""
        def work(tx: Any, revs: list[int], part: sel.Part) -> None:
            related = sel.related(tx, revs, category)
            if related is not None:
                if from_node is None:
                    chosen = sel.category_flows(tx, revs, related, day, started=True)
                else:
                    reached = sel.reach(tx, revs, from_node, day, related, forward=True)
                    chosen = sel.closure(tx, revs, reached, day, related, forward=False)
                sel.add_flows(tx, revs, part, chosen)
            sel.complete(tx, revs, part, nodes=[from_node] if from_node else [], categories=[category])

        rg = self._select(rev, work)
        return queries.flows(rg, category, day, from_node=from_node, law=self.law)

    def hops(self, day: date, *, rev: int | None = None) -> list[HopStatus]:
        """Every active hop's status (the answer covers every hop of the date)."""
        return self.evaluation(day, rev).hops()

    def recipients(self, category: str, day: date, *, rev: int | None = None) -> list[queries.Recipient]:
        """`lineage.queries.recipients` on the category's active flows (an index seek)."""
        def work(tx: Any, revs: list[int], part: sel.Part) -> None:
            related = sel.related(tx, revs, category)
            if related is not None:
                sel.add_flows(tx, revs, part, sel.category_flows(tx, revs, related, day))
            sel.complete(tx, revs, part, categories=[category])

        return queries.recipients(self._select(rev, work), category, day)

    def path(self, source: str, target: str, day: date, *, category: str | None = None,
             rev: int | None = None) -> queries.PathResult:
        """`lineage.queries.path`: the hops on routes are found by two quantified path patterns
        (forward from `source`, backward from `target`) in one query; the flows upstream of
        those hops are added for their statuses."""
        def work(tx: Any, revs: list[int], part: sel.Part) -> None:
            related = None
            if category is not None:
                related = sel.related(tx, revs, category)
                if related is None:
                    sel.complete(tx, revs, part, nodes=[source, target])
                    return
            on_route = sel.add_flows(tx, revs, part, sel.route(tx, revs, source, target, day, related))
            upstream = sel.closure(tx, revs, {row.source for row in on_route}, day, related, forward=False)
            sel.add_flows(tx, revs, part, upstream)
            sel.complete(tx, revs, part, nodes=[source, target],
                         categories=[category] if category else [])

        rg = self._select(rev, work)
        return queries.path(rg, source, target, day, category=category, law=self.law)

    def impact(self, node: str, day: date, *, rev: int | None = None) -> impact_mod.Impact:
        """`lineage.impact.impact`: the hops at the node and the per-category walks up- and
        downstream of them run on the server. For a mechanism or framework, the hops that may
        rely on it are selected first and evaluated (with their upstream) to find those that do."""
        def node_work(tx: Any, revs: list[int], part: sel.Part) -> None:
            sel.add_elements(tx, revs, part, [node])
            section = next((s for s, found in part.elements.items() if node in found), None)
            if section in ("parties", "systems", "subjects"):
                own = [node] + (sel.owned_systems(tx, revs, node) if section == "parties" else [])
                rows = sel.add_flows(tx, revs, part, sel.flows_at(tx, revs, own, day))
                ups = [(r.source, u) for r in rows if r.target in own for u in r.used]
                downs = [(r.target, u) for r in rows if r.source in own for u in r.used]
                sel.add_flows(tx, revs, part, sel.walk_pairs(tx, revs, ups, day, forward=False))
                sel.add_flows(tx, revs, part, sel.walk_pairs(tx, revs, downs, day, forward=True))
                bound = sel.binding(tx, revs, own) if section == "parties" else []
                sel.complete(tx, revs, part, nodes=own, mechanisms=bound)
            elif section == "mechanisms" or (section is None and node in FRAMEWORK_IDS):
                countries = adequacy_destinations(self.law, node)
                rows = sel.add_flows(tx, revs, part, sel.relying_candidates(tx, revs, node, countries, day))
                sel.add_flows(tx, revs, part, sel.closure(tx, revs, {r.source for r in rows}, day, None, forward=False))
                sel.complete(tx, revs, part)
            else:
                sel.complete(tx, revs, part)

        rg = self._select(rev, node_work)
        kind = rg.registry.kind_of(node) or ("framework" if node in FRAMEWORK_IDS else None)
        if kind in ("mechanism", "framework"):
            ev = Evaluation(rg, day, self.law)
            relying = [f.id for f in rg.active_flows(day) if node in f.under or node in ev.hop(f.id).basis]
            keep = list(rg.flows)

            def walk_work(tx: Any, revs: list[int], part: sel.Part) -> None:
                # The walk starts from the categories the server recorded for each flow (those of
                # the whole registry), not the partial graph's, which may know fewer.
                rows = sel.add_flows(tx, revs, part, relying)
                downs = [(r.target, u) for r in rows for u in r.used]
                sel.add_flows(tx, revs, part, [*keep, *sel.walk_pairs(tx, revs, downs, day, forward=True)])
                sel.complete(tx, revs, part, nodes=[node])

            rg = self._select(rev, walk_work)
        return impact_mod.impact(rg, node, day, law=self.law)

    def findings(self, day: date, *, rev: int | None = None) -> list[findings_mod.Finding]:
        """Every finding on `day` (the answer covers every active hop, so all are read)."""
        return findings_mod.findings(self.graph_as_of(day, rev), day, law=self.law,
                                     evaluation=self.evaluation(day, rev))

    def what_if_invalidate(self, tool: str, from_day: date, day: date, *, rev: int | None = None) -> whatif.WhatIf:
        """Compares every active hop and finding (reads every flow that started by `day`)."""
        return whatif.invalidate(self.graph_as_of(day, rev, extra=(tool,)), tool, from_day, day, law=self.law)

    def what_if_remove_party(self, party: str, day: date, *, rev: int | None = None) -> whatif.WhatIf:
        """Compares every active hop and finding (reads every flow that started by `day`)."""
        return whatif.remove_party(self.graph_as_of(day, rev, extra=(party,)), party, day, law=self.law)

    def what_if_add(self, proposal: dict[str, Any], day: date, *, rev: int | None = None) -> whatif.WhatIf:
        """The merged registry must validate as a whole, so this reads the whole revision."""
        registry = Registry.from_content(self.store.get(self.store.revision_info(rev).number).content)
        return whatif.add_proposal(build_graph(registry), proposal, day, law=self.law)
