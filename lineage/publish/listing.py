"""The published sub-processor list on any day: who receives data, what for, where, under what.

`SubprocessorHistory` reads a registry's revisions up to one of them, dates every sub-processor
flow (`lineage.publish.timeline`) and answers `entries(day)`: one `PublicEntry` per party with a
flow running that day, its facts read from the revision that describes the flow and its
transfer tools judged by the engine (`Evaluation`) on that revision and day.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import networkx as nx

from lineage.api import Flowreg
from lineage.days import add_days
from lineage.evaluation import Evaluation
from lineage.graph import RegistryGraph, build_graph
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
        dated fact that a sub-processor hop's verdict reads begins or ends (`_dated_facts`)."""
        days = set(self.law.boundary_dates())
        for v in self.versions:
            days.update(d for d in (v.start, v.end) if d is not None)
        for number, rg in self.graphs.items():
            flows = [rg.flows[v.flow] for v in self.versions if v.revision == number]
            days.update(_dated_facts(rg, flows))
        return sorted(days)

    # --- the list ----------------------------------------------------------------------------
    def entries(self, day: date) -> dict[str, PublicEntry]:
        """The sub-processors receiving data on `day`, by party id (registry order)."""
        running: dict[str, list[Version]] = {}
        for v in self.versions:
            if v.runs_on(day):
                running.setdefault(v.party, []).append(v)
        out = {}
        for party_id in sorted(running, key=self._party_order):
            out[party_id] = self._entry(running[party_id], day)
        return out

    def _party_order(self, party_id: str) -> tuple[int, str]:
        ids = [p.id for p in self.registry.parties]
        return (ids.index(party_id) if party_id in ids else len(ids), party_id)

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


def _dated_facts(rg: RegistryGraph, flows: list[Flow]) -> Iterator[date]:
    """The dates on which the engine's verdict on one of `flows` may change besides the law's:
    the windows of the tools they claim and of their recipients' certifications, and those of
    every flow that can bring data to their sources (regimes travel along flows), with the end
    of what such a flow's recipient keeps (DESIGN.md: data stays where it went for its
    retention). Other flows cannot reach these hops, so their dates change nothing here."""
    sources = {f.from_ for f in flows if f.from_ in rg.graph}
    upstream = set(sources)
    for node in sources:
        upstream |= nx.ancestors(rg.graph, node)
    for flow in flows:
        for claimed in flow.under:
            mechanism = rg.registry.get(claimed)
            if isinstance(mechanism, Mechanism):
                yield from (d for d in (mechanism.valid_from, mechanism.valid_until) if d is not None)
        party = rg.organisation(flow.to)
        for cert in party.certifications if party is not None else ():
            yield from (d for d in (cert.valid_from, cert.valid_until) if d is not None)
    for node in upstream:
        for flow in rg.in_flows(node):
            yield from (d for d in (flow.valid_from, flow.valid_until) if d is not None)
            element = rg.element(flow.to)
            keep = flow.retention_days if flow.retention_days is not None else getattr(element, "retention_days", None)
            if flow.valid_until is not None and keep:
                yield add_days(flow.valid_until, keep)


def _graph(fr: Flowreg, number: int) -> RegistryGraph:
    """An older revision's graph, built here rather than through `fr.graph`, whose small cache
    serves the dashboard's current revisions."""
    return build_graph(Registry.from_content(fr.store.get(number).content))
