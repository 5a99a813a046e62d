"""The registry as W3C Data Privacy Vocabulary (DPV 2.3) linked data, serialised as JSON-LD.

Each hop active on the date is a `dpv:Transfer` (also `dpv:CrossBorderTransfer` when it crosses
a border; a collection from data subjects is a `dpv:Collect`, not a transfer) with its exporter,
importer and recipient role, the personal data it carries, its third country, its legal basis,
and the transfer tools it relies on:
- `flowreg:transferTool`: every tool that covers the hop on the date, as a concept
  (eu-gdpr:BindingCorporateRules, eu-gdpr:SCCByCommission, eu-gdpr:A49-1-a, legal-eu:Adequacy-EU-CH,
  or a project term such as flowreg:EUUSPrivacyShield where DPV has none);
- `dpv:hasOrganisationalMeasure`: the organisation's own mechanism (an instance typed with the
  DPV class), and `dpv:hasLegalBasis`: the GDPR article or adequacy decision relied on;
- `flowreg:hasAssessment`: one node per regime with its status, reason and the tools it names
  (`flowreg:claimedTool` holds a tool that is claimed but does not hold on the date).
Instance IRIs are `urn:flowreg:<organisation>:<kind>:<id>` (pass `base` for resolvable ones);
project terms live under https://w3id.org/flowreg#.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from urllib.parse import quote

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS, XSD

from lineage.api import Flowreg
from lineage.reports.context import ReportContext
from lineage.reports.tools import FLOWREG_NS, Tool, regime_tools, tool_for
from lineage.status import Status
from registry.ids import LegalBasis, Role
from registry.model import Mechanism, Party

DPV = Namespace("https://w3id.org/dpv#")
PD = Namespace("https://w3id.org/dpv/pd#")
EU_GDPR = Namespace("https://w3id.org/dpv/legal/eu/gdpr#")
LEGAL_EU = Namespace("https://w3id.org/dpv/legal/eu#")
LOC = Namespace("https://w3id.org/dpv/loc#")
FLOWREG = Namespace(FLOWREG_NS)
PREFIXES = {
    "dpv": DPV, "pd": PD, "eu-gdpr": EU_GDPR, "legal-eu": LEGAL_EU, "loc": LOC, "flowreg": FLOWREG,
    "dct": DCTERMS, "skos": SKOS, "xsd": XSD,
}
CONTEXT = {prefix: str(ns) for prefix, ns in PREFIXES.items()}
RELIED_ON = frozenset({Status.ADEQUATE, Status.COVERED, Status.DEROGATION})
THIRD_COUNTRY = frozenset({Status.ADEQUATE, Status.COVERED, Status.DEROGATION, Status.INVALID, Status.UNCOVERED})
LEGAL_BASES = {
    LegalBasis.CONSENT: DPV.Consent,
    LegalBasis.CONTRACT: DPV.Contract,
    LegalBasis.LEGAL_OBLIGATION: DPV.LegalObligation,
    LegalBasis.VITAL_INTEREST: DPV.VitalInterest,
    LegalBasis.PUBLIC_INTEREST: DPV.PublicInterest,
    LegalBasis.LEGITIMATE_INTEREST: DPV.LegitimateInterest,
}
ROLE_PROPERTIES = {
    Role.PROCESSOR: DPV.hasDataProcessor,
    Role.SUBPROCESSOR: DPV.hasDataProcessor,
    Role.CONTROLLER: DPV.hasRecipientDataController,
    Role.JOINT_CONTROLLER: DPV.hasRecipientDataController,
    Role.THIRD_PARTY: DPV.hasRecipientThirdParty,
}


def expand(curie: str) -> URIRef:
    """'eu-gdpr:SCCByCommission' -> its full IRI (an unknown prefix is a ValueError)."""
    prefix, _, local = curie.partition(":")
    if prefix not in PREFIXES:
        raise ValueError(f"unknown prefix in {curie!r}")
    return PREFIXES[prefix][local]


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "registry"


class _Iris:
    def __init__(self, base: str) -> None:
        self.base = base

    def __call__(self, kind: str, element_id: str) -> URIRef:
        return URIRef(f"{self.base}{kind}:{quote(element_id, safe='-._~')}")


def dpv_graph(
    fr: Flowreg, day: date, *, rev: int | None = None, base: str | None = None,
    generated_at: datetime | None = None, progress: Callable[[int, int], None] | None = None,
) -> Graph:
    """The revision as an rdflib Graph of DPV terms, as of `day`."""
    ctx = ReportContext.open(fr, day, rev=rev, generated_at=generated_at or datetime.now(UTC))
    rg = ctx.rg
    reg = rg.registry
    iri = _Iris(base or f"urn:flowreg:{_slug(reg.organization)}:")
    g = Graph()
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns)

    revision = iri("revision", str(ctx.revision.number))
    g.add((revision, RDF.type, FLOWREG.RegistryRevision))
    g.add((revision, DCTERMS.title, Literal(f"Data flows of {reg.organization}")))
    g.add((revision, FLOWREG.organization, Literal(reg.organization)))
    g.add((revision, FLOWREG.revisionNumber, Literal(ctx.revision.number)))
    g.add((revision, FLOWREG.revisionHash, Literal(ctx.revision.hash)))
    g.add((revision, FLOWREG.asOf, Literal(day.isoformat(), datatype=XSD.date)))
    g.add((revision, DCTERMS.created, Literal(ctx.generated_at.isoformat(), datatype=XSD.dateTime)))
    g.add((revision, FLOWREG.lawVersion, Literal(ctx.law.data.version.isoformat(), datatype=XSD.date)))

    def located(node: URIRef, codes: list[str] | tuple[str, ...]) -> None:
        for code in codes:
            g.add((node, DPV.hasCountry, LOC[code]))

    for category in reg.categories:
        node = iri("category", category.id)
        g.add((node, RDF.type, DPV.PersonalData))
        g.add((node, DCTERMS.identifier, Literal(category.id)))
        g.add((node, SKOS.prefLabel, Literal(category.name)))
        if category.parent:
            g.add((node, SKOS.broader, iri("category", category.parent)))
        if category.dpv and ":" in category.dpv:
            try:
                g.add((node, SKOS.broader, expand(category.dpv)))
            except ValueError:
                g.add((node, FLOWREG.dpvTerm, Literal(category.dpv)))
    for group in reg.subjects:
        node = iri("subject", group.id)
        g.add((node, RDF.type, DPV.DataSubject))
        g.add((node, DCTERMS.identifier, Literal(group.id)))
        g.add((node, DPV.hasName, Literal(group.name)))
        located(node, group.location)
    for party in reg.parties:
        node = iri("party", party.id)
        g.add((node, RDF.type, DPV.Organisation))
        g.add((node, DCTERMS.identifier, Literal(party.id)))
        g.add((node, DPV.hasName, Literal(party.name)))
        g.add((node, FLOWREG.partyKind, Literal(party.kind.value)))
        if party.country:
            located(node, [party.country])
    for system in reg.systems:
        node = iri("system", system.id)
        g.add((node, RDF.type, FLOWREG.System))
        g.add((node, DCTERMS.identifier, Literal(system.id)))
        g.add((node, DPV.hasName, Literal(system.name)))
        g.add((node, FLOWREG.ownedBy, iri("party", system.owner)))
        if system.country:
            located(node, [system.country])
    terms: dict[str, Tool] = {}
    for mechanism in reg.mechanisms:
        _mechanism(g, iri, ctx, mechanism, terms)

    hops = ctx.hops()
    for i, hop in enumerate(hops, start=1):
        flow = rg.flows[hop.flow]
        node = iri("flow", flow.id)
        g.add((node, RDF.type, DPV.Collect if hop.collection else DPV.Transfer))
        if hop.crosses_border:
            g.add((node, RDF.type, DPV.CrossBorderTransfer))
        g.add((node, DCTERMS.identifier, Literal(flow.id)))
        g.add((node, DCTERMS.isPartOf, revision))
        g.add((node, FLOWREG.fromNode, iri(rg.node_kind(flow.from_) or "node", flow.from_)))
        g.add((node, FLOWREG.toNode, iri(rg.node_kind(flow.to) or "node", flow.to)))
        g.add((node, FLOWREG.status, Literal(hop.status.value)))
        g.add((node, FLOWREG.reason, Literal(hop.reason)))
        exporter, importer = rg.organisation(flow.from_), rg.organisation(flow.to)
        if hop.collection:
            g.add((node, DPV.hasDataSubject, iri("subject", flow.from_)))
        elif exporter is not None:
            g.add((node, DPV.hasDataExporter, iri("party", exporter.id)))
        if importer is not None:
            target = iri("party", importer.id)
            g.add((node, DPV.hasRecipient, target))
            if not hop.collection:
                g.add((node, DPV.hasDataImporter, target))
            if flow.role in ROLE_PROPERTIES:
                g.add((node, ROLE_PROPERTIES[flow.role], target))
        for category in flow.carries:
            g.add((node, DPV.hasPersonalData, iri("category", category)))
        if flow.purpose:
            purpose = BNode()
            g.add((purpose, RDF.type, DPV.Purpose))
            g.add((purpose, DCTERMS.description, Literal(flow.purpose)))
            g.add((node, DPV.hasPurpose, purpose))
        if flow.legal_basis:
            g.add((node, DPV.hasLegalBasis, LEGAL_BASES[flow.legal_basis]))
        for regime, verdict in hop.regimes.items():
            tools = regime_tools(rg, ctx.law, hop, regime, verdict, ctx.day)
            assessment = URIRef(f"{node}:{regime}")
            g.add((node, FLOWREG.hasAssessment, assessment))
            g.add((assessment, RDF.type, FLOWREG.TransferAssessment))
            g.add((assessment, FLOWREG.regime, Literal(regime)))
            g.add((assessment, SKOS.prefLabel, Literal(ctx.regime_name(regime))))
            g.add((assessment, FLOWREG.status, Literal(verdict.status.value)))
            g.add((assessment, FLOWREG.reason, Literal(verdict.reason)))
            if verdict.status in THIRD_COUNTRY:
                for code in hop.target_countries[:1]:
                    g.add((node, DPV.hasThirdCountry, LOC[code]))
            holds = verdict.status in RELIED_ON
            for tool in tools:
                term = expand(tool.term)
                terms.setdefault(tool.term, tool)
                g.add((assessment, FLOWREG.transferTool if holds else FLOWREG.claimedTool, term))
                if not holds:
                    continue
                g.add((node, FLOWREG.transferTool, term))
                if tool.article:
                    g.add((node, DPV.hasLegalBasis, expand(tool.article)))
                mechanism = reg.get(tool.key)
                if isinstance(mechanism, Mechanism):
                    g.add((node, DPV.hasOrganisationalMeasure, iri("mechanism", mechanism.id)))
                else:
                    g.add((node, DPV.hasLegalBasis, term))
        if progress:
            progress(i, len(hops))
    _project_terms(g, terms)
    return g


def _mechanism(g: Graph, iri: _Iris, ctx: ReportContext, m: Mechanism, terms: dict[str, Tool]) -> None:
    tool = tool_for(ctx.rg, ctx.law, m.regime.value, m.id, Status.COVERED, None)
    terms.setdefault(tool.term, tool)
    node = iri("mechanism", m.id)
    g.add((node, RDF.type, expand(tool.term)))
    g.add((node, DCTERMS.identifier, Literal(m.id)))
    g.add((node, SKOS.prefLabel, Literal(m.name or tool.label)))
    g.add((node, FLOWREG.regime, Literal(m.regime.value)))
    if m.version:
        g.add((node, FLOWREG.version, Literal(m.version.value)))
    if m.ground:
        g.add((node, FLOWREG.ground, Literal(m.ground.value)))
    if m.valid_from:
        g.add((node, FLOWREG.validFrom, Literal(m.valid_from.isoformat(), datatype=XSD.date)))
    if m.valid_until:
        g.add((node, FLOWREG.validUntil, Literal(m.valid_until.isoformat(), datatype=XSD.date)))
    for member in m.members:
        if isinstance(ctx.rg.registry.get(member), Party):
            g.add((node, FLOWREG.member, iri("party", member)))


def _project_terms(g: Graph, terms: dict[str, Tool]) -> None:
    """Describe every flowreg: term used, so a reader knows what it stands for."""
    for curie, tool in sorted(terms.items()):
        if not curie.startswith("flowreg:"):
            continue
        node = expand(curie)
        g.add((node, RDF.type, SKOS.Concept))
        label = tool.label if tool.kind in ("framework",) else curie.removeprefix("flowreg:")
        g.add((node, SKOS.prefLabel, Literal(label)))
        broader = EU_GDPR.AdequacyDecision if tool.kind in ("framework", "adequacy") else EU_GDPR.DataTransferTool
        g.add((node, SKOS.broader, broader))
        g.add((node, SKOS.note, Literal(f"flowreg term: DPV 2.3 has no term for this {tool.kind} ({tool.regime} regime)")))


def jsonld_bytes(graph: Graph) -> bytes:
    """The graph as JSON-LD with the DPV prefixes as context."""
    text = graph.serialize(format="json-ld", context=CONTEXT, indent=2)
    return text.encode("utf-8") if isinstance(text, str) else text
