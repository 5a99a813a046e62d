"""The dashboard's security under AppTest: sign-in (bcrypt users file; demo users only in demo
mode), roles checked inside the actions, and registry text rendered as text everywhere."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
import yaml
from app_support import (
    DAY,
    PAGES,
    SEED,
    USERS,
    XSS,
    fill_register,
    frames,
    open_app,
    seed_store,
    seeded_env,
    submit_proposal,
    texts,
)
from streamlit.testing.v1 import AppTest

from app_pages import _auth
from app_pages._common import literal
from lineage.api import Flowreg
from registry.errors import FlowregError, PermissionDenied
from registry.loader import load_registry_data, load_registry_file
from registry.sqlite_store import SqliteStore


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    yield from seeded_env(tmp_path, monkeypatch)


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
        at.segmented_control(key="fx_view").set_value("Graph").run()
        assert_no_raw_payload(at, "flow_explorer graph")
        # and typed into the form: the validation message escapes it
        at.switch_page("app_pages/register.py")
        at.run()
        fill_register(at, party_id=XSS, name=XSS)
        assert any(literal(XSS) in e.value for e in at.error)
        assert_no_raw_payload(at, "register")
        # proposed under a new id, with the payload as name and message: the review shows text
        at.session_state["flowreg_user"] = USERS["engineer"]
        fill_register(at, party_id="hostile-2", name=XSS)
        assert_no_raw_payload(at, "register preview")
        submit_proposal(at, message=XSS)
        at.session_state["flowreg_user"] = USERS["officer"]
        at.switch_page("app_pages/review.py")
        at.run()
        assert XSS in texts(at) and not at.exception
        assert_no_raw_payload(at, "review")
        [b for b in at.button if b.label == "Approve"][0].click().run()
        assert any("approved" in s.value for s in at.success)
        assert XSS in frames(at)  # the change notice names it, as text
        assert_no_raw_payload(at, "review approved")
        at.switch_page("app_pages/history.py")
        at.run()
        assert_no_raw_payload(at, "history")
    finally:
        st.cache_resource.clear()


def test_literal_escapes_markdown_and_html() -> None:
    assert literal(XSS) == r"\<img src\=x onerror\=alert\(1\)\>"
    assert literal("[x](http://a) ![i](http://b) :red[z] $x$\n# h") == (
        r"\[x\]\(http\:\/\/a\) \!\[i\]\(http\:\/\/b\) \:red\[z\] \$x\$ \# h")


def test_graph_component_props_are_escaped(db: Path) -> None:
    from app_pages._charts import graph_elements
    from app_pages._common import Snapshot
    from app_pages._explorer import node_text
    from lineage.aggregate import aggregate_by

    fr = Flowreg(SqliteStore(db))
    try:
        # Ids cannot hold markup any more (registry.ids), but a store written before may.
        fr.apply(load_registry_data(xss_registry(), stored=True), author="t", message="xss")
        snap = Snapshot(fr, "k", fr.store.head(), DAY)
        agg = aggregate_by(fr.graph(), fr.flows(f"content.{XSS}", DAY), "organisation")
        elements, _, _ = graph_elements(agg, [node_text(snap, "organisation", n, 3) for n in agg.nodes])
        for item in elements["nodes"] + elements["edges"]:
            for key, value in item["data"].items():
                if key != "label":  # label is shown with innerText and on the canvas
                    assert "<" not in str(value), (key, value)
    finally:
        fr.close()
