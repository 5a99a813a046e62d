"""All hop statuses of one registry revision on one date, computed once and reused.

`Evaluation` is what the queries, findings and reports share. The regimes come from the graph's
holdings (`lineage.holdings`: what each category's data holds where and when, computed once per
graph and category and shared by every date); a hop's status is judged on first use.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from functools import cached_property
from typing import Any, Protocol

from lineage.graph import RegistryGraph
from lineage.law import Law, load_law
from lineage.regimes import RegimeState, propagate
from lineage.safeguards import evaluate_hop
from lineage.status import HopStatus
from registry.gcpause import paused_gc
from registry.model import Element, Flow


class Keeper(Protocol):
    """Keeps what an evaluation computed at a cost, for later processes (`lineage.snapshots`):
    its `hops()` (key "hops") and its derived answers (e.g. "findings")."""

    def kept(self, evaluation: Evaluation, key: str) -> Any:
        """What was kept under `key` for this revision, date and law; None if nothing."""

    def keep(self, evaluation: Evaluation, key: str, value: Any, seconds: float) -> None:
        """Keep `value`, which took `seconds` to compute, if it is worth it."""


class Evaluation:
    """Statuses of every flow active on `day`."""

    def __init__(self, rg: RegistryGraph, day: date, law: Law | None = None) -> None:
        self.rg = rg
        self.day = day
        self.law = law or load_law()
        self._hops: dict[str, HopStatus] = {}
        self.complete = False  # every active hop evaluated (by `hops`)
        self._all: list[HopStatus] | None = None  # `hops`, once complete
        # Whole-date answers derived from these statuses, kept by the module that derives them
        # (e.g. the findings): they live and die with the evaluation, so never go stale.
        self.derived: dict[str, Any] = {}
        # Set by the API when snapshots are kept: what was costly is read from and kept there.
        self.keeper: Keeper | None = None

    @cached_property
    def state(self) -> RegimeState:
        with paused_gc():  # the state stays cached (registry/gcpause.py)
            return propagate(self.rg, self.law, self.day)

    def hop(self, flow_id: str) -> HopStatus:
        """The status of one flow (which must be active on the date)."""
        if flow_id not in self._hops:
            flow = self.rg.flows[flow_id]
            self._hops[flow_id] = evaluate_hop(self.rg, self.law, self.state, flow, self.day)
        return self._hops[flow_id]

    def hops(self) -> list[HopStatus]:
        """Every active flow's status, in registry order."""
        if self._all is None:
            kept = self.keeper.kept(self, "hops") if self.keeper is not None else None
            if kept is not None:  # the same revision, date and law: the same statuses
                self._hops.update((h.flow, h) for h in kept)
                self._all = kept
            else:
                started = time.perf_counter()
                with paused_gc():  # the statuses stay cached (registry/gcpause.py)
                    self._all = [self.hop(f.id) for f in self.rg.active_flows(self.day)]
                if self.keeper is not None:
                    self.keeper.keep(self, "hops", self._all, time.perf_counter() - started)
            self.complete = True
        return list(self._all)

    def derive(self, key: str, compute: Callable[[], Any]) -> Any:
        """The whole-date answer `key` (e.g. "findings"), computed by `compute` once and kept
        in `derived` (and by the keeper, if it is worth it).

        >>> from lineage.graph import build_graph
        >>> from registry.loader import load_registry_file
        >>> ev = Evaluation(build_graph(load_registry_file("tests/fixtures/northwind.yaml")), date(2021, 1, 1))
        >>> ev.derive("count", lambda: len(ev.hops())) == ev.derive("count", lambda: -1)
        True
        """
        found = self.derived.get(key)
        if found is None and self.keeper is not None:
            found = self.keeper.kept(self, key)
        if found is None:
            started = time.perf_counter()
            with paused_gc():  # whole-date answers stay with the evaluation (registry/gcpause.py)
                found = compute()
            if self.keeper is not None:
                self.keeper.keep(self, key, found, time.perf_counter() - started)
        self.derived[key] = found
        return found


    def extended(self, rg: RegistryGraph, added: Mapping[str, Sequence[Element]]) -> Evaluation | None:
        """This date's evaluation of `rg`, which is `self.rg` with the `added` elements
        (`lineage.graph.extend_graph`), reusing every hop that did not change.

        Returns None when the addition may change hops that already existed: anything but new
        subject groups, parties, systems and flows (a new mechanism or certification scope can
        cover old hops), or a new flow into a node that data leaves on any date (what it brings
        would travel on, now or after it is kept). A new flow into a sink changes what is held
        only at its two ends, for the data it carries, and no existing hop reads those: that is
        the sub-processor case (`lineage.holdings.Holdings.extended`). `self` is not changed.
        """
        if set(added) - {"subjects", "parties", "systems", "flows"}:
            return None
        flows = [f for f in added.get("flows", ()) if isinstance(f, Flow)]
        if any(f.from_ == f.to or next(rg.out_flows(f.to), None) is not None for f in flows):
            return None
        out = Evaluation(rg, self.day, self.law)
        if "state" not in self.__dict__ and not self.complete:
            return out  # nothing computed yet: the new one computes lazily too
        # A complete evaluation read from a snapshot has no state yet: reading it loads the
        # graph's kept holdings (`RegistryGraph.holdings_from`), far cheaper than judging
        # every hop of the new graph again.
        state = self.state
        key = (state.holdings.labels.regimes, self.law.areas_key)
        holdings = rg.holdings.get(key)
        if holdings is None:  # the first cached date to be carried over extends the holdings
            holdings = rg.holdings[key] = state.holdings.extended(rg, flows)
        changed = [(node, c) for f in flows for node in (f.from_, f.to) for c in rg.carried_used[f.id]]
        # The verdict memo is shared: a verdict depends on the ends and claims it is keyed by.
        out.__dict__["state"] = state.extended(holdings, changed)
        out._hops = dict(self._hops)
        if self.complete:
            for flow in flows:
                if flow.valid_on(self.day):
                    out.hop(flow.id)
            out.complete = True
        return out


def evaluate(rg: RegistryGraph, day: date, law: Law | None = None) -> Evaluation:
    """Evaluate a registry graph on a date.

    >>> from registry.loader import load_registry_file
    >>> from lineage.graph import build_graph
    >>> ev = evaluate(build_graph(load_registry_file("tests/fixtures/northwind.yaml")), date(2021, 1, 1))
    >>> ev.hop("web-to-mailer").status.value
    'covered'
    """
    return Evaluation(rg, day, law)
