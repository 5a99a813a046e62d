"""Which regimes protect which data where: per-category propagation along flows, as of a date.

A regime attaches to data collected from subjects located in its area, or held by a system or
party located there; it then travels along every flow that carries that data and stays with it
(GDPR Art. 44: protection travels with the data). State is tracked per (node, used category id),
where a flow of category X moves every used id in X's subtree. That is exact: a flow of an
ancestor carries the descendants, and a flow of a descendant moves only its own part.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lineage.graph import RegistryGraph
from lineage.law import Law


@dataclass(frozen=True)
class RegimeState:
    """Regimes (bit masks over `regimes`) per (node, used category id) on one date.

    `verdicts` is a memo the safeguard engine keeps for this registry, law and date: many hops
    share their ends' countries, organisations and claims, and so their per-regime verdict.
    """

    regimes: tuple[str, ...]
    masks: dict[tuple[str, str], int]
    verdicts: dict[tuple, Any] = field(default_factory=dict, compare=False, repr=False)

    def mask(self, node: str, categories: Iterable[str]) -> int:
        out = 0
        for category in categories:
            out |= self.masks.get((node, category), 0)
        return out

    def names(self, mask: int) -> tuple[str, ...]:
        return tuple(r for i, r in enumerate(self.regimes) if mask >> i & 1)

    def at(self, node: str, categories: Iterable[str]) -> tuple[str, ...]:
        """The regimes that protect the given categories' data at `node`."""
        return self.names(self.mask(node, categories))


def location_mask(law: Law, regimes: tuple[str, ...], countries: Iterable[str], day: date) -> int:
    """The regimes whose areas hold any of `countries` ('EEA' counts as the EEA) on `day`."""
    mask = 0
    for country in countries:
        names = {"eu"} if country == "EEA" else law.regimes_at(country, day)
        for i, regime in enumerate(regimes):
            if regime in names:
                mask |= 1 << i
    return mask


def propagate(
    rg: RegistryGraph, law: Law, day: date, categories: Iterable[str] | None = None
) -> RegimeState:
    """Propagate regimes over the flows active on `day`.

    With `categories` (used category ids), only those are tracked: the answer for them is the
    same as a full run, and the work is limited to the flows that carry them.

    >>> from registry.loader import load_registry_text
    >>> reg = load_registry_text('''
    ... flowreg: 1
    ... organization: x
    ... categories: [{id: c, name: C}]
    ... subjects: [{id: eea, name: EEA people, location: EEA}]
    ... parties: [{id: p, name: P, kind: affiliate, country: US}]
    ... systems: [{id: s, name: S, owner: p, country: US}]
    ... flows: [{id: f, from: eea, to: s, carries: [c]}]
    ... ''')
    >>> from lineage.graph import build_graph
    >>> from lineage.law import load_law
    >>> propagate(build_graph(reg), load_law(), date(2024, 1, 1)).at("s", ["c"])
    ('eu',)
    """
    regimes = tuple(law.regimes)
    wanted = None if categories is None else set(categories)
    if wanted is None:
        flows = list(rg.active_flows(day))
    else:
        seen: dict[str, object] = {}
        for used_id in wanted:
            for flow in rg.flows_by_used.get(used_id, ()):
                if flow.valid_on(day):
                    seen.setdefault(flow.id, flow)
        flows = list(seen.values())  # type: ignore[arg-type]

    masks: dict[tuple[str, str], int] = {}
    successors: dict[tuple[str, str], list[str]] = defaultdict(list)
    queue: deque[tuple[str, str]] = deque()
    own_mask: dict[str, int] = {}

    def node_mask(node: str) -> int:
        if node not in own_mask:
            own_mask[node] = location_mask(law, regimes, rg.countries(node), day)
        return own_mask[node]

    def attach(node: str, category: str, mask: int) -> None:
        old = masks.get((node, category), 0)
        if old | mask != old:
            masks[(node, category)] = old | mask
            queue.append((node, category))

    for flow in flows:
        carried = rg.carried_used[flow.id]
        if wanted is not None:
            carried = tuple(c for c in carried if c in wanted)
        source_mask, target_mask = node_mask(flow.from_), node_mask(flow.to)
        for category in carried:
            successors[(flow.from_, category)].append(flow.to)
            if source_mask:
                attach(flow.from_, category, source_mask)
            if target_mask:
                attach(flow.to, category, target_mask)

    while queue:
        node, category = queue.popleft()
        mask = masks[(node, category)]
        for target in successors.get((node, category), ()):
            attach(target, category, mask)
    return RegimeState(regimes, masks)
