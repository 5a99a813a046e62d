"""The benchmark cannot rot: its generator is deterministic and valid, and a tiny run completes."""

from __future__ import annotations

import collections
import json
import sys
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # bench/ is a folder run from the repository root, not installed
    sys.path.insert(0, str(ROOT))

from bench import generator  # noqa: E402
from bench.backends import Neo4jBackend  # noqa: E402
from bench.run import OPERATIONS, main  # noqa: E402
from lineage.evaluation import evaluate  # noqa: E402
from lineage.graph import build_graph  # noqa: E402
from registry.loader import load_registry_data  # noqa: E402


def test_generator_is_deterministic_and_valid(tmp_path: Path) -> None:
    first = generator.build(300)
    assert first.registry == generator.generate(300)
    assert first.registry != generator.generate(300, seed=8)
    registry = load_registry_data(first.registry)
    assert len(registry.flows) == 300
    # Streaming to a file writes the same registry and returns the same probes.
    probes = generator.write_json(tmp_path / "r.json", 300)
    assert json.loads((tmp_path / "r.json").read_text()) == first.registry
    assert probes == first.probes
    index = registry.index()
    for key in ("roots", "leaves", "vendors", "affiliates", "tools"):
        assert first.probes[key], key
    for source, target, category in first.probes["paths"]:
        assert source in index and target in index and category in index


def test_generator_has_an_enterprise_shape() -> None:
    doc = generator.generate(5000)
    registry = load_registry_data(doc)
    depths = collections.Counter(c.id.count(".") + 1 for c in registry.categories)
    assert 250 <= len(registry.categories) <= 350 and max(depths) == 4 and depths[3] > 0
    assert {p.kind.value for p in registry.parties} >= {
        "affiliate", "subprocessor", "service_provider", "carrier", "ott_provider",
        "addon_partner", "authority", "data_source", "other"}
    assert len({p.country for p in registry.parties if p.country}) >= 35
    assert any(not p.country for p in registry.parties) or any(not s.country for s in registry.systems)
    assert {m.version.value for m in registry.mechanisms if m.version} >= {"2010/87", "2021/914"}
    assert {m.kind.value for m in registry.mechanisms} >= {"bcr", "scc", "idta", "derogation"}
    frameworks = {c.framework.value for p in registry.parties for c in p.certifications}
    assert frameworks >= {"eu-us-privacy-shield", "eu-us-dpf"}
    assert registry.rules
    statuses = collections.Counter(
        h.status.value for h in evaluate(build_graph(registry), date.fromisoformat(generator.AS_OF)).hops())
    assert {"not_required", "adequate", "covered", "invalid", "uncovered", "unknown"} <= set(statuses)
    # Chains reach ten hops: some flow sits 9 hops below a subject group.
    depth = {s.id: 0 for s in registry.subjects}
    for flow in registry.flows:  # chains are generated in order, hop after hop
        if flow.from_ in depth and flow.to not in depth:
            depth[flow.to] = depth[flow.from_] + 1
    assert max(depth.values()) >= 8


def test_sizes_parse() -> None:
    assert [generator.parse_size(s) for s in ("1k", "10k", "100k", "1m", "200")] == [
        1_000, 10_000, 100_000, 1_000_000, 200]
    with pytest.raises(ValueError):
        generator.parse_size("lots")


def test_a_tiny_run_end_to_end(tmp_path: Path) -> None:
    out, work = tmp_path / "out", tmp_path / "work"
    code = main(["--sizes", "200", "--backends", "embedded", "--reps", "2",
                 "--out", str(out), "--work", str(work), "--name", "tiny"])
    assert code == 0
    report = json.loads((out / "tiny.json").read_text())
    [entry] = report["results"]
    assert entry["status"] == "ok", entry.get("reason")
    assert entry["apply"]["apply_s"] > 0 and entry["serve"]["open_s"] > 0
    assert entry["serve"]["peak_rss_mb"] > 0
    for name, _ in OPERATIONS:
        result = entry["serve"]["queries"][name]
        assert "error" not in result, (name, result)
        assert result["n"] == 2 and result["p95_ms"] >= result["p50_ms"] > 0
    assert report["machine"]["cores"] and report["machine"]["python"]
    markdown = (out / "tiny.md").read_text()
    assert "open cold" in markdown and "all findings" in markdown
    assert entry["git"] == report["machine"]["git"] and "| code (git) |" in markdown

    # Runs made separately are combined into one file; a later file wins for its size.
    second = json.loads(json.dumps(report))
    second["results"][0]["serve"]["open_s"] = 123.0
    second["machine"]["git"] = "other"
    del second["results"][0]["git"]  # written before entries recorded their code
    (out / "second.json").write_text(json.dumps(second))
    assert main(["--combine", str(out / "tiny.json"), str(out / "second.json"),
                 "--out", str(out), "--name", "both"]) == 0
    both = json.loads((out / "both.json").read_text())
    [merged] = both["results"]
    assert merged["serve"]["open_s"] == 123.0 and merged["git"] == "other"
    assert "**open cold (s)** | **123** |" in (out / "both.md").read_text()


def test_the_neo4j_slot_says_why_it_cannot_run() -> None:
    reason = Neo4jBackend().unavailable()
    assert reason is None or isinstance(reason, str) and reason


def test_a_run_on_snapshots_gives_the_same_answers(tmp_path: Path) -> None:
    """`--snapshots`: a process that opens on what another kept answers exactly as the one that
    computed it (the answer digests)."""
    out, work = tmp_path / "out", tmp_path / "work"
    assert main(["--sizes", "200", "--backends", "embedded", "--reps", "1", "--snapshots",
                 "--out", str(out), "--work", str(work), "--name", "snap"]) == 0
    [entry] = json.loads((out / "snap.json").read_text())["results"]
    assert entry["status"] == "ok", entry.get("reason")
    assert set(entry["kept"]["queries"]) == {"evaluate_date", "findings"}
    for name, _ in OPERATIONS:
        assert "error" not in entry["reopen"]["queries"][name], (name, entry["reopen"]["queries"][name])
    for name in ("evaluate_date", "findings"):  # the cold run registered sub-processors since
        assert entry["reopen"]["queries"][name]["first_digest"] == entry["kept"]["queries"][name]["first_digest"]
    assert "**open on snapshots (s)**" in (out / "snap.md").read_text()
    assert not (work / "snapshots-200").exists()  # removed with the store
