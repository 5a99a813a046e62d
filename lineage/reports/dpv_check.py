"""Check that a graph uses DPV terms as DPV 2.3 documents them (the bundled `registry.dpv`).

`dpv_problems(graph)` returns, as sentences, every use that the vocabulary does not support:
- an IRI in a DPV namespace (dpv, pd, eu-gdpr, legal-eu, legal-gb, loc) that DPV 2.3 lacks;
- a DPV property whose value is not of the property's documented range (`rangeIncludes`): the
  value is a DPV term of that kind, or a node typed with one, or a project term that the graph
  places (skos:broader / rdf:type) under one. A role that only exists relative to a jurisdiction
  (dpv:ThirdCountry, "a country outside applicable or compatible jurisdiction") accepts a
  dpv:Country when the same subject states that jurisdiction (dpv:hasJurisdiction).
Domains are not enforced: DPV documents them as `domainIncludes` (examples, not limits).

>>> from rdflib import Graph, URIRef
>>> g = Graph()
>>> _ = g.add((URIRef("urn:x:hop"), URIRef("https://w3id.org/dpv#hasLegalBasis"), URIRef("https://w3id.org/dpv/loc#US")))
>>> dpv_problems(g)
['urn:x:hop dpv:hasLegalBasis loc:US: loc:US is not a dpv:LegalBasis']
"""

from __future__ import annotations

from rdflib import RDF, Graph, URIRef
from rdflib.namespace import SKOS
from rdflib.term import Node

from registry.dpv import Vocabulary, vocabulary

CONTEXTUAL_ROLES = {"dpv:ThirdCountry": ("dpv:Country", "dpv:hasJurisdiction")}


def dpv_problems(graph: Graph) -> list[str]:
    """Every DPV term the graph uses that DPV 2.3 lacks or that is used outside its role."""
    vocab = vocabulary()
    problems: list[str] = []
    used: set[str] = set()
    for triple in graph:
        for term in triple:
            curie = _curie(vocab, term)
            if curie is not None:
                used.add(curie)
    for curie in sorted(used):
        if not vocab.has(curie):
            hints = vocab.suggest(curie)
            hint = f" (did you mean {' or '.join(hints)}?)" if hints else ""
            problems.append(f"{curie} is not a DPV {vocab.version} term{hint}")
    kinds = _Kinds(graph, vocab)
    for s, p, o in sorted(graph):
        prop = _curie(vocab, p)
        if prop is None or not vocab.has(prop):
            continue
        for expected in vocab.range_of(prop):
            if kinds.is_a(o, expected):
                continue
            role = CONTEXTUAL_ROLES.get(expected)
            if role and kinds.is_a(o, role[0]) and any(True for _ in graph.objects(s, URIRef(vocab.iri(role[1])))):
                continue
            problems.append(f"{kinds.name(s)} {prop} {kinds.name(o)}: {kinds.name(o)} is not a {expected}")
    return problems


def _curie(vocab: Vocabulary, term: Node) -> str | None:
    return vocab.curie(str(term)) if isinstance(term, URIRef) else None


class _Kinds:
    """What a node is: DPV terms through the vocabulary, anything else through its rdf:type and
    skos:broader statements in the graph (so a project term placed under a DPV one counts)."""

    def __init__(self, graph: Graph, vocab: Vocabulary) -> None:
        self.graph = graph
        self.vocab = vocab
        self.memo: dict[Node, frozenset[str]] = {}

    def name(self, node: Node) -> str:
        return _curie(self.vocab, node) or str(node)

    def ancestors(self, node: Node) -> frozenset[str]:
        if node in self.memo:
            return self.memo[node]
        self.memo[node] = frozenset()  # a cycle ends here
        curie = _curie(self.vocab, node)
        if curie is not None:
            found = set(self.vocab.ancestors(curie))
        else:
            found = set()
            for up in (*self.graph.objects(node, RDF.type), *self.graph.objects(node, SKOS.broader)):
                found |= self.ancestors(up)
        self.memo[node] = frozenset(found)
        return self.memo[node]

    def is_a(self, node: Node, concept: str) -> bool:
        return concept in self.ancestors(node)
