"""The DPV JSON-LD uses DPV 2.3 terms in their documented roles.

Real parts only: the exports are parsed back from their JSON-LD bytes with rdflib and checked
against the bundled DPV 2.3 vocabulary (made from the published Turtle files).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from rdflib import Graph, URIRef
from report_support import NW_DAY, TW_DAY, make_fr, northwind_store, twilio_store

from lineage.api import Flowreg
from lineage.reports.dpv import dpv_graph, jsonld_bytes
from lineage.reports.dpv_check import dpv_problems
from registry.loader import load_registry_file, load_registry_text

DPV = "https://w3id.org/dpv#"
LOC = "https://w3id.org/dpv/loc#"
FLOWREG = "https://w3id.org/flowreg#"


def parsed(fr: Flowreg, day: date) -> Graph:
    return Graph().parse(data=jsonld_bytes(dpv_graph(fr, day, rev=1)), format="json-ld")


@pytest.fixture(scope="module")
def twilio(tmp_path_factory: pytest.TempPathFactory) -> Graph:
    return parsed(twilio_store(tmp_path_factory), TW_DAY)


def test_the_seed_uses_only_existing_dpv_terms_in_their_roles(twilio: Graph) -> None:
    assert dpv_problems(twilio) == []


def test_northwind_uses_only_existing_dpv_terms_in_their_roles(tmp_path_factory: pytest.TempPathFactory) -> None:
    assert dpv_problems(parsed(northwind_store(tmp_path_factory), NW_DAY)) == []


def test_the_check_catches_the_misuses_it_is_for() -> None:
    g = Graph()
    hop, subject = URIRef("urn:x:hop"), URIRef("urn:x:subjects")
    g.add((hop, URIRef(DPV + "hasOrganisationalMeasure"), URIRef("https://w3id.org/dpv/legal/eu/gdpr#A49-1-a")))
    g.add((subject, URIRef(DPV + "hasCountry"), URIRef(LOC + "EEA")))
    g.add((hop, URIRef(DPV + "hasThirdCountry"), URIRef(LOC + "US")))  # no jurisdiction stated
    g.add((hop, URIRef(DPV + "hasPersonalData"), URIRef("https://w3id.org/dpv/pd#BrowsingBehavior")))
    problems = "\n".join(dpv_problems(g))
    assert "eu-gdpr:A49-1-a is not a dpv:OrganisationalMeasure" in problems
    assert "loc:EEA is not a dpv:Country" in problems
    assert "loc:US is not a dpv:ThirdCountry" in problems
    assert "pd:BrowsingBehavior is not a DPV 2.3 term (did you mean pd:BrowsingBehaviour?)" in problems


def _objects(g: Graph, flow: str, prop: str) -> set[str]:
    rows = g.query(f"""PREFIX dct: <http://purl.org/dc/terms/>
        SELECT ?o WHERE {{ ?hop dct:identifier "{flow}" ; <{prop}> ?o . }}""")
    return {str(r.o) for r in rows}


def test_derogations_are_legal_bases_and_contracts_are_measures(twilio: Graph) -> None:
    bases = _objects(twilio, "platform-to-carrier-row", DPV + "hasLegalBasis")
    measures = _objects(twilio, "platform-to-carrier-row", DPV + "hasOrganisationalMeasure")
    assert any(b.endswith("mechanism:derogation-contract") for b in bases), bases
    assert not any("derogation" in m for m in measures)
    scc = _objects(twilio, "platform-to-infra-edge", DPV + "hasOrganisationalMeasure")
    assert scc and all(":mechanism:" in m for m in scc)


def test_the_eea_is_a_union_not_a_country(twilio: Graph) -> None:
    assert (None, URIRef(DPV + "hasCountry"), URIRef(LOC + "EEA")) not in twilio
    assert (None, URIRef(DPV + "hasLocation"), URIRef(LOC + "EEA")) in twilio


def test_uk_and_swiss_terms_are_not_placed_under_eu_concepts(twilio: Graph) -> None:
    rows = twilio.query("""PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT ?term ?up WHERE { ?term skos:broader ?up . FILTER(STRSTARTS(STR(?term), "https://w3id.org/flowreg#")) }""")
    placed = {str(r.term).removeprefix(FLOWREG): str(r.up) for r in rows}
    swiss = {t: up for t, up in placed.items() if "-CH" in t or t.startswith("Swiss")}
    assert swiss and not any("/legal/eu" in up for up in swiss.values()), swiss
    assert placed["EUUSPrivacyShield"] == "https://w3id.org/dpv/legal/eu/gdpr#AdequacyDecision"


UK_TO_DE = """flowreg: 1
organization: Example
categories: [{id: customer, name: Customer data, dpv: pd:Contact}]
subjects: [{id: uk-customers, name: UK customers, location: GB}]
parties:
  - {id: example-uk, name: Example Ltd, kind: affiliate, country: GB}
  - {id: mailer-de, name: Mailer GmbH, kind: subprocessor, country: DE}
  - {id: mailer-us, name: Mailer Inc, kind: subprocessor, country: US}
systems: [{id: crm, name: CRM, owner: example-uk, country: GB}]
flows:
  - {id: collect, from: uk-customers, to: crm, carries: [customer]}
  - {id: crm-to-de, from: crm, to: mailer-de, carries: [customer], role: processor}
  - {id: de-to-us, from: mailer-de, to: mailer-us, carries: [customer], role: subprocessor}
"""


def test_third_countries_are_stated_per_regime(tmp_path: Path) -> None:
    registry = load_registry_text(UK_TO_DE)
    g = parsed(make_fr(tmp_path / "db", registry.content()), date(2022, 1, 1))
    assert dpv_problems(g) == []
    rows = g.query("""PREFIX dct: <http://purl.org/dc/terms/> PREFIX dpv: <https://w3id.org/dpv#>
        PREFIX flowreg: <https://w3id.org/flowreg#>
        SELECT ?flow ?regime ?country ?area WHERE { ?hop dct:identifier ?flow ; flowreg:hasAssessment ?a .
          ?a flowreg:regime ?regime ; dpv:hasThirdCountry ?country ; dpv:hasJurisdiction ?area . }""")
    found = {(str(r.flow), str(r.regime), str(r.country).removeprefix(LOC), str(r.area).removeprefix(LOC)) for r in rows}
    # Germany is a third country for the UK regime only; the US for both regimes the data carries.
    assert ("crm-to-de", "uk", "DE", "GB") in found
    assert not any(f == "crm-to-de" and regime == "eu" for f, regime, _, _ in found)
    assert {(f, regime) for f, regime, c, _ in found if f == "de-to-us"} == {("de-to-us", "uk"), ("de-to-us", "eu")}
    hop_level = g.query("""PREFIX dpv: <https://w3id.org/dpv#> SELECT ?c WHERE { ?h a dpv:Transfer ; dpv:hasThirdCountry ?c }""")
    assert list(hop_level) == [], "a third country is always stated with the regime it is third for"


# --- the complete record (tests/fixtures/northwind_complete.yaml) ------------------------------
COMPLETE = Path(__file__).resolve().parent / "fixtures" / "northwind_complete.yaml"
EU_GDPR = "https://w3id.org/dpv/legal/eu/gdpr#"


@pytest.fixture(scope="module")
def complete(tmp_path_factory: pytest.TempPathFactory) -> Flowreg:
    return make_fr(tmp_path_factory.mktemp("complete") / "db", load_registry_file(COMPLETE).content())


@pytest.mark.parametrize("day", [date(2020, 8, 1), date(2021, 10, 15), date(2024, 1, 1)])
def test_the_complete_record_uses_only_existing_dpv_terms_in_their_roles(complete: Flowreg, day: date) -> None:
    assert dpv_problems(parsed(complete, day)) == []


def _select(g: Graph, query: str) -> set[tuple[str, ...]]:
    prefixes = """PREFIX dct: <http://purl.org/dc/terms/> PREFIX dpv: <https://w3id.org/dpv#>
        PREFIX eu-gdpr: <https://w3id.org/dpv/legal/eu/gdpr#> PREFIX flowreg: <https://w3id.org/flowreg#>
        PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#> """
    return {tuple(str(v).rsplit("#", 1)[-1] for v in row) for row in g.query(prefixes + query)}


def test_the_controller_its_dpo_and_representative(complete: Flowreg) -> None:
    g = parsed(complete, date(2021, 10, 15))
    assert _select(g, """SELECT ?name ?address ?contact WHERE { ?r a flowreg:RegistryRevision ; dpv:hasDataController ?c .
        ?c a dpv:DataController ; dpv:hasName ?name ; dpv:hasAddress ?address ; dpv:hasContact ?contact }""") == {
        ("Northwind Mail B.V.", "Herengracht 1, Amsterdam, NL", "privacy@northwind.example")}
    assert _select(g, """SELECT ?name ?contact WHERE { ?c dpv:hasDataProtectionOfficer ?d .
        ?d a dpv:DataProtectionOfficer ; dpv:hasName ?name ; dpv:hasContact ?contact }""") == {("Dana Ortiz", "dpo@northwind.example")}
    assert _select(g, """SELECT ?name ?country WHERE { ?c dpv:hasRepresentative ?r . ?r dpv:isRepresentativeFor ?c ;
        a eu-gdpr:Representative ; dpv:hasName ?name ; dpv:hasCountry ?country }""") == {("Rep Ltd", "IE")}
    assert ("dpo@bouncer.example",) in _select(g, """SELECT ?contact WHERE { ?p dct:identifier "bouncer" ; dpv:hasContact ?contact }""")
    assert _select(g, """SELECT ?measure WHERE { ?s dct:identifier "mailer" ; dpv:hasTechnicalOrganisationalMeasure ?m .
        ?m a dpv:TechnicalOrganisationalMeasure ; dct:description ?measure }""") == {
        ("encryption at rest",), ("role-based access control",)}


def test_special_categories_are_typed_and_their_art9_ground_is_a_legal_basis(complete: Flowreg) -> None:
    g = parsed(complete, date(2021, 10, 15))
    types = _select(g, """SELECT ?id ?type WHERE { ?c dct:identifier ?id ; a ?type .
        FILTER(?type IN (dpv:SpecialCategoryPersonalData, dpv:SensitivePersonalData)) }""")
    assert types == {("subscriber.health", "SpecialCategoryPersonalData"), ("subscriber.fraud", "SensitivePersonalData")}
    grounds = _select(g, """SELECT ?id WHERE { ?x dct:identifier ?id ; dpv:hasLegalBasis eu-gdpr:A9-2-a }""")
    assert grounds == {("subscriber.health",), ("signup",), ("web-to-mailer-health",), ("mailer-to-bouncer",)}, \
        "the category and every hop that carries it"


def test_agreements_by_their_dpv_kind_and_the_one_each_hop_relies_on(complete: Flowreg) -> None:
    g = parsed(complete, date(2021, 10, 15))
    kinds = _select(g, """SELECT ?id ?kind WHERE { ?a dct:identifier ?id ; a ?kind ; dpv:hasParty ?p .
        FILTER(STRSTARTS(STR(?kind), "https://w3id.org/dpv#")) }""")
    assert kinds == {("dpa-mailer", "ControllerProcessorAgreement"), ("dpa-shopco", "ControllerProcessorAgreement"),
                     ("dpa-bouncer", "SubProcessorAgreement"), ("jca-adnet", "JointDataControllersAgreement")}
    relied = _select(g, """SELECT ?flow ?a WHERE { ?h a dpv:Transfer ; dct:identifier ?flow ; dpv:hasLegalMeasure ?m .
        ?m dct:identifier ?a }""")
    assert relied == {("web-to-mailer", "dpa-mailer"), ("web-to-mailer-health", "dpa-mailer"),
                      ("mailer-to-bouncer", "dpa-bouncer"), ("shopco-mailings", "dpa-shopco"), ("fraud-to-adnet", "jca-adnet")}


@pytest.mark.parametrize(("day", "expected"), [
    (date(2020, 8, 1), {("web-to-mailer", "tia-mailer-us"), ("web-to-mailer-health", "tia-mailer-us")}),
    (date(2021, 10, 15), {("web-to-mailer-health", "tia-mailer-us-2021"), ("mailer-to-bouncer", "tia-bouncer-br")}),
    (date(2024, 1, 1), {("web-to-mailer-health", "tia-mailer-us-2021"), ("mailer-to-bouncer", "tia-bouncer-br-2023")}),
])
def test_each_hop_names_the_transfer_impact_assessment_in_force(complete: Flowreg, day: date, expected: set) -> None:
    g = parsed(complete, day)
    assert _select(g, """SELECT ?flow ?a WHERE { ?h dct:identifier ?flow ; dpv:hasImpactAssessment ?t .
        ?t a dpv:DataTransferImpactAssessment ; dct:identifier ?a }""") == expected
    assert _select(g, """SELECT ?a ?measure WHERE { ?t dct:identifier ?a ; dpv:hasTechnicalOrganisationalMeasure ?m .
        ?m a eu-gdpr:SupplementaryMeasure ; dct:description ?measure }""") == {
        ("tia-mailer-us", "pseudonymised addresses"), ("tia-bouncer-br", "end-to-end encryption")}
