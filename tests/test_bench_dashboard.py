"""The dashboard benchmark cannot rot: its AppTest walk runs every page and interaction on a
small generated registry, and its report names every one (speed itself is not asserted)."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st

from registry.sqlite_store import SqliteStore

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import dashboard, generator  # noqa: E402


@pytest.fixture
def small(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, dict]]:
    built = generator.build(400)
    path = tmp_path / "small.db"
    with SqliteStore(path) as store:
        store.append(built.registry, author="bench", message="small")
    monkeypatch.setenv("FLOWREG_DB", str(path))  # apptest_child sets it too; restored after
    monkeypatch.setenv("FLOWREG_DEMO", "1")
    yield path, built.probes
    st.cache_resource.clear()


def test_the_apptest_walk_covers_every_page_and_interaction(small: tuple[Path, dict]) -> None:
    path, probes = small
    result = dashboard.apptest_child(str(path), probes, reps=2)
    assert set(result["pages"]) == set(dashboard.PAGES)
    assert set(result["interactions"]) == {name for name, _ in dashboard.INTERACTIONS}
    for entry in [*result["pages"].values(), *result["interactions"].values()]:
        assert entry["n"] == 2 and entry["p95_ms"] >= entry["p50_ms"] > 0
    report = {"date": "today", "name": "t", "command": "python -m bench.dashboard", "server": {"10k": result},
              "machine": {"cpu": "cpu", "cores": 2, "ram_gb": 1, "os": "os", "python": "3", "git": "x"}}
    text = dashboard.to_markdown(json.loads(json.dumps(report)))
    for _, words in dashboard.INTERACTIONS:
        assert words in text
    assert "shared" in text  # the results say the machine was shared
