"""The dashboard under Streamlit's AppTest: every page, sign-in, roles enforced inside the actions,
the register -> approve workflow, and user text rendered as text (never as Markdown or HTML)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
import yaml
from streamlit.testing.v1 import AppTest

from lineage.api import Flowreg
from registry.errors import FlowregError, PermissionDenied
from registry.loader import load_registry_data, load_registry_file
from registry.sqlite_store import SqliteStore

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # app_pages is beside app.py, not an installed package
    sys.path.insert(0, str(ROOT))

from app_pages import _actions, _auth, _downloads  # noqa: E402
from app_pages._common import literal  # noqa: E402

SEED = ROOT / "seeds" / "twilio.yaml"
DAY = date(2018, 12, 27)
PAGES = ["overview", "flow_explorer", "third_parties", "transfers", "findings", "register", "review",
         "history", "reports"]
TITLES = {"overview": "Overview", "flow_explorer": "Flow explorer", "third_parties": "Third parties",
          "transfers": "Transfers", "findings": "Findings", "register": "Register a sub-processor",
          "review": "Review proposals", "history": "History", "reports": "Reports"}
XSS = "<img src=x onerror=alert(1)>"
USERS = {role: _auth.User(role, f"Demo {role}", _auth.Role(role)) for role in ("viewer", "engineer", "officer")}


def seed_store(path: Path, content: dict[str, Any] | None = None) -> None:
    with SqliteStore(path) as store:
        store.append(content or load_registry_file(SEED).content(), author="seed", message="Twilio seed")


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "flowreg.db"
    seed_store(path)
    monkeypatch.setenv("FLOWREG_DB", str(path))
    monkeypatch.setenv("FLOWREG_DEMO", "1")
    monkeypatch.delenv("FLOWREG_USERS", raising=False)
    monkeypatch.delenv("FLOWREG_BACKEND", raising=False)
    yield path
    st.cache_resource.clear()
    st.cache_data.clear()


def open_app(role: str | None = "officer", page: str | None = None, day: date = DAY) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    if role is not None:
        at.session_state["flowreg_user"] = USERS[role]
    at.session_state["as_of"] = day
    at.run()
    if page is not None:
        at.switch_page(f"app_pages/{page}.py")
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def as_user(at: AppTest, role: str) -> AppTest:
    at.session_state["flowreg_user"] = USERS[role]
    at.run()
    return at


def texts(at: AppTest) -> str:
    return "\n".join(t.value for t in at.text)


def frames(at: AppTest) -> str:
    return "\n".join(df.value.to_csv() for df in at.dataframe)


def head_number(db: Path) -> int | None:
    with SqliteStore(db) as store:
        head = store.head()
        return head.number if head else None


def proposals(db: Path) -> list[Any]:
    with SqliteStore(db) as store:
        return store.proposals()


# --- sign-in ------------------------------------------------------------------------------------
def test_sign_in_with_a_demo_user(db: Path) -> None:
    at = open_app(role=None)
    assert not at.get("title") or at.title[0].value == "flowreg"
    at.text_input[0].set_value("officer")
    at.text_input[1].set_value("wrong password")
    at.button[0].click().run()
    assert any("wrong password" in e.value for e in at.error)
    assert "flowreg_user" not in at.session_state
    at.text_input[1].set_value("officer-demo")
    at.button[0].click().run()
    assert at.session_state["flowreg_user"].role is _auth.Role.OFFICER
    assert at.title[0].value == "Overview"


def test_no_built_in_password_without_demo_mode(db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOWREG_DEMO")
    at = open_app(role=None)
    assert any("No users are configured" in w.value for w in at.warning)
    assert not at.text_input  # no form to try a password in
    users = tmp_path / "users.yaml"
    users.write_text(yaml.safe_dump({"alice": {"name": "Alice", "role": "officer",
                                               "password_hash": _auth.hash_password("correct horse")}}))
    monkeypatch.setenv("FLOWREG_USERS", str(users))
    assert set(_auth.configured_users()) == {"alice"}
    with pytest.raises(PermissionDenied):
        _auth.authenticate(_auth.configured_users(), "officer", "officer-demo")
    assert _auth.authenticate(_auth.configured_users(), "alice", "correct horse").role is _auth.Role.OFFICER
    at = open_app(role=None)
    assert at.text_input and "officer-demo" not in frames(at)  # a form, but no demo passwords shown


def test_users_file_errors_name_the_field(tmp_path: Path) -> None:
    good = _auth.hash_password("x")
    with pytest.raises(FlowregError, match=r"bob\.role"):
        _auth.parse_users({"bob": {"role": "admin", "password_hash": good}}, "users.yaml")
    with pytest.raises(FlowregError, match=r"bob\.password_hash"):
        _auth.parse_users({"bob": {"role": "viewer", "password_hash": "plain"}}, "users.yaml")
    with pytest.raises(FlowregError, match="demo_password"):  # only the demo file may show passwords
        _auth.parse_users({"bob": {"role": "viewer", "password_hash": good, "demo_password": "x"}}, "users.yaml")


def test_demo_file_hashes_match_the_shown_passwords() -> None:
    users = _auth.configured_users({"FLOWREG_DEMO": "1"})
    assert {u: r.user.role.value for u, r in users.items()} == {"viewer": "viewer", "engineer": "engineer",
                                                                "officer": "officer"}
    for username, record in users.items():
        assert _auth.authenticate(users, username, record.demo_password or "").username == username
    assert _auth.configured_users({}) == {}


def test_roles_are_checked_inside_the_actions() -> None:
    assert _auth.require(USERS["viewer"], "read")
    for role, action in (("viewer", "propose"), ("viewer", "decide"), ("engineer", "decide")):
        with pytest.raises(PermissionDenied):
            _auth.require(USERS[role], action)
    with pytest.raises(PermissionDenied):
        _auth.require(None, "read")


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


def test_overview_counts(db: Path) -> None:
    at = open_app("viewer", "overview")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Parties"] == "24" and metrics["Systems"] == "10"
    assert "Twilio Inc." in texts(at)


def test_flow_explorer_shows_customer_content_and_privacy_shield(db: Path) -> None:
    at = open_app("viewer", "flow_explorer")
    at.selectbox(key="fx_category").select("content").run()
    table = frames(at)
    assert "eu-us-privacy-shield" in table and "viber-inbound" in table
    assert at.get("plotly_chart")
    at.multiselect(key="fx_relies").select("eu-us-privacy-shield").run()
    relied = at.dataframe[0].value
    assert set(relied["flow"]) == {"carrier-eea-inbound", "carrier-row-inbound", "viber-inbound"}
    assert set(relied["status"]) == {"adequate"}
    at.radio(key="fx_view").set_value("Interactive graph").run()
    assert not at.exception
    at.selectbox(key="fx_start").select("end-users-us").run()
    assert "end-users-eea-platform" not in frames(at)


def test_transfers_what_if_privacy_shield_falls(db: Path) -> None:
    at = open_app("viewer", "transfers")
    at.date_input(key="wi_from").set_value(date(2018, 7, 1))
    submit = [b for b in at.button if b.label == "Run what-if"][0]
    submit.click().run()
    assert not at.exception
    changed = [df.value for df in at.dataframe if "before" in df.value.columns][0]
    assert "viber-inbound" in set(changed["flow"])
    assert set(changed.loc[changed["flow"] == "viber-inbound", "after"]) == {"INVALID"}


def test_findings_filters(db: Path) -> None:
    at = open_app("viewer", "findings", day=date(2021, 1, 1))
    at.multiselect(key="fd_severity").set_value(["high"]).run()
    severities = set(at.dataframe[0].value["severity"])
    assert severities == {"high"}
    at.selectbox(key="fd_party").select("viber").run()
    assert "viber" in frames(at)


def test_history_verifies_the_chain_and_diffs(db: Path) -> None:
    at = open_app("viewer", "history")
    [b for b in at.button if b.label == "Verify now"][0].click().run()
    assert any("Verified: 1 revision" in s.value for s in at.success)
    assert at.metric[0].value == "177"  # empty registry -> revision 1: everything added


def test_reports_page_offers_every_kind_and_format(db: Path) -> None:
    at = open_app("viewer", "reports")
    buttons = at.get("download_button")
    assert len(buttons) == 5 * 6 + 3  # changes needs two revisions
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
def fill_register(at: AppTest, *, party_id: str = "speechco", name: str = "SpeechCo Oy", country: str | None = "FI",
                  categories: tuple[str, ...] = ("content.voice.recording",), sender: str | None = "comms-records") -> None:
    at.text_input(key="reg_id").input(party_id)
    at.text_input(key="reg_name").input(name)
    if country:
        at.selectbox(key="reg_country").select(country)
    at.multiselect(key="reg_categories").set_value(list(categories))
    if sender:
        at.selectbox(key="reg_from").select(sender)
    at.text_input(key="reg_purpose").input("transcription")
    [b for b in at.button if b.label == "Check and preview impact"][0].click().run()
    assert not at.exception, [e.value for e in at.exception]


def submit_proposal(at: AppTest, message: str = "second transcription vendor") -> None:
    at.text_input(key="reg_message").input(message)
    [b for b in at.button if b.label == "Submit for approval"][0].click().run()
    assert not at.exception, [e.value for e in at.exception]


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
    hops = [df.value for df in at.dataframe if "flow" in df.value.columns][0]
    assert list(hops["flow"]) == ["comms-records-to-speechco"]
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
    assert "comms-records-to-speechco" in frames(at)  # the officer sees the impact
    at.text_input(key="rv_note").input("DPA signed")
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


# --- user text is text --------------------------------------------------------------------------
MARKDOWN_TYPES = {"markdown", "caption", "title", "header", "subheader", "error", "warning", "info", "success",
                  "metric", "expander", "tab", "badge", "exception", "toast"}


def walk(node: Any) -> Iterator[Any]:
    yield node
    children = getattr(node, "children", None)
    if isinstance(children, dict):
        for child in children.values():
            yield from walk(child)


def assert_no_raw_payload(at: AppTest, page: str) -> None:
    """No element that renders Markdown or HTML carries the payload unescaped; widget labels
    and help are Markdown too."""
    for node in walk(at._tree):
        kind = getattr(node, "type", None)
        proto = getattr(node, "proto", None)
        if proto is None:
            continue
        if kind in MARKDOWN_TYPES or hasattr(proto, "label"):
            body = str(proto)
            if kind in ("selectbox", "multiselect"):  # options are plain text; label and help are not
                body = f"{getattr(proto, 'label', '')}\n{getattr(proto, 'help', '')}"
            assert XSS not in body, (page, kind, body[:300])
        if kind == "plotly_chart":
            assert XSS not in proto.spec, page


def xss_registry() -> dict[str, Any]:
    content = load_registry_file(SEED).content()
    content["categories"].append({"id": f"content.{XSS}", "name": XSS})
    content["parties"].append({"id": XSS, "name": XSS, "kind": "subprocessor", "country": "US"})
    content["flows"].append({"id": f"to-{XSS}", "from": "comms-records", "to": XSS, "carries": [f"content.{XSS}"],
                             "purpose": XSS, "role": "subprocessor"})
    content["rules"].append({"id": f"rule {XSS}", "deny": {"categories": [f"content.{XSS}"], "to": [XSS]}})
    return content


def test_a_hostile_name_renders_as_text_everywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "xss.db"
    seed_store(path, xss_registry())
    monkeypatch.setenv("FLOWREG_DB", str(path))
    monkeypatch.setenv("FLOWREG_DEMO", "1")
    try:
        at = open_app("officer")
        for page in PAGES:
            at.switch_page(f"app_pages/{page}.py")
            at.run()
            assert not at.exception, (page, [e.value for e in at.exception])
            assert_no_raw_payload(at, page)
        # shown, as text: the party's row, the finding of the broken rule, the flow's hop
        at.switch_page("app_pages/third_parties.py")
        at.run()
        assert XSS in frames(at)
        at.switch_page("app_pages/findings.py")
        at.run()
        assert XSS in frames(at) + texts(at)
        at.switch_page("app_pages/flow_explorer.py")
        at.run()
        at.selectbox(key="fx_category").select(f"content.{XSS}").run()
        assert XSS in frames(at)
        assert "&lt;img src=x onerror=alert(1)&gt;" in at.get("plotly_chart")[0].proto.spec  # Sankey labels
        assert_no_raw_payload(at, "flow_explorer")
        at.radio(key="fx_view").set_value("Interactive graph").run()
        assert_no_raw_payload(at, "flow_explorer graph")
        # and typed into the form: the validation message escapes it
        at.switch_page("app_pages/register.py")
        at.run()
        fill_register(at, party_id=XSS, name=XSS)
        assert any(literal(XSS) in e.value for e in at.error)
        assert_no_raw_payload(at, "register")
    finally:
        st.cache_resource.clear()


def test_literal_escapes_markdown_and_html() -> None:
    assert literal(XSS) == r"\<img src\=x onerror\=alert\(1\)\>"
    assert literal("[x](http://a) ![i](http://b) :red[z] $x$\n# h") == (
        r"\[x\]\(http\:\/\/a\) \!\[i\]\(http\:\/\/b\) \:red\[z\] \$x\$ \# h")


def test_graph_component_props_are_escaped(db: Path) -> None:
    from app_pages._charts import graph_elements
    from app_pages._common import Snapshot

    fr = Flowreg(SqliteStore(db))
    try:
        fr.apply(load_registry_data(xss_registry()), author="t", message="xss")
        snap = Snapshot(fr, "k", fr.store.head(), DAY)
        elements, _, _ = graph_elements(snap, fr.flows(f"content.{XSS}", DAY))
        for item in elements["nodes"] + elements["edges"]:
            for key, value in item["data"].items():
                if key != "label":  # label is shown with innerText and on the canvas
                    assert "<" not in str(value), (key, value)
    finally:
        fr.close()
