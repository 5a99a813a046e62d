"""The dashboard under Streamlit's AppTest: every page renders for every role, the pages answer
what they promise, and the register -> approve workflow (invalid input saves nothing; a viewer
cannot propose and an engineer cannot approve, in the page and inside the actions)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from app_support import (
    DAY,
    PAGES,
    SEED,
    TITLES,
    USERS,
    as_user,
    fill_register,
    frames,
    head_number,
    open_app,
    proposals,
    seeded_env,
    submit_proposal,
    texts,
)

from app_pages import _actions, _auth, _downloads
from lineage.api import Flowreg
from registry.errors import PermissionDenied
from registry.loader import load_registry_file
from registry.sqlite_store import SqliteStore


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    yield from seeded_env(tmp_path, monkeypatch)


# --- every page ---------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["viewer", "engineer", "officer"])
def test_every_page_renders(db: Path, role: str) -> None:
    at = open_app(role)
    for page in PAGES:
        at.switch_page(f"app_pages/{page}.py")
        at.run()
        assert not at.exception, (page, [e.value for e in at.exception])
        assert not at.error, (page, [e.value for e in at.error])
        assert at.title[0].value == TITLES[page]


def test_an_empty_store_says_how_to_load_one(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWREG_DB", str(tmp_path / "empty.db"))
    at = open_app("viewer", "flow_explorer")
    assert any("The registry is empty" in i.value for i in at.info)


def test_overview_counts(db: Path) -> None:
    at = open_app("viewer", "overview")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Parties"] == "25" and metrics["Systems"] == "10"
    assert "Twilio Inc." in texts(at)


def test_a_new_revision_is_seen_at_once(db: Path) -> None:
    at = open_app("viewer", "overview")
    assert {m.label: m.value for m in at.metric}["Parties"] == "25"
    content = load_registry_file(SEED).content()
    content["parties"].append({"id": "newco", "name": "NewCo", "kind": "subprocessor", "country": "FI"})
    with SqliteStore(db) as store:
        store.append(content, author="someone else", message="another session wrote")
    at.run()  # same session, cached answers: the new head hash means new answers
    assert {m.label: m.value for m in at.metric}["Parties"] == "26"


def test_sidebar_date_is_shared_and_sign_out(db: Path) -> None:
    at = open_app("viewer", "findings", day=date(2018, 12, 27))
    high_2018 = {m.label: m.value for m in at.metric}["High"]
    at.selectbox(key="key_date").select_index(
        [i for i, option in enumerate(at.selectbox(key="key_date").options) if "Privacy Shield ends" in option][0]
    ).run()
    assert at.session_state["as_of"] == date(2020, 7, 16)
    assert {m.label: m.value for m in at.metric}["High"] != high_2018
    at.switch_page("app_pages/flow_explorer.py")
    at.run()
    assert any("16 Jul 2020" in cap.value for cap in at.caption)  # the same date on every page
    [b for b in at.button if b.label == "Sign out"][0].click().run()
    assert "flowreg_user" not in at.session_state
    assert any(b.label == "Sign in" for b in at.button)


def test_flow_explorer_shows_customer_content_and_privacy_shield(db: Path) -> None:
    at = open_app("viewer", "flow_explorer")
    at.selectbox(key="fx_category").select("content").run()
    hops = at.dataframe[-1].value
    assert list(hops.columns) == ["status", "from", "to", "relies on", "reason"]
    assert "EU-US Privacy Shield; Swiss-US Privacy Shield" in set(hops["relies on"])
    assert "Viber Media S.à r.l. (LU)" in set(hops["to"])  # the recipient by name, with its country
    assert at.get("plotly_chart")
    at.multiselect(key="fx_hops_tool").select("eu-us-privacy-shield").run()
    relied = at.dataframe[-1].value
    assert len(relied) == 3 and set(relied["status"]) == {"adequate"}
    assert {"Viber Media S.à r.l. (LU)", "EEA telephony operator (generic) (DE)",
            "Telephony operator outside the EEA and US (generic) (BR)"} == set(relied["from"])
    at.segmented_control(key="fx_view").set_value("Graph").run()
    assert not at.exception
    at.selectbox(key="fx_start").select("end-users-us").run()
    assert "End users in the EEA (EEA)" not in frames(at)


def test_hops_table_puts_problems_first_in_words(db: Path) -> None:
    at = open_app("viewer", "flow_explorer", day=date(2021, 1, 1))
    at.selectbox(key="fx_category").select("account").run()
    statuses = list(at.dataframe[-1].value["status"])
    order = ["INVALID", "UNCOVERED", "unknown", "derogation", "covered", "adequate", "no transfer"]
    assert statuses == sorted(statuses, key=order.index) and statuses[0] in ("INVALID", "UNCOVERED")
    raw = {"not_required", "third_party", "service_provider", "eu-us-privacy-shield"}
    assert not raw & set(frames(at).replace(",", "\n").split("\n"))  # no enum value or id as a cell


def test_transfers_what_if_privacy_shield_falls(db: Path) -> None:
    at = open_app("viewer", "transfers")
    at.date_input(key="wi_from").set_value(date(2018, 7, 1))
    submit = [b for b in at.button if b.label == "Run what-if"][0]
    submit.click().run()
    assert not at.exception
    changed = [df.value for df in at.dataframe if "before" in df.value.columns][0]
    viber = changed[changed["from"] == "Viber Media S.à r.l. (LU)"]
    assert set(viber["before"]) == {"adequate"} and set(viber["after"]) == {"INVALID"}


def test_findings_filters(db: Path) -> None:
    at = open_app("viewer", "findings", day=date(2021, 1, 1))
    at.multiselect(key="fd_severity").set_value(["high"]).run()
    severities = set(at.dataframe[0].value["severity"])
    assert severities == {"High"}
    at.selectbox(key="fd_party").select("viber").run()
    assert "viber" in frames(at)


def test_history_verifies_the_chain_and_diffs(db: Path) -> None:
    at = open_app("viewer", "history")
    [b for b in at.button if b.label == "Verify now"][0].click().run()
    assert any("Verified: 1 revision" in s.value for s in at.success)
    assert at.metric[0].value == "180"  # empty registry -> revision 1: everything added


def test_reports_page_offers_every_kind_and_format(db: Path) -> None:
    at = open_app("viewer", "reports")
    buttons = at.get("download_button")
    assert len(buttons) == 5 * 6 + 3 + 1  # changes needs two revisions; + the published site (zip)
    fr = Flowreg(SqliteStore(db))
    try:
        for kind in ("flows", "ropa", "transfers", "subprocessors", "findings"):
            for fmt in ("csv", "xlsx", "json", "md", "html", "pdf"):
                assert _downloads.report_bytes(fr, 1, kind, fmt, DAY)
        for fmt in _downloads.GRAPH_FORMATS:
            assert _downloads.graph_bytes(fr, 1, fmt, DAY)
    finally:
        fr.close()


# --- register -> approve ------------------------------------------------------------------------


def test_invalid_input_shows_the_field_error_and_saves_nothing(db: Path) -> None:
    at = open_app("engineer", "register")
    fill_register(at, party_id="twilio-inc", country=None, categories=())
    errors = [e.value for e in at.error]
    assert any("already used by a party" in e for e in errors), errors
    assert any("choose the country" in e for e in errors), errors
    assert any("Nothing was saved" in e for e in errors)
    assert not [b for b in at.button if b.label == "Submit for approval"]  # no preview, no submit
    assert proposals(db) == [] and head_number(db) == 1


def test_viewer_can_preview_but_cannot_propose(db: Path) -> None:
    at = open_app("viewer", "register")
    fill_register(at)
    assert any(m.label == "New hops" and m.value == "1" for m in at.metric)
    submit = [b for b in at.button if b.label == "Submit for approval"][0]
    assert submit.disabled  # and the action itself refuses a viewer:
    draft = _actions.SubprocessorDraft("speechco", "SpeechCo Oy", "FI", ("content.voice.recording",), "comms-records")
    fr = Flowreg(SqliteStore(db))
    try:
        with pytest.raises(PermissionDenied):
            _actions.propose_subprocessor(fr, USERS["viewer"], draft)
    finally:
        fr.close()
    assert proposals(db) == [] and head_number(db) == 1


def test_register_then_approve_shows_the_change_notice(db: Path) -> None:
    at = open_app("engineer", "register")
    fill_register(at)
    hops = [df.value for df in at.dataframe if "reason" in df.value.columns][0]
    assert list(hops["to"]) == ["SpeechCo Oy (FI)"] and list(hops["from"]) == ["Stored communication records (US)"]
    assert head_number(db) == 1 and proposals(db) == []  # the preview stored nothing
    submit_proposal(at)
    assert any("Proposal #1 saved" in s.value for s in at.success)
    [pending] = proposals(db)
    assert (pending.status, pending.author, pending.base_revision) == ("pending", "engineer", 1)
    assert head_number(db) == 1

    # the engineer sees the proposal but cannot approve it, in the page or by calling the action
    at.switch_page("app_pages/review.py")
    at.run()
    approve = [b for b in at.button if b.label == "Approve"][0]
    assert approve.disabled
    fr = Flowreg(SqliteStore(db))
    try:
        with pytest.raises(PermissionDenied):
            _actions.decide_proposal(fr, USERS["engineer"], pending.id, approve=True)
    finally:
        fr.close()
    assert head_number(db) == 1 and proposals(db)[0].status == "pending"

    as_user(at, "officer")
    assert "SpeechCo Oy" in frames(at)  # the officer sees the impact
    at.text_input(key="rv_note_1").input("DPA signed")
    [b for b in at.button if b.label == "Approve"][0].click().run()
    assert not at.exception
    assert any("approved: revision 2 written" in s.value for s in at.success)
    assert "SpeechCo Oy" in frames(at)  # the change notice lists the new sub-processor
    assert head_number(db) == 2
    decided = proposals(db)[0]
    assert (decided.status, decided.reviewer, decided.applied_revision) == ("approved", "officer", 2)

    at.switch_page("app_pages/history.py")
    at.run()
    assert "approved" in frames(at) and "second transcription vendor" in frames(at)


def test_officer_rejects_and_cannot_decide_own_proposal(db: Path) -> None:
    at = open_app("officer", "register")
    fill_register(at)
    submit_proposal(at)
    at.switch_page("app_pages/review.py")
    at.run()
    assert [b for b in at.button if b.label == "Approve"][0].disabled  # four eyes
    fr = Flowreg(SqliteStore(db))
    try:
        with pytest.raises(PermissionDenied, match="second pair of eyes"):
            _actions.decide_proposal(fr, USERS["officer"], 1, approve=True)
        other = _auth.User("officer2", "Second Officer", _auth.Role.OFFICER)
        assert _actions.decide_proposal(fr, other, 1, approve=False, note="no DPA").status == "rejected"
    finally:
        fr.close()
    assert head_number(db) == 1
