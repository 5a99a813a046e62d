"""The complete record (registry-format.md "Optional keys for the complete record"): the keys
validate strictly, round-trip, and give the five finding rules exactly as the format page
defines them, at every date boundary; fixes never name an instrument that did not exist on the
date asked; the law file's block for these facts cites its sources.

Nothing is mocked: registries are parsed from YAML (the fixture, the seed) or built with
tests/registry_builders.py and judged by the real engine and law file.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml
from clirun import FIXTURES, SEED, flowreg, revisions
from registry_builders import bcr, flow, graph_of, mechanism, party, registry, scc, subjects, system

from lineage.contracts import TIA, RecordIndex, dpa_check, own_parties
from lineage.evaluation import evaluate
from lineage.findings import Severity, findings
from lineage.fixes import signable_scc, tool_fix
from lineage.graph import build_graph
from lineage.law import load_law
from lineage.law.knowledge import LAW_FILE
from lineage.record_findings import (
    NO_DPA,
    RULES,
    SPECIAL_TRANSFER,
    TIA_MISSING,
    TIA_OVERDUE,
    TIA_SUSPEND,
)
from registry.errors import RegistryError
from registry.ids import SccVersion
from registry.loader import load_registry_data, load_registry_file, load_registry_text
from registry.yamlexport import to_yaml

LAW = load_law()
DAY1 = timedelta(days=1)
COMPLETE = FIXTURES / "northwind_complete.yaml"
COMPLETE_TEXT = COMPLETE.read_text(encoding="utf-8")
TIA_START = LAW.obligation(TIA).valid_from


def record_findings(rg, day):
    return sorted((f.rule, f.flow, f.regime) for f in findings(rg, day) if f.rule in RULES)


def find(rg, day, rule):
    return [f for f in findings(rg, day) if f.rule == rule]


# --- validation ---------------------------------------------------------------------------------
def test_every_optional_key_validates_applies_and_round_trips(tmp_path: Path) -> None:
    registry_ = load_registry_file(COMPLETE)
    assert registry_.controller.dpo.name == "Dana Ortiz" and registry_.controller.representative.country == "IE"
    assert registry_.get("subscriber.health").condition.value == "9-2-a"
    assert registry_.kind_of("dpa-bouncer") == "agreement" and registry_.kind_of("tia-bouncer-br") == "assessment"
    text = to_yaml(registry_)
    assert "    signed: 2019-03-15\n" in text and "    review_by: 2023-10-01\n" in text  # dates unquoted
    assert "  dpo: {" not in text and "  dpo:\n    name: Dana Ortiz\n" in text
    assert load_registry_text(text).content() == registry_.content()
    db = tmp_path / "db"
    assert flowreg("validate", COMPLETE, db=db).code == 0
    applied = flowreg("apply", COMPLETE, db=db)
    assert applied.code == 0, applied.stderr
    exported = flowreg("export", "--output", tmp_path / "out.yaml", db=db)
    assert exported.code == 0, exported.stderr
    assert load_registry_file(tmp_path / "out.yaml").content() == registry_.content()
    assert [r["number"] for r in revisions(db)] == [1]


def mutate(*edits: tuple[str, str]) -> str:
    text = COMPLETE_TEXT
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def line_of(text: str, fragment: str) -> int:
    return text[: text.index(fragment)].count("\n") + 1


MALFORMED = {
    "art9 without its condition": (
        ("    condition: 9-2-a\n", ""), "categories[4].condition: an art9 category needs its Art. 9(2) condition",
        "  - id: subscriber.health"),
    "a condition on an art10 category": (
        ("    special: art10\n", "    special: art10\n    condition: 9-2-b\n"),
        "categories[5].condition: a condition is the Art. 9(2) ground of an art9 category", "    condition: 9-2-b"),
    "an unknown condition": (("condition: 9-2-a", "condition: 9-2-z"), "categories[4].condition: '9-2-z' is not one of",
                             "condition: 9-2-z"),
    "an unknown special kind": (("special: art10", "special: art11"), "categories[5].special: 'art11' is not one of",
                                "special: art11"),
    "a negative category retention": (("retention_days: 730", "retention_days: -1"),
                                      "categories[5].retention_days: Input should be greater than or equal to 0",
                                      "retention_days: -1"),
    "an agreement naming an unknown party": (("parties: [northwind-inc, bouncer]", "parties: [northwind-inc, bouncr]"),
                                             "agreements[1].parties[1]: unknown party 'bouncr'",
                                             "parties: [northwind-inc, bouncr]"),
    "an agreement with one party": (("parties: [northwind-nl, adnet]", "parties: [adnet, adnet]"),
                                    "agreements[3].parties: an agreement needs at least two different parties",
                                    "parties: [adnet, adnet]"),
    "an impossible signature date": (("signed: 2019-03-15", "signed: 2019-02-30"),
                                     "agreements[1].signed: '2019-02-30' is not a real date", "signed: 2019-02-30"),
    "a signature date that is not a date": (("signed: 2019-03-01", "signed: soon"),
                                            "agreements[0].signed: expected a date written YYYY-MM-DD", "signed: soon"),
    "an agreement ending before it is signed": (("valid_until: 2027-03-15", "valid_until: 2019-03-15"),
                                                "agreements[1].valid_until: valid_until (2019-03-15) must be after signed",
                                                "valid_until: 2019-03-15"),
    "an authorisation on a joint-controller arrangement": (
        ("    document: contracts/jca-adnet.pdf\n", "    document: contracts/jca-adnet.pdf\n    authorisation: general\n"),
        "agreements[3].authorisation: 'authorisation' applies to a dpa only", "    authorisation: general\n\nassessments"),
    "an unknown agreement kind": (("kind: joint-controller", "kind: nda"), "agreements[3].kind: 'nda' is not one of",
                                  "kind: nda"),
    "an agreement without a signature date": (("    signed: 2020-01-01\n", ""),
                                              "agreements[3].signed: required key is missing", "  - id: jca-adnet"),
    "an assessment of an unknown flow": (("flows: [mailer-to-bouncer]", "flows: [mailer-to-bounce]"),
                                         "assessments[2].flows[0]: unknown flow 'mailer-to-bounce'",
                                         "flows: [mailer-to-bounce]"),
    "an assessment of a party": (("flows: [web-to-mailer, web-to-mailer-health]", "flows: [web-to-mailer, bouncer]"),
                                 "assessments[0].flows[1]: unknown flow 'bouncer'", "flows: [web-to-mailer, bouncer]"),
    "an assessment without a regime": (("    regime: eu\n    assessed: 2021-07-01\n", "    assessed: 2021-07-01\n"),
                                       "assessments[1].regime: required key is missing", "  - id: tia-mailer-us-2021"),
    "an assessment of an unknown regime": (("    regime: eu\n    assessed: 2021-07-01\n", "    regime: us\n    assessed: 2021-07-01\n"),
                                           "assessments[1].regime: 'us' is not one of", "regime: us"),
    "a review before the assessment": (("review_by: 2023-10-01", "review_by: 2021-09-30"),
                                       "assessments[2].review_by: review_by (2021-09-30) must be after assessed (2021-10-01)",
                                       "review_by: 2021-09-30"),
    "measures promised, none named": (("    measures: [end-to-end encryption]\n", ""),
                                      "assessments[2].measures: an outcome of proceed-with-measures names its supplementary measures",
                                      "  - id: tia-bouncer-br\n"),
    "an unknown outcome": (("outcome: suspend", "outcome: pause"), "assessments[3].outcome: 'pause' is not one of",
                           "outcome: pause"),
    "an unknown key in the controller block": (("  contact: privacy@northwind.example\n  dpo",
                                                "  contact: privacy@northwind.example\n  phone: 123\n  dpo"),
                                               "controller.phone: unknown key 'phone'", "  phone: 123"),
    "a dpo with neither name nor contact": (("dpo: {name: Dana Ortiz, contact: dpo@northwind.example}", "dpo: {}"),
                                            "controller.dpo: a dpo needs a name or a contact", "dpo: {}"),
    "a controller without a name": (("  name: Northwind Mail B.V.\n", ""), "controller.name: required key is missing",
                                    "controller:\n  address"),
    "a representative in no country": (("country: IE}", "country: XX}"),
                                       "controller.representative.country: 'XX' is not an ISO 3166-1 alpha-2 country code",
                                       "representative: {"),
    "an empty security measure": (("security_measures: [TLS everywhere, role-based access control]",
                                   "security_measures: [TLS everywhere, '']"),
                                  "systems[0].security_measures[1]: String should have at least 1 character",
                                  "security_measures: [TLS everywhere, '']"),
    "an empty contact": (("    contact: dpo@bouncer.example\n", "    contact: ''\n"),
                         "parties[2].contact: String should have at least 1 character", "    contact: ''"),
    "an agreement id used by a party": (("  - id: jca-adnet\n", "  - id: adnet\n"),
                                        "agreements[3].id: duplicate id 'adnet' (first at parties[3].id", "  - id: adnet\n    kind: joint"),
}


@pytest.mark.parametrize("case", list(MALFORMED), ids=list(MALFORMED))
def test_malformed_record_keys_name_the_key_path_and_line(case: str, tmp_path: Path) -> None:
    edit, expected, where = MALFORMED[case]
    text = mutate(edit)
    with pytest.raises(RegistryError) as caught:
        load_registry_text(text)
    issues = [i for i in caught.value.issues if str(i).startswith(expected.split(": ")[0])]
    assert issues, [str(i) for i in caught.value.issues]
    assert expected in str(issues[0]), str(issues[0])
    assert issues[0].line == line_of(text, where), (str(issues[0]), line_of(text, where))
    path = tmp_path / "r.yaml"
    path.write_text(text, encoding="utf-8")
    result = flowreg("apply", path, db=tmp_path / "db")
    assert result.code == 1 and expected in result.stderr and f"(line {issues[0].line})" in result.stderr
    assert "nothing was written" in result.stderr


# --- processor-without-dpa ---------------------------------------------------------------------
def dpa(aid: str, *parties_: str, signed: str, until: str | None = None, **extra):
    body = {"id": aid, "kind": "dpa", "parties": list(parties_), "signed": signed, **extra}
    if until:
        body["valid_until"] = until
    return "agreements", body


def processor_registry(*agreements, role: str = "processor", **flow_extra):
    return registry(
        party("us", "NL", "affiliate"), party("vendor", "NL", "service_provider"),
        subjects("users", "NL"), system("app", "NL", "us"), system("vendor-db", "NL", "vendor"),
        flow("collect", "users", "app"),
        flow("to-vendor", "app", "vendor-db", role=role, valid_from="2019-01-01", **flow_extra),
        *agreements,
    )


def test_a_dpa_signed_after_the_flow_started_counts_from_its_signature() -> None:
    rg = graph_of(processor_registry(dpa("dpa-v", "us", "vendor", signed="2019-03-01")))
    [before] = find(rg, date(2019, 2, 28), NO_DPA)
    assert (before.flow, before.node, before.severity) == ("to-vendor", "vendor", Severity.HIGH)
    assert before.evidence == ("to-vendor", "dpa-v")
    assert "in force only from 2019-03-01" in before.message and "before dpa 'dpa-v' is signed" in before.fix
    assert find(rg, date(2019, 3, 1), NO_DPA) == []
    assert find(rg, date(2018, 12, 31), NO_DPA) == []  # the flow has not started


def test_an_expiring_dpa_stops_counting_on_its_valid_until() -> None:
    rg = graph_of(processor_registry(dpa("dpa-v", "us", "vendor", signed="2018-01-01", until="2022-01-01")))
    assert find(rg, date(2021, 12, 31), NO_DPA) == []
    [after] = find(rg, date(2022, 1, 1), NO_DPA)
    assert "ended on 2022-01-01" in after.message and "Renew" in after.fix
    renewed = graph_of(processor_registry(dpa("dpa-v", "us", "vendor", signed="2018-01-01", until="2022-01-01"),
                                          dpa("dpa-v2", "us", "vendor", signed="2022-01-01")))
    assert find(renewed, date(2022, 1, 1), NO_DPA) == []


def test_a_missing_dpa_and_one_with_the_wrong_parties() -> None:
    [missing] = find(graph_of(processor_registry()), date(2020, 1, 1), NO_DPA)
    assert missing.evidence == ("to-vendor",)
    assert "no dpa between vendor and us is in force on 2020-01-01" in missing.message
    assert "Sign a data processing agreement (GDPR Art. 28(3)) between vendor and us" in missing.fix
    # a DPA of the vendor with someone else is not one with the sender's organisation
    other = processor_registry(dpa("dpa-x", "vendor", "stranger", signed="2018-01-01"),
                               party("stranger", "NL", "other"))
    assert [f.flow for f in find(graph_of(other), date(2020, 1, 1), NO_DPA)] == ["to-vendor"]
    # joint-controller arrangements are not processor contracts
    jca = processor_registry(("agreements", {"id": "jca", "kind": "joint-controller", "parties": ["us", "vendor"],
                                             "signed": "2018-01-01"}))
    assert [f.flow for f in find(graph_of(jca), date(2020, 1, 1), NO_DPA)] == ["to-vendor"]


@pytest.mark.parametrize("role", ["subprocessor", "processor"])
def test_both_processor_roles_need_a_dpa(role: str) -> None:
    assert [f.flow for f in find(graph_of(processor_registry(role=role)), date(2020, 1, 1), NO_DPA)] == ["to-vendor"]


@pytest.mark.parametrize("role", ["controller", "joint_controller", "third_party", None])
def test_other_roles_need_none(role: str | None) -> None:
    doc = processor_registry()
    for f in doc["flows"]:
        f.pop("role", None)
        if role:
            f["role"] = role
    assert find(graph_of(doc), date(2020, 1, 1), NO_DPA) == []


def test_hops_inside_one_organisation_need_no_contract_with_itself() -> None:
    doc = registry(party("us", "NL", "affiliate"), subjects("users", "NL"), system("app", "NL", "us"),
                   system("db", "DE", "us"), flow("collect", "users", "app"),
                   flow("to-db", "app", "db", role="processor"), flow("to-us", "db", "us", role="processor"))
    assert find(graph_of(doc), date(2020, 1, 1), NO_DPA) == []


def test_collection_flows_take_the_organisation_as_the_sender() -> None:
    # a processor outside the organisation collecting for it: a DPA with any of its parties counts
    base = registry(party("us", "NL", "affiliate"), party("us-2", "DE", "affiliate"),
                    party("payco", "NL", "service_provider"), subjects("users", "NL"), system("app", "NL", "us"),
                    flow("pay", "users", "payco", role="processor"))
    assert sorted(own_parties(load_registry_data(base))) == ["us", "us-2"]
    [missing] = find(graph_of(base), date(2020, 1, 1), NO_DPA)
    assert "between payco and the organisation (us, us-2)" in missing.message
    signed = {**base, "agreements": [{"id": "d", "kind": "dpa", "parties": ["us-2", "payco"], "signed": "2019-01-01"}]}
    assert find(graph_of(signed), date(2020, 1, 1), NO_DPA) == []
    # the organisation collecting as processor for its customers: a DPA with a party outside it
    own = registry(party("us", "NL", "affiliate"), party("customer", None, "other"), subjects("users", "NL"),
                   system("api", "NL", "us"), flow("calls", "users", "api", role="processor"))
    [missing] = find(graph_of(own), date(2020, 1, 1), NO_DPA)
    assert "a controller it serves" in missing.message
    with_customer = {**own, "agreements": [{"id": "d", "kind": "dpa", "parties": ["us", "customer"], "signed": "2019-01-01"}]}
    assert find(graph_of(with_customer), date(2020, 1, 1), NO_DPA) == []


# --- transfer impact assessments -------------------------------------------------------------------
def tia(aid: str, *flows_: str, assessed: str, outcome: str = "proceed", review_by: str | None = None,
        regime: str = "eu", **extra):
    body = {"id": aid, "flows": list(flows_), "regime": regime, "assessed": assessed, "outcome": outcome, **extra}
    if review_by:
        body["review_by"] = review_by
    return "assessments", body


def covered_registry(*assessments, tool=None, under=("scc-1",), **hop):
    return registry(
        party("exporter", "NL"), party("importer", "IN"), subjects("people", "NL"),
        system("src-sys", "NL", "exporter"), system("dst-sys", "IN", "importer"),
        tool or scc("scc-1", "2010/87", "exporter", "importer", signed="2015-01-01"),
        flow("collect", "people", "src-sys"), flow("hop", "src-sys", "dst-sys", under=list(under), **hop),
        *assessments,
    )


def test_assessment_findings_start_on_the_law_files_date() -> None:
    assert TIA_START == date(2020, 7, 16)  # CJEU C-311/18, as the law file says
    rg = graph_of(covered_registry())
    assert find(rg, TIA_START - DAY1, TIA_MISSING) == []
    [missing] = find(rg, TIA_START, TIA_MISSING)
    assert (missing.flow, missing.regime, missing.severity) == ("hop", "eu", Severity.HIGH)
    assert missing.evidence == ("hop", "scc-1") and "since 2020-07-16" in missing.message
    # an assessment made before the judgment counts from the day the duty starts
    early = graph_of(covered_registry(tia("t", "hop", assessed="2020-07-01")))
    assert find(early, TIA_START, TIA_MISSING) == [] and find(early, TIA_START - DAY1, TIA_MISSING) == []


def test_an_assessment_counts_from_its_date_and_a_later_one_is_evidence() -> None:
    rg = graph_of(covered_registry(tia("t", "hop", assessed="2021-03-01")))
    [missing] = find(rg, date(2021, 2, 28), TIA_MISSING)
    assert missing.evidence == ("hop", "scc-1", "t") and "dated 2021-03-01, after 2021-02-28" in missing.message
    assert find(rg, date(2021, 3, 1), TIA_MISSING) == []
    # an assessment of another regime or flow does not count
    other = graph_of(covered_registry(tia("t", "hop", assessed="2020-01-01", regime="uk"),
                                      tia("t2", "collect", assessed="2020-01-01")))
    assert [f.flow for f in find(other, date(2021, 3, 1), TIA_MISSING)] == ["hop"]


def test_overdue_replaces_missing_until_a_later_assessment() -> None:
    rg = graph_of(covered_registry(tia("t1", "hop", assessed="2020-01-01", review_by="2022-01-01"),
                                   tia("t2", "hop", assessed="2022-06-01")))
    assert find(rg, date(2021, 12, 31), TIA_OVERDUE) == []
    [overdue] = find(rg, date(2022, 1, 1), TIA_OVERDUE)
    assert (overdue.severity, overdue.evidence) == (Severity.MEDIUM, ("hop", "t1", "scc-1"))
    assert "due for review on 2022-01-01" in overdue.message
    assert find(rg, date(2022, 1, 1), TIA_MISSING) == []  # instead of, not as well as
    assert find(rg, date(2022, 6, 1), TIA_OVERDUE) == []


def test_suspend_while_the_flow_runs() -> None:
    rg = graph_of(covered_registry(tia("t1", "hop", assessed="2021-01-01", outcome="proceed-with-measures",
                                       measures=["encryption"]),
                                   tia("t2", "hop", assessed="2023-01-01", outcome="suspend"),
                                   valid_until="2024-01-01"))
    assert find(rg, date(2022, 12, 31), TIA_SUSPEND) == []
    [suspend] = find(rg, date(2023, 1, 1), TIA_SUSPEND)
    assert (suspend.severity, suspend.evidence, suspend.regime) == (Severity.HIGH, ("hop", "t2"), "eu")
    assert "Stop flow 'hop'" in suspend.fix
    assert find(rg, date(2024, 1, 1), TIA_SUSPEND) == []  # the flow stopped
    assert find(rg, date(2023, 1, 1), TIA_MISSING) == []  # an assessment is in force
    # never before the duty starts, whatever the registry says
    early = graph_of(covered_registry(tia("t", "hop", assessed="2019-01-01", outcome="suspend")))
    assert find(early, TIA_START - DAY1, TIA_SUSPEND) == [] and len(find(early, TIA_START, TIA_SUSPEND)) == 1


@pytest.mark.parametrize(("tool", "under", "needed"), [
    (scc("scc-1", "2010/87", "exporter", "importer", signed="2015-01-01"), ["scc-1"], True),
    (bcr("scc-1", "exporter", "importer"), ["scc-1"], True),
    (mechanism("scc-1", "ad-hoc", ["exporter", "importer"], valid_from="2019-01-01"), ["scc-1"], True),
    (mechanism("scc-1", "code-of-conduct", ["importer"], valid_from="2019-01-01"), ["scc-1"], False),
    (mechanism("scc-1", "certification", ["importer"], valid_from="2019-01-01"), ["scc-1"], False),
    (mechanism("scc-1", "derogation", ground="49-1-a"), ["scc-1"], False),
], ids=["scc", "bcr", "ad-hoc", "code-of-conduct", "certification", "derogation"])
def test_the_tools_that_need_an_assessment(tool, under, needed: bool) -> None:
    rg = graph_of(covered_registry(tool=tool, under=under))
    assert bool(find(rg, date(2021, 1, 1), TIA_MISSING)) is needed
    assert set(LAW.obligation(TIA).tools) == {"scc", "idta", "uk-addendum", "bcr", "ad-hoc"}  # the format's list


def test_adequate_and_uncovered_hops_need_no_assessment() -> None:
    adequate = registry(party("exporter", "NL"), party("importer", "US", certified={"eu-us-dpf": "2023-07-10"}),
                        subjects("people", "NL"), system("src", "NL", "exporter"), system("dst", "US", "importer"),
                        flow("collect", "people", "src"), flow("hop", "src", "dst"))
    assert find(graph_of(adequate), date(2024, 1, 1), TIA_MISSING) == []
    assert find(graph_of(covered_registry(under=())), date(2021, 1, 1), TIA_MISSING) == []


# --- special categories ----------------------------------------------------------------------------
def special_registry(special: dict, carried: str = "data.health", under=(), **categories):
    doc = registry(
        party("exporter", "NL"), party("importer", "IN"), subjects("people", "NL"),
        system("src-sys", "NL", "exporter"), system("dst-sys", "IN", "importer"),
        mechanism("consent", "derogation", ground="49-1-a"),
        scc("scc-1", "2021/914", "exporter", "importer", signed="2022-01-01"),
        flow("collect", "people", "src-sys", carries=["data"]),
        flow("hop", "src-sys", "dst-sys", carries=[carried], under=list(under)),
        ("categories", {"id": "data", "name": "Data"}), ("categories", {"id": "data.health", "name": "Health", **special}),
        ("categories", {"id": "data.health.notes", "name": "Notes"}), ("categories", {"id": "data.plain", "name": "Plain"}),
    )
    return graph_of(doc)


@pytest.mark.parametrize("under", [(), ("consent",), ("scc-1",)], ids=["uncovered", "derogation", "invalid"])
def test_special_category_data_on_a_weak_footing(under) -> None:
    rg = special_registry({"special": "art9", "condition": "9-2-a"}, under=under)
    [found] = find(rg, date(2021, 6, 1), SPECIAL_TRANSFER)  # the SCC is signed only in 2022: invalid
    assert (found.severity, found.regime, found.flow) == (Severity.MEDIUM, "eu", "hop")
    assert "special-category (Art. 9) data (data.health)" in found.message
    assert found.evidence[:2] == ("hop", "data.health")
    assert find(special_registry({"special": "art9", "condition": "9-2-a"}, under=("scc-1",)),
                date(2022, 1, 1), SPECIAL_TRANSFER) == []  # covered


@pytest.mark.parametrize(("carried", "hit"), [("data.health", True), ("data", True), ("data.health.notes", True),
                                              ("data.plain", False)])
def test_special_data_is_carried_by_its_ancestors_and_its_parts(carried: str, hit: bool) -> None:
    rg = special_registry({"special": "art10"}, carried=carried)
    found = find(rg, date(2021, 6, 1), SPECIAL_TRANSFER)
    assert bool(found) is hit
    if hit:
        assert "criminal-offence (Art. 10)" in found[0].message


def test_the_complete_fixture_gives_the_five_rules_at_each_boundary() -> None:
    rg = build_graph(load_registry_file(COMPLETE))
    special = [("special-category-transfer", "fraud-to-adnet", "eu")]
    bouncer_special = [("special-category-transfer", "mailer-to-bouncer", "eu")]
    expected = {
        date(2019, 2, 28): [(NO_DPA, "mailer-to-bouncer", None), (NO_DPA, "web-to-mailer", None),
                            (NO_DPA, "web-to-mailer-health", None), *bouncer_special, *special],
        date(2019, 3, 1): [(NO_DPA, "mailer-to-bouncer", None), *bouncer_special, *special],
        date(2019, 3, 15): [*bouncer_special, *special],
        TIA_START - DAY1: [*bouncer_special, *special],
        TIA_START: [*bouncer_special, *special],  # web-to-mailer's assessment of 2020-06-01 counts
        date(2021, 5, 31): [*bouncer_special, *special],
        date(2021, 6, 1): [*bouncer_special, *special, (TIA_OVERDUE, "web-to-mailer", "eu"),
                           (TIA_OVERDUE, "web-to-mailer-health", "eu")],
        date(2021, 7, 1): [*bouncer_special, *special, (TIA_OVERDUE, "web-to-mailer", "eu")],
        date(2021, 9, 1): [*special, (TIA_MISSING, "mailer-to-bouncer", "eu"), (TIA_OVERDUE, "web-to-mailer", "eu")],
        date(2021, 10, 1): [*special, (TIA_OVERDUE, "web-to-mailer", "eu")],
        date(2022, 7, 1): [*special],
        date(2023, 10, 1): [*special, (TIA_SUSPEND, "mailer-to-bouncer", "eu")],
        date(2027, 3, 14): [*special, (TIA_SUSPEND, "mailer-to-bouncer", "eu")],
        date(2027, 3, 15): [(NO_DPA, "mailer-to-bouncer", None), *special, (TIA_SUSPEND, "mailer-to-bouncer", "eu")],
    }
    for day, wanted in expected.items():
        assert record_findings(rg, day) == sorted(wanted, key=lambda t: (t[0], t[1], t[2] or "")), day


# --- fixes name only instruments that exist on the date ---------------------------------------------
NAMED_SCC = re.compile(r"SCC (\d{4}/\d+)")


def instruments_named(fix: str, regime: str, day: date) -> list[str]:
    """Every instrument a fix names that did not exist (or could not be signed) on `day`."""
    wrong = []
    signable = {version for version, _ in signable_scc(LAW, regime, day).values()}
    for version in NAMED_SCC.findall(fix):
        if version not in signable:
            wrong.append(f"SCC {version}")
    for kind, label in (("idta", "IDTA"), ("uk-addendum", "UK Addendum")):
        if label in fix and not any(i.kind == kind for i in LAW.instruments_on(regime, day)):
            wrong.append(label)
    for framework in LAW.frameworks.values():
        if framework.name in fix and not framework.valid_on(day):
            wrong.append(framework.name)
    return wrong


SCAN_DAYS = sorted({d for d in LAW.boundary_dates() if date(2015, 1, 1) <= d <= date(2027, 1, 1)}
                   | {d - DAY1 for d in LAW.boundary_dates() if date(2015, 1, 1) <= d <= date(2027, 1, 1)})


def test_the_seed_on_2018_12_27_is_not_told_to_sign_scc_2021_914() -> None:
    rg = build_graph(load_registry_file(SEED))
    fixes = [f.fix for f in findings(rg, date(2018, 12, 27))]
    assert fixes and not any("2021/914" in fix or "IDTA" in fix or "Data Privacy Framework" in fix for fix in fixes)
    [routine] = [f for f in findings(rg, date(2018, 12, 27)) if f.rule == "derogation-routine" and f.regime == "eu"]
    assert "sign SCC 2004/915 set II (controller to controller) between twilio-inc and carrier-row" in routine.fix


@pytest.mark.parametrize("day", SCAN_DAYS, ids=str)
def test_no_fix_names_an_instrument_that_did_not_exist(day: date) -> None:
    for path in (SEED, COMPLETE):
        rg = build_graph(load_registry_file(path))
        for f in findings(rg, day):
            if f.regime and ("sign " in f.fix or "rely on" in f.fix):
                assert instruments_named(f.fix, f.regime, day) == [], (day, f.rule, f.flow, f.fix)


@pytest.mark.parametrize("regime", ["eu", "uk", "ch"])
@pytest.mark.parametrize("role", ["processor", "subprocessor", "controller", None])
def test_tool_fix_for_every_regime_role_and_boundary(regime: str, role: str | None) -> None:
    origin = {"eu": "NL", "uk": "GB", "ch": "CH"}[regime]
    doc = registry(party("exporter", origin), party("importer", "US"), subjects("people", origin),
                   system("src", origin, "exporter"), system("dst", "US", "importer"),
                   flow("collect", "people", "src"), flow("hop", "src", "dst", **({"role": role} if role else {})))
    rg = graph_of(doc)
    hop_flow = rg.flows["hop"]
    for day in SCAN_DAYS:
        hop = evaluate(rg, day).hop("hop")
        fix = tool_fix(rg, LAW, hop_flow, regime, hop, day)
        assert instruments_named(fix, regime, day) == [], (day, fix)
        assert fix.endswith("or stop the flow.")


def test_the_fix_follows_the_scc_timeline() -> None:
    assert signable_scc(LAW, "eu", date(2021, 6, 26))["c2p"] == ("2010/87", "")
    assert signable_scc(LAW, "eu", date(2021, 6, 27))["c2p"] == ("2021/914", "module 2")
    assert "p2p" not in signable_scc(LAW, "eu", date(2021, 6, 26))
    assert signable_scc(LAW, "uk", date(2022, 9, 22)) == {}  # only the IDTA and the Addendum
    assert signable_scc(LAW, "ch", date(2021, 8, 27))["c2c"] == ("2021/914", "module 1")


# --- the law file's block ------------------------------------------------------------------------
RAW = yaml.safe_load(Path(LAW_FILE).read_text(encoding="utf-8"))


@pytest.mark.parametrize("section", ["scc_relations", "obligations"])
def test_the_record_facts_cite_resolving_sources(section: str) -> None:
    assert RAW[section]
    for fact in RAW[section]:
        source = RAW["sources"][fact["source"]]
        assert urlparse(source["url"]).scheme == "https" and source["title"].strip()
        assert fact["verify"] in ("P", "S", "S1", "U")


def test_scc_relations_name_known_versions_and_the_obligation_its_judgment() -> None:
    assert {r["version"] for r in RAW["scc_relations"]} == {v.value for v in SccVersion}
    assert all(set(r["relations"]) <= {"c2c", "c2p", "p2p", "p2c"} for r in RAW["scc_relations"])
    [duty] = [o for o in RAW["obligations"] if o["id"] == "transfer-impact-assessment"]
    assert duty["source"] == "cjeu-c-311-18" and "2020-07-16" in RAW["sources"]["cjeu-c-311-18"]["title"]
    assert duty["valid_from"] == date(2020, 7, 16)
    contracts = sorted((o for o in RAW["obligations"] if o.get("duty") == "processor-contract"),
                       key=lambda o: o.get("valid_from") or date.min)
    assert [(o.get("valid_from"), o.get("valid_until"), o["cite"]) for o in contracts] == [
        (None, date(2018, 5, 25), "Directive 95/46/EC Art. 17(3)"), (date(2018, 5, 25), None, "GDPR Art. 28(3)")]


# --- the seed ------------------------------------------------------------------------------------
def test_the_seed_states_what_the_policy_states_with_sources() -> None:
    seed = load_registry_file(SEED)
    assert seed.controller.contact == "privacy@twilio.com" and seed.controller.representative is None
    assert seed.controller.dpo.name.startswith("Office of the Data Protection Officer")
    assert seed.controller.source and seed.controller.dpo.source
    support = seed.get("account.interactions.support")
    assert support.retention_days == 1095 and "How Long We Store Your Customer Account Data" in support.source
    console = seed.get("console")
    assert any("two-factor" in m for m in console.security_measures) and "How We Secure" in console.source
    assert all(s.security_measures and "How We Secure" in s.source for s in seed.systems)
    assert [a.id for a in seed.agreements] == ["dpa-customers"] and seed.assessments == []
    assert not any(c.special for c in seed.categories)  # the policy states none
    assert "privacy@twilio.com" in seed.get("twilio-ireland").contact


def test_the_seed_customer_dpa_covers_what_twilio_collects_as_processor() -> None:
    rg = build_graph(load_registry_file(SEED))
    index = RecordIndex.of(rg.registry)
    check = dpa_check(rg, index, rg.flows["end-users-eea-platform"], date(2018, 12, 27))
    assert check is not None and check.outside and check.agreement.id == "dpa-customers"
    assert dpa_check(rg, index, rg.flows["end-users-eea-platform"], date(2018, 5, 24)).agreement is None

