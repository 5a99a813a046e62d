"""All hop statuses of one registry revision on one date, computed once and reused.

`Evaluation` is what the queries, findings and reports share: the full regime propagation is
made on first use; a category query instead propagates only that category's data.
"""

from __future__ import annotations

from datetime import date
from functools import cached_property

from lineage.graph import RegistryGraph
from lineage.law import Law, load_law
from lineage.regimes import RegimeState, propagate
from lineage.safeguards import evaluate_hop
from lineage.status import HopStatus
from registry.gcpause import paused_gc


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


def evaluate(rg: RegistryGraph, day: date, law: Law | None = None) -> Evaluation:
    """Evaluate a registry graph on a date.

    >>> from registry.loader import load_registry_file
    >>> from lineage.graph import build_graph
    >>> ev = evaluate(build_graph(load_registry_file("tests/fixtures/northwind.yaml")), date(2021, 1, 1))
    >>> ev.hop("web-to-mailer").status.value
    'covered'
    """
    return Evaluation(rg, day, law)
