"""Materialising a revision's graph in Neo4j, and checking that it still matches the revision.

Every element and relationship is keyed by the revision number `rev`, so each revision has its
own graph and the ones already written never change:

- nodes `(:Element:<Label> {rev, id, kind, order, doc, ...})` with `<Label>` from the allow-list
  `registry.neo4j_store.NODE_LABELS`; `doc` is the element exactly as the revision stores it
  (canonical JSON), so the query layer rebuilds the very same model objects the embedded engine
  uses; the other properties exist for Cypher to select on (`used`, `countries`, `owner`...).
- `(src)-[:FLOW {rev, id, order, doc, carries, used, under, valid_from, valid_until, ...}]->(dst)`
  per flow; `used` is the flow's `carried_used` from `lineage.graph` (every category some flow
  lists that this flow's data contains), dates are Neo4j dates.
- `(src)-[:CARRIES {rev, flow, used, order, valid_from, valid_until}]->(dst)` per flow and used
  category: the propagation graph the engine walks ((node, category) pairs), with a range index
  on (rev, used), so "flows that carry c" is an index seek and per-category reachability is a
  variable-length pattern over one relationship type.
- `(:Category)-[:PARENT_OF]->(:Category)`, `(:System)-[:OWNED_BY]->(:Party)`,
  `(:Mechanism)-[:BINDS]->(:Party)` for its members.

Writes are batched MERGEs on the unique keys, so materialising twice (or after a crash halfway)
gives the same graph; the revision's `graph` property says 'ready' only after the last batch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from lineage.graph import build_graph
from registry.errors import RegistryError, StoreError
from registry.loader import load_registry_data
from registry.model import SECTIONS
from registry.neo4j_store import NODE_LABELS
from registry.revisions import Revision, canonical_json

if TYPE_CHECKING:
    from registry.neo4j_store import Neo4jStore

BATCH = 2000
KINDS = {"categories": "category", "subjects": "subject", "parties": "party",
         "systems": "system", "mechanisms": "mechanism", "rules": "rule"}

# Literal query texts: labels and types come from the allow-list, values are parameters.
MERGE_NODES = {
    section: "UNWIND $rows AS row MERGE (n:Element {rev: $rev, id: row.id})"
    f" SET n:{label}, n += row.props"
    for section, label in NODE_LABELS.items()
}
_ENDS = ("UNWIND $rows AS row MATCH (a:Element {rev: $rev, id: row.from})"
         " MATCH (b:Element {rev: $rev, id: row.to}) ")
MERGE_RELS = {
    "FLOW": _ENDS + "MERGE (a)-[r:FLOW {rev: $rev, id: row.id}]->(b) SET r += row.props",
    "CARRIES": _ENDS + "MERGE (a)-[r:CARRIES {rev: $rev, flow: row.flow, used: row.used}]->(b)"
    " SET r += row.props",
    # Keyed like FLOW and CARRIES (see registry.neo4j_schema), so no relationship can double.
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
FRESH = "MATCH (n:Element {rev: $rev}) RETURN count(n) = 0 AS fresh"
DROP = [f"MATCH ()-[r:{kind}]->() WHERE r.rev = $rev WITH r LIMIT $batch DELETE r RETURN count(*) AS n"
        for kind in MERGE_RELS] + [
    "MATCH (n:Element {rev: $rev}) WITH n LIMIT $batch DETACH DELETE n RETURN count(*) AS n"]
MARK = "MATCH (r:Revision {number: $rev}) SET r.graph = $state, r.top = $top, r.graph_digest = $digest"


def _props(**values: Any) -> dict[str, Any]:
    # Neo4j stores no nulls: an absent property reads back as null anyway.
    return {k: v for k, v in values.items() if v is not None}


def graph_rows(content: dict[str, Any]) -> tuple[dict[str, list[dict]], dict[str, list[dict]], str] | None:
    """(node rows by section, relationship rows by type, top-level JSON) for a revision's
    content; None when the content is not a valid registry (it then gets no graph)."""
    try:
        registry = load_registry_data(content)
    except (RegistryError, ValidationError, TypeError, ValueError):
        return None
    rg = build_graph(registry)
    nodes: dict[str, list[dict]] = {}
    for section in NODE_LABELS:
        rows = []
        for order, (raw, element) in enumerate(zip(content.get(section) or [], getattr(registry, section), strict=True)):
            extra: dict[str, Any] = {}
            if section == "categories":
                extra = {"used": element.id in rg.used, "parent": element.parent}
            elif section == "subjects":
                extra = {"countries": list(element.location)}
            elif section == "parties":
                extra = {"countries": [element.country] if element.country else [],
                         "party_kind": element.kind.value}
            elif section == "systems":
                extra = {"countries": [element.country] if element.country else [], "owner": element.owner}
            elif section == "mechanisms":
                extra = {"members": list(element.members), "mechanism_kind": element.kind.value}
            rows.append({"id": element.id, "props": _props(
                id=element.id, kind=KINDS[section], order=order, doc=canonical_json(raw), **extra)})
        nodes[section] = rows

    rels: dict[str, list[dict]] = {name: [] for name in MERGE_RELS}
    for order, (raw, flow) in enumerate(zip(content.get("flows") or [], registry.flows, strict=True)):
        window = {"valid_from": flow.valid_from, "valid_until": flow.valid_until}
        used = list(rg.carried_used[flow.id])
        rels["FLOW"].append({"from": flow.from_, "to": flow.to, "id": flow.id, "props": _props(
            id=flow.id, order=order, doc=canonical_json(raw), carries=list(flow.carries), used=used,
            under=list(flow.under), role=flow.role.value if flow.role else None, purpose=flow.purpose,
            frequency=flow.frequency.value, retention_days=flow.retention_days, **window)})
        rels["CARRIES"].extend(
            {"from": flow.from_, "to": flow.to, "flow": flow.id, "used": u,
             "props": _props(flow=flow.id, used=u, order=order, **window)} for u in used)
    for category in registry.categories:
        if category.parent:
            rels["PARENT_OF"].append({"from": category.parent, "to": category.id,
                                      "props": {"child": category.id}})
    rels["OWNED_BY"] = [{"from": s.id, "to": s.owner, "props": {"system": s.id}} for s in registry.systems]
    rels["BINDS"] = [{"from": m.id, "to": p, "props": {"mechanism": m.id, "member": p}} for m in registry.mechanisms
                     for p in dict.fromkeys(m.members)]
    top = canonical_json({k: v for k, v in content.items() if k not in SECTIONS})
    return nodes, rels, top


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
    """Write the revision's graph (idempotent), then mark it 'ready' ('invalid' when the content
    is not a valid registry)."""
    rev = revision.number
    built = graph_rows(revision.content)
    if built is None:
        store.write(lambda tx: tx.run(MARK, rev=rev, state="invalid", top=None, digest=None).consume(),
                    doing="materialising a graph on")
        return
    nodes, rels, top = built
    fresh = store.read(lambda tx: tx.run(FRESH, rev=rev).single()["fresh"])
    try:
        _write(store, rev, nodes, rels, fresh=fresh)
    except StoreError as exc:
        if not fresh or "ConstraintValidationFailed" not in exc.message:
            raise
        _write(store, rev, nodes, rels, fresh=False)  # another writer got there first
    digest = _expected_digest(nodes, rels)
    store.write(lambda tx: tx.run(MARK, rev=rev, state="ready", top=top, digest=digest).consume(),
                doing="materialising a graph on")


def _write(store: Neo4jStore, rev: int, nodes: dict[str, list[dict]], rels: dict[str, list[dict]], *,
           fresh: bool) -> None:
    run = "materialising a graph on"
    node_query, rel_query = (CREATE_NODES, CREATE_RELS) if fresh else (MERGE_NODES, MERGE_RELS)
    for section, rows in nodes.items():
        for batch in _chunks(rows):
            store.write(lambda tx, q=node_query[section], b=batch: tx.run(q, rev=rev, rows=b).consume(), doing=run)
    for kind, rows in rels.items():
        for batch in _chunks(rows):
            store.write(lambda tx, q=rel_query[kind], b=batch: tx.run(q, rev=rev, rows=b).consume(), doing=run)


def actual_digest(store: Neo4jStore, rev: int) -> str:
    """The digest of what the graph of revision `rev` holds now (streamed from the server)."""
    digest = _Digest()
    labels = set(NODE_LABELS.values())
    with store._errors("verifying"), store.driver.session(database=store.database) as session:
        for record in session.run("MATCH (n:Element {rev: $rev}) RETURN labels(n) AS labels,"
                                  " properties(n) AS props", rev=rev):
            label = next((name for name in record["labels"] if name in labels), "?")
            digest.add(_line("node", label, record["props"]))
        for record in session.run("MATCH (a:Element {rev: $rev})-[r]->(b:Element {rev: $rev})"
                                  " RETURN type(r) AS type, a.id AS a, b.id AS b,"
                                  " properties(r) AS props", rev=rev):
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


def drop_graph(store: Neo4jStore, rev: int) -> None:
    """Delete revision `rev`'s graph in batches and mark it 'pending' (the revision stays).

    Relationships go first, type by type through their (rev, ...) indexes, so no transaction
    has to detach a hub node's thousands of flows at once."""
    store.write(lambda tx: tx.run("MATCH (r:Revision {number: $rev}) SET r.graph = 'pending'",
                                  rev=rev).consume(), doing="dropping a graph on")
    for query in DROP:
        while store.write(lambda tx, q=query: tx.run(q, rev=rev, batch=BATCH).single()["n"],
                          doing="dropping a graph on"):
            pass
