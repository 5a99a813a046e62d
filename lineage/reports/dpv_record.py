"""The complete record (registry-format.md, "Optional keys for the complete record") as DPV 2.3
terms, for `lineage.reports.dpv`: each in the role DPV documents for it (checked by
`dpv_check.dpv_problems`).

- The `controller` block: a `dpv:DataController` (`dpv:hasName`, `dpv:hasAddress`,
  `dpv:hasContact`) that the revision names with `dpv:hasDataController`; its DPO a
  `dpv:DataProtectionOfficer` (`dpv:hasDataProtectionOfficer`); its Art. 27 representative an
  `eu-gdpr:Representative` (`dpv:hasRepresentative`, `dpv:isRepresentativeFor`, its country).
- A party's contact: `dpv:hasContact`. A system's security measures: each a
  `dpv:TechnicalOrganisationalMeasure` (the text does not say which of the two it is).
- Special categories: an art9 category is a `dpv:SpecialCategoryPersonalData` whose Art. 9(2)
  ground (`eu-gdpr:A9-2-a` ...) is a `dpv:hasLegalBasis` of the category and of every hop that
  carries it; an art10 category (criminal-offence data, not an Art. 9 special category) is a
  `dpv:SensitivePersonalData`.
- Agreements: a dpa is a `dpv:ControllerProcessorAgreement` when the flows it covers go to
  processors, a `dpv:SubProcessorAgreement` when they go to sub-processors, else (none or both)
  the general `dpv:DataProcessingAgreement`; a joint-controller arrangement a
  `dpv:JointDataControllersAgreement`; parties by `dpv:hasParty`. A hop names the one it relies
  on, on the date, as a `dpv:hasLegalMeasure`.
- Transfer impact assessments: each a `dpv:DataTransferImpactAssessment` with its regime and
  the flows it assesses; its supplementary measures `eu-gdpr:SupplementaryMeasure` for the EU regime (the
  UK's and Switzerland's are not EU ones: `dpv:TechnicalOrganisationalMeasure`). A hop names the
  one in force on the date, per regime, as a `dpv:hasImpactAssessment`.
Dates, outcomes, authorisations and documents, which DPV has no property for, are flowreg terms.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, XSD

from lineage.contracts import dpa_check, tia_check
from lineage.reports.context import ReportContext
from lineage.status import HopStatus
from registry.ids import AgreementKind, Role, SpecialKind
from registry.model import Agreement, Flow

DPV = Namespace("https://w3id.org/dpv#")
EU_GDPR = Namespace("https://w3id.org/dpv/legal/eu/gdpr#")
Iri = Callable[[str, str], URIRef]
Located = Callable[[URIRef, list[str]], None]


def _date(value: date) -> Literal:
    return Literal(value.isoformat(), datatype=XSD.date)


def add_entities(g: Graph, iri: Iri, ctx: ReportContext, revision: URIRef, located: Located, flowreg: Namespace) -> None:
    """The controller block, contacts, security measures, special kinds, agreements and
    assessments of the registry (hops link to them through `add_hop`)."""
    reg = ctx.rg.registry
    c = reg.controller
    if c is not None:
        node = iri("controller", "organisation")
        g.add((revision, DPV.hasDataController, node))
        for kind in (DPV.DataController, DPV.Organisation):
            g.add((node, RDF.type, kind))
        g.add((node, DPV.hasName, Literal(c.name)))
        if c.address:
            g.add((node, DPV.hasAddress, Literal(c.address)))
        if c.contact:
            g.add((node, DPV.hasContact, Literal(c.contact)))
        if c.dpo is not None:
            dpo = iri("controller", "dpo")
            g.add((node, DPV.hasDataProtectionOfficer, dpo))
            g.add((dpo, RDF.type, DPV.DataProtectionOfficer))
            _named(g, dpo, c.dpo.name, c.dpo.contact)
        if c.representative is not None:
            rep = iri("controller", "representative")
            g.add((node, DPV.hasRepresentative, rep))
            g.add((rep, DPV.isRepresentativeFor, node))
            g.add((rep, RDF.type, EU_GDPR.Representative))  # Art. 27 GDPR: in the EEA for a controller outside it
            _named(g, rep, c.representative.name, c.representative.contact)
            if c.representative.country:
                located(rep, [c.representative.country])
    for party in reg.parties:
        if party.contact:
            g.add((iri("party", party.id), DPV.hasContact, Literal(party.contact)))
    for system in reg.systems:
        for i, measure in enumerate(system.security_measures, start=1):
            node = iri("measure", f"{system.id}:{i}")
            g.add((iri("system", system.id), DPV.hasTechnicalOrganisationalMeasure, node))
            g.add((node, RDF.type, DPV.TechnicalOrganisationalMeasure))
            g.add((node, DCTERMS.description, Literal(measure)))
    for category in reg.categories:
        node = iri("category", category.id)
        if category.special is SpecialKind.ART9:
            g.add((node, RDF.type, DPV.SpecialCategoryPersonalData))
            g.add((node, DPV.hasLegalBasis, EU_GDPR[f"A{category.condition.value}"]))
        elif category.special is SpecialKind.ART10:
            g.add((node, RDF.type, DPV.SensitivePersonalData))
        if category.special is not None:
            g.add((node, flowreg.specialKind, Literal(category.special.value)))
    kinds = _dpa_kinds(ctx)
    for agreement in reg.agreements:
        _agreement(g, iri, agreement, kinds.get(agreement.id, DPV.DataProcessingAgreement), flowreg)
    for assessment in reg.assessments:
        node = iri("assessment", assessment.id)
        g.add((node, RDF.type, DPV.DataTransferImpactAssessment))
        g.add((node, DCTERMS.identifier, Literal(assessment.id)))
        g.add((node, flowreg.regime, Literal(assessment.regime.value)))
        g.add((node, flowreg.assessed, _date(assessment.assessed)))
        if assessment.review_by:
            g.add((node, flowreg.reviewBy, _date(assessment.review_by)))
        g.add((node, flowreg.outcome, Literal(assessment.outcome.value)))
        if assessment.document:
            g.add((node, flowreg.document, Literal(assessment.document)))
        for flow in assessment.flows:
            g.add((node, flowreg.assesses, iri("flow", flow)))
        kind = EU_GDPR.SupplementaryMeasure if assessment.regime.value == "eu" else DPV.TechnicalOrganisationalMeasure
        for i, measure in enumerate(assessment.measures, start=1):
            m = iri("measure", f"{assessment.id}:{i}")
            g.add((node, DPV.hasTechnicalOrganisationalMeasure, m))
            g.add((m, RDF.type, kind))
            g.add((m, DCTERMS.description, Literal(measure)))


def _named(g: Graph, node: URIRef, name: str | None, contact: str | None) -> None:
    if name:
        g.add((node, DPV.hasName, Literal(name)))
    if contact:
        g.add((node, DPV.hasContact, Literal(contact)))


def _agreement(g: Graph, iri: Iri, a: Agreement, kind: URIRef, flowreg: Namespace) -> None:
    node = iri("agreement", a.id)
    g.add((node, RDF.type, DPV.JointDataControllersAgreement if a.kind is AgreementKind.JOINT_CONTROLLER else kind))
    g.add((node, DCTERMS.identifier, Literal(a.id)))
    for party in dict.fromkeys(a.parties):
        g.add((node, DPV.hasParty, iri("party", party)))
    g.add((node, flowreg.signed, _date(a.signed)))
    if a.valid_until:
        g.add((node, flowreg.validUntil, _date(a.valid_until)))
    if a.authorisation:
        g.add((node, flowreg.authorisation, Literal(a.authorisation.value)))
    if a.objection_days is not None:
        g.add((node, flowreg.objectionDays, Literal(a.objection_days)))
    if a.document:
        g.add((node, flowreg.document, Literal(a.document)))


def _dpa_kinds(ctx: ReportContext) -> dict[str, URIRef]:
    """Each dpa's DPV kind, from the roles of the flows it is the contract for (on any date)."""
    roles: dict[str, set[Role]] = {}
    for flow in ctx.rg.registry.flows:
        check = dpa_check(ctx.rg, ctx.record, flow, ctx.day)
        for agreement in (*check.in_force, *check.not_in_force) if check else ():
            roles.setdefault(agreement.id, set()).add(flow.role)
    kinds = {}
    for agreement_id, seen in roles.items():
        if seen == {Role.PROCESSOR}:
            kinds[agreement_id] = DPV.ControllerProcessorAgreement
        elif seen == {Role.SUBPROCESSOR}:
            kinds[agreement_id] = DPV.SubProcessorAgreement
    return kinds


def add_hop(g: Graph, iri: Iri, ctx: ReportContext, hop: HopStatus, flow: Flow, node: URIRef) -> None:
    """What the complete record says of one hop on the date: the Art. 9(2) grounds of the special
    categories it carries, the agreement it relies on, the assessment in force per regime."""
    rg = ctx.rg
    for category in ctx.record.special_carried(rg, flow):
        if category.special is SpecialKind.ART9 and category.condition is not None:
            g.add((node, DPV.hasLegalBasis, EU_GDPR[f"A{category.condition.value}"]))
    check = dpa_check(rg, ctx.record, flow, ctx.day)
    if check is not None and check.agreement is not None:
        g.add((node, DPV.hasLegalMeasure, iri("agreement", check.agreement.id)))
    if flow.role is Role.JOINT_CONTROLLER:
        ends = {o.id for o in (rg.organisation(flow.from_), rg.organisation(flow.to)) if o is not None}
        for a in rg.registry.agreements:
            if a.kind is AgreementKind.JOINT_CONTROLLER and a.in_force(ctx.day) and len(ends) == 2 and ends <= set(a.parties):
                g.add((node, DPV.hasLegalMeasure, iri("agreement", a.id)))
    for regime in hop.regimes:
        tia = tia_check(rg, ctx.law, ctx.record, hop, regime, ctx.day)
        if tia.state == "in_force" and tia.assessment is not None:
            g.add((node, DPV.hasImpactAssessment, iri("assessment", tia.assessment.id)))
