"""The Discovery page under Streamlit's AppTest, on Marquez's sample events: an engineer
uploads events and a map, sees the findings and proposes the undeclared flows; a privacy
officer approves them on Review proposals; the same check then finds them declared. A viewer
may compare but not propose (in the page and inside the action); a map with errors shows its
key paths and writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from app_support import USERS, as_user, frames, head_number, open_app, proposals, seed_store
from streamlit.testing.v1 import AppTest

from app_pages import _discovery_actions
from lineage.api import Flowreg
from registry.errors import PermissionDenied
from registry.loader import load_registry_file

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "openlineage"
EVENTS = FIXTURES / "marquez-food-delivery.json"
MAP = FIXTURES / "food_delivery.map.yaml"
DAY = date(2020, 3, 1)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    import streamlit as st

    path = tmp_path / "flowreg.db"
    seed_store(path, load_registry_file(FIXTURES / "food_delivery.yaml").content())
    monkeypatch.setenv("FLOWREG_DB", str(path))
    monkeypatch.setenv("FLOWREG_DEMO", "1")
    monkeypatch.delenv("FLOWREG_USERS", raising=False)
    monkeypatch.delenv("FLOWREG_BACKEND", raising=False)
    yield path
    st.cache_resource.clear()
    st.cache_data.clear()


def compare(at: AppTest, map_bytes: bytes | None = None) -> AppTest:
    at.file_uploader(key="dc_events").set_value([(EVENTS.name, EVENTS.read_bytes(), "application/json")])
    at.file_uploader(key="dc_map").set_value(("map.yaml", map_bytes or MAP.read_bytes(), "application/x-yaml"))
    [b for b in at.button if b.label == "Compare with the registry"][0].click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_engineer_proposes_officer_approves_and_the_findings_go(db: Path) -> None:
    at = compare(open_app("engineer", "discovery", day=DAY))
    assert at.title[0].value == "Discovery"
    table = frames(at)
    assert "flow-undeclared" in table and "category-undeclared" in table and "flow-unobserved" in table
    assert "UNCOVERED" in table  # the engine's word for the undeclared hop
    assert "food_delivery/delivery_times_7_days" in table
    assert any("analytics-to-promo-agency" in code.value for code in at.code)
    at.text_input(key="dc_message").input("flows seen in Marquez")
    [b for b in at.button if b.label == "Submit for approval"][0].click().run()
    assert not at.exception
    saved = proposals(db)
    assert [(p.author, p.message, p.status) for p in saved] == [("engineer", "flows seen in Marquez", "pending")]
    assert head_number(db) == 1 and any("saved for review" in s.value for s in at.success)

    # the privacy officer approves it where every proposal is approved
    as_user(at, "officer")
    at.switch_page("app_pages/review.py")
    at.run()
    assert "analytics-to-promo-agency" in frames(at)
    [b for b in at.button if b.label == "Approve"][0].click().run()
    assert not at.exception and head_number(db) == 2

    at.switch_page("app_pages/discovery.py")
    at.run()
    compare(at)
    table = frames(at)
    assert "flow-undeclared" not in table and "category-undeclared" not in table and "flow-unobserved" in table


@pytest.mark.parametrize("role", ["viewer", "engineer", "officer"])
def test_the_page_renders_for_every_role(db: Path, role: str) -> None:
    at = open_app(role, "discovery", day=DAY)
    assert at.title[0].value == "Discovery" and not at.error
    assert any("Upload events and a map" in caption.value for caption in at.caption)


def test_viewer_compares_but_cannot_propose(db: Path) -> None:
    at = compare(open_app("viewer", "discovery", day=DAY))
    assert "flow-undeclared" in frames(at)
    submit = [b for b in at.button if b.label == "Submit for approval"][0]
    assert submit.disabled and any("read-only" in i.value for i in at.info)
    fr = Flowreg.open()
    try:
        result = _discovery_actions.run_check(fr, USERS["viewer"], [(EVENTS.name, EVENTS.read_bytes())],
                                              MAP.read_bytes(), DAY, None, 1)
        with pytest.raises(PermissionDenied):
            _discovery_actions.propose_discovered(fr, USERS["viewer"], result)
    finally:
        fr.close()
    assert proposals(db) == []


def test_a_map_with_errors_shows_them_and_writes_nothing(db: Path) -> None:
    bad = b"openlineage_map: 1\ndatasets:\n  - match: 'food_delivery/*'\n    system: warehouse\n"
    at = compare(open_app("engineer", "discovery", day=DAY), bad)
    errors = " ".join(e.value for e in at.error)
    assert "datasets\\[0\\]\\.system\\: unknown system \\'warehouse\\'" in errors
    assert not at.dataframe and proposals(db) == [] and head_number(db) == 1
