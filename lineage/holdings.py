"""Data at rest: which regimes protect each category's data at each node, over time.

DESIGN.md rules 1 and 2. A regime attaches to data where it comes under it: collected from
subjects located in the regime's area, or held by a system or party located there. It stays with
the data: a recipient holds what a flow brought it, with the regimes the flow carried on each
day it ran, until that day plus the retention (the flow's `retention_days`, else the receiving
system's, else indefinitely; 0 = held only while the flow runs; the end is exclusive), and the
holder's onward flows carry them meanwhile. A held regime lasts only while the place where the
data came under it is still inside that regime's area: UK subjects' data left EU protection on
2021-01-01, EEA subjects' data held in the UK did not (Withdrawal Agreement Art. 71).

The unit of work is an interval of days. A *label* is a regime together with the days on which
the place where data came under it lies inside the regime's area (EEA -> eu always; GB -> eu
until 2021-01-01 and uk from then; CH -> ch): places with the same history share labels, so a
law has a handful. For each (node, used category id), `hold` gives per label the sorted,
disjoint day intervals [start, end) on which the node holds data under it. That answer does not
depend on the date asked, so `Holdings` computes it once per registry graph and category (on
first use: categories never interact), and a date's regimes are a lookup (`Holdings.mask`).

Reading of the rule (where the words leave room): a flow carries, on each day it runs, the
labels its source holds that day; data that came under a label keeps only that label, so UK
subjects' data collected in 2020 and held abroad carries EU protection until 2020-12-31 and no
UK protection afterwards (rule 2: "the regimes the flow carried on each day it ran"), while a
holder in the UK attaches UK GDPR itself from 2021-01-01 on the days it holds the data (rule 1).
"""

from __future__ import annotations

import pickle
import weakref
from bisect import bisect_right
from collections import defaultdict, deque
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import Any, NamedTuple

from lineage.graph import RegistryGraph
from lineage.law import Law
from registry.gcpause import paused_gc
from registry.model import Flow, System

NEVER = -(10**9)  # a day before every date (a flow without valid_from)
FOREVER = 10**9  # a day after every date (no valid_until, no retention)

Interval = tuple[int, int]  # [start, end) in date ordinals
# (label, days held) per label: the days a flat tuple of sorted, disjoint, non-adjacent
# [start, end) pairs (tuples of ints leave the cyclic garbage collector's view, see `_frozen`).
Held = tuple[tuple[int, tuple[int, ...]], ...]


class Span(NamedTuple):
    """A flow of one category, in days: it runs on [start, end), and its target keeps what it
    delivers on day d until d + 1 + keep (exclusive); `keep` is FOREVER without a retention."""

    source: str
    target: str
    start: int
    end: int
    keep: int


def add_interval(intervals: list[Interval], start: int, end: int) -> list[Interval]:
    """Add [start, end) to a sorted list of disjoint, non-adjacent intervals (in place, merging);
    return the pieces of it that were not covered before.

    >>> days = [(1, 3), (6, 8)]
    >>> add_interval(days, 2, 7), days
    ([(3, 6)], [(1, 8)])
    """
    lo = bisect_right(intervals, (start, FOREVER + 1))
    if lo and intervals[lo - 1][1] >= start:
        lo -= 1
    hi, cursor, first, last, new = lo, start, start, end, []
    while hi < len(intervals) and intervals[hi][0] <= end:
        a, b = intervals[hi]
        if a > cursor:
            new.append((cursor, a))
        cursor = max(cursor, b)
        first, last = min(first, a), max(last, b)
        hi += 1
    if cursor < end:
        new.append((cursor, end))
    if new or hi - lo != 1:
        intervals[lo:hi] = [(first, last)]
    return new


def covers(intervals: Sequence[Interval], day: int) -> bool:
    """Whether `day` lies in one of the sorted, disjoint intervals."""
    i = bisect_right(intervals, (day, FOREVER + 1)) - 1
    return i >= 0 and intervals[i][1] > day


def _extend(end: int, keep: int) -> int:
    return FOREVER if end >= FOREVER or keep >= FOREVER else end + keep


def hold(spans: Sequence[Span], own: Mapping[str, Sequence[int]],
         windows: Sequence[Sequence[Interval]], cyclic: Container[str] | None = None) -> dict[str, Held]:
    """The labels each node holds, and on which days, for the data of one category.

    `spans` are the category's flows; `own[node]` the labels of the place a node is in (rule 1:
    attached on every day the node holds the category: the days its incoming flows' deliveries
    are kept, and the days it sends it on); `windows[label]` the days a label can hold;
    `cyclic`, when known, a superset of the nodes that lie on a cycle of flows that never end.
    A flow carries, on each day it runs, the labels its source holds that day.

    This is the least fixpoint, found with a worklist that moves only what is new. It ends on
    cycles too: every interval end is a date of the input (a flow's start or end, with a
    retention added) or FOREVER, except where data circles through flows that never end; past
    the last date of the input (`horizon`) nothing changes any more, so data that reaches a
    cycle of such flows with a retention of two days or more would be kept for ever (each
    round trip restarts its clock) and is set to FOREVER at once. Below the horizon a round trip
    adds at least a day, so a cycle is walked at most once per day up to the horizon.

    >>> spans = [Span("eea", "app", NEVER, FOREVER, 0), Span("app", "bank", 10, 20, 4)]
    >>> hold(spans, {"eea": [0]}, [[(NEVER, FOREVER)]])["bank"]
    ((0, (10, 24)),)
    """
    out_of: dict[str, list[Span]] = defaultdict(list)
    presence: dict[str, list[Interval]] = {}
    finite = [v for w in windows for iv in w for v in iv]
    for span in spans:
        out_of[span.source].append(span)
        end = _extend(span.end, span.keep)
        finite += (span.start, span.end, end)
        # Only a node with a place inside some area needs to know when it holds the data.
        if span.source in own:
            add_interval(presence.setdefault(span.source, []), span.start, span.end)
        if span.target in own:
            add_interval(presence.setdefault(span.target, []), span.start, end)
    horizon = max((v for v in finite if NEVER < v < FOREVER), default=0)
    pumping: set[str] | None = None

    held: dict[str, dict[int, list[Interval]]] = {}
    pending: dict[str, dict[int, list[Interval]]] = {}
    queue: deque[str] = deque()

    def attach(node: str, label: int, start: int, end: int) -> None:
        nonlocal pumping
        for low, high in windows[label]:
            s, e = max(start, low), min(end, high)
            if s >= e:
                continue
            if horizon < e < FOREVER:
                if pumping is None:
                    pumping = _pumping([x for x in spans if cyclic is None or x.source in cyclic and x.target in cyclic])
                if node in pumping:
                    e = FOREVER
            at = held.get(node)
            if at is None:
                at = held[node] = {}
            days = at.get(label)
            if days is None:
                at[label] = [(s, e)]
                new = [(s, e)]
            elif len(days) == 1 and days[0][0] <= s and e <= days[0][1]:
                continue  # already held then: the common case
            else:
                new = add_interval(days, s, e)
                if not new:
                    continue
            delta = pending.get(node)
            if delta is None:
                delta = pending[node] = {}
                queue.append(node)
            found = delta.get(label)
            if found is None:
                delta[label] = new
            else:
                found += new

    for node, days in presence.items():
        for label in own[node]:
            for s, e in days:
                attach(node, label, s, e)
    while queue:
        node = queue.popleft()
        delta = pending.pop(node)
        for span in out_of.get(node, ()):
            start, stop, keep, target = span.start, span.end, span.keep, span.target
            for label, pieces in delta.items():
                for s, e in pieces:
                    if s < start:
                        s = start
                    if e > stop:
                        e = stop
                    if s < e:
                        attach(target, label, s, FOREVER if e >= FOREVER or keep >= FOREVER else e + keep)
    return {node: _frozen(at) for node, at in held.items()}


def _frozen(held: dict[int, list[Interval]]) -> Held:
    """Nested tuples of ints, which any collection of the cyclic garbage collector stops
    tracking (a dict or list of them would stay tracked): holdings live as long as their graph,
    and at 100k flows they would otherwise add a million objects to every full collection."""
    return tuple((label, tuple(v for interval in days for v in interval)) for label, days in held.items())


def pairs(days: Sequence[int]) -> list[Interval]:
    """A flat (start, end, start, end, ...) sequence as intervals.

    >>> pairs((1, 3, 6, 8))
    [(1, 3), (6, 8)]
    """
    return [(days[i], days[i + 1]) for i in range(0, len(days), 2)]


def holding(days: Sequence[int], day: int) -> int:
    """The end of the interval of a flat pair sequence that holds `day`, or 0."""
    if days[0] <= day < days[1]:
        return days[1]
    lo, hi = 0, len(days) // 2  # the last pair starting on or before `day`
    while lo < hi:
        mid = (lo + hi) // 2
        if days[2 * mid] <= day:
            lo = mid + 1
        else:
            hi = mid
    return days[2 * lo - 1] if lo and days[2 * lo - 1] > day else 0


def last_end(days: Sequence[int], lo: int, hi: int) -> int:
    """The end of the last part of a flat pair sequence inside [lo, hi), or 0 when none is.

    >>> last_end((1, 3, 6, 8), 0, 7), last_end((1, 3, 6, 8), 3, 6), last_end((1, 3, 6, 8), 2, 20)
    (7, 0, 8)
    """
    for i in range(len(days) - 2, -1, -2):
        start, end = days[i], days[i + 1]
        if start < hi and end > lo:
            return min(end, hi)
    return 0


def _pumping(spans: Sequence[Span]) -> set[str]:
    """Nodes on a cycle of flows that never end, one of which keeps data two days or more: data
    held there after every date of the input goes round for ever (see `hold`)."""
    succ: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for span in spans:
        if span.end >= FOREVER:
            succ[span.source].append((span.target, span.keep))
    out: set[str] = set()
    for component in _components(succ):
        members = set(component)
        if any(keep > 0 and target in members for node in component for target, keep in succ.get(node, ())):
            out |= members
    return out


def on_cycles(edges: Iterable[tuple[str, str]]) -> set[str]:
    """The nodes that lie on some cycle of the given edges (a self-loop counts).

    >>> sorted(on_cycles([("a", "b"), ("b", "a"), ("b", "c"), ("d", "d")]))
    ['a', 'b', 'd']
    """
    succ: dict[str, list[tuple[str, int]]] = defaultdict(list)
    loops = set()
    for source, target in edges:
        succ[source].append((target, 0))
        if source == target:
            loops.add(source)
    out = set(loops)
    for component in _components(succ):
        if len(component) > 1:
            out.update(component)
    return out


def _components(succ: Mapping[str, list[tuple[str, int]]]) -> list[list[str]]:
    """Strongly connected components (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in list(succ):
        if root in index:
            continue
        work: list[tuple[str, Iterator[tuple[str, int]]]] = [(root, iter(succ.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            step = next(edges, None)
            if step is not None:
                target = step[0]
                if target not in index:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(succ.get(target, ()))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                found.append(component)
    return found


# --- labels ---------------------------------------------------------------------------------
def _ordinal(day: date | None, default: int) -> int:
    return default if day is None else day.toordinal()


class Labels:
    """A law's labels: each a regime and the days a place lies inside its area.

    >>> from lineage.law import load_law
    >>> labels = Labels(load_law())
    >>> [labels.regimes[labels.regime[i]] for i in labels.of_countries(("GB",))]
    ['eu', 'uk']
    """

    def __init__(self, law: Law) -> None:
        self.law = law
        self.regimes: tuple[str, ...] = tuple(law.regimes)
        self.regime: list[int] = []  # label -> index of its regime
        self.bit: list[int] = []  # label -> 1 << that index
        self.windows: list[tuple[Interval, ...]] = []
        self._index: dict[tuple[int, tuple[Interval, ...]], int] = {}
        self._places: dict[str, tuple[int, ...]] = {}
        # Every place the law knows, in one order: label numbers then depend on the law alone,
        # not on which place a process met first, so kept holdings (`lineage.snapshots`) mean
        # the same in any process.
        for place in ("EEA", *law.places()):
            self.of_place(place)

    def of_place(self, place: str) -> tuple[int, ...]:
        cached = self._places.get(place)
        if cached is None:
            out = []
            for regime, periods in self.law.area_periods(place).items():
                days: list[Interval] = []
                for start, until in periods:
                    add_interval(days, _ordinal(start, NEVER), _ordinal(until, FOREVER))
                key = (self.regimes.index(regime), tuple(days))
                if key not in self._index:
                    self._index[key] = len(self.windows)
                    self.regime.append(key[0])
                    self.bit.append(1 << key[0])
                    self.windows.append(key[1])
                out.append(self._index[key])
            cached = self._places[place] = tuple(sorted(out))
        return cached

    def defined(self) -> list[tuple[int, tuple[Interval, ...]]]:
        """Each label's regime index and windows, by label number."""
        return list(zip(self.regime, self.windows, strict=True))

    def of_countries(self, countries: Sequence[str]) -> tuple[int, ...]:
        if len(countries) == 1:
            return self.of_place(countries[0])
        return tuple(sorted({label for c in countries for label in self.of_place(c)}))


_LABELS: dict[tuple, Labels] = {}


def labels_of(law: Law) -> Labels:
    """The labels of a law, shared by every law with the same regimes and areas."""
    key = (tuple(law.regimes), law.areas_key)
    found = _LABELS.get(key)
    if found is None:
        found = _LABELS[key] = Labels(law)
    return found


# --- per registry graph ---------------------------------------------------------------------
class _Layered(Mapping[str, Held]):
    """A category's holdings with a few nodes replaced (a registration), without copying."""

    def __init__(self, top: dict[str, Held], base: Mapping[str, Held]) -> None:
        self.top, self.base = top, base

    def __getitem__(self, node: str) -> Held:
        found = self.top.get(node)
        return self.base[node] if found is None else found

    def get(self, node: str, default: Held | None = None) -> Held | None:  # type: ignore[override]
        found = self.top.get(node)
        return self.base.get(node, default) if found is None else found

    def __iter__(self) -> Iterator[str]:
        yield from self.top
        yield from (node for node in self.base if node not in self.top)

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def depth(self) -> int:
        return 1 + (self.base.depth() if isinstance(self.base, _Layered) else 0)


class Holdings:
    """What every used category's data holds where and when, for one registry graph and law;
    each category is computed on first use (`hold`) and kept."""

    def __init__(self, rg: RegistryGraph, labels: Labels) -> None:
        # The graph keeps its holdings (`RegistryGraph.holdings`); a weak reference back keeps
        # the pair out of a reference cycle, so a graph dropped from a cache is freed at once
        # rather than at the next full collection.
        self._rg = weakref.ref(rg)
        self.labels = labels
        self._held: dict[str, Mapping[str, Held]] = {}
        # Categories read from a snapshot and not asked for yet, each pickled on its own: a
        # query about one category unpickles that one, not the whole registry's holdings.
        self._kept: dict[str, bytes] = {}
        self._spans: dict[str, Span] = {}
        self._own: dict[str, tuple[int, ...]] = {}
        self._cyclic: set[str] | None = None

    @property
    def rg(self) -> RegistryGraph:
        rg = self._rg()
        if rg is None:
            raise RuntimeError("the registry graph of these holdings is gone")
        return rg

    @property
    def cyclic(self) -> set[str]:
        """The nodes on some cycle of flows that never end (any category), found once: data can
        only go round for ever there (`hold`), so each category looks for such cycles among
        these nodes only."""
        if self._cyclic is None:
            self._cyclic = on_cycles((f.from_, f.to) for f in self.rg.flows.values() if f.valid_until is None)
        return self._cyclic

    def span(self, flow: Flow) -> Span:
        found = self._spans.get(flow.id)
        if found is None:
            days = flow.retention_days
            if days is None:
                target = self.rg.element(flow.to)
                days = target.retention_days if isinstance(target, System) else None
            keep = FOREVER if days is None else max(days - 1, 0)
            found = self._spans[flow.id] = Span(
                flow.from_, flow.to, _ordinal(flow.valid_from, NEVER), _ordinal(flow.valid_until, FOREVER), keep)
        return found

    def own(self, node: str) -> tuple[int, ...]:
        found = self._own.get(node)
        if found is None:
            found = self._own[node] = self.labels.of_countries(self.rg.countries(node))
        return found

    def of(self, category: str) -> Mapping[str, Held]:
        """node -> label -> day intervals, for one used category id."""
        found = self._held.get(category)
        if found is None and self._kept:
            blob = self._kept.pop(category, None)
            if blob is not None:
                with paused_gc():  # the holdings stay with the graph (registry/gcpause.py)
                    found = self._held[category] = pickle.loads(blob)
            else:  # another thread may have read it just now
                found = self._held.get(category)
        if found is None:
            known, span = self._spans, self.span
            spans = [known.get(f.id) or span(f) for f in self.rg.flows_by_used.get(category, ())]
            own: dict[str, tuple[int, ...]] = {}
            for s in spans:
                for node in (s.source, s.target):
                    if node not in own:
                        own[node] = self.own(node)
            own = {node: labels for node, labels in own.items() if labels}
            with paused_gc():  # the holdings stay with the graph (registry/gcpause.py)
                found = self._held[category] = hold(spans, own, self.labels.windows, self.cyclic)
        return found

    def mask(self, node: str, category: str, day: int) -> int:
        """The regimes (bits over `labels.regimes`) of the category's data at `node` on the day
        (a date ordinal)."""
        by_node = self._held.get(category)
        if by_node is None:
            by_node = self.of(category)
        held = by_node.get(node)
        if not held:
            return 0
        out, bits = 0, self.labels.bit
        for label, days in held:
            bit = bits[label]
            if not out & bit and holding(days, day):
                out |= bit
        return out

    def kept_until(self, node: str, category: str, day: int, bit: int) -> int:
        """The first day (ordinal; FOREVER: none) on which the category's data under the regime
        `bit` that `node` holds on `day` is no longer held (0: not held that day).

        Only what was delivered by `day` counts: the held intervals join what flows starting
        later will deliver, which is not the data held now, and no answer about a date may
        depend on a flow that has not started by then (the Neo4j backend reads no other)."""
        by_node = self.of(category)
        held = [(label, days) for label, days in by_node.get(node) or () if self.labels.bit[label] == bit]
        labels = {label for label, _ in held}
        merged = max((holding(days, day) for _, days in held), default=0)
        if not merged:
            return 0
        rg, delivered = self.rg, 0
        for flow in rg.in_flows(node):
            span = self.span(flow)
            if span.start > day or category not in rg.carried_used[flow.id]:
                continue
            for label, days in by_node.get(span.source) or ():
                if label in labels:
                    last = last_end(days, span.start, min(span.end, day + 1))
                    if last:
                        delivered = max(delivered, min(last + span.keep, FOREVER))
        return min(merged, delivered) if delivered > day else merged

    def own_mask(self, node: str, day: int) -> int:
        """The regimes the node's own place attaches on the day (rule 1)."""
        out, bits, windows = 0, self.labels.bit, self.labels.windows
        for label in self.own(node):
            if covers(windows[label], day):
                out |= bits[label]
        return out

    def exported(self) -> dict[str, Any]:
        """What has been computed so far, as plain data with each category pickled on its own
        (`lineage.snapshots` keeps it; `restored` unpickles a category when it is asked for)."""
        held = dict(self._kept)
        for category, found in self._held.items():
            plain = dict(found.items()) if isinstance(found, _Layered) else found
            held[category] = pickle.dumps(plain, protocol=pickle.HIGHEST_PROTOCOL)
        return {"labels": self.labels.defined(), "held": held, "spans": self._spans, "own": self._own,
                "cyclic": self._cyclic}

    @classmethod
    def restored(cls, rg: RegistryGraph, labels: Labels, data: Mapping[str, Any]) -> Holdings | None:
        """The holdings of `rg` from `exported()` output of the same graph; None unless
        `labels` number the labels as they were numbered then."""
        kept = data["labels"]
        if labels.defined()[:len(kept)] != kept:
            return None
        out = cls(rg, labels)
        out._kept, out._spans, out._own, out._cyclic = dict(data["held"]), data["spans"], data["own"], data["cyclic"]
        return out

    def extended(self, rg: RegistryGraph, flows: Sequence[Flow]) -> Holdings:
        """The holdings of `rg`, which is this graph plus `flows`, each into a node no flow
        leaves (the caller checks): such a flow changes holdings at its two ends only. Its
        target gains what it delivers; its source holds the data on the days it sends it, and
        its own place's labels on those days go nowhere else (the source's other flows run on
        days it held the data already). Categories not computed yet are computed from `rg`."""
        for category in [c for c in self._kept if any(c in rg.carried_used[f.id] for f in flows)]:
            self.of(category)  # read from its snapshot: the new flows change it
        out = Holdings(rg, self.labels)
        out._kept = dict(self._kept)  # the categories no new flow carries stay as they are
        out._spans, out._own = self._spans, self._own  # flows and places already known do not change
        out._cyclic = self._cyclic  # a flow into a node no flow leaves closes no cycle
        windows = self.labels.windows
        for category, held in self._held.items():
            top: dict[str, Held] = {}
            for flow in flows:
                if category not in rg.carried_used[flow.id]:
                    continue
                span = out.span(flow)
                source = _copy(top.get(span.source) or held.get(span.source))
                for label in out.own(span.source):
                    _attach(source, label, span.start, span.end, windows)
                target = _copy(top.get(span.target) or held.get(span.target))
                end = _extend(span.end, span.keep)
                for label in out.own(span.target):
                    _attach(target, label, span.start, end, windows)
                for label, intervals in source.items():
                    for s, e in intervals:
                        s, e = max(s, span.start), min(e, span.end)
                        if s < e:
                            _attach(target, label, s, _extend(e, span.keep), windows)
                top[span.source], top[span.target] = _frozen(source), _frozen(target)
            if not top:
                out._held[category] = held
            elif isinstance(held, _Layered) and held.depth() >= 8:
                out._held[category] = {**dict(held.items()), **top}
            else:
                out._held[category] = _Layered(top, held)
        return out


def _copy(held: Held | None) -> dict[int, list[Interval]]:
    return {label: pairs(days) for label, days in held or ()}


def _attach(held: dict[int, list[Interval]], label: int, start: int, end: int, windows: Sequence[Sequence[Interval]]) -> None:
    for low, high in windows[label]:
        s, e = max(start, low), min(end, high)
        if s < e:
            add_interval(held.setdefault(label, []), s, e)


def holdings_of(rg: RegistryGraph, law: Law) -> Holdings:
    """The holdings of a registry graph under a law's areas, made once per graph and areas."""
    labels = labels_of(law)
    key = (labels.regimes, law.areas_key)
    found = rg.holdings.get(key)
    if found is None:
        kept = rg.holdings_from(rg, labels, law) if rg.holdings_from is not None else None
        found = rg.holdings[key] = kept if isinstance(kept, Holdings) else Holdings(rg, labels)
    return found
