"""Flowreg: the one library API the CLI and the dashboard stand on.

It opens the configured store, turns revisions into registries and graphs, and answers queries
on any revision and date. Graphs and evaluations are cached per revision hash (and date), so a
new revision never sees stale answers and repeated questions are answered from memory.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import OrderedDict
from datetime import date
from types import EllipsisType
from typing import Any

from lineage import findings as findings_mod
from lineage import impact as impact_mod
from lineage import queries, whatif
from lineage.evaluation import Evaluation
from lineage.graph import RegistryGraph, build_graph, extend_graph
from lineage.law import Law, load_law
from lineage.paging import Page, page_sections
from lineage.snapshots import Kept, Snapshots, snapshots_for
from lineage.status import HopStatus
from registry.additions import Extension, extension_of
from registry.config import Settings, settings_from_env
from registry.errors import FlowregError, NotFoundError
from registry.gcpause import paused_gc
from registry.model import Registry
from registry.revisions import Revision, RevisionInfo
from registry.store import Store, open_store


class _Lru(OrderedDict):
    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def put(self, key: Any, value: Any) -> Any:
        self[key] = value
        self.move_to_end(key)
        while len(self) > self.size:
            self.popitem(last=False)
        return value


def _neo4j_backend(store: Store, law: Law) -> Any:
    """The Neo4j query layer when `store` is a Neo4jStore, else None (imported lazily: the
    embedded backend must work without the Neo4j driver)."""
    neo4j_store = sys.modules.get("registry.neo4j.store")  # loaded if a Neo4jStore exists
    if neo4j_store is None or not isinstance(store, neo4j_store.Neo4jStore):
        return None
    from lineage.neo4j.queries import Neo4jQueries

    return Neo4jQueries(store, law)


class Flowreg:
    """A registry store plus the engine, with caches keyed by revision hash.

    >>> fr = Flowreg.open()          # doctest: +SKIP
    >>> fr.flows("account.contact", date(2018, 12, 27))  # doctest: +SKIP
    """

    def __init__(self, store: Store, *, law: Law | None = None, snapshots: Snapshots | None = None) -> None:
        self.store = store
        self.law = law or load_law()
        # Costly graphs and evaluations kept on disk for the next run (`lineage.snapshots`).
        self.snapshots = snapshots
        self._lock = threading.RLock()
        # Small caches: at 100k flows one revision's content, graph or evaluation takes
        # hundreds of MB, and an evaluation keeps its graph alive.
        self._graphs: _Lru = _Lru(2)
        self._evaluations: _Lru = _Lru(4)
        self._revisions: _Lru = _Lru(2)
        # Registries this object wrote, by revision hash: validated already, so the graph of a
        # revision just applied is built without reading and validating it back.
        self._written: _Lru = _Lru(1)
        # On a Neo4j store, the registries `registry()` handed out (and `apply` wrote), by
        # revision hash: a change made from one of them is stored as its additions alone.
        self._registries: _Lru = _Lru(2)
        # On a Neo4j store the queries run in Cypher on the server (same methods, same answers);
        # None keeps the embedded engine below.
        self.backend = _neo4j_backend(store, self.law)

    @classmethod
    def open(cls, settings: Settings | None = None, *, create: bool = False) -> Flowreg:
        """Open the store named by the environment (FLOWREG_BACKEND, FLOWREG_DB, NEO4J_*);
        MissingStoreError when there is none and `create` is false."""
        settings = settings or settings_from_env()
        return cls(open_store(settings, create=create), snapshots=snapshots_for(settings))

    def close(self) -> None:
        self.store.close()

    # --- revisions -----------------------------------------------------------------------------
    def _head(self) -> RevisionInfo:
        head = self.store.head()
        if head is None:
            raise NotFoundError("the registry is empty: apply a registry file first (flowreg apply FILE)")
        return head

    def resolved(self, number: int | None) -> tuple[int, str]:
        """A revision's number and chain hash (the head's by default, read without its content,
        which a cached or snapshot graph does not need). Callers go on with the number: the
        head may move meanwhile, and what they build must belong to the hash they key it by."""
        if number is None:
            head = self._head()
            return head.number, head.hash
        return number, self.revision(number).hash

    def revision(self, number: int | None = None) -> Revision:
        """A revision (the head by default); NotFoundError when the store is empty."""
        if number is None:
            number = self._head().number
        with self._lock:
            if number in self._revisions:
                return self._revisions[number]
        with paused_gc():
            revision = self.store.get(number)
        with self._lock:
            return self._revisions.put(number, revision)

    def registry(self, number: int | None = None) -> Registry:
        """The registry of a revision (the head by default), built once per revision.

        On a Neo4j store the queries never need the embedded graph, so only the registry is
        built; a change made from it with `registry.additions.extend_registry` is then applied
        as its additions alone (`apply`)."""
        if self.backend is None:
            return self.graph(number).registry
        revision = self.revision(number)
        with self._lock:
            cached = self._registries.get(revision.hash)
        if cached is not None:
            return cached
        with paused_gc():
            registry = Registry.from_content(revision.content)
        with self._lock:
            return self._registries.put(revision.hash, registry)

    def graph(self, number: int | None = None) -> RegistryGraph:
        """The graph of a revision, built once per revision (or read from its snapshot)."""
        number, key = self.resolved(number)
        with self._lock:
            cached = self._graphs.get(key)
            registry = self._written.get(key) or self._registries.get(key)
        if cached is not None:
            return cached
        rg = self.snapshots.load_graph(key) if self.snapshots and registry is None else None
        if rg is None:
            revision = self.revision(number)
            started = time.perf_counter()
            with paused_gc():
                rg = build_graph(registry or Registry.from_content(revision.content))
            if self.snapshots:
                self.snapshots.save_graph(key, rg, seconds=time.perf_counter() - started)
        if self.snapshots:
            rg.holdings_from = self.snapshots.holdings_reader(key)
        with self._lock:
            self._graphs.put(key, rg)
            self._forget_evaluations()
            return rg

    def evaluation(self, day: date, number: int | None = None) -> Evaluation:
        """All hop statuses of a revision on a date, computed once (or read from a
        snapshot)."""
        number, revision = self.resolved(number)
        rg = self.graph(number)
        key = (revision, day)
        with self._lock:
            cached = self._evaluations.get(key)
        if cached is not None:
            return cached
        made = self._made(key[0], rg, day)
        with self._lock:
            cached = self._evaluations.get(key)
            if cached is None:
                cached = self._evaluations.put(key, made)
                self._forget_evaluations()
        return cached

    def _made(self, revision: str, rg: RegistryGraph, day: date) -> Evaluation:
        """A new evaluation of a date; with snapshots, what a run before computed at a cost is
        read from them, and what this one computes at a cost is kept there."""
        made = Evaluation(rg, day, self.law)
        if self.snapshots is not None:
            made.keeper = Kept(self.snapshots, revision)
        return made

    def _forget_evaluations(self) -> None:
        """Drop evaluations of graphs no longer cached: each keeps its graph alive (hundreds of
        MB at 100k flows). Call with the lock held."""
        for key in [k for k in self._evaluations if k[0] not in self._graphs]:
            del self._evaluations[key]

    # --- queries -------------------------------------------------------------------------------
    def flows(self, category: str, day: date, *, from_node: str | None = None, rev: int | None = None) -> list[HopStatus]:
        if self.backend:
            return self.backend.flows(category, day, from_node=from_node, rev=rev)
        return queries.flows(self.graph(rev), category, day, from_node=from_node, law=self.law,
                             evaluation=self.evaluation(day, rev))

    def hops(self, day: date, *, rev: int | None = None) -> list[HopStatus]:
        if self.backend:
            return self.backend.hops(day, rev=rev)
        return self.evaluation(day, rev).hops()

    def recipients(self, category: str, day: date, *, rev: int | None = None) -> list[queries.Recipient]:
        if self.backend:
            return self.backend.recipients(category, day, rev=rev)
        return queries.recipients(self.graph(rev), category, day)

    def path(self, source: str, target: str, day: date, *, category: str | None = None, rev: int | None = None) -> queries.PathResult:
        if self.backend:
            return self.backend.path(source, target, day, category=category, rev=rev)
        return queries.path(self.graph(rev), source, target, day, category=category, law=self.law,
                            evaluation=self.evaluation(day, rev))

    def impact(self, node: str, day: date, *, rev: int | None = None) -> impact_mod.Impact:
        if self.backend:
            return self.backend.impact(node, day, rev=rev)
        return impact_mod.impact(self.graph(rev), node, day, law=self.law)

    def findings(self, day: date, *, rev: int | None = None) -> list[findings_mod.Finding]:
        if self.backend:
            return self.backend.findings(day, rev=rev)
        return findings_mod.findings(self.graph(rev), day, law=self.law, evaluation=self.evaluation(day, rev))

    # --- pages of whole-registry answers (`lineage.paging`) -------------------------------------
    def findings_page(self, day: date, *, offset: int = 0, limit: int | None = None,
                      rules: tuple[str, ...] = (), severity: str | None = None,
                      rev: int | None = None) -> Page[findings_mod.Finding]:
        """The findings on `day` (only those of `rules` and `severity` when given) from `offset`,
        at most `limit` of them, with the total. FlowregError naming an unknown rule (with the
        known ones) or severity."""
        if rules:
            findings_mod.check_rules(rules, findings_mod.rule_ids(self.registry(rev)))
        if severity is not None and severity not in ("high", "medium", "low"):
            raise FlowregError(f"severity: '{severity}' is not one of high, medium, low")
        wanted = set(rules)
        return Page.of([f for f in self.findings(day, rev=rev)
                        if (not wanted or f.rule in wanted) and severity in (None, f.severity.value)],
                       offset=offset, limit=limit)

    @staticmethod
    def page(answer: impact_mod.Impact | queries.PathResult | whatif.WhatIf, *, offset: int = 0,
             limit: int | None = None) -> tuple[dict[str, Any], Page[tuple[str, Any]]]:
        """An impact, path or what-if answer paged through its long lists (`answer.PAGED`, one
        after the other): (its JSON shape with each list cut to the page, plus total, offset and
        limit; the page of (list name, item) pairs)."""
        return page_sections(answer.to_dict(), type(answer).PAGED, offset=offset, limit=limit)

    def what_if_invalidate(self, tool: str, from_day: date, day: date, *, rev: int | None = None) -> whatif.WhatIf:
        if self.backend:
            return self.backend.what_if_invalidate(tool, from_day, day, rev=rev)
        return whatif.invalidate(self.graph(rev), tool, from_day, day, law=self.law,
                                 evaluation=self.evaluation(day, rev))

    def what_if_remove_party(self, party: str, day: date, *, rev: int | None = None) -> whatif.WhatIf:
        if self.backend:
            return self.backend.what_if_remove_party(party, day, rev=rev)
        return whatif.remove_party(self.graph(rev), party, day, law=self.law)

    def between_dates(self, before: date, after: date, *, rev: int | None = None) -> whatif.WhatIf:
        return whatif.between_dates(self.graph(rev), before, after, law=self.law)

    def what_if_add(self, proposal: dict[str, Any], day: date, *, rev: int | None = None) -> whatif.WhatIf:
        if self.backend:
            return self.backend.what_if_add(proposal, day, rev=rev)
        return whatif.add_proposal(self.graph(rev), proposal, day, law=self.law)

    # --- writes --------------------------------------------------------------------------------
    def apply(
        self, registry: Registry, *, author: str, message: str,
        expected_head: int | None | EllipsisType = ...,
    ) -> Revision:
        """Store a validated registry as a new revision (a stale `expected_head` raises
        StaleHeadError; None means "the store was empty").

        A registry made by `registry.additions.extend_registry` from the registry of revision
        `expected_head` as read here is stored as that change alone where the store can
        (`SqliteStore.append_additions`), and its graph and cached evaluations are extended
        rather than rebuilt: a registration then costs what it adds, not what the registry
        holds.
        """
        extension = extension_of(registry)
        if extension is not None and isinstance(expected_head, int):
            registry._extension = None  # applied once; and no chain of old registries stays alive
            revision = self._apply_extension(registry, extension, author, message, expected_head)
            if revision is not None:
                return revision
        with paused_gc():
            revision = self.store.append(registry.content(), author=author, message=message, expected_head=expected_head)
        with self._lock:
            self._revisions.put(revision.number, revision)
            self._written.put(revision.hash, registry)
            if self.backend is not None:
                self._registries.put(revision.hash, registry)
        return revision

    def _apply_extension(
        self, registry: Registry, extension: Extension, author: str, message: str, base: int
    ) -> Revision | None:
        """The fast path of `apply`; None when it does not apply (then the whole registry is
        written). Only taken when `extension.base` is this object's registry of `base`, so what
        is stored is exactly `registry`."""
        if self.backend is not None:
            return self._apply_additions(registry, extension, author, message, base)
        append_additions = getattr(self.store, "append_additions", None)
        with self._lock:
            base_revision = self._revisions.get(base)
            rg = self._graphs.get(base_revision.hash) if base_revision is not None else None
        if append_additions is None or rg is None or rg.registry is not extension.base:
            return None
        with paused_gc():  # everything made here stays cached (registry/gcpause.py)
            revision = append_additions(extension.additions, author=author, message=message,
                                        expected_head=base)
            new_rg = extend_graph(rg, registry, extension.elements)
            with self._lock:
                self._revisions.put(revision.number, revision)
                if new_rg is None:
                    self._written.put(revision.hash, registry)
                    return revision
                evaluations = [(day, ev) for (hash_, day), ev in self._evaluations.items()
                               if hash_ == base_revision.hash and ev.rg is rg]
                self._graphs.put(revision.hash, new_rg)
                for day, ev in evaluations:
                    extended = ev.extended(new_rg, extension.elements)
                    if extended is not None:
                        self._evaluations.put((revision.hash, day), extended)
                self._forget_evaluations()
        return revision

    def _apply_additions(
        self, registry: Registry, extension: Extension, author: str, message: str, base: int
    ) -> Revision | None:
        """The fast path of `apply` on a Neo4j store (which materialises the new revision's graph
        from its additions itself); None when `extension.base` is not the registry `registry()`
        handed out for revision `base`."""
        with self._lock:
            base_revision = self._revisions.get(base)
            known = self._registries.get(base_revision.hash) if base_revision is not None else None
        if known is None or known is not extension.base:
            return None
        with paused_gc():
            revision = self.store.append_additions(  # type: ignore[attr-defined]
                extension.additions, author=author, message=message, expected_head=base)
        with self._lock:
            self._revisions.put(revision.number, revision)
            self._registries.put(revision.hash, registry)
        return revision
