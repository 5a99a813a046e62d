"""The flow explorer on a generated 10k-flow registry under AppTest (a real store, the real
engine): the default chart stays legible (at most about 40 labelled nodes) and any hop is two
clicks away (its group, then its row). Speed is measured by bench/dashboard.py, not here."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import streamlit as st
from app_support import open_app
from streamlit.testing.v1 import AppTest

from registry.sqlite_store import SqliteStore

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import generator  # noqa: E402

DAY = date(2024, 6, 30)


@pytest.fixture(scope="module")
def large_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scale") / "flowreg-10k.db"
    with SqliteStore(path) as store:
        store.append(generator.generate(10_000), author="bench", message="generated, 10k flows")
    return path


@pytest.fixture
def at10k(large_db: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[AppTest]:
    monkeypatch.setenv("FLOWREG_DB", str(large_db))
    monkeypatch.setenv("FLOWREG_DEMO", "1")
    monkeypatch.delenv("FLOWREG_BACKEND", raising=False)
    at = open_app("viewer", "flow_explorer", day=DAY)
    yield at
    st.cache_resource.clear()


def sankey_nodes(at: AppTest) -> list[str]:
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    return spec["data"][0]["node"]["label"]


def test_default_chart_of_a_root_category_is_legible(at10k: AppTest) -> None:
    hops = at10k.metric[0].value
    assert int(hops.replace(",", "")) > 1000  # a root category: the smear of the issue
    labels = sankey_nodes(at10k)
    assert len(labels) <= 40
    assert all(len(label) <= 40 for label in labels)  # cut to the room between columns
    for by in ("kind", "country", "status"):
        at10k.selectbox(key="fx_by").select(by).run()
        assert len(sankey_nodes(at10k)) <= 40, by


def test_any_hop_is_two_clicks_away(at10k: AppTest) -> None:
    groups = [df.value for df in at10k.dataframe if "need attention" in df.value.columns][0]
    biggest = int(groups["hops"].idxmax())  # e.g. an "other" node: hundreds of hops
    at10k.session_state["fx_groups"] = {"selection": {"rows": [biggest], "columns": [], "cells": []}}
    at10k.run()
    hops = [df.value for df in at10k.dataframe if "reason" in df.value.columns][-1]
    assert len(hops) == groups["hops"][biggest]  # every hop of the group, on one page
    last = len(hops) - 1
    at10k.session_state["fx_hops_table"] = {"selection": {"rows": [], "columns": [], "cells": [[last, "to"]]}}
    at10k.run()
    assert not at10k.exception
    assert "Hop details" in [s.value for s in at10k.subheader]
    route = f"{hops['from'][last]}  →  {hops['to'][last]}"
    assert route in [t.value for t in at10k.text]
