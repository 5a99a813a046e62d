"""The lineage-check benchmark cannot rot: its events are what it says they are, its map fits
its registry, and a tiny run completes and writes its results."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # bench/ is a folder run from the repository root, not installed
    sys.path.insert(0, str(ROOT))

from bench import generator, lineage_events  # noqa: E402
from lineage.discovery.event_files import sources_from_paths  # noqa: E402
from lineage.discovery.runs import read_runs  # noqa: E402
from registry.lineage_map import load_lineage_map_text  # noqa: E402
from registry.loader import load_registry_data  # noqa: E402


def test_events_and_map_are_what_the_benchmark_says(tmp_path: Path) -> None:
    registry = generator.build(300).registry
    load_lineage_map_text(json.dumps(lineage_events.lineage_map(registry)), load_registry_data(registry))
    path = tmp_path / "events.jsonl"
    written = lineage_events.write_events(path, registry, 3000)
    log = read_runs(sources_from_paths([path]), workers=1)
    assert log.values == written["events"] >= 3000
    assert log.malformed == written["malformed"] and len(log.runs) == written["runs"]
    failed = sum(r.state in ("failed", "aborted") for r in log.runs.values())
    assert failed == written["failed_or_aborted"]
    warned = sum(p.count for p in log.problems if "schemaURL" in p.message)
    assert warned == written["no_schema_url"]


def test_a_tiny_run_completes(tmp_path: Path) -> None:
    code = lineage_events.main(["--events", "300", "--flows", "200", "--reps", "1", "--work", str(tmp_path),
                                "--out", str(tmp_path), "--name", "tiny"])
    report = json.loads((tmp_path / "tiny.json").read_text())
    # the exit status says whether the target held: on a shared machine that is the load's
    # doing as much as the code's, so only its consistency is checked here
    assert code == (0 if report["target"]["holds"] else 1)
    assert report["runs"][0]["movements"] > 0 and report["runs"][0]["cpu_s"] > 0
    assert report["phases"]["findings"]["flow-undeclared"] >= 0
    assert "lineage-check" in (tmp_path / "tiny.md").read_text()
