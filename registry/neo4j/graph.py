"""Materialising a revision's graph in Neo4j, and checking that it still matches the revision.

Every element and relationship is keyed by the number `rev` of the revision that wrote it, and
the ones already written never change. A revision's graph is the elements and relationships of
the revisions its `graph_revs` lists (`rev IN $revs`): its own alone when it was materialised
whole; for a revision that only appends elements to its parent (a registration), the parent's
graph plus its new elements, whose relationships may end at the parent's nodes
(`registry.neo4j.graph_delta`). Queries therefore filter relationships by `rev IN $revs` too, as
a node of one revision may carry relationships of later revisions that build on it:

- nodes `(:Element:<Label> {rev, id, kind, order, doc, ...})` with `<Label>` from the allow-list
  `registry.neo4j.schema.NODE_LABELS`; `doc` is the element exactly as the revision stores it
  (canonical JSON), so the query layer rebuilds the very same model objects the embedded engine
  uses; the other properties exist for Cypher to select on (`used`, `countries`, `owner`...).
- `(src)-[:FLOW {rev, id, order, doc, carries, used, under, valid_from, valid_until, ...}]->(dst)`
  per flow; `used` is the flow's `carried_used` from `registry.category_use` (every category some flow
  lists that this flow's data contains), dates are Neo4j dates.
- `(src)-[:CARRIES {rev, flow, used, order, valid_from, valid_until}]->(dst)` per flow and used
  category: the propagation graph the engine walks ((node, category) pairs), with a range index
  on (rev, used), so "flows that carry c" is an index seek and per-category reachability is a
  variable-length pattern over one relationship type.
- `(:Category)-[:PARENT_OF]->(:Category)`, `(:System)-[:OWNED_BY]->(:Party)`,
  `(:Mechanism)-[:BINDS]->(:Party)` for its members.

Writes are batched MERGEs on the unique keys, so materialising twice (or after a crash halfway)
gives the same graph; the revision's `graph` property says 'ready' only after the last batch.
`graph_digest` covers what the revision itself wrote (`rev` = its number), which `check_graphs`
compares with what the server holds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from registry.category_use import category_use
from registry.errors import RegistryError, StoreError
from registry.loader import load_registry_data
from registry.model import SECTIONS
from registry.neo4j.schema import NODE_LABELS, REL_TYPES
from registry.revisions import Revision, canonical_json

if TYPE_CHECKING:
    from registry.neo4j.store import Neo4jStore

BATCH = 2000
KINDS = {"categories": "category", "subjects": "subject", "parties": "party",
         "systems": "system", "mechanisms": "mechanism", "rules": "rule",
         "agreements": "agreement", "assessments": "assessment"}

# Literal query texts: labels and types come from the allow-list, values are parameters.
MERGE_NODES = {
    section: "UNWIND $rows AS row MERGE (n:Element {rev: $rev, id: row.id})"
    f" SET n:{label}, n += row.props"
    for section, label in NODE_LABELS.items()
}
# A relationship's ends may be nodes of any revision of the graph being written ($revs).
_ENDS = ("UNWIND $rows AS row MATCH (a:Element {id: row.from}) WHERE a.rev IN $revs"
         " MATCH (b:Element {id: row.to}) WHERE b.rev IN $revs ")
MERGE_RELS = {
    "FLOW": _ENDS + "MERGE (a)-[r:FLOW {rev: $rev, id: row.id}]->(b) SET r += row.props",
    "CARRIES": _ENDS + "MERGE (a)-[r:CARRIES {rev: $rev, flow: row.flow, used: row.used}]->(b)"
    " SET r += row.props",
    # Keyed like FLOW and CARRIES (see registry.neo4j.schema), so no relationship can double.
    "PARENT_OF": _ENDS + "MERGE (a)-[r:PARENT_OF {rev: $rev, child: row.to}]->(b)",
    "OWNED_BY": _ENDS + "MERGE (a)-[r:OWNED_BY {rev: $rev, system: row.from}]->(b)",
    "BINDS": _ENDS + "MERGE (a)-[r:BINDS {rev: $rev, mechanism: row.from, member: row.to}]->(b)",
}
# The fast path for a revision with no graph yet: plain CREATE, no look-up of what exists. Two
# writers racing on the same fresh revision collide on the unique keys, and the loser re-runs
# with MERGE.
CREATE_NODES = {
    section: f"UNWIND $rows AS row CREATE (n:Element:{label}) SET n = row.props, n.rev = $rev"
    for section, label in NODE_LABELS.items()
}
CREATE_RELS = {kind: _ENDS + f"CREATE (a)-[r:{kind}]->(b) SET r = row.props, r.rev = $rev"
               for kind in MERGE_RELS}
# A revision's relationships of one type: the existence checks let the planner seek the type's
# composite (rev, ...) index rather than scan every relationship of the type.
BY_REV = {"FLOW": "r.rev = $rev", "CARRIES": "r.rev = $rev AND r.used IS NOT NULL",
          "PARENT_OF": "r.rev = $rev AND r.child IS NOT NULL",
          "OWNED_BY": "r.rev = $rev AND r.system IS NOT NULL",
          "BINDS": "r.rev = $rev AND r.mechanism IS NOT NULL AND r.member IS NOT NULL"}
DIGEST_RELS = {kind: f"MATCH (a)-[r:{kind}]->(b) WHERE {BY_REV[kind]}"
               " RETURN type(r) AS type, a.id AS a, b.id AS b, properties(r) AS props"
               for kind in REL_TYPES}
# A revision's nodes: `kind` (always set) lets the planner seek the (rev, kind) index.
OWN_NODES = "MATCH (n:Element) WHERE n.rev = $rev AND n.kind IS NOT NULL"
FRESH = ("RETURN NOT EXISTS { " + OWN_NODES + " } AND NOT EXISTS { MATCH ()-[f:FLOW]->() WHERE f.rev = $rev }"
         " AS fresh")
DROP = [f"MATCH ()-[r:{kind}]->() WHERE {BY_REV[kind]} WITH r LIMIT $batch DELETE r RETURN count(*) AS n"
        for kind in MERGE_RELS] + [
    OWN_NODES + " WITH n LIMIT $batch DETACH DELETE n RETURN count(*) AS n"]
MARK = ("MATCH (r:Revision {number: $rev}) SET r.graph = $state, r.top = $top,"
        " r.graph_digest = $digest, r.graph_revs = $revs")
# The revisions whose graphs are made of `rev`'s elements (among others): not ready once it goes.
DEPENDENTS = ("MATCH (r:Revision) WHERE r.number > $rev AND $rev IN r.graph_revs"
              " SET r.graph = 'pending' RETURN count(r) AS n")


def _props(**values: Any) -> dict[str, Any]:
    # Neo4j stores no nulls: an absent property reads back as null anyway.
    return {k: v for k, v in values.items() if v is not None}


def node_row(section: str, raw: dict[str, Any], element: Any, order: int, used: frozenset[str]) -> dict:
    """The node row of one element (`order`: its position in its section; `used`: the
    categories some flow carries)."""
    extra: dict[str, Any] = {}
    if section == "categories":
        extra = {"used": element.id in used, "parent": element.parent}
    elif section == "subjects":
        extra = {"countries": list(element.location)}
    elif section == "parties":
        extra = {"countries": [element.country] if element.country else [],
                 "party_kind": element.kind.value}
    elif section == "systems":
        extra = {"countries": [element.country] if element.country else [], "owner": element.owner}
    elif section == "mechanisms":
        extra = {"members": list(element.members), "mechanism_kind": element.kind.value}
    return {"id": element.id, "props": _props(
        id=element.id, kind=KINDS[section], order=order, doc=canonical_json(raw), **extra)}


def add_element_rels(rels: dict[str, list[dict]], section: str, element: Any) -> None:
    """Append the relationships an element other than a flow starts to `rels`."""
    if section == "categories" and element.parent:
        rels["PARENT_OF"].append({"from": element.parent, "to": element.id,
                                  "props": {"child": element.id}})
    elif section == "systems":
        rels["OWNED_BY"].append({"from": element.id, "to": element.owner,
                                 "props": {"system": element.id}})
    elif section == "mechanisms":
        rels["BINDS"].extend({"from": element.id, "to": p, "props": {"mechanism": element.id, "member": p}}
                             for p in dict.fromkeys(element.members))


def add_flow_rels(rels: dict[str, list[dict]], raw: dict[str, Any], flow: Any, order: int,
                  used: list[str]) -> None:
    """Append a flow's FLOW relationship and its CARRIES (one per used category it carries,
    `used`: the flow's `carried_used`) to `rels`."""
    window = {"valid_from": flow.valid_from, "valid_until": flow.valid_until}
    rels["FLOW"].append({"from": flow.from_, "to": flow.to, "id": flow.id, "props": _props(
        id=flow.id, order=order, doc=canonical_json(raw), carries=list(flow.carries), used=used,
        under=list(flow.under), role=flow.role.value if flow.role else None, purpose=flow.purpose,
        frequency=flow.frequency.value, retention_days=flow.retention_days, **window)})
    rels["CARRIES"].extend(
        {"from": flow.from_, "to": flow.to, "flow": flow.id, "used": u,
         "props": _props(flow=flow.id, used=u, order=order, **window)} for u in used)


def top_of(content: dict[str, Any]) -> str:
    """The revision's top-level fields (organisation, notice days...) as canonical JSON."""
    return canonical_json({k: v for k, v in content.items() if k not in SECTIONS})


def graph_rows(content: dict[str, Any]) -> tuple[dict[str, list[dict]], dict[str, list[dict]], str] | None:
    """(node rows by section, relationship rows by type, top-level JSON) for a revision's
    content; None when the content is not a valid registry (it then gets no graph)."""
    try:
        registry = load_registry_data(content, stored=True)
    except (RegistryError, ValidationError, TypeError, ValueError):
        return None
    used, carried = category_use(registry)
    nodes: dict[str, list[dict]] = {}
    rels: dict[str, list[dict]] = {name: [] for name in MERGE_RELS}
    for section in NODE_LABELS:
        rows = []
        for order, (raw, element) in enumerate(zip(content.get(section) or [], getattr(registry, section), strict=True)):
            rows.append(node_row(section, raw, element, order, used))
            add_element_rels(rels, section, element)
        nodes[section] = rows
    for order, (raw, flow) in enumerate(zip(content.get("flows") or [], registry.flows, strict=True)):
        add_flow_rels(rels, raw, flow, order, list(carried[flow.id]))
    return nodes, rels, top_of(content)


def _line(*parts: Any) -> str:
    return canonical_json([_plain(p) for p in parts])


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "rev"}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "to_native"):  # neo4j.time.Date
        value = value.to_native()
    return value.isoformat() if isinstance(value, date) else value


class _Digest:
    """An order-independent digest of a multiset of lines (sum of their hashes mod 2**256), so
    the graph can be streamed in whatever order the server returns it."""

    def __init__(self) -> None:
        self.total, self.count = 0, 0

    def add(self, line: str) -> None:
        self.total = (self.total + int(hashlib.sha256(line.encode()).hexdigest(), 16)) % 2**256
        self.count += 1

    def hexdigest(self) -> str:
        return f"{self.count}:{self.total:064x}"


def _expected_digest(nodes: dict[str, list[dict]], rels: dict[str, list[dict]]) -> str:
    digest = _Digest()
    for section, rows in nodes.items():
        for row in rows:
            digest.add(_line("node", NODE_LABELS[section], row["props"]))
    for kind, rows in rels.items():
        for row in rows:
            keys = {k: row[k] for k in ("id", "flow", "used") if k in row}
            digest.add(_line("rel", kind, row["from"], row["to"], {**keys, **row["props"]}))
    return digest.hexdigest()


def _chunks(rows: list[dict], size: int = BATCH) -> Iterator[list[dict]]:
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def materialise(store: Neo4jStore, revision: Revision) -> None:
    """Write the revision's whole graph (idempotent), then mark it 'ready' with `graph_revs` =
    [its number] ('invalid' when the content is not a valid registry)."""
    rev = revision.number
    built = graph_rows(revision.content)
    if built is None:
        store.write(lambda tx: tx.run(MARK, rev=rev, state="invalid", top=None, digest=None,
                                      revs=None).consume(), doing="materialising a graph on")
        return
    nodes, rels, top = built
    write_graph(store, rev, [rev], nodes, rels, top)


def materialise_revision(store: Neo4jStore, number: int, base_revs: list[int] | None) -> None:
    """Materialise revision `number`'s graph: only its new elements on its base's graph
    (`base_revs`, None when there is none ready) where `registry.neo4j.graph_delta` can, else
    whole."""
    if base_revs is not None:
        from registry.neo4j.graph_delta import extend_materialised

        if extend_materialised(store, number, base_revs):
            return
    materialise(store, store.get(number))


def write_graph(store: Neo4jStore, rev: int, revs: list[int], nodes: dict[str, list[dict]],
                rels: dict[str, list[dict]], top: str) -> None:
    """Write revision `rev`'s rows (their relationships' ends are looked up among the nodes of
    `revs`, which ends with `rev`), then mark its graph 'ready' as made of `revs`."""
    fresh = store.read(lambda tx: tx.run(FRESH, rev=rev).single()["fresh"])
    try:
        _write(store, rev, revs, nodes, rels, fresh=fresh)
    except StoreError as exc:
        if not fresh or "ConstraintValidationFailed" not in exc.message:
            raise
        _write(store, rev, revs, nodes, rels, fresh=False)  # another writer got there first
    digest = _expected_digest(nodes, rels)
    store.write(lambda tx: tx.run(MARK, rev=rev, state="ready", top=top, digest=digest,
                                  revs=revs).consume(), doing="materialising a graph on")


def _write(store: Neo4jStore, rev: int, revs: list[int], nodes: dict[str, list[dict]],
           rels: dict[str, list[dict]], *, fresh: bool) -> None:
    run = "materialising a graph on"
    node_query, rel_query = (CREATE_NODES, CREATE_RELS) if fresh else (MERGE_NODES, MERGE_RELS)
    for section, rows in nodes.items():
        for batch in _chunks(rows):
            store.write(lambda tx, q=node_query[section], b=batch: tx.run(q, rev=rev, rows=b).consume(), doing=run)
    for kind, rows in rels.items():
        for batch in _chunks(rows):
            store.write(lambda tx, q=rel_query[kind], b=batch: tx.run(q, rev=rev, revs=revs, rows=b).consume(),
                        doing=run)


def actual_digest(store: Neo4jStore, rev: int) -> str:
    """The digest of what revision `rev` wrote of its graph, as the server holds it now: its
    nodes and the relationships keyed with its number (streamed)."""
    digest = _Digest()
    labels = set(NODE_LABELS.values())
    with store._errors("verifying"), store.driver.session(database=store.database) as session:
        for record in session.run(OWN_NODES + " RETURN labels(n) AS labels,"
                                  " properties(n) AS props", rev=rev):
            label = next((name for name in record["labels"] if name in labels), "?")
            digest.add(_line("node", label, record["props"]))
        for query in DIGEST_RELS.values():
            for record in session.run(query, rev=rev):
                digest.add(_line("rel", record["type"], record["a"], record["b"], record["props"]))
    return digest.hexdigest()


def check_graphs(store: Neo4jStore) -> list[str]:
    """A problem for each materialised graph that no longer matches what was written."""
    ready = store.read(lambda tx: [(r["n"], r["d"]) for r in tx.run(
        "MATCH (r:Revision {graph: 'ready'}) RETURN r.number AS n, r.graph_digest AS d ORDER BY n")])
    return [
        f"revision {number}: its graph in Neo4j was changed outside flowreg "
        "(rebuild it with Neo4jStore.rebuild_graph)"
        for number, expected in ready if actual_digest(store, number) != expected
    ]


def drop_graph(store: Neo4jStore, rev: int, state: str = "pending") -> int:
    """Delete what revision `rev` wrote of its graph in batches and mark it `state` ('pending',
    or 'pruned': either is materialised again on first use; the revision stays), and mark
    'pending' every later revision whose graph builds on it: their own elements stay, and
    materialising them again (MERGE) restores the relationships that ended at the deleted nodes.

    Relationships go first, type by type through their (rev, ...) indexes, so no transaction
    has to detach a hub node's thousands of flows at once. Returns how many relationships and
    nodes were deleted."""
    def mark(tx: Any) -> None:
        tx.run("MATCH (r:Revision {number: $rev}) SET r.graph = $state", rev=rev, state=state).consume()
        tx.run(DEPENDENTS, rev=rev).consume()

    store.write(mark, doing="dropping a graph on")
    deleted = 0
    for query in DROP:
        while n := store.write(lambda tx, q=query: tx.run(q, rev=rev, batch=BATCH).single()["n"],
                               doing="dropping a graph on"):
            deleted += n
    return deleted
