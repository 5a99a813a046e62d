"""Cypher selection for the Neo4j query layer: the part of a revision's graph a query touches.

Each function runs inside a read transaction (`tx`) on the graph `registry.neo4j.graph` wrote, and
either returns ids (reachability and candidate selection happen on the server) or adds element
documents to a `Part`, the partial registry the engine's pure functions then run on. Every value
is a parameter; the query texts are literals.

A revision's graph is the elements and relationships of the revisions `revs` (its `graph_revs`):
every node lookup and every relationship hop is filtered on `rev IN $revs` (a node may carry
relationships of later revisions that build on it). Neo4j plans `IN` on an indexed property as
one index seek per value, so lookups by id and the CARRIES (rev, used) index stay seeks.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from registry.ids import FRAMEWORK_IDS
from registry.model import Registry

SECTION_OF = {"category": "categories", "subject": "subjects", "party": "parties",
              "system": "systems", "mechanism": "mechanisms", "rule": "rules",
              "agreement": "agreements", "assessment": "assessments"}


def _active(var: str) -> str:
    """A hop of the revision's graph, active on the date.

    `rev + 0` keeps the graph filter out of reach of the (rev, ...) relationship indexes on
    purpose: inside a path pattern or an expansion from known nodes, an index seek per step
    (which the planner may pick once `rev` is compared plainly) reads every relationship of the
    category in the graph at every step; the hops must be expanded from their nodes."""
    return (f"({var}.rev + 0) IN $revs AND ({var}.valid_from IS NULL OR {var}.valid_from <= $day)"
            f" AND ({var}.valid_until IS NULL OR $day < {var}.valid_until)")


def _started(var: str) -> str:
    """A hop of the revision's graph that started by the date (active then, or ended before it):
    what a flow delivered may still be held on the date (DESIGN.md rule 2), so the regimes on a
    date depend on every flow that started by then, and on no other (`_active` on `rev + 0`)."""
    return f"({var}.rev + 0) IN $revs AND ({var}.valid_from IS NULL OR {var}.valid_from <= $day)"


# Per-hop filters: a FLOW of the revision's graph active on the date, or a CARRIES (one per flow
# and used category) of it active on the date whose category is one of $related; and the same
# for hops that started by the date (what regimes on the date depend on).
ON_FLOW = _active("f")
ON_CARRIES = "k.used IN $related AND " + _active("k")
SINCE_FLOW = _started("f")
SINCE_CARRIES = "k.used IN $related AND " + _started("k")

TOP = "MATCH (r:Revision {number: $rev}) RETURN r.top AS top"
RELATED = (
    "MATCH (c:Element:Category {id: $category}) WHERE c.rev IN $revs"
    " OPTIONAL MATCH (c)-[:PARENT_OF*0..]->(d:Category) WHERE d.used"
    " WITH c, collect(DISTINCT d.id) AS down"
    " OPTIONAL MATCH (a:Category)-[:PARENT_OF*1..]->(c) WHERE a.used"
    " WITH down, collect(DISTINCT a.id) AS up RETURN down + up AS related"
)
# Index seeks on CARRIES(rev, used): one per revision and category (and on FLOW(rev)).
CATEGORY_FLOWS = {
    False: "MATCH ()-[k:CARRIES]->() WHERE k.rev IN $revs AND " + ON_CARRIES + " RETURN DISTINCT k.flow AS id",
    True: "MATCH ()-[k:CARRIES]->() WHERE k.rev IN $revs AND " + SINCE_CARRIES + " RETURN DISTINCT k.flow AS id",
}
STARTED_FLOWS = "MATCH ()-[f:FLOW]->() WHERE f.rev IN $revs AND " + SINCE_FLOW + " RETURN f.id AS id"
CLAIMING = ("MATCH ()-[f:FLOW]->() WHERE f.rev IN $revs AND $tool IN f.under AND " + ON_FLOW
            + " RETURN f.id AS id")
INTO_COUNTRIES = ("MATCH (b:Element) WHERE b.rev IN $revs AND b.kind IN ['party', 'system']"
                  " AND b.countries[0] IN $countries MATCH ()-[f:FLOW]->(b) WHERE " + ON_FLOW
                  + " RETURN f.id AS id")
AT_NODES = ("UNWIND $nodes AS nid MATCH (n:Element {id: nid}) WHERE n.rev IN $revs"
            " CALL (n) { MATCH (n)-[f:FLOW]->() WHERE " + ON_FLOW + " RETURN f.id AS id"
            " UNION MATCH (n)<-[f:FLOW]-() WHERE " + ON_FLOW + " RETURN f.id AS id }"
            " RETURN DISTINCT id")
FLOWS = ("UNWIND $ids AS fid MATCH (a)-[f:FLOW {id: fid}]->(b) WHERE f.rev IN $revs"
         " RETURN f.id AS id, f.order AS order, f.doc AS doc, a.id AS source, b.id AS target,"
         " f.under AS under, f.carries AS carries, f.used AS used")
ELEMENTS = ("UNWIND $ids AS eid MATCH (n:Element {id: eid}) WHERE n.rev IN $revs"
            " OPTIONAL MATCH (n)-[w:OWNED_BY]->(o:Element) WHERE w.rev IN $revs"
            " RETURN n.kind AS kind, n.id AS id, n.order AS order, n.doc AS doc,"
            " o.kind AS okind, o.id AS oid, o.order AS oorder, o.doc AS odoc")
OWNED = ("MATCH (p:Element {id: $party})<-[w:OWNED_BY]-(s:System) WHERE p.rev IN $revs AND w.rev IN $revs"
         " RETURN s.id AS id ORDER BY s.order")
BOUND = ("UNWIND $nodes AS nid MATCH (n:Element {id: nid})<-[b:BINDS]-(m:Mechanism)"
         " WHERE n.rev IN $revs AND b.rev IN $revs RETURN DISTINCT m.id AS id")
RULES = ("MATCH (n:Element {kind: 'rule'}) WHERE n.rev IN $revs"
         " RETURN n.kind AS kind, n.id AS id, n.order AS order, n.doc AS doc")
# What the complete record's findings read besides the active flows (lineage.contracts): every
# agreement and assessment, and the organisation's own parties (affiliates, else systems' owners).
RECORD = ("UNWIND ['agreement', 'assessment'] AS k MATCH (n:Element {kind: k}) WHERE n.rev IN $revs"
          " RETURN n.kind AS kind, n.id AS id, n.order AS order, n.doc AS doc")
AFFILIATES = ("MATCH (n:Element {kind: 'party'}) WHERE n.rev IN $revs AND n.party_kind = 'affiliate'"
              " RETURN n.id AS id")
SYSTEMS = "MATCH (n:Element {kind: 'system'}) WHERE n.rev IN $revs RETURN n.id AS id"
# Categories (and so PARENT_OF) are only ever written by a whole materialisation: a category
# tree lies within one revision's elements, so the hops below need no filter on rev.
CATEGORY_TREES = (
    "UNWIND $ids AS cid MATCH (c:Element:Category {id: cid}) WHERE c.rev IN $revs"
    " CALL (c) { MATCH (c)-[:PARENT_OF*0..]->(d) RETURN d"
    " UNION MATCH (d)-[:PARENT_OF*1..]->(c) RETURN d }"
    " RETURN DISTINCT d.kind AS kind, d.id AS id, d.order AS order, d.doc AS doc"
)
# Reachability from one node: quantified path patterns with the per-hop filter inside; the
# planner turns them into a pruning breadth-first expand (each node visited once).
REACH = {
    (True, True): "MATCH (s:Element {id: $start}) WHERE s.rev IN $revs"
    " MATCH (s) (()-[k:CARRIES WHERE " + ON_CARRIES + "]->())* (n) RETURN DISTINCT n.id AS id",
    (False, True): "MATCH (s:Element {id: $start}) WHERE s.rev IN $revs"
    " MATCH (n) (()-[k:CARRIES WHERE " + ON_CARRIES + "]->())* (s) RETURN DISTINCT n.id AS id",
    (True, False): "MATCH (s:Element {id: $start}) WHERE s.rev IN $revs"
    " MATCH (s) (()-[f:FLOW WHERE " + ON_FLOW + "]->())* (n) RETURN DISTINCT n.id AS id",
    (False, False): "MATCH (s:Element {id: $start}) WHERE s.rev IN $revs"
    " MATCH (n) (()-[f:FLOW WHERE " + ON_FLOW + "]->())* (s) RETURN DISTINCT n.id AS id",
}
# Flows on some route from $source to $target: forward set x backward set, in one query.
ROUTE = {
    True: "MATCH (s:Element {id: $source}), (t:Element {id: $target}) WHERE s.rev IN $revs AND t.rev IN $revs"
    " CALL (s) { MATCH (s) (()-[k:CARRIES WHERE " + ON_CARRIES + "]->())* (x)"
    " RETURN collect(DISTINCT x) AS fw }"
    " CALL (t) { MATCH (y) (()-[k:CARRIES WHERE " + ON_CARRIES + "]->())* (t)"
    " RETURN collect(DISTINCT y) AS bw }"
    " UNWIND fw AS a MATCH (a)-[k:CARRIES]->(b) WHERE " + ON_CARRIES + " AND b IN bw"
    " RETURN DISTINCT k.flow AS id",
    False: "MATCH (s:Element {id: $source}), (t:Element {id: $target}) WHERE s.rev IN $revs AND t.rev IN $revs"
    " CALL (s) { MATCH (s) (()-[f:FLOW WHERE " + ON_FLOW + "]->())* (x)"
    " RETURN collect(DISTINCT x) AS fw }"
    " CALL (t) { MATCH (y) (()-[f:FLOW WHERE " + ON_FLOW + "]->())* (t)"
    " RETURN collect(DISTINCT y) AS bw }"
    " UNWIND fw AS a MATCH (a)-[f:FLOW]->(b) WHERE " + ON_FLOW + " AND b IN bw"
    " RETURN DISTINCT f.id AS id",
}
# One breadth-first level from many nodes at once (multi-source closures), over the hops that
# started by the date.
_AT = "UNWIND $frontier AS nid MATCH (n:Element {id: nid}) WHERE n.rev IN $revs "
STEP = {
    (True, True): _AT + "MATCH (n)-[k:CARRIES]->(m) WHERE " + SINCE_CARRIES
    + " RETURN DISTINCT k.flow AS flow, m.id AS next",
    (False, True): _AT + "MATCH (n)<-[k:CARRIES]-(m) WHERE " + SINCE_CARRIES
    + " RETURN DISTINCT k.flow AS flow, m.id AS next",
    (True, False): _AT + "MATCH (n)-[f:FLOW]->(m) WHERE " + SINCE_FLOW + " RETURN f.id AS flow, m.id AS next",
    (False, False): _AT + "MATCH (n)<-[f:FLOW]-(m) WHERE " + SINCE_FLOW + " RETURN f.id AS flow, m.id AS next",
}
# One level of a per-category walk: (node, used category) pairs.
_PAIR = "UNWIND $frontier AS p MATCH (n:Element {id: p.node}) WHERE n.rev IN $revs "
PAIR_STEP = {
    True: _PAIR + "MATCH (n)-[k:CARRIES {used: p.used}]->(m) WHERE " + _active("k")
    + " RETURN k.flow AS flow, m.id AS next, k.used AS used",
    False: _PAIR + "MATCH (n)<-[k:CARRIES {used: p.used}]-(m) WHERE " + _active("k")
    + " RETURN k.flow AS flow, m.id AS next, k.used AS used",
}


@dataclass(frozen=True)
class FlowRow:
    """A selected flow: its document and what further selection needs from it."""

    order: int
    doc: str
    source: str
    target: str
    under: tuple[str, ...]
    carries: tuple[str, ...]
    used: tuple[str, ...]


@dataclass
class Part:
    """A partial registry gathered from the server: element documents by section, and flows.

    `registry()` keeps the revision's order in every section, so everything the engine sorts or
    iterates in registry order comes out the same as on the whole registry.
    """

    top: dict[str, Any]
    elements: dict[str, dict[str, tuple[int, str]]] = field(
        default_factory=lambda: {section: {} for section in SECTION_OF.values()})
    flows: dict[str, FlowRow] = field(default_factory=dict)

    def add(self, kind: str | None, element_id: str | None, order: int | None, doc: str | None) -> None:
        if kind in SECTION_OF and element_id is not None and doc is not None:
            self.elements[SECTION_OF[kind]][element_id] = (order or 0, doc)

    def has(self, element_id: str) -> bool:
        return any(element_id in found for found in self.elements.values())

    def registry(self) -> Registry:
        content: dict[str, Any] = dict(self.top)
        for section, found in self.elements.items():
            if found:
                content[section] = [json.loads(doc) for _, doc in sorted(found.values(), key=lambda v: v[0])]
        if self.flows:
            content["flows"] = [json.loads(row.doc) for row in sorted(self.flows.values(), key=lambda r: r.order)]
        return Registry.from_content(content)


def new_part(tx: Any, rev: int) -> Part:
    """An empty part carrying the revision's top-level fields (organisation, notice days...)."""
    record = tx.run(TOP, rev=rev).single()
    return Part(json.loads(record["top"]) if record and record["top"] else {})


def related(tx: Any, revs: list[int], category: str) -> list[str] | None:
    """The used categories whose data is part of, or contains, `category`'s (None: unknown)."""
    record = tx.run(RELATED, revs=revs, category=category).single()
    return None if record is None else list(record["related"])


def category_flows(tx: Any, revs: list[int], related_ids: list[str], day: date, *, started: bool = False) -> list[str]:
    """Flows active on `day` that carry any of the related categories (an index seek); with
    `started`, every such flow that started by `day` (what their statuses depend on)."""
    return [r["id"] for r in tx.run(CATEGORY_FLOWS[started], revs=revs, related=related_ids, day=day)]


def started_flows(tx: Any, revs: list[int], day: date) -> list[str]:
    """Every flow that started by `day` (for answers that cover every hop of the date: the hops
    are those active then, their regimes depend on all of these)."""
    return [r["id"] for r in tx.run(STARTED_FLOWS, revs=revs, day=day)]


def flows_at(tx: Any, revs: list[int], nodes: list[str], day: date) -> list[str]:
    """Flows active on `day` into or out of any of `nodes`."""
    return [r["id"] for r in tx.run(AT_NODES, revs=revs, nodes=nodes, day=day)]


def relying_candidates(tx: Any, revs: list[int], tool: str, countries: list[str], day: date) -> list[str]:
    """Active flows that claim `tool`, or go to a recipient in one of `countries` (where an
    adequacy decision named `tool` may carry them): a superset of the hops that rely on it."""
    out = [r["id"] for r in tx.run(CLAIMING, revs=revs, tool=tool, day=day)]
    if countries:
        out += [r["id"] for r in tx.run(INTO_COUNTRIES, revs=revs, countries=countries, day=day)]
    return list(dict.fromkeys(out))


def owned_systems(tx: Any, revs: list[int], party: str) -> list[str]:
    return [r["id"] for r in tx.run(OWNED, revs=revs, party=party)]


def binding(tx: Any, revs: list[int], nodes: list[str]) -> list[str]:
    """Mechanisms any of `nodes` is a member of."""
    return [r["id"] for r in tx.run(BOUND, revs=revs, nodes=nodes)]


def reach(tx: Any, revs: list[int], start: str, day: date, related_ids: list[str] | None, *, forward: bool) -> list[str]:
    """Nodes reachable from (forward) or reaching (backward) `start`, itself included, over hops
    active on `day` (carrying a related category, when given)."""
    query = REACH[(forward, related_ids is not None)]
    return [r["id"] for r in tx.run(query, revs=revs, start=start, day=day, related=related_ids)]


def route(tx: Any, revs: list[int], source: str, target: str, day: date, related_ids: list[str] | None) -> list[str]:
    """Flows on some route from `source` to `target` (the path query's hops)."""
    query = ROUTE[related_ids is not None]
    return [r["id"] for r in tx.run(query, revs=revs, source=source, target=target, day=day, related=related_ids)]


def closure(tx: Any, revs: list[int], starts: Iterable[str], day: date, related_ids: list[str] | None,
            *, forward: bool) -> set[str]:
    """The flows walked from `starts` (many at once) over hops that started by `day`: backward,
    every flow whose data can reach a start by then, which is what the regimes held at the
    starts on `day` depend on (data delivered earlier may still be kept there).

    Breadth first, one query per level, each node expanded once: linear in the region walked
    (a variable-length pattern per start would be quadratic)."""
    seen = set(starts)
    frontier, walked = list(seen), set()
    query = STEP[(forward, related_ids is not None)]
    while frontier:
        found = []
        for record in tx.run(query, revs=revs, frontier=frontier, day=day, related=related_ids):
            walked.add(record["flow"])
            if record["next"] not in seen:
                seen.add(record["next"])
                found.append(record["next"])
        frontier = found
    return walked


def walk_pairs(tx: Any, revs: list[int], starts: Iterable[tuple[str, str]], day: date, *, forward: bool) -> set[str]:
    """The flows walked from (node, category) pairs along hops that carry that category, like
    `lineage.impact`'s walk, breadth first on the server."""
    seen = set(starts)
    frontier, walked = list(seen), set()
    while frontier:
        found = []
        params = [{"node": node, "used": used} for node, used in frontier]
        for record in tx.run(PAIR_STEP[forward], revs=revs, frontier=params, day=day):
            walked.add(record["flow"])
            pair = (record["next"], record["used"])
            if pair not in seen:
                seen.add(pair)
                found.append(pair)
        frontier = found
    return walked


def add_flows(tx: Any, revs: list[int], part: Part, flow_ids: Iterable[str]) -> list[FlowRow]:
    """Fetch the flows not yet in `part` and add them; returns the rows of all asked for."""
    wanted = list(dict.fromkeys(flow_ids))
    missing = [f for f in wanted if f not in part.flows]
    for r in tx.run(FLOWS, revs=revs, ids=missing):
        part.flows[r["id"]] = FlowRow(r["order"], r["doc"], r["source"], r["target"], tuple(r["under"] or ()),
                                      tuple(r["carries"] or ()), tuple(r["used"] or ()))
    return [part.flows[f] for f in wanted if f in part.flows]


def add_elements(tx: Any, revs: list[int], part: Part, element_ids: Iterable[str]) -> None:
    """Fetch elements (and a system's owner) by id; unknown ids are skipped."""
    missing = [e for e in dict.fromkeys(element_ids) if not part.has(e)]
    for r in tx.run(ELEMENTS, revs=revs, ids=missing):
        part.add(r["kind"], r["id"], r["order"], r["doc"])
        part.add(r["okind"], r["oid"], r["oorder"], r["odoc"])


def add_rules(tx: Any, revs: list[int], part: Part) -> list[str]:
    """Add every rule; returns the categories the rules name."""
    named: list[str] = []
    for r in tx.run(RULES, revs=revs):
        part.add(r["kind"], r["id"], r["order"], r["doc"])
        rule = json.loads(r["doc"])
        check = rule.get("deny") or rule.get("retention") or {}
        categories = check.get("categories") or []
        named += [categories] if isinstance(categories, str) else categories
    return named


def add_record(tx: Any, revs: list[int], part: Part) -> None:
    """Add every agreement and assessment and the organisation's own parties: its affiliates,
    or without any every system (with its owner), as `lineage.contracts.own_parties` reads them."""
    for r in tx.run(RECORD, revs=revs):
        part.add(r["kind"], r["id"], r["order"], r["doc"])
    own = [r["id"] for r in tx.run(AFFILIATES, revs=revs)]
    add_elements(tx, revs, part, own or [r["id"] for r in tx.run(SYSTEMS, revs=revs)])


def complete(tx: Any, revs: list[int], part: Part, *, nodes: Iterable[str] = (), categories: Iterable[str] = (),
             mechanisms: Iterable[str] = ()) -> Part:
    """Add what the part's flows need to be evaluated: both ends (and a system's owner), the
    mechanisms they claim, and the category trees of what they carry (with ancestors); plus the
    extra `nodes`, `categories` and `mechanisms` a query names."""
    rows = list(part.flows.values())
    ends = [n for row in rows for n in (row.source, row.target)]
    claimed = [m for row in rows for m in row.under if m not in FRAMEWORK_IDS]
    add_elements(tx, revs, part, [*nodes, *ends, *claimed, *mechanisms])
    wanted = list(dict.fromkeys([*categories, *(c for row in rows for c in row.carries)]))
    for r in tx.run(CATEGORY_TREES, revs=revs, ids=wanted):
        part.add(r["kind"], r["id"], r["order"], r["doc"])
    return part
