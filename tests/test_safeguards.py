"""The core rule (DESIGN.md): every hop status reached on purpose with small hand-written registries.

Each test builds the smallest registry that shows one part of the rule and checks the engine's
per-regime and overall status, plus the reason or basis where the rule says what they must be.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from registry_builders import (
    bcr,
    category,
    derogation,
    flow,
    graph_of,
    hop_status,
    mechanism,
    party,
    registry,
    scc,
    subjects,
    system,
    transfer,
)

from lineage import queries
from lineage.evaluation import evaluate
from lineage.findings import ROUTINE_DEROGATION, findings
from lineage.law import load_law
from lineage.regimes import propagate
from lineage.status import Status

NR, ADQ, COV, DER, INV, UNC, UNK = (
    Status.NOT_REQUIRED, Status.ADEQUATE, Status.COVERED, Status.DEROGATION,
    Status.INVALID, Status.UNCOVERED, Status.UNKNOWN,
)
DAY = date(2024, 1, 15)


def statuses(hop) -> dict[str, Status]:
    return {regime: verdict.status for regime, verdict in hop.regimes.items()}


# --- not_required -------------------------------------------------------------------------------
def test_collection_is_never_a_transfer_but_attaches_the_subjects_regimes():
    # EEA subjects straight into a US system: no tool needed for the collection itself
    doc = registry(subjects("eea", "EEA"), system("crm", "US"), flow("collect", "eea", "crm"))
    hop = hop_status(doc, DAY, "collect")
    assert hop.status is NR and hop.collection and not hop.crosses_border
    assert statuses(hop) == {"eu": NR}
    assert hop.reason == "collection from data subjects is not a transfer"


def test_collection_from_subjects_in_several_areas_attaches_each_regime():
    doc = registry(subjects("mixed", "DE", "GB", "CH", "US"), system("crm", "US"),
                   flow("collect", "mixed", "crm"))
    assert statuses(hop_status(doc, DAY, "collect")) == {"eu": NR, "uk": NR, "ch": NR}


def test_hop_inside_one_country_outside_the_area_is_not_a_transfer():
    # EEA data that already sits in the US moves to another US system
    doc = transfer("US", src="US", origin="NL")
    hop = hop_status(doc, DAY)
    assert statuses(hop) == {"eu": NR} and hop.status is NR
    assert not hop.crosses_border
    assert hop.regimes["eu"].reason == "stays inside US"


def test_hop_inside_one_country_inside_the_area_is_not_a_transfer():
    hop = hop_status(transfer("NL"), DAY)
    assert hop.status is NR and statuses(hop) == {"eu": NR}


def test_destination_inside_the_regime_area_needs_no_tool():
    hop = hop_status(transfer("DE", src="NL"), DAY)
    assert hop.status is NR and hop.crosses_border
    assert hop.regimes["eu"].reason == "DE is inside the EU GDPR area"


def test_norway_iceland_liechtenstein_are_inside_the_eea():
    for country in ("NO", "IS", "LI"):
        assert hop_status(transfer(country), DAY).status is NR, country


def test_data_carrying_no_regime_needs_no_tool():
    # US-only subjects, US system, Brazilian recipient: no EU, UK or Swiss regime is involved
    hop = hop_status(transfer("BR", src="US", origin="US"), DAY)
    assert hop.status is NR and hop.regimes == {} and hop.crosses_border
    assert "carries no transfer regime" in hop.reason


# --- adequate ------------------------------------------------------------------------------------
@pytest.mark.parametrize(("dst", "instrument"), [
    ("CH", "Decision 2000/518/EC"),
    ("JP", "Implementing Decision (EU) 2019/419"),
    ("AR", "Decision 2003/490/EC"),
    ("NZ", "Implementing Decision 2013/65/EU"),
    ("KR", "Implementing Decision (EU) 2022/254"),
])
def test_adequate_destination_needs_no_claim(dst, instrument):
    hop = hop_status(transfer(dst), DAY)
    assert hop.status is ADQ and statuses(hop) == {"eu": ADQ}
    assert hop.regimes["eu"].basis == (instrument,)
    assert f"{dst} adequate ({instrument})" in hop.regimes["eu"].reason


def test_adequacy_wins_over_a_claimed_tool_that_does_not_fit():
    # the rule's order: adequate comes before anything claimed
    doc = transfer("CH", under=["scc-x"], mechanisms=[scc("scc-x", "2010/87", "exporter", "someone", signed="2015-01-01")],
                   extra=[party("someone", "CH")])
    assert hop_status(doc, DAY).status is ADQ


def test_canada_adequate_for_a_commercial_recipient_only():
    assert hop_status(transfer("CA", dst_kind="service_provider"), DAY).status is ADQ
    authority = hop_status(transfer("CA", dst_kind="authority"), DAY)
    assert authority.status is UNC and statuses(authority) == {"eu": UNC}


def test_japan_adequacy_is_limited_to_the_private_sector():
    # transfer_law.yaml gives JP (APPI + Supplementary Rules) the commercial scope
    assert hop_status(transfer("JP", dst_kind="subprocessor"), DAY).status is ADQ
    assert hop_status(transfer("JP", dst_kind="authority"), DAY).status is UNC


def test_switzerland_adequate_even_for_an_authority():
    assert hop_status(transfer("CH", dst_kind="authority"), DAY).status is ADQ


def test_us_adequate_only_for_a_recipient_certified_under_dpf():
    certified = hop_status(transfer("US", certified={"eu-us-dpf": "2023-10-02"}), DAY)
    assert certified.status is ADQ
    assert certified.regimes["eu"].basis == ("eu-us-dpf",)
    assert "importer certified under eu-us-dpf" in certified.regimes["eu"].reason
    assert hop_status(transfer("US"), DAY).status is UNC


def test_us_certification_counts_only_inside_its_own_window():
    doc = transfer("US", certified={"eu-us-dpf": ("2023-10-02", "2024-01-01")})
    assert hop_status(doc, "2023-10-01").status is UNC
    assert hop_status(doc, "2023-10-02").status is ADQ
    assert hop_status(doc, "2023-12-31").status is ADQ
    assert hop_status(doc, "2024-01-01").status is UNC


def test_us_certification_under_another_framework_does_not_count():
    # certified under Privacy Shield only: nothing in force covers it in 2024
    assert hop_status(transfer("US", certified={"eu-us-privacy-shield": "2016-11-15"}), DAY).status is UNC
    # certified under the Swiss-US DPF only: not an EU adequacy
    assert hop_status(transfer("US", certified={"swiss-us-dpf": "2024-09-15"}), "2025-01-01").status is UNC


def test_us_adequacy_checks_the_owner_of_the_receiving_system():
    # a US system run by an uncertified owner is not covered by someone else's certification
    doc = registry(
        party("certified-inc", "US", certified={"eu-us-dpf": "2023-08-01"}),
        subjects("eea", "NL"), system("web", "NL"), system("crm", "US"),
        flow("collect", "eea", "web"), flow("hop", "web", "crm"), flow("other", "web", "certified-inc"),
    )
    rg = graph_of(doc)
    assert hop_status(rg, DAY).status is UNC
    assert hop_status(rg, DAY, "other").status is ADQ


# --- covered ------------------------------------------------------------------------------------
def test_bcr_covers_when_both_ends_are_group_members():
    doc = transfer("US", under=["group-bcr"], mechanisms=[bcr("group-bcr", "exporter", "importer", since="2020-02-10")])
    hop = hop_status(doc, DAY)
    assert hop.status is COV and hop.regimes["eu"].basis == ("group-bcr",)
    assert "both ends are group members" in hop.reason
    assert hop_status(doc, "2020-02-09").status is INV
    assert hop_status(doc, "2020-02-10").status is COV


def test_bcr_with_one_end_outside_the_group_is_invalid():
    doc = transfer("US", under=["group-bcr"], mechanisms=[bcr("group-bcr", "exporter", "sister")],
                   extra=[party("sister", "US", "affiliate")])
    hop = hop_status(doc, DAY)
    assert hop.status is INV
    assert hop.regimes["eu"].reason == "BCR 'group-bcr': importer not a member of the group"


def test_scc_between_the_two_ends_covers():
    doc = transfer("US", under=["scc-1"], mechanisms=[scc("scc-1", "2010/87", "exporter", "importer", signed="2019-04-01")])
    hop = hop_status(doc, "2020-01-01")
    assert hop.status is COV and hop.regimes["eu"].basis == ("scc-1",)
    assert hop.regimes["eu"].reason == "SCC 'scc-1' 2010/87: contract between exporter and importer"


def test_scc_with_another_party_is_invalid():
    doc = transfer("US", under=["scc-1"], mechanisms=[scc("scc-1", "2010/87", "exporter", "other-co", signed="2019-04-01")],
                   extra=[party("other-co", "US")])
    hop = hop_status(doc, "2020-01-01")
    assert hop.status is INV
    assert "not a contract between exporter and importer" in hop.regimes["eu"].reason


def test_a_hop_inside_one_organisation_is_not_a_transfer():
    # both systems belong to one legal entity: EDPB Guidelines 05/2021 (criterion 2) need another
    # controller or processor as importer, so no tool is needed even across a border
    doc = registry(
        party("acme", "NL"), party("acme-us", "US"), subjects("eea", "NL"),
        system("web", "NL", "acme"), system("crm", "US", "acme"),
        flow("collect", "eea", "web"), flow("hop", "web", "crm"),
    )
    hop = hop_status(doc, DAY)
    assert hop.status is NR
    assert "EDPB Guidelines 05/2021" in hop.regimes["eu"].reason
    # the same hop to a sister company is a transfer again
    doc["systems"][1]["owner"] = "acme-us"
    assert hop_status(doc, DAY).status is UNC


@pytest.mark.parametrize(("signed", "used", "expected", "why"), [
    ("2019-04-01", "2021-10-01", COV, None),
    ("2021-09-26", "2021-10-01", COV, None),  # last day new contracts could use 2010/87
    ("2021-09-27", "2021-10-01", INV, "signed 2021-09-27, after SCC 2010/87 closed to new contracts (2021-09-26)"),
    ("2019-04-01", "2022-12-27", COV, None),  # last day of the transition
    ("2019-04-01", "2022-12-28", INV, "SCC 2010/87 no longer valid since 2022-12-28"),
    ("2010-05-14", "2015-01-01", INV, "signed 2010-05-14, before SCC 2010/87 could be used (2010-05-15)"),
    ("2010-05-15", "2015-01-01", COV, None),
])
def test_scc_2010_87_version_window(signed, used, expected, why):
    doc = transfer("US", under=["scc-1"], mechanisms=[scc("scc-1", "2010/87", "exporter", "importer", signed=signed)])
    hop = hop_status(doc, used)
    assert hop.status is expected
    if why:
        assert hop.regimes["eu"].reason == f"SCC 'scc-1': {why}"


def test_scc_2021_914_opens_on_2021_06_27_and_does_not_expire():
    def doc(signed):
        return transfer("US", under=["scc-1"], mechanisms=[scc("scc-1", "2021/914", "exporter", "importer", signed=signed)])
    assert hop_status(doc("2021-06-26"), "2021-07-01").status is INV
    assert hop_status(doc("2021-06-27"), "2021-06-27").status is COV
    assert hop_status(doc("2021-06-27"), "2040-01-01").status is COV


def test_scc_is_not_in_effect_before_it_is_signed():
    doc = transfer("US", under=["scc-1"], mechanisms=[scc("scc-1", "2021/914", "exporter", "importer", signed="2022-05-01")])
    hop = hop_status(doc, "2022-04-30")
    assert hop.status is INV and "not in effect before 2022-05-01" in hop.reason


def test_mechanism_valid_until_ends_cover():
    mech = mechanism("bcr-1", "bcr", ["exporter", "importer"], valid_from="2015-01-01", valid_until="2023-01-01")
    doc = transfer("US", under=["bcr-1"], mechanisms=[mech])
    assert hop_status(doc, "2022-12-31").status is COV
    hop = hop_status(doc, "2023-01-01")
    assert hop.status is INV and "ended on 2023-01-01" in hop.reason


def uk_transfer(**kw):
    """GB subjects -> a GB system -> a US system (owner not certified)."""
    return transfer("US", src="GB", **kw)


def test_uk_regime_scc_2021_914_alone_is_not_recognised():
    doc = uk_transfer(under=["scc-uk"], mechanisms=[scc("scc-uk", "2021/914", "exporter", "importer", signed="2022-01-01", regime="uk")])
    hop = hop_status(doc, "2023-01-01")
    assert statuses(hop) == {"uk": INV}
    assert "SCC 2021/914 is not recognised under UK GDPR (it needs the UK Addendum)" in hop.reason


def test_uk_regime_an_eu_tool_does_not_cover_uk_data():
    doc = uk_transfer(under=["scc-eu"], mechanisms=[scc("scc-eu", "2021/914", "exporter", "importer", signed="2022-01-01")])
    hop = hop_status(doc, "2023-01-01")
    assert statuses(hop) == {"uk": INV}
    assert "a EU GDPR tool; it does not cover UK GDPR" in hop.reason


@pytest.mark.parametrize("kind", ["idta", "uk-addendum"])
def test_uk_idta_and_addendum_from_2022_03_21(kind):
    doc = uk_transfer(under=["uk-tool"], mechanisms=[
        mechanism("uk-tool", kind, ["exporter", "importer"], regime="uk", valid_from="2022-01-01")])
    before = hop_status(doc, "2022-03-20")
    assert before.status is INV and "not available before 2022-03-21" in before.reason
    assert hop_status(doc, "2022-03-21").status is COV


def test_idta_under_the_eu_regime_is_invalid():
    doc = transfer("US", under=["idta-1"], mechanisms=[
        mechanism("idta-1", "idta", ["exporter", "importer"], regime="eu", valid_from="2022-06-01")])
    hop = hop_status(doc, "2023-01-01")
    assert hop.status is INV and "only exists under UK GDPR" in hop.reason


def test_uk_old_eu_scc_as_transitional_clauses():
    def doc(signed):
        return uk_transfer(under=["scc-uk"], mechanisms=[scc("scc-uk", "2010/87", "exporter", "importer", signed=signed, regime="uk")])
    assert hop_status(doc("2022-09-21"), "2022-09-21").status is COV
    assert hop_status(doc("2022-09-22"), "2022-09-22").status is INV
    assert hop_status(doc("2018-01-01"), "2024-03-21").status is COV
    assert hop_status(doc("2018-01-01"), "2024-03-22").status is INV


def swiss_transfer(**kw):
    """CH subjects -> a CH system -> a US system (owner not certified)."""
    return transfer("US", src="CH", **kw)


def test_swiss_scc_2021_914_from_2021_08_27():
    def doc(signed):
        return swiss_transfer(under=["scc-ch"], mechanisms=[scc("scc-ch", "2021/914", "exporter", "importer", signed=signed, regime="ch")])
    assert statuses(hop_status(doc("2021-08-26"), "2022-01-01")) == {"ch": INV}
    assert statuses(hop_status(doc("2021-08-27"), "2022-01-01")) == {"ch": COV}


def test_swiss_old_scc_valid_until_the_end_of_2022():
    doc = swiss_transfer(under=["scc-ch"], mechanisms=[scc("scc-ch", "2010/87", "exporter", "importer", signed="2015-01-01", regime="ch")])
    assert hop_status(doc, "2022-12-31").status is COV
    assert hop_status(doc, "2023-01-01").status is INV


def test_swiss_data_to_a_us_recipient_certified_under_swiss_us_dpf():
    doc = swiss_transfer(certified={"swiss-us-dpf": "2024-09-15"})
    assert hop_status(doc, "2024-09-14").status is UNC
    assert hop_status(doc, "2024-09-15").status is ADQ
    # the EU-US DPF alone is no Swiss adequacy
    assert hop_status(swiss_transfer(certified={"eu-us-dpf": "2023-08-01"}), "2024-09-15").status is UNC


def test_swiss_data_to_the_eea_is_adequate():
    hop = hop_status(transfer("DE", src="CH"), DAY)
    assert statuses(hop) == {"ch": ADQ}


# --- derogation ---------------------------------------------------------------------------------
def test_derogation_covers_and_a_continuous_flow_under_it_is_flagged():
    doc = transfer("US", under=["consent"], mechanisms=[derogation("consent", "49-1-a")])
    rg = graph_of(doc)
    hop = hop_status(rg, DAY)
    assert hop.status is DER and hop.regimes["eu"].basis == ("consent",)
    assert hop.regimes["eu"].reason == "derogation 'consent' (Art. 49(1)(a))"
    routine = [f for f in findings(rg, DAY) if f.rule == ROUTINE_DEROGATION]
    assert [(f.flow, f.regime) for f in routine] == [("hop", "eu")]


def test_occasional_flow_under_a_derogation_is_not_flagged():
    doc = transfer("US", under=["consent"], mechanisms=[derogation("consent")], frequency="occasional")
    rg = graph_of(doc)
    assert hop_status(rg, DAY).status is DER
    assert not [f for f in findings(rg, DAY) if f.rule == ROUTINE_DEROGATION]


def test_fitting_tool_wins_over_a_derogation():
    doc = transfer("US", under=["consent", "group-bcr"],
                   mechanisms=[derogation("consent"), bcr("group-bcr", "exporter", "importer")])
    assert hop_status(doc, DAY).status is COV


def test_derogation_wins_over_an_invalid_claim():
    doc = transfer("US", under=["eu-us-privacy-shield", "consent"], mechanisms=[derogation("consent")])
    assert hop_status(doc, DAY).status is DER


def test_derogation_of_another_regime_does_not_cover():
    doc = transfer("US", under=["consent-uk"], mechanisms=[derogation("consent-uk", regime="uk")])
    assert hop_status(doc, DAY).status is INV


# --- invalid ------------------------------------------------------------------------------------
def test_privacy_shield_invalid_from_schrems_ii():
    doc = transfer("US", certified={"eu-us-privacy-shield": "2016-11-15"}, under=["eu-us-privacy-shield"])
    rg = graph_of(doc)
    before = hop_status(rg, "2020-07-15")
    assert before.status is ADQ and before.regimes["eu"].basis == ("eu-us-privacy-shield",)
    for day in ("2020-07-16", "2021-03-01", "2023-07-09"):
        after = hop_status(rg, day)
        assert after.status is INV
        assert after.regimes["eu"].reason == "EU-US Privacy Shield invalid since 2020-07-16 (CJEU C-311/18)"
        assert after.regimes["eu"].basis == ("eu-us-privacy-shield",)


def test_privacy_shield_claimed_for_an_uncertified_recipient_is_invalid():
    hop = hop_status(transfer("US", under=["eu-us-privacy-shield"]), "2019-01-01")
    assert hop.status is INV
    assert hop.regimes["eu"].reason == "importer is not certified under EU-US Privacy Shield on 2019-01-01"


def test_framework_claimed_for_another_destination_or_regime_is_invalid():
    doc = transfer("BR", under=["eu-us-dpf"], certified={"eu-us-dpf": "2023-08-01"})
    assert "covers recipients in US only, not BR" in hop_status(doc, DAY).reason
    swiss = swiss_transfer(under=["eu-us-dpf"], certified={"eu-us-dpf": "2023-08-01"})
    hop = hop_status(swiss, DAY)
    assert hop.status is INV and "covers EU GDPR transfers, not Swiss FADP" in hop.reason


def test_framework_claimed_before_it_exists_is_invalid():
    hop = hop_status(transfer("US", under=["eu-us-dpf"], certified={"eu-us-dpf": "2023-01-01"}), "2023-07-09")
    assert hop.status is INV and "EU-US Data Privacy Framework not in force before 2023-07-10" in hop.reason


def test_safe_harbor_ended_by_schrems_i():
    doc = transfer("US", certified={"safe-harbor": "2005-01-01"}, under=["safe-harbor"])
    assert hop_status(doc, "2015-10-05").status is ADQ
    hop = hop_status(doc, "2015-10-06")
    assert hop.status is INV and hop.regimes["eu"].reason == "Safe Harbor invalid since 2015-10-06 (CJEU C-362/14)"


# --- uncovered ----------------------------------------------------------------------------------
def test_nothing_claimed_is_uncovered():
    hop = hop_status(transfer("IN"), DAY)
    assert hop.status is UNC and hop.basis == ()
    assert hop.regimes["eu"].reason == f"no transfer tool claimed; IN is not adequate for EU GDPR on {DAY}"


# --- unknown ------------------------------------------------------------------------------------
def test_missing_country_of_the_receiving_system_is_unknown():
    hop = hop_status(transfer(None), DAY)
    assert hop.status is UNK and statuses(hop) == {"eu": UNK}
    assert "the location of 'dst-sys' is missing" in hop.reason


def test_missing_country_of_the_receiving_party_is_unknown():
    hop = hop_status(transfer(None, to_party=True), DAY)
    assert hop.status is UNK and "'importer'" in hop.reason


def test_missing_country_of_the_sending_system_is_unknown():
    # the data came from the EEA; where it is now is not recorded
    doc = transfer("US", src=None, origin="NL")
    hop = hop_status(doc, DAY)
    assert hop.status is UNK and statuses(hop) == {"eu": UNK}


def test_missing_country_of_a_sending_system_with_no_known_regime_is_unknown():
    # no known regime upstream, but the system itself may be in the EEA
    doc = transfer("US", src=None, origin="US")
    assert hop_status(doc, DAY).status is UNK


def test_missing_receiving_location_without_any_regime_is_not_required():
    hop = hop_status(transfer(None, src="US", origin="US"), DAY)
    assert hop.status is NR


# --- onward transfers ---------------------------------------------------------------------------
def onward_registry(origin: str = "EEA", **br_tools):
    """Subjects -> US system (owner us-co) -> US system (owner us-co) and -> Brazilian party."""
    return registry(
        party("us-co", "US", "affiliate"), party("br-co", "BR", "subprocessor"),
        subjects("people", origin), system("us-app", "US", "us-co"), system("us-db", "US", "us-co"),
        *br_tools.get("mechanisms", ()),
        flow("collect", "people", "us-app"),
        flow("us-to-us", "us-app", "us-db"),
        flow("us-to-br", "us-app", "br-co", under=br_tools.get("under", ())),
    )


def test_onward_transfer_from_the_us_to_brazil_needs_a_tool_until_brazil_is_adequate():
    rg = graph_of(onward_registry())
    before = hop_status(rg, "2026-01-25", "us-to-br")
    assert before.status is UNC and statuses(before) == {"eu": UNC}
    after = hop_status(rg, "2026-01-26", "us-to-br")
    assert after.status is ADQ and after.regimes["eu"].basis == ("Implementing Decision (EU) 2026/179",)
    for day in ("2026-01-25", "2026-01-26"):
        assert hop_status(rg, day, "us-to-us").status is NR
        assert statuses(hop_status(rg, day, "us-to-us")) == {"eu": NR}


def test_onward_transfer_covered_by_a_p2p_scc_between_the_importers():
    doc = onward_registry(under=["scc-p2p"], mechanisms=[
        scc("scc-p2p", "2021/914", "us-co", "br-co", signed="2022-01-01")])
    assert hop_status(doc, "2025-01-01", "us-to-br").status is COV


def test_data_collected_only_in_the_us_needs_no_tool_anywhere():
    rg = graph_of(onward_registry(origin="US"))
    hops = evaluate(rg, date(2025, 1, 1)).hops()
    assert [(h.flow, h.status, h.regimes) for h in hops] == [
        ("collect", NR, {}), ("us-to-us", NR, {}), ("us-to-br", NR, {})]


# --- per-category propagation -------------------------------------------------------------------
def category_registry():
    """EEA data of `data.a` and US-only data of `data.b` meet in one US system, which sends
    each category (and the parent and a child of `data.a`) on to Brazil."""
    return registry(
        subjects("eea", "EEA"), subjects("us", "US"), system("hub", "US"),
        party("br", "BR"),
        flow("collect-a", "eea", "hub", "data.a"),
        flow("collect-b", "us", "hub", "data.b"),
        flow("send-a", "hub", "br", "data.a"),
        flow("send-b", "hub", "br", "data.b"),
        flow("send-parent", "hub", "br", "data"),
        flow("send-child", "hub", "br", "data.a.detail"),
    )


def test_regime_travels_only_with_the_category_that_carries_it():
    rg = graph_of(category_registry())
    ev = evaluate(rg, DAY)
    assert statuses(ev.hop("send-a")) == {"eu": UNC}
    assert statuses(ev.hop("send-b")) == {} and ev.hop("send-b").status is NR
    assert statuses(ev.hop("send-parent")) == {"eu": UNC}  # a flow of the ancestor carries data.a
    assert statuses(ev.hop("send-child")) == {"eu": UNC}   # a part of data.a is still EEA data


def test_category_query_judges_only_that_categorys_data():
    rg = graph_of(category_registry())
    of_b = {h.flow: h.status for h in queries.flows(rg, "data.b", DAY)}
    # the parent flow carries data.b, but data.b itself is US-only data
    assert of_b == {"collect-b": NR, "send-b": NR, "send-parent": NR}
    of_a = {h.flow: h.status for h in queries.flows(rg, "data.a", DAY)}
    assert of_a == {"collect-a": NR, "send-a": UNC, "send-parent": UNC, "send-child": UNC}


def test_a_category_no_flow_names_is_carried_by_the_flows_of_its_ancestors():
    # nothing carries data.a.notes by name, but flows of `data` carry it, EEA regime included
    doc = registry(category("data.a.notes"), subjects("eea", "EEA"), system("hub", "US"), party("br", "BR"),
                   flow("collect", "eea", "hub", "data"), flow("send", "hub", "br", "data"),
                   flow("send-b", "hub", "br", "data.b"))
    rg = graph_of(doc)
    assert [(h.flow, h.status) for h in queries.flows(rg, "data.a.notes", DAY)] == [("collect", NR), ("send", UNC)]
    assert [r.party for r in queries.recipients(rg, "data.a.notes", DAY)] == ["hub-org", "br"]


def test_sibling_category_does_not_pick_up_the_regime():
    doc = registry(subjects("eea", "EEA"), system("hub", "US"), party("br", "BR"),
                   flow("collect", "eea", "hub", "data.a"), flow("send", "hub", "br", "data.b"))
    assert hop_status(doc, DAY, "send").status is NR


def test_regime_attaches_to_data_held_inside_the_area():
    # US-collected data copied to an Irish system is EU-GDPR data from then on
    doc = registry(subjects("us", "US"), system("ie-db", "IE"), system("us-app", "US"), party("in", "IN"),
                   flow("collect", "us", "us-app"), flow("to-ie", "us-app", "ie-db"),
                   flow("from-ie", "ie-db", "in"), flow("from-us", "us-app", "in"))
    rg = graph_of(doc)
    assert statuses(hop_status(rg, DAY, "to-ie")) == {}
    assert statuses(hop_status(rg, DAY, "from-ie")) == {"eu": UNC}
    assert statuses(hop_status(rg, DAY, "from-us")) == {}


def test_regime_state_at_a_node_inside_the_area():
    # the data a terminal Irish system holds is EU GDPR data, even if it came from the US
    doc = registry(subjects("us", "US"), system("us-app", "US"), system("ie-db", "IE"),
                   flow("collect", "us", "us-app"), flow("to-ie", "us-app", "ie-db"))
    state = propagate(graph_of(doc), load_law(), DAY)
    assert state.at("ie-db", ["c"]) == ("eu",)
    assert state.at("us-app", ["c"]) == ()


def test_flows_outside_their_window_do_not_propagate():
    doc = registry(subjects("eea", "EEA"), system("hub", "US"), party("br", "BR"),
                   flow("collect", "eea", "hub", valid_from="2022-01-01"), flow("send", "hub", "br"))
    rg = graph_of(doc)
    assert hop_status(rg, "2021-12-31", "send").status is NR
    assert hop_status(rg, "2022-01-01", "send").status is UNC


# --- the UK's departure -------------------------------------------------------------------------
def test_gb_subjects_data_is_eu_gdpr_data_until_2020_12_31_then_uk_gdpr():
    doc = registry(subjects("gb", "GB"), system("us-app", "US"), party("br", "BR"),
                   flow("collect", "gb", "us-app"), flow("send", "us-app", "br"))
    rg = graph_of(doc)
    assert statuses(hop_status(rg, "2020-12-31", "collect")) == {"eu": NR}
    assert statuses(hop_status(rg, "2021-01-01", "collect")) == {"uk": NR}
    assert statuses(hop_status(rg, "2020-12-31", "send")) == {"eu": UNC}
    assert statuses(hop_status(rg, "2021-01-01", "send")) == {"uk": UNC}


def test_eu_to_gb_hop_across_brexit():
    rg = graph_of(transfer("GB"))
    assert hop_status(rg, "2020-12-31").status is NR
    assert hop_status(rg, "2020-12-31").regimes["eu"].reason == "GB is inside the EU GDPR area"
    for day in ("2021-01-01", "2021-06-27"):
        hop = hop_status(rg, day)
        assert hop.status is ADQ and hop.regimes["eu"].basis == ("EU-UK TCA interim provision",), day
    hop = hop_status(rg, "2021-06-28")
    assert hop.status is ADQ and hop.regimes["eu"].basis == ("Implementing Decision (EU) 2021/1772",)


def test_gb_to_eea_hop_across_brexit():
    rg = graph_of(transfer("DE", src="GB"))
    assert statuses(hop_status(rg, "2020-12-31")) == {"eu": NR}
    assert statuses(hop_status(rg, "2021-01-01")) == {"uk": ADQ}


def test_uk_us_data_bridge():
    doc = uk_transfer(certified={"uk-us-data-bridge": "2023-10-12", "eu-us-dpf": "2023-08-01"})
    assert hop_status(doc, "2023-10-11").status is UNC
    assert hop_status(doc, "2023-10-12").status is ADQ


# --- overall status -----------------------------------------------------------------------------
def mixed_registry(**hop_kw):
    """EEA data (through an NL system) and Swiss data meet in a CH system, then go to the US."""
    return registry(
        party("nl-co", "NL"), party("ch-co", "CH"), party("us-co", "US", certified=hop_kw.pop("certified", None)),
        subjects("eea", "NL"), subjects("swiss", "CH"),
        system("nl-app", "NL", "nl-co"), system("ch-app", "CH", "ch-co"), system("us-app", "US", "us-co"),
        *hop_kw.pop("mechanisms", ()),
        flow("collect-eea", "eea", "nl-app"), flow("collect-ch", "swiss", "ch-app"),
        flow("nl-to-ch", "nl-app", "ch-app"),
        flow("hop", "ch-app", "us-app", **hop_kw),
    )


def test_overall_status_is_the_worst_of_the_regimes():
    rg = graph_of(mixed_registry(certified={"eu-us-dpf": "2023-08-01"}))
    hop = hop_status(rg, DAY)
    assert statuses(hop) == {"eu": ADQ, "ch": UNC} and hop.status is UNC

    rg = graph_of(mixed_registry(under=["scc-eu"], mechanisms=[scc("scc-eu", "2021/914", "ch-co", "us-co", signed="2022-01-01")]))
    hop = hop_status(rg, DAY)
    assert statuses(hop) == {"eu": COV, "ch": INV} and hop.status is INV

    rg = graph_of(mixed_registry(
        under=["scc-eu", "scc-ch"], certified={"swiss-us-dpf": "2024-09-15"},
        mechanisms=[scc("scc-eu", "2021/914", "ch-co", "us-co", signed="2022-01-01"),
                    scc("scc-ch", "2021/914", "ch-co", "us-co", signed="2022-01-01", regime="ch")]))
    assert statuses(hop_status(rg, "2025-01-01")) == {"eu": COV, "ch": ADQ}
    assert hop_status(rg, "2025-01-01").status is COV
    assert statuses(hop_status(rg, "2024-01-01")) == {"eu": COV, "ch": COV}

    # the EEA -> CH hop itself: EU data into an adequate country
    assert statuses(hop_status(rg, DAY, "nl-to-ch")) == {"eu": ADQ}


def test_status_order_from_best_to_worst():
    assert [s.value for s in sorted(Status, key=lambda s: s.rank)] == [
        "not_required", "adequate", "covered", "derogation", "invalid", "uncovered", "unknown"]


def test_every_status_is_reached_by_this_module():
    # a guard: the registries above reach all seven statuses
    reached = {
        hop_status(transfer("DE"), DAY).status,
        hop_status(transfer("CH"), DAY).status,
        hop_status(transfer("US", under=["b"], mechanisms=[bcr("b", "exporter", "importer")]), DAY).status,
        hop_status(transfer("US", under=["d"], mechanisms=[derogation("d")]), DAY).status,
        hop_status(transfer("US", under=["eu-us-privacy-shield"]), DAY).status,
        hop_status(transfer("US"), DAY).status,
        hop_status(transfer(None), DAY).status,
    }
    assert reached == set(Status)


def test_dates_next_to_each_other_differ_only_where_the_law_changes():
    # a plain NL -> US hop without certification or tools is uncovered on every day
    rg = graph_of(transfer("US"))
    start = date(2020, 7, 10)
    assert {hop_status(rg, start + timedelta(days=i)).status for i in range(10)} == {UNC}
