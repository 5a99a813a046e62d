"""Queries over the lineage graph: recipients, paths, impact, findings and what-if.

Uses the registry-format example (tests/fixtures/northwind.yaml) and small builder registries.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from registry_builders import (
    deny_rule,
    derogation,
    flow,
    graph_of,
    party,
    registry,
    retention_rule,
    scc,
    subjects,
    system,
)

from lineage import queries
from lineage.early_start import EARLY_START
from lineage.findings import (
    INVALID,
    NO_NOTICE,
    ROUTINE_DEROGATION,
    UNCOVERED,
    UNKNOWN_LOCATION,
    UNLISTED,
    Severity,
    findings,
)
from lineage.graph import build_graph
from lineage.impact import impact
from lineage.record_findings import NO_DPA, TIA_MISSING
from lineage.status import Status
from lineage.whatif import add_proposal, invalidate, remove_party
from registry.errors import NotFoundError, RegistryError
from registry.loader import load_registry_file

NORTHWIND = Path(__file__).parent / "fixtures" / "northwind.yaml"
AUG_2020 = date(2020, 8, 1)
DAY = date(2024, 1, 15)


@pytest.fixture(scope="module")
def northwind():
    """One graph shared by the module's tests, as the API shares one per revision."""
    return build_graph(load_registry_file(NORTHWIND))


def rules_of(found, rule=None):
    return [(f.rule, f.flow) for f in found if rule is None or f.rule == rule]


# --- flows --------------------------------------------------------------------------------------
def test_flows_of_a_category_follow_the_hierarchy(northwind):
    of_email = [(h.flow, h.status) for h in queries.flows(northwind, "subscriber.contact.email", AUG_2020)]
    assert of_email == [("signup", Status.NOT_REQUIRED), ("web-to-mailer", Status.COVERED),
                        ("mailer-to-bouncer", Status.INVALID)]
    assert [h.flow for h in queries.flows(northwind, "subscriber", AUG_2020)] == [
        "signup", "web-to-mailer", "mailer-to-bouncer"]
    assert queries.flows(northwind, "subscriber.content", AUG_2020) == []


def test_flows_respect_the_date(northwind):
    assert [h.flow for h in queries.flows(northwind, "subscriber", date(2018, 12, 31))] == ["signup", "mailer-to-bouncer"]
    on_2019 = {h.flow: h.status for h in queries.flows(northwind, "subscriber", date(2019, 6, 1))}
    assert on_2019["web-to-mailer"] is Status.ADEQUATE  # Privacy Shield certification, before the BCR


def test_flows_from_a_node(northwind):
    assert [h.flow for h in queries.flows(northwind, "subscriber", AUG_2020, from_node="mailer")] == ["mailer-to-bouncer"]
    assert [h.flow for h in queries.flows(northwind, "subscriber", AUG_2020, from_node="bouncer")] == []


def test_unknown_names_are_refused(northwind):
    with pytest.raises(NotFoundError, match="unknown category 'subscriber.phone'"):
        queries.flows(northwind, "subscriber.phone", AUG_2020)
    with pytest.raises(NotFoundError, match="nowhere"):
        queries.path(northwind, "nowhere", "bouncer", AUG_2020)
    with pytest.raises(NotFoundError):
        queries.recipients(northwind, "webapp", AUG_2020)  # a system, not a category
    with pytest.raises(NotFoundError):
        impact(northwind, "subscriber", AUG_2020)


# --- recipients ---------------------------------------------------------------------------------
def test_northwind_recipients(northwind):
    found = [(r.party, r.hops, r.onward, r.kind, r.via) for r in queries.recipients(northwind, "subscriber", AUG_2020)]
    assert found == [("northwind-nl", 1, False, "affiliate", "signup"),
                     ("northwind-inc", 2, False, "affiliate", "web-to-mailer"),
                     ("bouncer", 3, False, "subprocessor", "mailer-to-bouncer")]


def recipients_registry():
    """The group collects in NL, sends to a carrier, an OTT provider, a sub-processor (which
    passes the data on to its own sub-processor) and an add-on partner."""
    return registry(
        party("group-nl", "NL", "affiliate"), party("group-us", "US", "affiliate"),
        party("carrier", "FR", "carrier"), party("ott", "US", "ott_provider"),
        party("infra", "IE", "subprocessor"), party("transcribe", "US", "subprocessor"),
        party("addon", "DE", "addon_partner"),
        subjects("users", "EEA"),
        system("app", "NL", "group-nl"), system("api", "US", "group-us"), system("infra-db", "IE", "infra"),
        flow("collect", "users", "app", "msg.body"),
        flow("to-api", "app", "api", "msg"),
        flow("to-carrier", "api", "carrier", "msg.body"),
        flow("to-ott", "api", "ott", "msg.body"),
        flow("to-infra", "app", "infra-db", "msg"),
        flow("infra-on", "infra-db", "transcribe", "msg.body"),
        flow("to-addon", "api", "addon", "msg.meta"),
        flow("later", "app", "addon", "msg.body", valid_from="2030-01-01"),
    )


def test_recipients_hops_onward_and_kinds():
    rg = graph_of(recipients_registry())
    found = {r.party: r for r in queries.recipients(rg, "msg.body", DAY)}
    assert {p: (r.hops, r.onward, r.kind) for p, r in found.items()} == {
        "group-nl": (1, False, "affiliate"),
        "group-us": (2, False, "affiliate"),   # a flow of the whole (msg) carries the body
        "infra": (2, False, "subprocessor"),
        "carrier": (3, False, "carrier"),
        "ott": (3, False, "ott_provider"),
        "transcribe": (3, True, "subprocessor"),  # received from another recipient: onward
    }
    # msg.meta is a sibling of msg.body: the add-on partner does not receive the body
    assert "addon" not in found
    assert found["transcribe"].via == "infra-on" and found["infra"].nodes == ("infra-db",)
    assert found["group-us"].via == "to-api"
    # nearest first
    hops = [r.hops for r in queries.recipients(rg, "msg.body", DAY)]
    assert hops == sorted(hops)


def test_recipients_of_the_parent_include_every_part():
    rg = graph_of(recipients_registry())
    found = {r.party: r for r in queries.recipients(rg, "msg", DAY)}
    assert set(found) == {"group-nl", "group-us", "carrier", "ott", "infra", "transcribe", "addon"}
    assert found["addon"].hops == 3 and not found["addon"].onward
    # the future flow counts once it runs
    later = {r.party: r for r in queries.recipients(rg, "msg.body", date(2030, 1, 1))}
    assert later["addon"].hops == 2 and later["addon"].via == "later"


# --- path ---------------------------------------------------------------------------------------
def path_registry():
    return registry(
        subjects("users", "NL"), system("a", "NL"), system("b", "US"), system("c-sys", "US"),
        system("d", "BR"), system("dead-end", "JP"), system("elsewhere", "IN"),
        flow("ua", "users", "a"),
        flow("ab", "a", "b"), flow("bc", "b", "c-sys"), flow("cd", "c-sys", "d"),
        flow("ad", "a", "d"),
        flow("b-dead", "b", "dead-end"),
        flow("other", "elsewhere", "a", "x"),
    )


def test_path_lists_the_hops_on_any_route_and_one_shortest_chain():
    rg = graph_of(path_registry())
    result = queries.path(rg, "users", "d", DAY)
    assert result.shortest == ["ua", "ad"]
    assert [h.flow for h in result.hops] == ["ua", "ab", "bc", "cd", "ad"]
    statuses = {h.flow: h.status for h in result.hops}
    assert statuses == {"ua": Status.NOT_REQUIRED, "ab": Status.UNCOVERED, "bc": Status.NOT_REQUIRED,
                        "cd": Status.UNCOVERED, "ad": Status.UNCOVERED}
    assert result.to_dict()["shortest"] == ["ua", "ad"]


def test_path_by_category_and_no_route():
    rg = graph_of(path_registry())
    assert queries.path(rg, "elsewhere", "a", DAY, category="x").shortest == ["other"]
    assert queries.path(rg, "elsewhere", "d", DAY, category="x").hops == []
    none = queries.path(rg, "d", "users", DAY)
    assert none.shortest == [] and none.hops == []
    assert queries.path(rg, "dead-end", "d", DAY).hops == []


def test_path_on_northwind(northwind):
    result = queries.path(northwind, "subscribers-eea", "bouncer", AUG_2020, category="subscriber.contact.email")
    assert result.shortest == ["signup", "web-to-mailer", "mailer-to-bouncer"]
    assert [h.status for h in result.hops] == [Status.NOT_REQUIRED, Status.COVERED, Status.INVALID]
    # after web-to-mailer ends (2022-07-01) the data no longer reaches bouncer from the subjects
    assert queries.path(northwind, "subscribers-eea", "bouncer", date(2023, 1, 1)).shortest == []


# --- impact -------------------------------------------------------------------------------------
def test_impact_of_a_party_covers_its_systems(northwind):
    i = impact(northwind, "northwind-inc", AUG_2020)
    assert i.kind == "party" and i.nodes == ["mailer", "northwind-inc"]
    assert i.subjects == ["subscribers-eea"]
    assert i.hops_in == ["web-to-mailer"] and i.hops_out == ["mailer-to-bouncer"]
    assert i.onward_recipients == ["bouncer"]
    assert i.mechanisms == ["northwind-bcr"]


def test_impact_of_a_system(northwind):
    i = impact(northwind, "webapp", AUG_2020)
    assert i.subjects == ["subscribers-eea"]
    assert i.hops_in == ["signup"] and i.hops_out == ["web-to-mailer"]
    assert i.downstream_hops == ["mailer-to-bouncer"]
    assert i.onward_recipients == ["bouncer", "northwind-inc"]


def test_impact_of_a_mechanism_and_a_framework(northwind):
    i = impact(northwind, "northwind-bcr", AUG_2020)
    assert i.kind == "mechanism" and i.hops_in == ["web-to-mailer"]
    assert i.subjects == ["subscribers-eea"] and i.onward_recipients == ["bouncer"]
    # a framework is "used" by the hops that claim it or rely on it for adequacy
    fw = impact(northwind, "eu-us-privacy-shield", date(2019, 6, 1))
    assert fw.kind == "framework" and fw.hops_in == ["web-to-mailer"]
    assert fw.subjects == ["subscribers-eea"]
    assert "bouncer" in fw.onward_recipients
    assert impact(northwind, "eu-us-dpf", AUG_2020).hops_in == []


def test_impact_relies_on_adequacy_even_without_a_claim():
    doc = registry(subjects("users", "NL"), system("app", "NL"),
                   system("crm", "US", certified={"eu-us-dpf": "2023-08-01"}), party("ads", "US"),
                   flow("collect", "users", "app"), flow("to-crm", "app", "crm"), flow("crm-on", "crm", "ads"))
    rg = graph_of(doc)
    i = impact(rg, "eu-us-dpf", DAY)
    assert i.hops_in == ["to-crm"] and i.subjects == ["users"] and i.downstream_hops == ["crm-on"]
    assert i.onward_recipients == ["ads", "crm-org"]


def test_impact_follows_only_the_data_that_passes_the_node():
    # the hub gets category a from the EEA group and b from the US group; the party that
    # receives only b from the hub is downstream of the US group only
    doc = registry(subjects("eea", "EEA"), subjects("us", "US"), system("hub", "US"), party("b-only", "BR"),
                   party("a-only", "BR"), system("feeder", "US"),
                   flow("ca", "eea", "hub", "a"), flow("cb", "us", "feeder", "b"), flow("fb", "feeder", "hub", "b"),
                   flow("send-b", "hub", "b-only", "b"), flow("send-a", "hub", "a-only", "a"))
    rg = graph_of(doc)
    assert impact(rg, "b-only", DAY).subjects == ["us"]
    assert impact(rg, "a-only", DAY).subjects == ["eea"]
    feeder = impact(rg, "feeder", DAY)
    assert feeder.onward_recipients == ["b-only", "hub-org"]
    assert feeder.downstream_hops == ["send-b"]


# --- findings -----------------------------------------------------------------------------------
def test_northwind_findings(northwind):
    found = findings(northwind, AUG_2020)
    # The format's example holds no agreements or assessments: its processor hops have no DPA,
    # and its BCR hop (after 2020-07-16) no transfer impact assessment.
    assert rules_of(found) == [(NO_DPA, "web-to-mailer"), (NO_DPA, "mailer-to-bouncer"),
                               (TIA_MISSING, "web-to-mailer"), (INVALID, "mailer-to-bouncer"),
                               (UNLISTED, "mailer-to-bouncer"), (NO_NOTICE, "mailer-to-bouncer")]
    assert [f.severity for f in found] == [Severity.HIGH] * 4 + [Severity.MEDIUM, Severity.LOW]
    invalid = found[3]
    assert invalid.evidence == ("mailer-to-bouncer", "scc-bouncer") and invalid.regime == "eu"
    # On 2020-08-01 no SCC for processor-to-processor transfers existed (2021/914 came in 2021),
    # and Privacy Shield had just fallen: the fix names neither.
    assert "no standard contractual clauses for processor to processor transfers could be signed on 2020-08-01" in invalid.fix
    assert "between northwind-inc and bouncer" in invalid.fix
    assert "2021/914" not in invalid.fix and "Privacy Shield" not in invalid.fix
    assert invalid.to_dict()["flow"] == "mailer-to-bouncer"


def deny_registry(**deny):
    return registry(
        subjects("users", "NL"), system("app", "NL"), system("hub", "NL"), party("adnet", "NL", "addon_partner"),
        flow("collect", "users", "app", "msg.content"),
        flow("app-hub", "app", "hub", "msg"),
        flow("hub-ads", "hub", "adnet", "msg.content.text", purpose="ads", role="third_party"),
        flow("hub-ads-meta", "hub", "adnet", "meta", purpose="ads"),
        deny_rule("no-content-to-ads", ["msg.content"], **deny),
    )


def test_deny_rule_with_the_path_as_evidence():
    rg = graph_of(deny_registry(to=["adnet"]))
    broken = [f for f in findings(rg, DAY) if f.rule == "no-content-to-ads"]
    assert [(f.flow, f.node, f.severity) for f in broken] == [("hub-ads", "adnet", Severity.HIGH)]
    assert broken[0].evidence == ("collect", "app-hub", "hub-ads")
    assert "Stop flow 'hub-ads'" in broken[0].fix


@pytest.mark.parametrize(("deny", "hit"), [
    ({"to_kinds": ["addon_partner"]}, True),
    ({"to_kinds": ["carrier"]}, False),
    ({"roles": ["third_party"]}, True),
    ({"roles": ["processor"]}, False),
    ({"purposes": ["ads"]}, True),
    ({"purposes": ["ads"], "roles": ["processor"]}, False),  # every condition must hold
    ({"to": ["hub"], "purposes": ["ads"]}, False),
])
def test_deny_rule_conditions(deny, hit):
    rg = graph_of(deny_registry(**deny))
    assert rules_of(findings(rg, DAY), "no-content-to-ads") == ([("no-content-to-ads", "hub-ads")] if hit else [])


def test_deny_rule_matches_a_flow_of_the_whole_that_contains_the_category():
    rg = graph_of(deny_registry(to=["hub"]))
    # app-hub carries msg, which contains msg.content
    assert rules_of(findings(rg, DAY), "no-content-to-ads") == [("no-content-to-ads", "app-hub")]


def test_retention_rule_for_flows_and_systems():
    doc = registry(
        subjects("users", "NL"), system("app", "NL"), system("archive", "NL", retention_days=400),
        system("cache", "NL", retention_days=30),
        flow("collect", "users", "app", "acct.crm"),
        flow("to-archive", "app", "archive", "acct.crm"),
        flow("to-cache", "app", "cache", "acct", retention_days=90),
        flow("to-cache-other", "app", "cache", "other", retention_days=900),
        retention_rule("crm-60-days", ["acct.crm"], 60),
    )
    found = [f for f in findings(graph_of(doc), DAY) if f.rule == "crm-60-days"]
    assert [(f.flow, f.node, f.title) for f in found] == [
        ("to-archive", "archive", "Retention beyond limit: system 'archive'"),
        ("to-cache", "cache", "Retention beyond limit: flow 'to-cache'"),
    ]
    assert all(f.severity is Severity.MEDIUM for f in found)


def subprocessor_registry(**extra):
    return registry(
        party("sub", "NL", "subprocessor", **extra), subjects("users", "NL"), system("app", "NL"),
        flow("collect", "users", "app"), flow("to-sub", "app", "sub", valid_from="2023-03-01"),
        notice_days=30,
    )


@pytest.mark.parametrize(("extra", "expected"), [
    ({}, {(UNLISTED, Severity.MEDIUM, "Sub-processor 'sub' is not known to be on the public list"),
          (NO_NOTICE, Severity.LOW, "No notice recorded for sub-processor 'sub'")}),
    ({"public_list": False, "notice_given": "2023-01-01"},
     {(UNLISTED, Severity.MEDIUM, "Sub-processor 'sub' is not on the public list")}),
    ({"public_list": True, "notice_given": "2023-01-30"}, set()),          # 30 days before: in time
    ({"public_list": True, "notice_given": "2023-01-31"},                  # 29 days before: too late
     {(EARLY_START, Severity.HIGH, "Sub-processor 'sub' receives data before its notice period has run")}),
])
def test_subprocessor_findings(extra, expected):
    found = [f for f in findings(graph_of(subprocessor_registry(**extra)), DAY)
             if f.rule in (UNLISTED, NO_NOTICE, EARLY_START)]
    assert {(f.rule, f.severity, f.title) for f in found} == expected
    assert all(f.node == "sub" and f.flow == "to-sub" and f.evidence == ("to-sub",) for f in found)


def test_subprocessor_by_role_counts_too():
    doc = registry(party("vendor", "NL", "service_provider"), subjects("users", "NL"), system("app", "NL"),
                   flow("collect", "users", "app"), flow("to-vendor", "app", "vendor", role="subprocessor"))
    assert {f.rule for f in findings(graph_of(doc), DAY)} == {UNLISTED, NO_NOTICE, NO_DPA}


def test_location_unknown_finding():
    doc = registry(subjects("users", "NL"), system("app", "NL"), system("nowhere", None), system("idle", None),
                   flow("collect", "users", "app"), flow("to-nowhere", "app", "nowhere"),
                   flow("idle-flow", "app", "idle", valid_until="2020-01-01"))
    found = findings(graph_of(doc), DAY)
    unknown = [f for f in found if f.rule == UNKNOWN_LOCATION]
    # the owner party of 'nowhere' has no country either, but no flow touches it
    assert [(f.node, f.flow) for f in unknown] == [("nowhere", "to-nowhere")]
    assert rules_of(found, UNCOVERED) == []  # the hop is unknown, not uncovered


def test_transfer_findings_uncovered_invalid_and_routine_derogation():
    doc = registry(
        party("nl", "NL"), party("us", "US"), subjects("users", "NL"),
        system("app", "NL", "nl"), system("crm", "US", "us"), system("bi", "US", "us"), system("ml", "IN", "us"),
        derogation("consent"),
        flow("collect", "users", "app"),
        flow("to-crm", "app", "crm"),
        flow("to-bi", "app", "bi", under=["eu-us-privacy-shield"]),
        flow("to-ml", "app", "ml", under=["consent"]),
    )
    found = findings(graph_of(doc), DAY)
    assert rules_of(found, UNCOVERED) == [(UNCOVERED, "to-crm")]
    assert rules_of(found, INVALID) == [(INVALID, "to-bi")]
    assert rules_of(found, ROUTINE_DEROGATION) == [(ROUTINE_DEROGATION, "to-ml")]


# --- what-if ------------------------------------------------------------------------------------
def test_what_if_a_framework_falls(northwind):
    w = invalidate(northwind, "eu-us-privacy-shield", date(2019, 1, 1), date(2019, 6, 1))
    assert [(c.flow, c.before, c.after) for c in w.changed_hops] == [("web-to-mailer", "adequate", "invalid")]
    assert rules_of(w.new_findings) == [(INVALID, "web-to-mailer")]
    assert "invalidated from 2019-01-01" in w.changed_hops[0].reason
    assert w.resolved_findings == []
    # a framework that nothing relies on changes nothing
    assert invalidate(northwind, "eu-us-dpf", date(2019, 1, 1), date(2019, 6, 1)).changed_hops == []


def test_what_if_a_mechanism_is_invalidated(northwind):
    w = invalidate(northwind, "northwind-bcr", AUG_2020, date(2021, 1, 1))
    assert [(c.flow, c.before, c.after) for c in w.changed_hops] == [("web-to-mailer", "covered", "invalid")]
    assert rules_of(w.new_findings) == [(INVALID, "web-to-mailer")]
    # before the date it is invalidated from, nothing changes
    assert invalidate(northwind, "northwind-bcr", date(2021, 6, 1), date(2021, 1, 1)).changed_hops == []
    with pytest.raises(NotFoundError):
        invalidate(northwind, "no-such-tool", AUG_2020, AUG_2020)


def test_what_if_does_not_depend_on_earlier_queries():
    # regression: the scenario registry was a model_copy of the original, sharing the id index
    # the original had built on an earlier query, so the invalidated BCR was still found valid
    rg = build_graph(load_registry_file(NORTHWIND))
    first = invalidate(rg, "northwind-bcr", AUG_2020, date(2021, 1, 1)).to_dict()
    impact(rg, "northwind-bcr", AUG_2020)
    assert invalidate(rg, "northwind-bcr", AUG_2020, date(2021, 1, 1)).to_dict() == first
    assert first["changed_hops"] != []
    # invalidating from before the tool began is allowed and ends it altogether
    early = invalidate(rg, "northwind-bcr", date(2019, 1, 1), date(2021, 1, 1))
    assert [(c.flow, c.after) for c in early.changed_hops] == [("web-to-mailer", "invalid")]


def test_what_if_a_party_is_removed(northwind):
    w = remove_party(northwind, "bouncer", AUG_2020)
    assert [(c.flow, c.before, c.after) for c in w.changed_hops] == [("mailer-to-bouncer", "invalid", None)]
    assert set(rules_of(w.resolved_findings)) == {(INVALID, "mailer-to-bouncer"), (UNLISTED, "mailer-to-bouncer"),
                                                 (NO_NOTICE, "mailer-to-bouncer"), (NO_DPA, "mailer-to-bouncer")}
    assert w.new_findings == []
    # removing the US affiliate takes its system and both hops at it
    w = remove_party(northwind, "northwind-inc", AUG_2020)
    assert {c.flow for c in w.changed_hops} == {"web-to-mailer", "mailer-to-bouncer"}
    with pytest.raises(NotFoundError):
        remove_party(northwind, "webapp", AUG_2020)


def test_what_if_a_proposal_breaks_a_promise(northwind):
    proposal = {"flows": [{"id": "web-to-ads", "from": "webapp", "to": "adnet", "carries": ["subscriber.content"]}]}
    w = add_proposal(northwind, proposal, AUG_2020)
    assert [(c.flow, c.before, c.after) for c in w.changed_hops] == [("web-to-ads", None, "uncovered")]
    assert set(rules_of(w.new_findings)) == {("no-message-content-to-ads", "web-to-ads"),
                                             (UNCOVERED, "web-to-ads")}
    promise = next(f for f in w.new_findings if f.rule == "no-message-content-to-ads")
    assert promise.severity is Severity.HIGH and promise.evidence[-1] == "web-to-ads"
    assert w.resolved_findings == []


def test_what_if_a_proposal_resolves_findings(northwind):
    fixed_scc = {"mechanisms": [{"id": "scc-bouncer", "kind": "scc", "version": "2010/87", "valid_from": "2019-04-01",
                                 "members": ["northwind-inc", "bouncer"]}],
                 "parties": [{"id": "bouncer", "name": "Bouncer Ltd", "kind": "subprocessor", "country": "BR",
                              "public_list": True, "notice_given": "2018-01-01"}]}
    w = add_proposal(northwind, fixed_scc, AUG_2020)
    assert [(c.flow, c.before, c.after) for c in w.changed_hops] == [("mailer-to-bouncer", "invalid", "covered")]
    assert set(rules_of(w.resolved_findings)) == {(INVALID, "mailer-to-bouncer"), (UNLISTED, "mailer-to-bouncer"),
                                                 (NO_NOTICE, "mailer-to-bouncer")}
    # covered by SCC after CJEU C-311/18, the hop now needs a transfer impact assessment
    assert rules_of(w.new_findings) == [(TIA_MISSING, "mailer-to-bouncer")]


def test_what_if_an_invalid_proposal_is_refused(northwind):
    with pytest.raises(RegistryError):
        add_proposal(northwind, {"flows": [{"id": "x", "from": "webapp", "to": "nobody", "carries": ["subscriber"]}]}, AUG_2020)


def test_what_if_with_builder_registry_proposal_adds_an_onward_transfer():
    doc = registry(party("nl", "NL"), party("us", "US"), subjects("users", "EEA"),
                   system("app", "NL", "nl"), system("crm", "US", "us"),
                   scc("scc-1", "2021/914", "nl", "us", signed="2022-01-01"),
                   flow("collect", "users", "app"), flow("to-crm", "app", "crm", under=["scc-1"]))
    rg = graph_of(doc)
    proposal = {"parties": [{"id": "vendor", "name": "Vendor", "kind": "subprocessor", "country": "IN", "public_list": True,
                             "notice_given": "2023-01-01"}],
                "flows": [{"id": "crm-to-vendor", "from": "crm", "to": "vendor", "carries": ["c"], "role": "subprocessor"}]}
    w = add_proposal(rg, proposal, DAY)
    assert [(c.flow, c.after) for c in w.changed_hops] == [("crm-to-vendor", "uncovered")]
    assert rules_of(w.new_findings) == [(NO_DPA, "crm-to-vendor"), (UNCOVERED, "crm-to-vendor")]
    assert "SCC 2021/914 module 3 (processor to processor) between us and vendor" in w.new_findings[1].fix
