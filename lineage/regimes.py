"""Which regimes protect which data where, on a date: a day's view of `lineage.holdings`.

A regime attaches to data collected from subjects located in its area, or held by a system or
party located there; it then travels along every flow that carries that data and stays with it
while the data is kept (GDPR Art. 44: protection travels with the data; DESIGN.md rules 1-2).
State is tracked per (node, used category id), where a flow of category X moves every used id
in X's subtree. That is exact: a flow of an ancestor carries the descendants, and a flow of a
descendant moves only its own part.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lineage.graph import RegistryGraph
from lineage.holdings import FOREVER, Holdings, holdings_of
from lineage.law import Law


@dataclass(frozen=True)
class RegimeState:
    """Regimes (bit masks over `regimes`) per (node, used category id) on one date, read from
    the graph's holdings on first use and remembered.

    `categories`, when given, limits the state to those used ids (others hold nothing here).
    `verdicts` is a memo the safeguard engine keeps for this registry, law and date: many hops
    share their ends' countries, organisations and claims, and so their per-regime verdict.
    """

    regimes: tuple[str, ...]
    holdings: Holdings
    day: date
    categories: frozenset[str] | None = None
    verdicts: dict[tuple, Any] = field(default_factory=dict, compare=False, repr=False)
    memo: MutableMapping[tuple[str, str], int] = field(default_factory=dict, compare=False, repr=False)
    # What arrives on the date, per node and category (see `arriving`).
    fresh: dict[str, dict[str, int]] = field(default_factory=dict, compare=False, repr=False)
    # The graph, held for as long as the state is (the holdings refer to it weakly).
    graph: RegistryGraph | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.graph is None:
            object.__setattr__(self, "graph", self.holdings.rg)

    def mask(self, node: str, categories: Iterable[str]) -> int:
        memo, wanted, out = self.memo, self.categories, 0
        ordinal = self.day.toordinal()
        for category in categories:
            if wanted is not None and category not in wanted:
                continue
            key = (node, category)
            found = memo.get(key)
            if found is None:
                found = memo[key] = self.holdings.mask(node, category, ordinal)
            out |= found
        return out

    def arriving(self, node: str, categories: Iterable[str], among: int = -1) -> int:
        """The part of `mask(node, categories)` (limited to the regimes `among`) that comes to
        the node on the date itself: its own place's regimes (rule 1), and those its active
        incoming flows bring. The rest is data the node keeps from earlier deliveries (data at
        rest, rule 2)."""
        out = self.holdings.own_mask(node, self.day.toordinal()) & among
        if out == among:
            return out
        per_category = self.fresh.get(node)
        if per_category is None:  # one pass over the node's incoming flows serves every category
            per_category = self.fresh[node] = {}
            rg, wanted = self.graph, self.categories
            for flow in rg.in_flows(node, self.day):
                source = flow.from_
                for category in rg.carried_used[flow.id]:
                    if wanted is None or category in wanted:
                        per_category[category] = per_category.get(category, 0) | self.mask(source, (category,))
        for category in categories:
            out |= per_category.get(category, 0) & among
        return out

    def kept_until(self, node: str, categories: Iterable[str], regime: str) -> date | None:
        """The last day the categories' data under `regime` is still held at the node, from the
        date on (None: no retention limit)."""
        bit = 1 << self.regimes.index(regime)
        ordinal = self.day.toordinal()
        end = max((self.holdings.kept_until(node, c, ordinal, bit) for c in categories
                   if self.categories is None or c in self.categories), default=0)
        return None if end >= FOREVER else date.fromordinal(end - 1)

    def names(self, mask: int) -> tuple[str, ...]:
        return tuple(r for i, r in enumerate(self.regimes) if mask >> i & 1)

    def at(self, node: str, categories: Iterable[str]) -> tuple[str, ...]:
        """The regimes that protect the given categories' data at `node`."""
        return self.names(self.mask(node, categories))

    @property
    def masks(self) -> dict[tuple[str, str], int]:
        """Every (node, used category id) whose data carries a regime on the date, and its mask
        (computes every category the state covers: for tests and inspection)."""
        used = self.holdings.rg.used if self.categories is None else self.categories & self.holdings.rg.used
        out = {}
        for category in sorted(used):
            for node in self.holdings.of(category):
                mask = self.mask(node, (category,))
                if mask:
                    out[(node, category)] = mask
        return out

    def judged_afresh(self) -> RegimeState:
        """The same regimes with an empty verdict memo (to judge under another law or tools)."""
        return RegimeState(self.regimes, self.holdings, self.day, self.categories, {}, self.memo, self.fresh)

    def extended(self, holdings: Holdings, changed: Iterable[tuple[str, str]]) -> RegimeState:
        """This date's state over `holdings`, which differ from this state's at the `changed`
        (node, category) pairs only: every mask already looked up is reused, not copied (what
        arrives where is looked up afresh: a new flow changes it at its target)."""
        own: dict[tuple[str, str], int] = {}
        base = self.memo
        if isinstance(base, ChainMap) and len(base.maps) >= 8:
            base = dict(base)
        memo = ChainMap(own, *(base.maps if isinstance(base, ChainMap) else (base,)))
        state = RegimeState(self.regimes, holdings, self.day, self.categories, self.verdicts, memo)
        ordinal = self.day.toordinal()
        for node, category in changed:
            own[(node, category)] = holdings.mask(node, category, ordinal)
        return state


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
    """The regimes each category's data carries at each node on `day`: what flows brought
    there and is still kept, and what the node's own place attaches (`lineage.holdings`).

    With `categories` (used category ids), only those are tracked: the answer for them is the
    same as a full run, and the work is limited to the flows that carry them. The holdings
    behind the answer are computed once per graph and category and shared by every date.

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
    holdings = holdings_of(rg, law)
    wanted = None if categories is None else frozenset(categories)
    return RegimeState(holdings.labels.regimes, holdings, day, wanted)
