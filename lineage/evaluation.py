"""All hop statuses of one registry revision on one date, computed once and reused.

`Evaluation` is what the queries, findings and reports share: the full regime propagation is
made on first use; a category query instead propagates only that category's data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from functools import cached_property

from lineage.graph import RegistryGraph
from lineage.law import Law, load_law
from lineage.regimes import RegimeState, location_mask, propagate
from lineage.safeguards import evaluate_hop
from lineage.status import HopStatus
from registry.gcpause import paused_gc
from registry.model import Element, Flow


class Evaluation:
    """Statuses of every flow active on `day`."""

    def __init__(self, rg: RegistryGraph, day: date, law: Law | None = None) -> None:
        self.rg = rg
        self.day = day
        self.law = law or load_law()
        self._hops: dict[str, HopStatus] = {}
        self.complete = False  # every active hop evaluated (by `hops`)

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
        with paused_gc():  # the statuses stay cached (registry/gcpause.py)
            out = [self.hop(f.id) for f in self.rg.active_flows(self.day)]
        self.complete = True
        return out


    def extended(self, rg: RegistryGraph, added: Mapping[str, Sequence[Element]]) -> Evaluation | None:
        """This date's evaluation of `rg`, which is `self.rg` with the `added` elements
        (`lineage.graph.extend_graph`), reusing every hop that did not change.

        Returns None when the addition may change hops that already existed: anything but new
        subject groups, parties, systems and flows (a new mechanism or certification scope can
        cover old hops), or a new flow into a node that data leaves on this date (regimes would
        travel on). A new flow into a sink changes the regime state only at its two ends, for
        the data it carries, and no existing hop reads those: that is the sub-processor case.
        `self` is not changed.
        """
        if set(added) - {"subjects", "parties", "systems", "flows"}:
            return None
        day = self.day
        flows = [f for f in added.get("flows", ()) if isinstance(f, Flow) and f.valid_on(day)]
        if any(next(rg.out_flows(f.to, day), None) is not None for f in flows):
            return None
        out = Evaluation(rg, day, self.law)
        if "state" not in self.__dict__:
            return out  # nothing computed yet: the new one computes lazily too
        state = self.state
        masks = dict(state.masks)
        regimes = state.regimes
        for flow in flows:
            source = location_mask(self.law, regimes, rg.countries(flow.from_), day)
            target = location_mask(self.law, regimes, rg.countries(flow.to), day)
            for category in rg.carried_used[flow.id]:
                masks_at = masks.get((flow.from_, category), 0) | source
                if masks_at:
                    masks[(flow.from_, category)] = masks_at
                if masks_at | target:
                    masks[(flow.to, category)] = masks.get((flow.to, category), 0) | masks_at | target
        # The verdict memo is shared: a verdict depends on the ends and claims it is keyed by.
        out.__dict__["state"] = RegimeState(regimes, masks, state.verdicts)
        out._hops = dict(self._hops)
        if self.complete:
            for flow in flows:
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
