"""Materialising the graph of a revision that appends elements to its parent: only the new ones.

A registration adds a party and a flow to a registry of 100k flows; copying the parent's whole
graph under the new revision number cost as much as applying the registry. When the parent's
graph is ready and the addition does not change which categories are `used` (the same condition
as `lineage.graph.extend_graph`: no new category, and every category a new flow carries is
carried by some flow already), nothing the parent's graph holds changes: every category's `used`
and every flow's `used` list derive from that set. The new revision then writes only its new
elements (`rev` = its number, `order` = their position in the whole section), their
relationships may end at the parent's nodes, and its `graph_revs` is the parent's plus itself.

What the server knows of the parent's graph stands in for the parent registry: the added
elements are validated on their own (their models), their ids must be new, and every id they
reference must be an element of the right kind in the parent's graph or among the additions
(`registry.validation.check_references`, the whole-document check, run on exactly the ids that
matter). Anything else, or anything that fails, is left to the whole materialisation, which
gives the same graph, or marks the revision 'invalid' as it always did.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from registry.additions import additions_fit
from registry.loader import validate_element
from registry.model import SECTIONS, Element, Flow
from registry.neo4j.graph import (
    KINDS,
    MERGE_RELS,
    add_element_rels,
    add_flow_rels,
    node_row,
    top_of,
    write_graph,
)
from registry.yamlsource import Issue, ParsedYaml

if TYPE_CHECKING:
    from registry.neo4j.store import Neo4jStore

# Flows are relationships, not nodes, but assessments reference them (IN_USE reports them as 'flow').
SECTION_OF_KIND = {kind: section for section, kind in KINDS.items()} | {"flow": "flows"}

# Of the candidate ids, those already in use in the base graph: elements (with their kind) and
# flows (relationships), each an index seek per id and revision.
IN_USE = ("UNWIND $ids AS eid MATCH (n:Element {id: eid}) WHERE n.rev IN $revs"
          " RETURN n.id AS id, n.kind AS kind"
          " UNION UNWIND $ids AS eid MATCH ()-[f:FLOW {id: eid}]->() WHERE f.rev IN $revs"
          " RETURN f.id AS id, 'flow' AS kind")
# For each category a new flow carries that some flow carries already: the used categories in
# its subtree (what `registry.category_use.carried_used` unions). Categories live in the base graph's
# first revision only (a delta adds none), so PARENT_OF stays within it.
CARRIED = ("UNWIND $ids AS cid MATCH (c:Element:Category {id: cid}) WHERE c.rev IN $revs AND c.used"
           " OPTIONAL MATCH (c)-[:PARENT_OF*0..]->(d:Category) WHERE d.used"
           " RETURN c.id AS id, collect(DISTINCT d.id) AS used")


def extend_materialised(store: Neo4jStore, number: int, base_revs: list[int]) -> bool:
    """Write revision `number`'s graph as its new elements on its base's graph (`base_revs`,
    ready) and mark it ready; False (nothing written) when that does not apply."""
    found = store.revision_additions(number)
    if found is None:
        return False
    revision, additions = found
    elements = _validated(additions)
    if elements is None:
        return False
    flows = [flow for _, flow in elements.get("flows", ())]
    carried = sorted({c for flow in flows for c in flow.carries})
    candidates = sorted(set(_strings(additions)))

    def facts(tx: Any) -> tuple[dict[str, str], dict[str, list[str]]]:
        in_use = {r["id"]: r["kind"] for r in tx.run(IN_USE, ids=candidates, revs=base_revs)}
        down = {r["id"]: list(r["used"]) for r in tx.run(CARRIED, ids=carried, revs=base_revs)}
        return in_use, down

    in_use, down = store.read(facts, doing="materialising a graph on")
    if any(c not in down for c in carried) or not _references_hold(elements, in_use):
        return False
    nodes: dict[str, list[dict]] = {}
    rels: dict[str, list[dict]] = {name: [] for name in MERGE_RELS}
    for section, pairs in elements.items():
        offset = len(revision.content[section]) - len(pairs)
        for i, (raw, element) in enumerate(pairs):
            if isinstance(element, Flow):
                flow_used = sorted({u for c in element.carries for u in down[c]})
                add_flow_rels(rels, raw, element, offset + i, flow_used)
            else:
                # No category is added here, and only a category's row reads the used set.
                nodes.setdefault(section, []).append(node_row(section, raw, element, offset + i, frozenset()))
                add_element_rels(rels, section, element)
    write_graph(store, number, [*base_revs, number], nodes, rels, top_of(revision.content))
    return True


def _validated(additions: dict[str, list[dict[str, Any]]]) -> dict[str, list[tuple[dict, Element]]] | None:
    """The added elements with their models, per section; None when a section is not one whose
    elements a delta graph can hold, or an element is not valid on its own."""
    parsed = ParsedYaml(value={})
    issues: list[Issue] = []
    out: dict[str, list[tuple[dict, Element]]] = {}
    for section, items in additions.items():
        model = SECTIONS.get(section)
        if model is None or section == "categories":  # a new category changes `used`
            return None
        out[section] = []
        for i, raw in enumerate(items):
            element = validate_element(model, raw, (section, i), parsed, issues)
            if element is None:
                return None
            out[section].append((raw, element))
    return out


def _references_hold(elements: dict[str, list[tuple[dict, Element]]], in_use: dict[str, str]) -> bool:
    """Whether the new ids are new and every id the additions reference exists, of the right
    kind (`in_use`: the candidate ids the base graph holds, with their kind)."""
    known: dict[str, list[str]] = {}
    for element_id, kind in in_use.items():
        section = SECTION_OF_KIND.get(kind)
        if section is not None:
            known.setdefault(section, []).append(element_id)
    found = {section: [e for _, e in pairs] for section, pairs in elements.items()}
    return additions_fit(found, in_use, known)


def _strings(value: Any) -> Iterator[str]:
    """Every string in a JSON value: a superset of the ids an element references."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
