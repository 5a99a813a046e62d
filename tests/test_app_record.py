"""The complete record on the dashboard, under Streamlit's AppTest with the Twilio seed (nothing
mocked): the register form records a DPA with the new sub-processor, the third-party page shows
a party's DPAs and proposes a new or edited one for review (invalid input saves nothing; a viewer
cannot propose), a hop's detail on the transfers page shows its assessment and DPA, and the findings page filters the
record's rules."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from app_support import USERS, frames, head_number, open_app, pick_row, proposals, seeded_env, table

from app_pages import _actions, _auth
from app_pages._words import rule_word
from lineage.api import Flowreg
from registry.errors import PermissionDenied, RegistryError
from registry.sqlite_store import SqliteStore


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    yield from seeded_env(tmp_path, monkeypatch)


def fill(at, *, dpa_signed: date | None = None, authorisation: str | None = None, document: str = "") -> None:
    at.text_input(key="reg_id").input("speechco")
    at.text_input(key="reg_name").input("SpeechCo Oy")
    at.selectbox(key="reg_country").select("FI")
    at.multiselect(key="reg_categories").set_value(["content.voice.recording"])
    at.selectbox(key="reg_from").select("comms-records")
    at.text_input(key="reg_purpose").input("transcription")
    if dpa_signed is not None:
        at.date_input(key="reg_dpa_signed").set_value(dpa_signed)
    if authorisation is not None:
        at.selectbox(key="reg_dpa_authorisation").select(authorisation)
    if document:
        at.text_input(key="reg_dpa_document").input(document)
    [b for b in at.button if b.label == "Check and preview impact"][0].click().run()
    assert not at.exception, [e.value for e in at.exception]


def new_finding_rules(at) -> set[str]:
    """The checks of the preview's new findings, in the words the page shows them."""
    tables = [df.value for df in at.dataframe if "check" in df.value.columns]
    return set(tables[0]["check"]) if tables else set()


def test_register_without_a_dpa_previews_the_missing_contract(db: Path) -> None:
    at = open_app("engineer", "register")
    fill(at)
    assert rule_word("processor-without-dpa") in new_finding_rules(at)


def test_register_with_a_dpa_records_it_in_the_proposal(db: Path) -> None:
    at = open_app("engineer", "register")
    fill(at, dpa_signed=date(2018, 6, 1), authorisation="general", document="contracts/dpa-speechco.pdf")
    assert rule_word("processor-without-dpa") not in new_finding_rules(at)
    assert any("dpa-speechco" in code.value for code in at.code)  # the preview of what is added
    at.text_input(key="reg_message").input("speechco with its DPA")
    [b for b in at.button if b.label == "Submit for approval"][0].click().run()
    assert not at.exception
    [pending] = proposals(db)
    [agreement] = [a for a in pending.content["agreements"] if a["id"] == "dpa-speechco"]
    assert agreement == {"id": "dpa-speechco", "kind": "dpa", "parties": ["twilio-inc", "speechco"],
                         "signed": "2018-06-01", "authorisation": "general", "document": "contracts/dpa-speechco.pdf"}
    assert head_number(db) == 1


def open_party(role: str, party: str, day: date = date(2018, 12, 27)):
    at = open_app(role, "third_parties", day=day)
    at.multiselect(key="tp_kinds").set_value(list(at.multiselect(key="tp_kinds").options)).run()
    at.selectbox(key="tp_party").select(party).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_third_party_page_shows_its_dpas_and_their_state(db: Path) -> None:
    at = open_party("viewer", "customers")
    table = [df.value for df in at.dataframe if "agreement" in df.value.columns][0]
    assert list(table["agreement"]) == ["dpa-customers"] and list(table["in force"]) == ["yes"]
    at = open_party("viewer", "sift")
    hops = [df.value for df in at.dataframe if "DPA" in df.value.columns][0]
    assert list(hops["flow"]) == ["fraud-to-sift"] and list(hops["DPA"]) == ["MISSING"]
    submit = [b for b in at.button if b.label == "Propose this DPA"][0]
    assert submit.disabled  # a viewer cannot propose, and the action refuses too:
    fr = Flowreg(SqliteStore(db))
    try:
        with pytest.raises(PermissionDenied):
            _actions.propose_dpa(fr, USERS["viewer"], _actions.DpaDraft("sift", "twilio-inc", date(2019, 1, 1)))
    finally:
        fr.close()
    assert proposals(db) == []


def test_third_party_page_proposes_a_dpa_and_approval_resolves_the_finding(db: Path) -> None:
    at = open_party("engineer", "sift")
    assert at.selectbox(key="tp_dpa_sift_counterpart").value == "twilio-inc"  # the sender's organisation
    [b for b in at.button if b.label == "Propose this DPA"][0].click().run()
    assert any("give the date the DPA was signed" in e.value for e in at.error)  # nothing saved
    assert proposals(db) == []

    at.date_input(key="tp_dpa_sift_signed").set_value(date(2018, 9, 1))
    at.date_input(key="tp_dpa_sift_until").set_value(date(2018, 8, 1))
    [b for b in at.button if b.label == "Propose this DPA"][0].click().run()
    assert any("must be after signed" in e.value for e in at.error), [e.value for e in at.error]
    assert proposals(db) == []

    at.date_input(key="tp_dpa_sift_until").set_value(None)
    at.selectbox(key="tp_dpa_sift_authorisation").select("specific")
    at.text_input(key="tp_dpa_sift_document").input("contracts/sift.pdf")
    [b for b in at.button if b.label == "Propose this DPA"][0].click().run()
    assert any("Proposal #1 saved" in s.value for s in at.success)
    [pending] = proposals(db)
    fr = Flowreg(SqliteStore(db))
    try:
        impact = _actions.proposal_impact(fr, pending, date(2018, 12, 27))
        assert [(f.rule, f.flow) for f in impact.resolved_findings] == [("processor-without-dpa", "fraud-to-sift")]
        other = _auth.User("officer2", "Second Officer", _auth.Role.OFFICER)
        assert _actions.decide_proposal(fr, other, pending.id, approve=True).status == "approved"
    finally:
        fr.close()
    assert head_number(db) == 2

    # editing it: the same id, a new signature date
    at = open_party("engineer", "sift")
    at.selectbox(key="tp_dpa_sift_replaces").select("dpa-sift-twilio-inc")
    at.date_input(key="tp_dpa_sift_signed").set_value(date(2020, 1, 1))
    [b for b in at.button if b.label == "Propose this DPA"][0].click().run()
    assert any("Proposal #2 saved" in s.value for s in at.success)
    edited = [a for a in proposals(db)[-1].content["agreements"] if a["id"] == "dpa-sift-twilio-inc"]
    assert [a["signed"] for a in edited] == ["2020-01-01"]


def test_dpa_change_names_the_field_at_fault(db: Path) -> None:
    fr = Flowreg(SqliteStore(db))
    try:
        with pytest.raises(RegistryError) as caught:
            _actions.dpa_change(fr.registry(), _actions.DpaDraft("sift", "", None))
        assert {i.path for i in caught.value.issues} == {"signed", "counterpart"}
        with pytest.raises(RegistryError) as caught:
            _actions.dpa_change(fr.registry(), _actions.DpaDraft("sift", "nobody", date(2019, 1, 1)))
        assert [(i.path, i.message) for i in caught.value.issues] == [("counterpart", "unknown party 'nobody'")]
    finally:
        fr.close()


def open_hop(day: date, flow: str):  # noqa: ANN201 - an AppTest
    """The transfers page on `day` with the hop of `flow` clicked in its table."""
    at = open_app("viewer", "transfers", day=day)
    pick_row(at, "tr_hops_table", at.session_state["tr_hops_shown"].index(flow))
    return at


def test_a_transfers_hop_detail_shows_the_assessment_and_the_dpa(db: Path) -> None:
    at = open_hop(date(2021, 10, 1), "platform-to-infra-edge")
    detail = table(at, "transfer impact assessment")
    eu = detail[detail["regime"] == "EU GDPR"].iloc[0]
    assert eu["status"] == "covered" and eu["transfer impact assessment"] == "missing: no assessment in force on 2021-10-01"
    assert any("**Processor contract**: MISSING" in m.value for m in at.markdown)
    at = open_hop(date(2018, 12, 27), "platform-to-infra-edge")
    detail = table(at, "transfer impact assessment")
    assert set(detail["transfer impact assessment"]) == {"not needed (before 2020-07-16)"}


def test_findings_page_filters_the_record_rules(db: Path) -> None:
    at = open_app("viewer", "findings", day=date(2021, 10, 1))
    assert rule_word("tia-suspend") in at.multiselect(key="fd_rules").options  # offered even when absent
    at.multiselect(key="fd_record").set_value(["Transfer impact assessments"]).run()
    assert set(table(at, "check", 0)["check"]) == {rule_word("tia-missing")}
    at.multiselect(key="fd_record").set_value(["Processor contracts (Art. 28)"]).run()
    assert set(table(at, "check", 0)["check"]) == {rule_word("processor-without-dpa")}
    assert "fraud-to-sift" in frames(at)
