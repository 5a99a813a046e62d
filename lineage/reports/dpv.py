"""The registry as W3C Data Privacy Vocabulary (DPV 2.3) linked data, serialised as JSON-LD.

Each hop active on the date is a `dpv:Transfer` (also `dpv:CrossBorderTransfer` when it crosses
a border; a collection from data subjects is a `dpv:Collect`, not a transfer) with its exporter,
importer and recipient role, the personal data it carries, its third country, its legal basis,
and the transfer tools it relies on:
- `flowreg:transferTool`: every tool that covers the hop on the date, as a concept
  (eu-gdpr:BindingCorporateRules, eu-gdpr:SCCByCommission, eu-gdpr:A49-1-a, legal-eu:Adequacy-EU-CH,
  or a project term such as flowreg:EUUSPrivacyShield where DPV has none);
- each term in its DPV role (checked against the bundled DPV 2.3 by `dpv_check.dpv_problems`):
  the organisation's own safeguard (an instance typed with the DPV class: SCC, BCR...) is a
  `dpv:hasOrganisationalMeasure`; what DPV types as a legal basis (Art. 49 derogations, adequacy
  decisions, the GDPR article relied on) is a `dpv:hasLegalBasis`;
- `flowreg:hasAssessment`: one node per regime with its status, reason and the tools it names
  (`flowreg:claimedTool` holds a tool that is claimed but does not hold on the date), the
  regime's law (`dpv:hasApplicableLaw`) and area (`dpv:hasJurisdiction`), and the destination as
  `dpv:hasThirdCountry` only when it is outside that regime's area: a hop from the UK to Germany
  has a third country for the UK regime and none for the EU's.
The complete record (controller, DPO and representative, contacts, security measures, special
categories, agreements, transfer impact assessments) is added by `lineage.reports.dpv_record`.
Locations: a country is `dpv:hasCountry loc:XX`; the EEA is a union (`dpv:hasLocation loc:EEA`).
Parties are typed with the roles they play in the hops (dpv:DataExporter, dpv:DataImporter,
dpv:DataProcessor...). Project terms (https://w3id.org/flowreg#) for tools DPV lacks sit under
the EU GDPR concepts for the EU regime only; UK and Swiss ones sit under DPV's jurisdiction-free
dpv:DataTransferLegalBasis or dpv:SafeguardForDataTransfer.
Instance IRIs are `urn:flowreg:<organisation>:<kind>:<id>` (pass `base` for resolvable ones).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from urllib.parse import quote

from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, SKOS, XSD

from lineage.api import Flowreg
from lineage.law import Law
from lineage.reports import dpv_record
from lineage.reports.context import ReportContext
from lineage.reports.tools import FLOWREG_NS, Tool, regime_tools, tool_for
from lineage.status import Status
from registry.dpv import vocabulary
from registry.ids import LegalBasis, Role
from registry.model import Mechanism, Party

DPV = Namespace("https://w3id.org/dpv#")
PD = Namespace("https://w3id.org/dpv/pd#")
EU_GDPR = Namespace("https://w3id.org/dpv/legal/eu/gdpr#")
LEGAL_EU = Namespace("https://w3id.org/dpv/legal/eu#")
LEGAL_GB = Namespace("https://w3id.org/dpv/legal/gb#")
LOC = Namespace("https://w3id.org/dpv/loc#")
FLOWREG = Namespace(FLOWREG_NS)
PREFIXES = {
    "dpv": DPV, "pd": PD, "eu-gdpr": EU_GDPR, "legal-eu": LEGAL_EU, "legal-gb": LEGAL_GB, "loc": LOC,
    "flowreg": FLOWREG, "dct": DCTERMS, "skos": SKOS, "xsd": XSD,
}
# Each regime's law and area as DPV names them; DPV 2.3 has no Swiss law term.
REGIME_LAWS = {"eu": LEGAL_EU["law-GDPR"], "uk": LEGAL_GB["law-GDPR"], "ch": FLOWREG["law-CH-FADP"]}
REGIME_AREAS = {"eu": LOC.EEA, "uk": LOC.GB, "ch": LOC.CH}
# Tool kinds DPV types as legal bases (the rest are organisational measures).
LEGAL_BASIS_KINDS = frozenset({"adequacy", "framework", "derogation"})
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

    vocab = vocabulary()

    def located(node: URIRef, codes: list[str] | tuple[str, ...]) -> None:
        for code in codes:
            if vocab.is_a(f"loc:{code}", "dpv:Country"):
                g.add((node, DPV.hasCountry, LOC[code]))
            elif vocab.has(f"loc:{code}"):  # the EEA: a union of countries, not a country
                g.add((node, DPV.hasLocation, LOC[code]))
            else:
                g.add((node, FLOWREG.locationCode, Literal(code)))

    def plays(party: URIRef, prop: URIRef) -> None:
        """State the DPV role a party plays in a hop (the class the property ranges over)."""
        for role in vocab.range_of(vocab.curie(str(prop)) or ""):
            g.add((party, RDF.type, expand(role)))

    for category in reg.categories:
        node = iri("category", category.id)
        g.add((node, RDF.type, DPV.PersonalData))
        g.add((node, DCTERMS.identifier, Literal(category.id)))
        g.add((node, SKOS.prefLabel, Literal(category.name)))
        if category.parent:
            g.add((node, SKOS.broader, iri("category", category.parent)))
        term = vocab.curie(category.dpv) if category.dpv else None
        if term is not None and vocab.has(term):
            g.add((node, SKOS.broader, URIRef(vocab.iri(term))))
        elif category.dpv:
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
        g.add((node, SKOS.prefLabel, Literal(system.name)))  # dpv:hasName names entities
        g.add((node, FLOWREG.ownedBy, iri("party", system.owner)))
        if system.country:
            located(node, [system.country])
    dpv_record.add_entities(g, iri, ctx, revision, located, FLOWREG)
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
            plays(iri("party", exporter.id), DPV.hasDataExporter)
        if importer is not None:
            target = iri("party", importer.id)
            props = [DPV.hasRecipient]
            if not hop.collection:
                props.append(DPV.hasDataImporter)
            if flow.role in ROLE_PROPERTIES:
                props.append(ROLE_PROPERTIES[flow.role])
            for prop in props:
                g.add((node, prop, target))
                plays(target, prop)
        for category in flow.carries:
            g.add((node, DPV.hasPersonalData, iri("category", category)))
        if flow.purpose:
            purpose = BNode()
            g.add((purpose, RDF.type, DPV.Purpose))
            g.add((purpose, DCTERMS.description, Literal(flow.purpose)))
            g.add((node, DPV.hasPurpose, purpose))
        if flow.legal_basis:
            g.add((node, DPV.hasLegalBasis, LEGAL_BASES[flow.legal_basis]))
        dpv_record.add_hop(g, iri, ctx, hop, flow, node)
        for regime, verdict in hop.regimes.items():
            tools = regime_tools(rg, ctx.law, hop, regime, verdict, ctx.day)
            assessment = URIRef(f"{node}:{regime}")
            g.add((node, FLOWREG.hasAssessment, assessment))
            g.add((assessment, RDF.type, FLOWREG.TransferAssessment))
            g.add((assessment, FLOWREG.regime, Literal(regime)))
            g.add((assessment, SKOS.prefLabel, Literal(ctx.regime_name(regime))))
            g.add((assessment, FLOWREG.status, Literal(verdict.status.value)))
            g.add((assessment, FLOWREG.reason, Literal(verdict.reason)))
            if regime in REGIME_LAWS:
                g.add((assessment, DPV.hasApplicableLaw, REGIME_LAWS[regime]))
                g.add((assessment, DPV.hasJurisdiction, REGIME_AREAS[regime]))
            if verdict.status in THIRD_COUNTRY:
                # outside this regime's area (else the status would be not_required)
                for code in hop.target_countries[:1]:
                    if vocab.is_a(f"loc:{code}", "dpv:Country"):
                        g.add((assessment, DPV.hasThirdCountry, LOC[code]))
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
                target = iri("mechanism", mechanism.id) if isinstance(mechanism, Mechanism) else term
                legal_basis = tool.kind in LEGAL_BASIS_KINDS
                g.add((node, DPV.hasLegalBasis if legal_basis else DPV.hasOrganisationalMeasure, target))
        if progress:
            progress(i, len(hops))
    _project_terms(g, terms, ctx.law)
    if any(True for _ in g.triples((None, DPV.hasApplicableLaw, FLOWREG["law-CH-FADP"]))):
        law = FLOWREG["law-CH-FADP"]
        g.add((law, RDF.type, SKOS.Concept))
        g.add((law, SKOS.broader, DPV.Law))
        g.add((law, SKOS.prefLabel, Literal("Swiss Federal Act on Data Protection (FADP)")))
        g.add((law, SKOS.note, Literal("flowreg term: DPV 2.3 has no Swiss law term")))
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


def _project_terms(g: Graph, terms: dict[str, Tool], law: Law) -> None:
    """Describe every flowreg: term used, so a reader knows what it stands for."""
    for curie, tool in sorted(terms.items()):
        if not curie.startswith("flowreg:"):
            continue
        node = expand(curie)
        g.add((node, RDF.type, SKOS.Concept))
        label = tool.label if tool.kind in ("framework",) else curie.removeprefix("flowreg:")
        g.add((node, SKOS.prefLabel, Literal(label)))
        g.add((node, SKOS.broader, _broader(tool, law)))
        g.add((node, SKOS.note, Literal(f"flowreg term: DPV 2.3 has no term for this {tool.kind} ({tool.regime} regime)")))


def _broader(tool: Tool, law: Law) -> URIRef:
    """Where a project term sits in DPV: under the EU GDPR concepts only when it is an EU tool
    (a UK or Swiss tool is not an EU one), else under DPV's jurisdiction-free concepts."""
    if tool.kind == "framework" and tool.key in law.frameworks:
        regime = law.frameworks[tool.key].regime
    else:  # flowreg:Adequacy-UK-KR, flowreg:StandardContractualClauses-CH, flowreg:Derogation-EU
        found = re.search(r"-(EU|UK|CH)(?:-|$)", tool.term)
        regime = found.group(1).lower() if found else None
    eu = regime == "eu"
    if tool.kind in ("framework", "adequacy"):
        return EU_GDPR.AdequacyDecision if eu else DPV.DataTransferLegalBasis
    if tool.kind == "derogation":
        return DPV.DataTransferLegalBasis
    return EU_GDPR.DataTransferTool if eu else DPV.SafeguardForDataTransfer


def jsonld_bytes(graph: Graph) -> bytes:
    """The graph as JSON-LD with the DPV prefixes as context."""
    text = graph.serialize(format="json-ld", context=CONTEXT, indent=2)
    return text.encode("utf-8") if isinstance(text, str) else text
