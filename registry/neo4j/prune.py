"""Which revisions' graphs the Neo4j store keeps materialised, and pruning the others.

The policy: the history (every revision's content, hash and signature) is never deleted; only
the materialised graphs that queries read are. `flowreg neo4j prune --keep N` keeps the graphs
of the newest N revisions and of every revision those graphs are made of (a registration's
graph is its parent's plus its own elements: `graph_revs`, and the delta `base` chain it is
rebuilt on), and drops every other graph. A dropped graph is marked 'pruned', so the first
query of that revision materialises it again from its content (`Neo4jStore.ensure_graph`,
which treats 'pruned' as it treats 'pending'):
answers about old revisions stay exact, they only cost a rebuild the first time. Nothing is
pruned on its own: a million-flow graph takes minutes to delete, which must not fall on the
writer of a new revision, so pruning is an explicit, scheduled step.

While a graph is being dropped, a query that had already found it ready may read part of it:
prune when no one queries the revisions being dropped (the head's graph is always kept).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from registry.errors import FlowregError
from registry.neo4j.graph import drop_graph

if TYPE_CHECKING:
    from registry.neo4j.store import Neo4jStore

DEFAULT_KEEP = 10


@dataclass(frozen=True)
class RevisionGraph:
    """What pruning reads of one revision: its graph's state, the revisions its graph is made
    of (`revs`) and the revision it is stored as a delta on (`base`)."""

    number: int
    state: str | None
    revs: tuple[int, ...]
    base: int | None


@dataclass(frozen=True)
class PrunePlan:
    """The revisions whose graphs stay, and those whose graphs go (both ascending)."""

    kept: tuple[int, ...]
    dropped: tuple[int, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"kept": list(self.kept), "dropped": list(self.dropped)}


def prune_plan(revisions: Mapping[int, RevisionGraph], keep: int) -> PrunePlan:
    """Which graphs to keep and which to drop when the newest `keep` revisions' graphs stay.

    Kept: the newest `keep` revisions and, transitively, every revision in their `revs` and
    their `base` chains. Dropped: every other revision that may hold a graph or part of one
    ('ready', or 'pending': never built, or cut short); an 'invalid' or 'pruned' one has none.

    >>> r = {1: RevisionGraph(1, "ready", (1,), None), 2: RevisionGraph(2, "ready", (1, 2), 1),
    ...      3: RevisionGraph(3, "ready", (3,), None), 4: RevisionGraph(4, "invalid", (4,), None),
    ...      5: RevisionGraph(5, "ready", (5,), None), 6: RevisionGraph(6, "ready", (5, 6), 5)}
    >>> prune_plan(r, 1)
    PrunePlan(kept=(5, 6), dropped=(1, 2, 3))
    """
    if keep < 1:
        raise FlowregError(f"keep: must be at least 1 (the head's graph always stays), not {keep}")
    kept: set[int] = set()
    todo = sorted(revisions, reverse=True)[:keep]
    while todo:
        number = todo.pop()
        if number in kept or number not in revisions:
            continue
        kept.add(number)
        graph = revisions[number]
        todo += [*graph.revs, *([graph.base] if graph.base is not None else [])]
    dropped = [n for n, g in revisions.items() if n not in kept and g.state in ("ready", "pending")]
    return PrunePlan(tuple(sorted(kept)), tuple(sorted(dropped)))


_GRAPHS = ("MATCH (r:Revision) RETURN r.number AS n, r.graph AS graph, r.graph_revs AS revs,"
           " r.base AS base ORDER BY n")


def revision_graphs(store: Neo4jStore) -> dict[int, RevisionGraph]:
    """Every revision's graph state, as `prune_plan` reads it."""
    rows = store.read(lambda tx: [(r["n"], r["graph"], r["revs"], r["base"]) for r in tx.run(_GRAPHS)],
                      doing="reading the graphs on")
    # A revision materialised before `graph_revs` existed has a graph of its own elements.
    return {n: RevisionGraph(n, state, tuple(revs or [n]), base) for n, state, revs, base in rows}


def prune_graphs(store: Neo4jStore, keep: int = DEFAULT_KEEP, *, dry_run: bool = False,
                 on_drop: Callable[[int, int], None] | None = None) -> PrunePlan:
    """Drop the graphs `prune_plan` names (oldest first) and mark them 'pruned', unless
    `dry_run`; the plan either way. `on_drop(number, deleted)` is told of each graph dropped
    and how many nodes and relationships went with it (progress)."""
    plan = prune_plan(revision_graphs(store), keep)
    if not dry_run:
        for number in plan.dropped:
            deleted = drop_graph(store, number, "pruned")
            if on_drop is not None:
                on_drop(number, deleted)
    return plan
