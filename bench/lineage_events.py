"""Benchmark of `flowreg lineage-check`: N OpenLineage run events read and compared.

    python -m bench.lineage_events --events 100k --flows 1k

Writes a synthetic registry (bench/generator.py) into a fresh store, a lineage map of every
system and party, and N events as JSON lines, made the way producers send them: a START event
with the run's inputs and outputs and their schema facets, then a COMPLETE event without
datasets (some runs FAIL or ABORT instead). A few runs move data between nodes no flow joins or
carry a category their flow does not declare; a few events are malformed or lack `schemaURL`.

Then, in a new process each, times the command a user runs (`flowreg lineage-check EVENTS --map
MAP --as-of DATE --format json`, wall time and the child's peak memory) and the same check
phase by phase (reading, movements, comparison and the engine's judgement) with the library.
The target (issue 16): 100k events read and compared in under 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import generator
from bench.run import RESULTS, WORK, describe_machine, machine_slug

TARGET_S = 10.0
FIRST_DAY = date(2024, 1, 1)
AS_OF = date.fromisoformat(generator.AS_OF)
PRODUCER = "https://github.com/OpenLineage/OpenLineage/tree/1.40.0/integration/spark"
SCHEMA_URL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
FACET_URL = "https://openlineage.io/spec/facets/1-1-1/SchemaDatasetFacet.json#/$defs/SchemaDatasetFacet"


def dataset(node: str, kind: str, table: str) -> tuple[str, str]:
    if kind == "system":
        return f"postgres://{node}.db.internal:5432", f"app.public.{table}"
    return f"s3://{node}-drop", f"export/{table}"


def field_name(category: str) -> str:
    return category.replace(".", "_")


def lineage_map(registry: dict[str, Any]) -> dict[str, Any]:
    """Every system and party's datasets, and one field name per category."""
    entries = [{"match": f"postgres://{s['id']}.db.internal:5432/*", "system": s["id"]} for s in registry["systems"]]
    entries += [{"match": f"s3://{p['id']}-drop/*", "party": p["id"]} for p in registry["parties"]]
    fields = [{"match": field_name(c["id"]), "category": c["id"]} for c in registry["categories"]]
    return {"openlineage_map": 1, "datasets": entries, "fields": fields}


def write_events(path: Path, registry: dict[str, Any], count: int, seed: int = 7) -> dict[str, int]:
    """`count` events as JSON lines; returns how many of each kind were written."""
    rng = random.Random(f"lineage-events-{seed}")
    kinds = {s["id"]: "system" for s in registry["systems"]} | {p["id"]: "party" for p in registry["parties"]}
    categories = [c["id"] for c in registry["categories"]]
    window = (AS_OF - FIRST_DAY).days
    flows = [f for f in registry["flows"] if f["from"] in kinds and f["to"] in kinds
             and _active_days(f, window)]
    joined = {(f["from"], f["to"]) for f in registry["flows"]}
    nodes = sorted(kinds)
    strangers = []
    while len(strangers) < 20:
        pair = (rng.choice(nodes), rng.choice(nodes))
        if pair[0] != pair[1] and pair not in joined and pair not in strangers:
            strangers.append(pair)
    written = {"events": 0, "runs": 0, "malformed": 0, "undeclared_runs": 0, "extra_category_runs": 0,
               "failed_or_aborted": 0, "no_schema_url": 0}
    with path.open("w") as out:
        while written["events"] < count:
            roll = rng.random()
            if roll < 0.002:
                out.write(rng.choice(['{"eventType": "START", "run": {"runId": "not-a-uuid"}}',
                                      '{"eventType": "COMPLETE", "eventTime": ']) + "\n")
                written["malformed"] += 1
                written["events"] += 1
                continue
            if roll < 0.012:
                source, target = rng.choice(strangers)
                carried = [rng.choice(categories)]
                day = FIRST_DAY + timedelta(days=rng.randrange(window))
                written["undeclared_runs"] += 1
            else:
                flow = rng.choice(flows)
                source, target, carried = flow["from"], flow["to"], list(flow["carries"])
                first, last = _active_days(flow, window)  # type: ignore[misc]
                day = FIRST_DAY + timedelta(days=rng.randint(first, last))
                if roll < 0.022:
                    carried.append(rng.choice(categories))
                    written["extra_category_runs"] += 1
            run_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            start = datetime(day.year, day.month, day.day, rng.randrange(24), rng.randrange(60), tzinfo=UTC)
            fields = [{"name": "id", "type": "BIGINT"}, {"name": "created_at", "type": "TIMESTAMP"}]
            fields += [{"name": field_name(c), "type": "VARCHAR"} for c in carried]
            # One table per pipeline at each end, with a fixed schema (a run that carries an
            # undeclared category is one whose table gained a column).
            table = f"{source}_to_{target}"
            inputs = [_dataset(source, kinds[source], table, fields)]
            if rng.random() < 0.05:
                inputs.append({"namespace": "kafka://events", "name": f"topic{rng.randrange(10)}"})
            outputs = [_dataset(target, kinds[target], table, fields)]
            job = {"namespace": "spark-prod", "name": f"job_{source}_to_{target}"}
            begin = _event("START", start, run_id, job, inputs, outputs)
            if rng.random() < 0.01:
                del begin["schemaURL"]
                written["no_schema_url"] += 1
            end_state = "COMPLETE" if rng.random() >= 0.04 else rng.choice(["FAIL", "ABORT"])
            written["failed_or_aborted"] += end_state != "COMPLETE"
            end = _event(end_state, start + timedelta(minutes=rng.randrange(1, 50)), run_id, job, [], [])
            out.write(json.dumps(begin, separators=(",", ":")) + "\n")
            out.write(json.dumps(end, separators=(",", ":")) + "\n")
            written["events"] += 2
            written["runs"] += 1
    return written


def _active_days(flow: dict[str, Any], window: int) -> tuple[int, int] | None:
    first = max(0, (date.fromisoformat(flow["valid_from"]) - FIRST_DAY).days) if flow.get("valid_from") else 0
    last = window - 1
    if flow.get("valid_until"):
        last = min(last, (date.fromisoformat(flow["valid_until"]) - FIRST_DAY).days - 1)
    return (first, last) if first <= last else None


def _dataset(node: str, kind: str, table: str, fields: list[dict[str, str]]) -> dict[str, Any]:
    namespace, name = dataset(node, kind, table)
    return {"namespace": namespace, "name": name, "facets": {"schema": {
        "_producer": PRODUCER, "_schemaURL": FACET_URL, "fields": fields}}}


def _event(state: str, when: datetime, run_id: str, job: dict[str, str], inputs: list[Any],
           outputs: list[Any]) -> dict[str, Any]:
    return {"eventType": state, "eventTime": when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "run": {"runId": run_id}, "job": job, "inputs": inputs, "outputs": outputs,
            "producer": PRODUCER, "schemaURL": SCHEMA_URL}


# --- the timed children ---------------------------------------------------------------------------
def _child_phases(spec: dict[str, Any]) -> dict[str, Any]:
    """The check phase by phase, with the library, in this (new) process."""
    from lineage.api import Flowreg
    from lineage.discovery import check as check_mod
    from lineage.discovery.event_files import sources_from_paths
    from lineage.discovery.matching import MapMatcher
    from lineage.discovery.movements import observe
    from lineage.discovery.runs import read_runs
    from registry.lineage_map import load_lineage_map_file
    from registry.sqlite_store import SqliteStore

    fr = Flowreg(SqliteStore(Path(spec["db"])))
    out: dict[str, Any] = {}
    t = time.perf_counter()
    registry = fr.registry()
    lineage_map = load_lineage_map_file(spec["map"], registry)
    out["open_s"] = time.perf_counter() - t
    sources = sources_from_paths([spec["events"]])
    t = time.perf_counter()
    log = read_runs(sources)
    out["read_s"] = time.perf_counter() - t
    t, cpu = time.perf_counter(), time.process_time()
    read_runs(sources, workers=1)
    out["read_one_process_s"], out["read_one_process_cpu_s"] = time.perf_counter() - t, time.process_time() - cpu
    t = time.perf_counter()
    observed = observe(log, MapMatcher(lineage_map), AS_OF)
    out["movements_s"] = time.perf_counter() - t
    t = time.perf_counter()
    result = check_mod.check_revision(fr, lineage_map, sources, AS_OF)
    out["whole_check_s"] = time.perf_counter() - t
    out["movements"] = len(observed.movements)
    out["findings"] = {rule: sum(f.rule == rule for f in result.findings)
                       for rule in ("flow-undeclared", "category-undeclared", "flow-unobserved")}
    out["coverage"] = {k: v for k, v in result.coverage.to_dict().items() if k != "dataset_list"}
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    fr.close()
    return out


def _cli(spec: dict[str, Any]) -> dict[str, Any]:
    """The command a user runs, as a child process: wall time and its peak memory."""
    flowreg = Path(sys.executable).with_name("flowreg")
    env = dict(os.environ, FLOWREG_DB=spec["db"])
    env.pop("FLOWREG_BACKEND", None)
    command = [str(flowreg), "lineage-check", spec["events"], "--map", spec["map"],
               "--as-of", AS_OF.isoformat(), "--format", "json"]
    load = os.getloadavg()[0]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"lineage-check failed: {done.stderr.strip()[-500:]}")
    answer = json.loads(done.stdout)
    return {"wall_s": round(wall, 3), "cpu_s": round((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), 3),
            "peak_rss_mb": round(after.ru_maxrss / 1024, 1), "findings": len(answer["findings"]),
            "load_before": round(load, 1),
            "movements": len(answer["movements"]), "command": " ".join(["flowreg", *command[1:]])}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.lineage_events", description=__doc__.split("\n")[0])
    parser.add_argument("--events", default="100k", help="how many events: 10k, 100k, 1m or a number")
    parser.add_argument("--flows", default="1k", help="registry size (flows), as bench.run --sizes")
    parser.add_argument("--reps", type=int, default=3, help="timed runs of the command")
    parser.add_argument("--work", default=str(WORK))
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--name", default=None, help="results file name (default lineage-check-DATE-MACHINE)")
    args = parser.parse_args(argv)
    count, flows = generator.parse_size(args.events), generator.parse_size(args.flows)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    registry = generator.build(flows).registry
    stem = f"lineage-{generator.size_label(flows)}-{generator.size_label(count)}"
    db = work / f"{stem}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    reg_file, map_file, events = work / f"{stem}-registry.json", work / f"{stem}-map.json", work / f"{stem}.jsonl"
    reg_file.write_text(json.dumps(registry))
    map_file.write_text(json.dumps(lineage_map(registry)))
    written = write_events(events, registry, count)
    env = dict(os.environ, FLOWREG_DB=str(db))
    env.pop("FLOWREG_BACKEND", None)
    subprocess.run([str(Path(sys.executable).with_name("flowreg")), "apply", str(reg_file), "-m", "bench"],
                   env=env, check=True, capture_output=True)
    spec = {"db": str(db), "map": str(map_file), "events": str(events)}
    runs = [_cli(spec) for _ in range(args.reps)]
    phases = json.loads(subprocess.run(
        [sys.executable, "-c", "import json,sys; from bench.lineage_events import _child_phases; "
         "print(json.dumps(_child_phases(json.loads(sys.argv[1]))))", json.dumps(spec)],
        check=True, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1]).stdout)
    walls = sorted(r["wall_s"] for r in runs)
    machine = describe_machine()
    report = {
        "benchmark": "lineage-check", "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine, "events": count, "registry_flows": flows,
        "events_file_mb": round(events.stat().st_size / 2**20, 1), "written": written,
        "command": runs[0]["command"].replace(str(work) + "/", "WORK/"),
        "runs": runs, "median_wall_s": walls[len(walls) // 2], "phases": phases,
        "target": {"wall_s": TARGET_S, "holds": walls[len(walls) // 2] < TARGET_S},
    }
    for run in report["runs"]:
        run["command"] = report["command"]
    name = args.name or f"lineage-check-{datetime.now(UTC):%Y-%m-%d}-{machine_slug(machine)}"
    out = Path(args.out)
    (out / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / f"{name}.md").write_text(_markdown(report))
    print(_markdown(report))
    return 0 if report["target"]["holds"] else 1


def _markdown(r: dict[str, Any]) -> str:
    p = r["phases"]
    each = ", ".join(f"{x['wall_s']:.2f} s / {x['cpu_s']:.2f} s" for x in r["runs"])
    loads = ", ".join(str(x["load_before"]) for x in r["runs"])
    lines = [
        f"# lineage-check: {r['events']:,} events against {r['registry_flows']:,} flows",
        "",
        f"Machine: {r['machine']['cpu']}, {r['machine']['cores']} cores, {r['machine']['ram_gb']} GB "
        f"(shared with other work while it ran); code {r['machine']['git']}; {r['created']}.",
        "",
        f"Events: {r['events_file_mb']} MB of JSON lines; {r['written']['runs']:,} runs, "
        f"{r['written']['malformed']} malformed events, {r['written']['no_schema_url']} without schemaURL, "
        f"{r['written']['failed_or_aborted']} runs failed or aborted, {r['written']['undeclared_runs']} runs "
        f"between nodes no flow joins, {r['written']['extra_category_runs']} with an undeclared category.",
        "",
        f"    {r['command']}",
        "",
        "| figure | value |",
        "|---|---|",
        f"| wall time of the command, median of {len(r['runs'])} | **{r['median_wall_s']:.2f} s** (target < {r['target']['wall_s']:.0f} s: "
        f"{'holds' if r['target']['holds'] else 'MISSED'}) |",
        f"| each run (wall / CPU of the command and its workers) | {each} |",
        f"| machine load (1-minute average) before each run | {loads} |",
        f"| peak memory of the command | {max(x['peak_rss_mb'] for x in r['runs'])} MB |",
        f"| open the store and read the map | {p['open_s']:.2f} s |",
        f"| read the events into runs (decode, OpenLineage models) | {p['read_s']:.2f} s |",
        f"| the same in one process (wall / CPU) | {p['read_one_process_s']:.2f} s / {p['read_one_process_cpu_s']:.2f} s |",
        f"| movements from the runs | {p['movements_s']:.2f} s |",
        f"| the whole check (read, movements, compare, engine's judgement) | {p['whole_check_s']:.2f} s |",
        f"| movements / findings | {p['movements']} / {p['findings']} |",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
