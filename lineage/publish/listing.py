"""The published sub-processor list on any day: who receives data, what for, where, under what.

`SubprocessorHistory` reads a registry's revisions up to one of them, dates every sub-processor
flow (`lineage.publish.timeline`) and answers `entries(day)`: one `PublicEntry` per party with a
flow running that day, its facts read from the revision that describes the flow and its
transfer tools judged by the engine (`Evaluation`) on that revision and day.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from lineage.api import Flowreg
from lineage.evaluation import Evaluation
from lineage.graph import RegistryGraph, build_graph
from lineage.holdings import FOREVER, NEVER, holdings_of
from lineage.law import Law
from lineage.publish.timeline import Version, flow_versions, revision_day
from lineage.publish.words import hop_words
from lineage.reports.model import texts
from registry.ids import PartyKind
from registry.model import Flow, Mechanism, Party, Registry
from registry.revisions import RevisionInfo


@dataclass(frozen=True)
class PublicEntry:
    """One sub-processor (or affiliate acting as one) as the public list shows it on a day."""

    party: str
    name: str
    kind: str
    country: str | None
    locations: tuple[str, ...]
    purposes: tuple[str, ...]
    categories: tuple[str, ...]
    category_names: tuple[str, ...]
    tools: tuple[tuple[str, str], ...]  # (regime, words), in the law file's regime order
    url: str | None
    notice_given: date | None
    flows: tuple[str, ...]

    @property
    def affiliate(self) -> bool:
        return self.kind == PartyKind.AFFILIATE.value

    def comparable(self) -> dict[str, Any]:
        """What a customer may object to a change of (fields of `lineage.publish.changes`)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "country": self.country,
            "processing_countries": self.locations,
            "purposes": tuple(sorted(self.purposes)),
            "categories": tuple(sorted(self.categories)),
            "tools": self.tools,
        }


class SubprocessorHistory:
    """The sub-processor flows of a registry's revisions up to one, dated, ready to list any day.

    `versions` come from `flow_versions`; `graphs` holds the graph of every revision a version
    is read from (and of the last revision, whose registry is the one published).
    """

    def __init__(self, infos: list[RevisionInfo], versions: list[Version], graphs: dict[int, RegistryGraph],
                 law: Law) -> None:
        self.law = law
        self.infos = {info.number: info for info in infos}
        self.revision = infos[-1]
        self.registry: Registry = graphs[self.revision.number].registry
        self.versions = versions
        self.graphs = graphs
        self._evaluations: dict[tuple[int, date], Evaluation] = {}
        self._party_days: dict[str, frozenset[date]] | None = None
        self._by_party: dict[str, list[Version]] | None = None
        self._order: dict[str, int] | None = None

    @classmethod
    def load(cls, fr: Flowreg, rev: int | None = None) -> SubprocessorHistory:
        """Revisions 1..`rev` (default the head) of `fr`'s store; NotFoundError when missing.

        Two passes, so memory holds one revision's graph at a time while the flows are dated:
        then only the graphs of the revisions some version is read from are built again."""
        head = fr.revision(rev)
        infos = [info for info in fr.store.history() if info.number <= head.number]
        last = fr.graph(head.number)

        def graphs() -> Iterator[tuple[RevisionInfo, RegistryGraph]]:
            for info in infos:
                yield info, (last if info.number == head.number else _graph(fr, info.number))

        versions = flow_versions(graphs())
        wanted = {v.revision for v in versions} - {head.number}
        kept = {number: _graph(fr, number) for number in sorted(wanted)}
        kept[head.number] = last
        return cls(infos, versions, kept, fr.law)

    # --- dates -------------------------------------------------------------------------------
    @property
    def notice_days(self) -> int:
        return self.registry.notice_days

    def revision_day(self, number: int) -> date:
        return revision_day(self.infos[number])

    @property
    def first_day(self) -> date:
        """The day of the first revision."""
        return self.revision_day(min(self.infos))

    @property
    def record_start(self) -> date:
        """The day the record begins: the first revision's day, or an earlier dated start.
        Sub-processors listed before it have been there "since before the record"."""
        starts = [v.start for v in self.versions if v.start is not None]
        return min([self.first_day, *starts])

    def boundaries(self) -> list[date]:
        """Every day the list may change on: a version starts or ends, the law changes, or a
        dated fact that a sub-processor hop's verdict reads begins or ends (`party_days`)."""
        days = set(self.law.boundary_dates())
        for party_days in self.party_days().values():
            days |= party_days
        return sorted(days)

    def party_days(self) -> dict[str, frozenset[date]]:
        """Party id -> the days besides the law's on which its entry may change: its versions
        start or end, or a dated fact its hops' verdicts read begins or ends (`_tool_dates`, `_regime_dates`). On any other
        day its entry is the one of the day before, so the change list judges only the
        parties whose day it is (at 10k flows, a few per day instead of all of them)."""
        if self._party_days is None:
            found: dict[str, set[date]] = {}
            upstream: dict[tuple[int, str], frozenset[date]] = {}
            for v in self.versions:
                days = found.setdefault(v.party, set())
                days.update(d for d in (v.start, v.end) if d is not None)
                rg = self.graphs[v.revision]
                flow = rg.flows[v.flow]
                days.update(_tool_dates(rg, flow))
                key = (v.revision, flow.from_, rg.carried_used[flow.id])
                if key not in upstream:
                    upstream[key] = frozenset(_regime_dates(rg, self.law, flow))
                days |= upstream[key]
            self._party_days = {party: frozenset(days) for party, days in found.items()}
        return self._party_days

    # --- the list ----------------------------------------------------------------------------
    def entries(self, day: date, parties: Collection[str] | None = None) -> dict[str, PublicEntry]:
        """The sub-processors receiving data on `day`, by party id (registry order); only those
        among `parties` when given."""
        running: dict[str, list[Version]] = {}
        for v in self._versions_of(parties):
            if v.runs_on(day):
                running.setdefault(v.party, []).append(v)
        out = {}
        for party_id in sorted(running, key=self.party_order):
            out[party_id] = self._entry(running[party_id], day)
        return out

    def _versions_of(self, parties: Collection[str] | None) -> list[Version]:
        if parties is None:
            return self.versions
        if self._by_party is None:
            self._by_party = {}
            for v in self.versions:
                self._by_party.setdefault(v.party, []).append(v)
        return [v for party in parties for v in self._by_party.get(party, ())]

    def party_order(self, party_id: str) -> tuple[int, str]:
        """Sort key: the registry's order of parties, then the id (a party no longer listed)."""
        if self._order is None:
            self._order = {p.id: index for index, p in enumerate(self.registry.parties)}
        return (self._order.get(party_id, len(self._order)), party_id)

    def _entry(self, versions: list[Version], day: date) -> PublicEntry:
        newest = max(v.revision for v in versions)
        rg = self.graphs[newest]
        party = rg.registry.get(versions[0].party)
        assert isinstance(party, Party)
        tools: dict[str, list[str]] = {}
        flows = []
        for v in versions:
            vrg = self.graphs[v.revision]
            flows.append(vrg.flows[v.flow])
            hop = self._evaluation(v.revision, day).hop(v.flow)
            for regime, words in hop_words(vrg, self.law, hop).items():
                tools.setdefault(regime, [])
                if words not in tools[regime]:
                    tools[regime].append(words)
        flows.sort(key=lambda f: (rg.order.get(f.id, len(rg.order)), f.id))
        where = {v.flow: self.graphs[v.revision] for v in versions}
        categories = texts(c for f in flows for c in f.carries)
        regimes = [r for r in self.law.regimes if r in tools] + sorted(r for r in tools if r not in self.law.regimes)
        return PublicEntry(
            party=party.id, name=party.name, kind=party.kind.value, country=party.country,
            locations=texts(c for f in flows for c in where[f.id].countries(f.to)),
            purposes=texts(f.purpose for f in flows), categories=categories,
            category_names=tuple(_category_name(self.graphs, versions, c) for c in categories),
            tools=tuple((r, "; ".join(tools[r])) for r in regimes), url=party.url,
            notice_given=party.notice_given, flows=tuple(f.id for f in flows),
        )

    def _evaluation(self, number: int, day: date) -> Evaluation:
        # Days are asked in order, each about once: a few evaluations suffice, and each holds
        # the regime state of a whole revision (large for large registries).
        key = (number, day)
        if key not in self._evaluations:
            while len(self._evaluations) >= 4:
                del self._evaluations[next(iter(self._evaluations))]
            self._evaluations[key] = Evaluation(self.graphs[number], day, self.law)
        return self._evaluations[key]


def _category_name(graphs: dict[int, RegistryGraph], versions: list[Version], category: str) -> str:
    for v in sorted(versions, key=lambda v: -v.revision):
        element = graphs[v.revision].registry.get(category)
        if element is not None:
            return getattr(element, "name", category)
    return category


def _tool_dates(rg: RegistryGraph, flow: Flow) -> Iterator[date]:
    """The dates on which the engine's verdict on `flow` may change because of what it claims:
    the windows of the tools it claims and of its recipient's certifications."""
    for claimed in flow.under:
        mechanism = rg.registry.get(claimed)
        if isinstance(mechanism, Mechanism):
            yield from (d for d in (mechanism.valid_from, mechanism.valid_until) if d is not None)
    party = rg.organisation(flow.to)
    for cert in party.certifications if party is not None else ():
        yield from (d for d in (cert.valid_from, cert.valid_until) if d is not None)


def _regime_dates(rg: RegistryGraph, law: Law, flow: Flow) -> Iterator[date]:
    """The dates besides the law's on which the regimes of what `flow` sends may change: where
    an interval begins or ends in which its source holds one of the categories it carries
    (`lineage.holdings`: every upstream flow's window and retention is already in these), and
    the windows of the source's incoming flows with the holdings of their sources, which decide
    whether the data arrives that day or is kept from earlier deliveries (`safeguards._at_rest`
    says which)."""
    holdings = holdings_of(rg, law)
    carried = rg.carried_used[flow.id]

    def held_days(node: str, categories: Iterable[str]) -> Iterator[date]:
        for category in categories:
            for _, days in holdings.of(category).get(node, ()):
                yield from (date.fromordinal(d) for d in days if NEVER < d < FOREVER)

    yield from held_days(flow.from_, carried)
    for incoming in rg.in_flows(flow.from_):
        yield from (d for d in (incoming.valid_from, incoming.valid_until) if d is not None)
        # what its source holds matters only while the incoming flow runs
        shared = (c for c in rg.carried_used[incoming.id] if c in carried)
        yield from (d for d in held_days(incoming.from_, shared) if incoming.valid_on(d))


def _graph(fr: Flowreg, number: int) -> RegistryGraph:
    """An older revision's graph, built here rather than through `fr.graph`, whose small cache
    serves the dashboard's current revisions."""
    return build_graph(Registry.from_content(fr.store.get(number).content))
