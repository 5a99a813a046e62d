"""Helpers for the dashboard's AppTest suites (test_app.py, test_app_security.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from registry.loader import load_registry_file
from registry.sqlite_store import SqliteStore

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # app_pages is beside app.py, not an installed package
    sys.path.insert(0, str(ROOT))

from app_pages import _auth  # noqa: E402

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


def seeded_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A store seeded with the Twilio registry, named by FLOWREG_DB, demo mode on (for a fixture)."""
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


def pick_row(at: AppTest, key: str, row: int) -> None:
    """What a click on a row of a selectable table sends."""
    at.session_state[key] = {"selection": {"rows": [row], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]


def table(at: AppTest, column: str, index: int = -1):  # noqa: ANN201 - a pandas DataFrame
    """The `index`-th dataframe on the page that has `column`."""
    return [df.value for df in at.dataframe if column in df.value.columns][index]
