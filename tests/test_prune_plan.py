"""Which Neo4j graphs `flowreg neo4j prune` keeps (`registry.neo4j.prune.prune_plan`): a pure
function of the revisions' graph states, so its rules are checked here without a server
(tests/test_neo4j_delta.py prunes a real one)."""

from __future__ import annotations

import pytest

from registry.errors import FlowregError
from registry.neo4j.prune import PrunePlan, RevisionGraph, prune_plan


def graphs(*rows: tuple[int, str | None, tuple[int, ...], int | None]) -> dict[int, RevisionGraph]:
    return {n: RevisionGraph(n, state, revs, base) for n, state, revs, base in rows}


def test_the_newest_revisions_and_what_their_graphs_are_made_of_stay() -> None:
    history = graphs((1, "ready", (1,), None), (2, "ready", (1, 2), 1), (3, "ready", (1, 2, 3), 2),
                     (4, "ready", (4,), None), (5, "ready", (4, 5), 4))
    assert prune_plan(history, 1) == PrunePlan((4, 5), (1, 2, 3))
    assert prune_plan(history, 3) == PrunePlan((1, 2, 3, 4, 5), ())  # 3 is made of 1 and 2
    assert prune_plan(history, 99) == PrunePlan((1, 2, 3, 4, 5), ())


def test_a_pending_delta_keeps_its_base_chain_it_is_rebuilt_on() -> None:
    # Revision 3's graph was never built, so its graph_revs is only itself; it is rebuilt on 2,
    # which is rebuilt on 1.
    history = graphs((1, "ready", (1,), None), (2, "ready", (1, 2), 1), (3, "pending", (3,), 2))
    assert prune_plan(history, 1) == PrunePlan((1, 2, 3), ())


def test_only_graphs_that_may_exist_are_dropped() -> None:
    history = graphs((1, "invalid", (1,), None), (2, "pruned", (2,), None), (3, "pending", (3,), None),
                     (4, None, (4,), None), (5, "ready", (5,), None))
    assert prune_plan(history, 1) == PrunePlan((5,), (3,))


def test_keep_must_leave_the_head() -> None:
    with pytest.raises(FlowregError, match="keep: must be at least 1"):
        prune_plan(graphs((1, "ready", (1,), None)), 0)


def test_an_empty_history_prunes_nothing() -> None:
    assert prune_plan({}, 10) == PrunePlan((), ())
