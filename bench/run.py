"""Run the benchmark: each size and backend in its own processes; write Markdown and JSON.

    python -m bench.run --sizes 1k,10k,100k --backends embedded,neo4j

For each size the generator writes a registry file once (kept in the work folder and reused by
later runs with the same seed). For each backend, one child process applies it (validate +
store write), then a second, new process opens the store cold (load the head revision, build
the graph) and times every query: the first call (the warm-up, which fills per-date caches),
then `--reps` more, rotating over several arguments (different categories, parties, paths), of
which the median and the 95th percentile (nearest rank) are reported. Peak memory is the
child's own `ru_maxrss`, so each figure is that of one process doing one job.
"""

from __future__ import annotations

import argparse
import collections
import functools
import hashlib
import importlib.metadata
import json
import math
import os
import platform
import re
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
WORK = RESULTS / "tmp"  # git-ignored: registry files and stores

# (operation, what the Markdown calls it); the order is the order they run in.
OPERATIONS = [
    ("evaluate_date", "every hop's status on the date (the first query of a date evaluates it)"),
    ("flows_root", "flows of a root category"),
    ("flows_leaf", "flows of a leaf category"),
    ("recipients", "recipients of a root category"),
    ("path", "path subject -> vendor (one category)"),
    ("path_any", "path subject -> vendor (all data)"),
    ("impact_vendor", "impact of a vendor"),
    ("impact_affiliate", "impact of HQ / EU hub"),
    ("findings", "all findings"),
    ("what_if", "what-if: invalidate a tool"),
    ("registration", "register a sub-processor (write + re-evaluate)"),
]
# Issue 7's targets at 100k flows, embedded: (figure, statistic, limit, unit).
TARGETS = [
    ("open", "value", 3.0, "s"),
    ("flows_root", "p95_ms", 100.0, "ms"),
    ("flows_leaf", "p95_ms", 100.0, "ms"),
    ("recipients", "p95_ms", 100.0, "ms"),
    ("path", "p95_ms", 100.0, "ms"),
    ("impact_vendor", "p95_ms", 100.0, "ms"),
    ("findings", "first_ms", 2000.0, "ms"),
    ("findings", "p95_ms", 2000.0, "ms"),
    ("registration", "p95_ms", 200.0, "ms"),
    ("peak_rss_apply", "value", 1536.0, "MB"),
    ("peak_rss_serve", "value", 1536.0, "MB"),
]
TARGET_SIZE = "100k"
LARGE_LIMIT_MS = 2000.0  # issue 7: at 1M flows every query answers in under 2 s


# --- child processes ---------------------------------------------------------------------------
def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _child_generate(spec: dict[str, Any]) -> dict[str, Any]:
    from bench.generator import write_json

    started = time.perf_counter()
    probes = write_json(spec["data"], spec["flows"], spec["seed"])
    seconds = time.perf_counter() - started
    Path(spec["probes"]).write_text(json.dumps(probes, indent=1))
    return {"generate_s": seconds, "file_mb": Path(spec["data"]).stat().st_size / 2**20,
            "peak_rss_mb": _peak_rss_mb()}


def _child_apply(spec: dict[str, Any]) -> dict[str, Any]:
    from bench.backends import BACKENDS
    from lineage.api import Flowreg
    from registry.loader import load_registry_data

    backend = BACKENDS[spec["backend"]]()
    started = time.perf_counter()
    document = json.loads(Path(spec["data"]).read_bytes())
    parsed = time.perf_counter()
    registry = load_registry_data(document)
    validated = time.perf_counter()
    del document
    store = backend.open_store(spec["conf"])
    fr = Flowreg(store)
    opened = time.perf_counter()
    fr.apply(registry, author="bench", message="benchmark registry", expected_head=None)
    written = time.perf_counter()
    store.close()
    out = {"parse_s": parsed - started, "validate_s": validated - parsed,
           "write_s": written - opened, "apply_s": (validated - parsed) + (written - opened),
           "peak_rss_mb": _peak_rss_mb()}
    if "db" in spec["conf"]:
        out["store_mb"] = sum(
            Path(f"{spec['conf']['db']}{s}").stat().st_size
            for s in ("", "-wal") if Path(f"{spec['conf']['db']}{s}").exists()
        ) / 2**20
    return out


def _percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (p95 of 20 samples is the 19th smallest)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def answer_size(answer: Any) -> int:
    """How big an answer is: hops, parties, findings or changed hops."""
    if isinstance(answer, int):
        return answer
    if isinstance(answer, list):
        return len(answer)
    if hasattr(answer, "changed_hops"):
        return len(answer.changed_hops)
    if hasattr(answer, "downstream_hops"):
        return len(answer.hops_in) + len(answer.hops_out) + len(answer.downstream_hops)
    return len(answer.hops)


def answer_digest(answer: Any) -> str:
    """A short hash of the whole answer, to check that backends answer alike."""
    def plain(value: Any) -> Any:
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value.to_dict() if hasattr(value, "to_dict") else value

    text = json.dumps(plain(answer), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _measure(calls: list[Callable[[], Any]], reps: int, budget: float) -> dict[str, Any]:
    """Time the first call (the warm-up), then up to `reps` more within `budget` seconds.

    Answers are sized (and the first one hashed) outside the timed region."""
    started, cpu = time.perf_counter(), time.process_time()
    first_answer = calls[0]()
    first, first_cpu = time.perf_counter() - started, time.process_time() - cpu
    digest = answer_digest(first_answer)
    n = reps if first * reps <= budget else max(min(3, reps), int(budget / max(first, 1e-9)))
    samples, cpu_samples, sizes = [], [], [answer_size(first_answer)]
    del first_answer
    for i in range(min(n, reps)):
        call = calls[(i + 1) % len(calls)]
        started, cpu = time.perf_counter(), time.process_time()
        answer = call()
        samples.append(time.perf_counter() - started)
        cpu_samples.append(time.process_time() - cpu)
        sizes.append(answer_size(answer))
        del answer
    out: dict[str, Any] = {"first_ms": first * 1000, "first_cpu_ms": first_cpu * 1000,
                           "n": len(samples), "answer_median": statistics.median(sizes),
                           "answer_max": max(sizes), "first_digest": digest,
                           "peak_rss_after_mb": _peak_rss_mb(), "load_avg": os.getloadavg()[0]}
    if samples:
        out.update(p50_ms=statistics.median(samples) * 1000,
                   p95_ms=_percentile(samples, 0.95) * 1000, max_ms=max(samples) * 1000,
                   cpu_p50_ms=statistics.median(cpu_samples) * 1000,
                   cpu_p95_ms=_percentile(cpu_samples, 0.95) * 1000)
    return out


def operation_calls(engine: Any, probes: dict[str, Any], *, first_registration: int = 1) -> dict[str, list[Callable[[], Any]]]:
    """Each operation's calls, over the probes' arguments (the runner rotates through them);
    registrations number their sub-processors from `first_registration`."""
    day = date.fromisoformat(probes["as_of"])
    from_day = date.fromisoformat(probes["what_if_from"])
    registered = iter(range(first_registration, first_registration + 5_000))
    p = functools.partial
    return {
        "evaluate_date": [p(engine.hops, day)],
        "flows_root": [p(engine.flows, c, day) for c in probes["roots"]],
        "flows_leaf": [p(engine.flows, c, day) for c in probes["leaves"]],
        "recipients": [p(engine.recipients, c, day) for c in probes["roots"]],
        "path": [p(engine.path, s, t, day, c) for s, t, c in probes["paths"]],
        "path_any": [p(engine.path, s, t, day, None) for s, t, _ in probes["paths"]],
        "impact_vendor": [p(engine.impact, v, day) for v in probes["vendors"]],
        "impact_affiliate": [p(engine.impact, a, day) for a in probes["affiliates"]],
        "findings": [p(engine.findings, day)],
        "what_if": [p(engine.what_if, t, from_day, day) for t in probes["tools"]],
        "registration": [lambda: engine.register(next(registered), probes, day)],
    }


def _child_serve(spec: dict[str, Any]) -> dict[str, Any]:
    from bench.backends import BACKENDS

    backend = BACKENDS[spec["backend"]]()
    probes = json.loads(Path(spec["probes"]).read_text())
    backend.cool(spec["conf"])
    started = time.perf_counter()
    store = backend.open_store(spec["conf"])
    engine = backend.engine(store)
    engine.open()
    out: dict[str, Any] = {"open_s": time.perf_counter() - started, "open_peak_rss_mb": _peak_rss_mb()}

    ops = operation_calls(engine, probes, first_registration=spec.get("first_registration", 1))
    wanted = spec.get("operations") or [name for name, _ in OPERATIONS]
    queries: dict[str, Any] = {}
    for name in wanted:
        print(f"  {spec['backend']} {spec['label']}: {name}", file=sys.stderr, flush=True)
        try:
            queries[name] = _measure(ops[name], spec["reps"], spec["budget"])
        except Exception as exc:  # noqa: BLE001 - recorded in the results, the run goes on
            queries[name] = {"error": f"{type(exc).__name__}: {exc}"[:300]}
    store.close()
    out["queries"] = queries
    out["peak_rss_mb"] = _peak_rss_mb()
    return out


CHILD_TASKS = {"generate": _child_generate, "apply": _child_apply, "serve": _child_serve}


def _run_child(spec: dict[str, Any]) -> dict[str, Any]:
    """Run one task in a new Python process; its result is the last line of its output."""
    command = [sys.executable, "-m", "bench.run", "_child", json.dumps(spec, default=str)]
    tail: collections.deque[str] = collections.deque(maxlen=3)
    with subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as child:
        assert child.stderr is not None and child.stdout is not None
        for line in child.stderr:  # progress, shown as it comes; the result is one stdout line
            sys.stderr.write(line)
            tail.append(line.strip())
        stdout = child.stdout.read()
    if child.returncode != 0:
        raise RuntimeError(f"{spec['task']} failed (exit {child.returncode}): {' | '.join(tail)}")
    return json.loads(stdout.strip().splitlines()[-1])


# --- the machine ---------------------------------------------------------------------------------
def describe_machine() -> dict[str, Any]:
    """CPU model, cores, RAM, OS, Python and package versions, and the code's git revision."""
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    packages = {}
    for name in ("flowreg", "pydantic", "pydantic-core", "networkx", "PyYAML", "pycountry", "neo4j"):
        try:
            packages[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            packages[name] = None
    git = _git("rev-parse", "--short", "HEAD")
    dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    return {
        "cpu": cpu, "cores": os.cpu_count(), "ram_gb": ram_gb,
        "os": f"{platform.system()} {platform.release()}", "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version, "packages": packages,
        "git": f"{git}{' (with uncommitted changes)' if dirty else ''}" if git else None,
    }


def _git(*args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip()


def machine_slug(machine: dict[str, Any]) -> str:
    words = re.sub(r"\(.*?\)|@.*|processor|cpu", " ", machine["cpu"].lower())
    slug = "-".join(re.findall(r"[a-z0-9]+", words)[:3]) or "machine"
    return f"{slug}-{machine['cores']}c"


# --- the parent ----------------------------------------------------------------------------------
def run_size(label: str, flows: int, backends: list[str], args: argparse.Namespace) -> list[dict[str, Any]]:
    from bench.backends import BACKENDS

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    data = work / f"registry-{label}-seed{args.seed}.json"
    probes = work / f"registry-{label}-seed{args.seed}.probes.json"
    generated: dict[str, Any] = {"reused": True}
    if args.regenerate or not data.exists() or not probes.exists():
        print(f"generating {label} ({flows} flows)", file=sys.stderr, flush=True)
        generated = _run_child({"task": "generate", "flows": flows, "seed": args.seed,
                                "data": str(data), "probes": str(probes)})
    generated["file_mb"] = data.stat().st_size / 2**20

    out = []
    for name in backends:
        backend = BACKENDS[name]()
        entry: dict[str, Any] = {"size": label, "flows": flows, "backend": name, "generate": generated,
                                 "git": args.git}
        out.append(entry)
        reason = backend.unavailable()
        if reason:
            entry.update(status="not available", reason=reason)
            print(f"{name} {label}: not available: {reason}", file=sys.stderr)
            continue
        try:
            conf = backend.start(work, label)
            spec = {"backend": name, "label": label, "conf": conf, "data": str(data),
                    "probes": str(probes), "reps": args.reps, "budget": args.budget,
                    "operations": args.operations}
            print(f"{name} {label}: apply", file=sys.stderr, flush=True)
            entry["apply"] = _run_child({"task": "apply", **spec})
            print(f"{name} {label}: open and query", file=sys.stderr, flush=True)
            entry["serve"] = _run_child({"task": "serve", **spec})
            if args.snapshots and name == "embedded":
                # One process keeps the graph, holdings, statuses and findings of the probe
                # date; a new one opens on them and runs every query again.
                kept = {**spec, "conf": {**conf, "snapshots": str(work / f"snapshots-{label}")}}
                print(f"{name} {label}: keep snapshots, then open on them", file=sys.stderr, flush=True)
                entry["kept"] = _run_child({"task": "serve", **kept, "reps": 1,
                                            "operations": ["evaluate_date", "findings"]})
                entry["reopen"] = _run_child({"task": "serve", **kept, "first_registration": 5_001})
            entry["status"] = "ok"
        except Exception as exc:  # noqa: BLE001 - a failed backend is a result, not a crash
            entry.update(status="failed", reason=str(exc)[:500])
        finally:
            entry.update(backend.stop())
            if not args.keep and "conf" in locals() and conf.get("db"):
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{conf['db']}{suffix}").unlink(missing_ok=True)
                shutil.rmtree(work / f"snapshots-{label}", ignore_errors=True)
    return out


def figure(entry: dict[str, Any], name: str, stat: str = "value") -> float | None:
    """One number of a result entry: open, peak_rss_*, apply_s, or an operation's statistic."""
    if entry.get("status") != "ok":
        return None
    serve, apply_ = entry.get("serve", {}), entry.get("apply", {})
    if name == "open":
        return serve.get("open_s")
    if name == "peak_rss_apply":
        return apply_.get("peak_rss_mb")
    if name == "peak_rss_serve":
        return serve.get("peak_rss_mb")
    if name in apply_:
        return apply_[name]
    return serve.get("queries", {}).get(name, {}).get(stat)


def check_targets(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for entry in results:
        if entry["backend"] == "embedded" and entry["size"] == TARGET_SIZE:
            for name, stat, limit, unit in TARGETS:
                value = figure(entry, name, stat)
                rows.append({"size": TARGET_SIZE, "figure": name, "stat": stat, "limit": limit,
                             "unit": unit, "value": value,
                             "met": None if value is None else value < limit})
        if entry["size"] == "1m" and entry.get("status") == "ok":
            for name, _ in OPERATIONS:
                if name == "registration":
                    continue
                # Later calls of evaluate_date are cache look-ups: its first call is the work.
                stat = "first_ms" if name == "evaluate_date" else "p95_ms"
                value = figure(entry, name, stat)
                rows.append({"size": "1m", "backend": entry["backend"], "figure": name,
                             "stat": stat, "limit": LARGE_LIMIT_MS, "unit": "ms",
                             "value": value, "met": None if value is None else value < LARGE_LIMIT_MS})
    return rows


def _fmt(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def to_markdown(report: dict[str, Any]) -> str:
    machine, results = report["machine"], report["results"]
    sizes = list(dict.fromkeys(e["size"] for e in results))
    lines = [
        f"# flowreg benchmark, {report['date']}, {machine_slug(machine)}",
        "",
        "Commands (run from the repository root, in this order):",
        "",
        *[f"    {c}" for c in report.get("commands", [report["command"]])],
        "",
        "| machine | |", "|---|---|",
        f"| CPU | {machine['cpu']}, {machine['cores']} cores |",
        f"| RAM | {machine['ram_gb']} GB |",
        f"| OS, Python, SQLite | {machine['os']}, Python {machine['python']}, SQLite {machine['sqlite']} |",
        "| packages | " + ", ".join(f"{k} {v}" for k, v in machine["packages"].items() if v) + " |",
        f"| code | git {machine['git']} (this run; each table's `code` row says what each size measured) |",
        "",
        "Method: each size is generated once (`bench/generator.py`, seed "
        f"{report['seed']}); per backend one process applies it (validate + store write) and a "
        "new process opens the store cold (load the head revision and build the graph; the store "
        "file is evicted from the OS page cache first) and runs the queries. Latencies in ms: "
        "p50 / p95 of up to "
        f"{report['reps']} calls after the first (the warm-up, shown as `first`, which fills the "
        "per-date caches), rotating over several arguments; `n` calls were made where the "
        f"{report['budget']:.0f} s budget per operation allowed fewer. Peak memory is the "
        "process's own ru_maxrss. The machine is shared with other engineers' test runs.",
        "",
    ]
    for backend in dict.fromkeys(e["backend"] for e in results):
        entries = {e["size"]: e for e in results if e["backend"] == backend}
        lines += [f"## {backend}", ""]
        missing = [e for e in entries.values() if e.get("status") != "ok"]
        for e in missing:
            lines.append(f"- {e['size']}: **{e.get('status')}**: {e.get('reason')}")
        if missing:
            lines.append("")
        shown = [s for s in sizes if s in entries and entries[s].get("status") == "ok"]
        if not shown:
            continue
        lines += ["| figure | " + " | ".join(f"{s} flows" for s in shown) + " |",
                  "|---|" + "---:|" * len(shown)]

        def row(title: str, cell: Callable[[dict[str, Any]], str], entries=entries, shown=shown, lines=lines) -> None:
            lines.append(f"| {title} | " + " | ".join(cell(entries[s]) for s in shown) + " |")

        row("code (git)", lambda e: str(e.get("git") or machine["git"]))
        row("generate registry file (s)", lambda e: _fmt(e["generate"].get("generate_s"), 2) if not e["generate"].get("reused") else "reused")
        row("registry file (MB)", lambda e: _fmt(e["generate"].get("file_mb")))
        row("apply: parse JSON (s)", lambda e: _fmt(e["apply"]["parse_s"], 2))
        row("**apply: validate + write (s)**", lambda e: f"**{_fmt(e['apply']['apply_s'], 2)}** ({_fmt(e['apply']['validate_s'], 2)} + {_fmt(e['apply']['write_s'], 2)})")
        row("store size (MB)", lambda e: _fmt(e["apply"].get("store_mb")))
        row("**open cold (s)**", lambda e: f"**{_fmt(e['serve']['open_s'], 2)}**")
        row("peak memory: apply / serve (MB)", lambda e: f"{_fmt(e['apply']['peak_rss_mb'])} / {_fmt(e['serve']['peak_rss_mb'])}")
        if any("server_peak_rss_mb" in entries[s] for s in shown):
            row("server peak memory (MB)", lambda e: _fmt(e.get("server_peak_rss_mb")))
        for name, title in OPERATIONS:
            def cell(e: dict[str, Any], name: str = name) -> str:
                q = e["serve"]["queries"].get(name)
                if q is None:
                    return "–"
                if "error" in q:
                    return f"error: {q['error'][:80]}"
                n = f", n={q['n']}" if q["n"] < report["reps"] else ""
                return (f"{_fmt(q.get('p50_ms'))} / **{_fmt(q.get('p95_ms'))}** "
                        f"(first {_fmt(q['first_ms'])}{n})")
            row(f"{title}: p50 / p95 ms", cell)
        lines.append("")
        lines += ["Process CPU time, p50 / p95 ms (the client process only; less sensitive to "
                  "other load on the machine than the wall-clock figures above), and the "
                  "machine's 1-minute load average when the operation finished:", "",
                  "| operation | " + " | ".join(shown) + " |", "|---|" + "---:|" * len(shown)]
        for name, title in OPERATIONS:
            def cpu_cell(e: dict[str, Any], name: str = name) -> str:
                q = e["serve"]["queries"].get(name) or {}
                if "cpu_p50_ms" not in q:
                    return "–"
                return f"{_fmt(q['cpu_p50_ms'])} / {_fmt(q['cpu_p95_ms'])} (load {q['load_avg']:.1f})"
            row(title, cpu_cell)
        lines.append("")
        reopened = [s for s in shown if "reopen" in entries[s]]
        if reopened:
            lines += ["Opened on snapshots (`--snapshots`): one process keeps the graph, the holdings, "
                      "the probe date's statuses and its findings (`lineage.snapshots`; the time it "
                      "took, with the writing, is the first row), then a new process opens the store "
                      "on them (page cache not evicted) and runs every query again:", "",
                      "| figure | " + " | ".join(reopened) + " |", "|---|" + "---:|" * len(reopened)]
            row("keeping: open + first evaluation + findings, written (s)", lambda e: _fmt(
                e["kept"]["open_s"] + sum(q.get("first_ms", 0) for q in e["kept"]["queries"].values()) / 1000, 1),
                shown=reopened)
            row("**open on snapshots (s)**", lambda e: f"**{_fmt(e['reopen']['open_s'], 2)}**", shown=reopened)
            row("peak memory serving (MB)", lambda e: _fmt(e["reopen"]["peak_rss_mb"]), shown=reopened)
            for name, title in OPERATIONS:
                def reopen_cell(e: dict[str, Any], name: str = name) -> str:
                    q = e["reopen"]["queries"].get(name)
                    if q is None or "error" in q:
                        return "–" if q is None else f"error: {q['error'][:80]}"
                    return f"{_fmt(q.get('p50_ms'))} / {_fmt(q.get('p95_ms'))} (first **{_fmt(q['first_ms'])}**)"
                row(f"{title}: p50 / p95 ms", reopen_cell, shown=reopened)
            lines.append("")
        lines += ["Answer sizes (median over the calls; hops, parties or findings):", "",
                  "| operation | " + " | ".join(shown) + " |", "|---|" + "---:|" * len(shown)]
        for name, title in OPERATIONS:
            row(title, lambda e, name=name: _fmt(e["serve"]["queries"].get(name, {}).get("answer_median"), 0))
        lines.append("")

    pairs = [(e, o) for e in results for o in results
             if e["backend"] == "embedded" and o["backend"] == "neo4j" and e["size"] == o["size"]
             and e.get("status") == "ok" and o.get("status") == "ok"]
    if pairs:
        lines += ["## Ratio embedded / Neo4j (below 1: embedded is faster)", "",
                  "| figure | " + " | ".join(e["size"] for e, _ in pairs) + " |",
                  "|---|" + "---:|" * len(pairs)]
        for name, stat in RATIO_FIGURES:
            cells = []
            for e, o in pairs:
                a, b = figure(e, name, stat), figure(o, name, stat)
                cells.append(_fmt(a / b, 2) if a is not None and b else "–")
            lines.append(f"| {name} {stat} | " + " | ".join(cells) + " |")
        lines += ["", "Same answers (hash of the first call's whole answer, embedded vs Neo4j):", "",
                  "| operation | " + " | ".join(e["size"] for e, _ in pairs) + " |",
                  "|---|" + "---|" * len(pairs)]
        for name, _ in OPERATIONS:
            lines.append(f"| {name} | " + " | ".join(_agree(e, o, name) for e, o in pairs) + " |")
        lines.append("")

    if report["targets"]:
        lines += ["## Targets (issue 7)", "", "| size | figure | statistic | limit | measured | verdict |",
                  "|---|---|---|---:|---:|---|"]
        for t in report["targets"]:
            verdict = "–" if t["met"] is None else "met" if t["met"] else f"**missed** ({t['value'] / t['limit']:.1f}x)"
            who = f" ({t['backend']})" if "backend" in t else ""
            lines.append(f"| {t['size']}{who} | {t['figure']} | {t['stat']} | {_fmt(t['limit'])} {t['unit']} | {_fmt(t['value'])} {t['unit']} | {verdict} |")
        lines.append("")
    return "\n".join(lines)


RATIO_FIGURES = [("apply_s", "value"), ("open", "value"), ("peak_rss_serve", "value")] + [
    (name, "p50_ms") for name, _ in OPERATIONS
]


def _agree(e: dict[str, Any], o: dict[str, Any], name: str) -> str:
    a = e["serve"]["queries"].get(name, {}).get("first_digest")
    b = o["serve"]["queries"].get(name, {}).get("first_digest")
    if a is None or b is None:
        return "–"
    return "yes" if a == b else "**differ**"


def print_ratios(results: list[dict[str, Any]]) -> None:
    for e in results:
        if e["backend"] != "embedded" or e.get("status") != "ok":
            continue
        other = next((o for o in results if o["backend"] == "neo4j" and o["size"] == e["size"]), None)
        if other is None or other.get("status") != "ok":
            why = other.get("reason") if other else "not run"
            print(f"{e['size']}: no embedded/Neo4j ratio (Neo4j: {why})")
            continue
        for name, stat in RATIO_FIGURES:
            a, b = figure(e, name, stat), figure(other, name, stat)
            if a is not None and b:
                print(f"{e['size']}: embedded/neo4j {name} {stat}: {a / b:.2f}")


def _merge(old: list[dict[str, Any]], new: list[dict[str, Any]]) -> list[dict[str, Any]]:
    fresh = {(e["size"], e["backend"]) for e in new}
    order = {label: i for i, label in enumerate([*SIZE_ORDER])}
    merged = [e for e in old if (e["size"], e["backend"]) not in fresh] + new
    return sorted(merged, key=lambda e: (e["backend"] != "embedded", order.get(e["size"], 99), e["flows"]))


SIZE_ORDER = ["1k", "10k", "100k", "1m"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1k,10k,100k", help="comma-separated: 200, 1k, 10k, 100k, 1m")
    parser.add_argument("--backends", default="embedded,neo4j", help="comma-separated: embedded, neo4j")
    parser.add_argument("--reps", type=int, default=20, help="timed calls per query after the warm-up")
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per operation; fewer calls beyond")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--operations", default=None, help="comma-separated subset of operations")
    parser.add_argument("--out", default=str(RESULTS), help="folder for the .md and .json")
    parser.add_argument("--work", default=str(WORK), help="folder for registry files and stores")
    parser.add_argument("--name", default=None, help="results file name (default DATE-MACHINE)")
    parser.add_argument("--merge", action="store_true", help="keep other sizes/backends of an existing results file")
    parser.add_argument("--regenerate", action="store_true", help="regenerate registry files even if present")
    parser.add_argument("--keep", action="store_true", help="keep the stores after the run")
    parser.add_argument("--snapshots", action="store_true",
                        help="embedded: also keep snapshots in one process and time a new one opening on them")
    parser.add_argument("--combine", nargs="+", metavar="JSON", default=None,
                        help="run nothing: merge these results files (later ones win per size and "
                             "backend) into --out/--name, and write its Markdown again")
    args = parser.parse_args(argv)
    if args.operations:
        args.operations = [o.strip() for o in args.operations.split(",") if o.strip()]
        unknown = set(args.operations) - {name for name, _ in OPERATIONS}
        if unknown:
            parser.error(f"unknown operations: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_child"]:
        spec = json.loads(argv[1])
        print(json.dumps(CHILD_TASKS[spec["task"]](spec), default=str))
        return 0
    from bench.backends import BACKENDS
    from bench.generator import parse_size, size_label

    args = parse_args(argv)
    if args.combine:
        return combine([Path(p) for p in args.combine], Path(args.out), args.name, argv)
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for name in backends:
        if name not in BACKENDS:
            raise SystemExit(f"unknown backend {name!r}; one of {', '.join(BACKENDS)}")
    sizes = [size_label(parse_size(s)) for s in args.sizes.split(",") if s.strip()]
    machine = describe_machine()
    args.git = machine["git"]  # each entry says which code it measured (merged files mix runs)
    results: list[dict[str, Any]] = []
    for label in sizes:
        results += run_size(label, parse_size(label), backends, args)

    today = datetime.now(UTC).date().isoformat()
    name = args.name or f"{today}-{machine_slug(machine)}"
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    json_path = out / f"{name}.json"
    commands = []
    if args.merge and json_path.exists():
        old = json.loads(json_path.read_text())
        for entry in old["results"]:
            entry.setdefault("git", old["machine"].get("git"))
        results = _merge(old["results"], results)
        commands = old.get("commands") or [old["command"]]
    command = "python -m bench.run " + " ".join(_shown(argv))
    report = {
        "date": today, "command": command, "commands": [*commands, command], "seed": args.seed,
        "reps": args.reps, "budget": args.budget, "machine": machine,
        "results": results, "targets": check_targets(results),
    }
    json_path.write_text(json.dumps(report, indent=1, default=str) + "\n")
    (out / f"{name}.md").write_text(to_markdown(report) + "\n")
    print_ratios(results)
    for t in report["targets"]:
        if t["met"] is False:
            print(f"target missed: {t['size']} {t['figure']} {t['stat']} = {_fmt(t['value'])} {t['unit']} (limit {_fmt(t['limit'])})")
    print(f"wrote {json_path} and {out / f'{name}.md'}")
    return 0


def _shown(argv: list[str]) -> list[str]:
    """The arguments as the results record them: paths relative to the repository, and no
    path of this machine outside it."""
    out = []
    for arg in argv:
        path = Path(arg)
        if path.is_absolute():
            try:
                arg = str(path.resolve().relative_to(ROOT))
            except ValueError:
                arg = f"<{path.name}>"
        out.append(arg)
    return out


def combine(paths: list[Path], out: Path, name: str | None, argv: list[str]) -> int:
    """Merge results files made by separate runs (each entry keeps the code it measured)."""
    reports = [json.loads(p.read_text()) for p in paths]
    results: list[dict[str, Any]] = []
    commands: list[str] = []
    for report in reports:
        for entry in report["results"]:
            entry.setdefault("git", report["machine"].get("git"))
        results = _merge(results, report["results"])
        commands += [c for c in report.get("commands") or [report["command"]] if c not in commands]
    newest = reports[-1]
    command = "python -m bench.run " + " ".join(_shown(argv))
    report = {**newest, "command": command, "commands": [*commands, command],
              "results": results, "targets": check_targets(results)}
    name = name or paths[-1].stem
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{name}.json").write_text(json.dumps(report, indent=1, default=str) + "\n")
    (out / f"{name}.md").write_text(to_markdown(report) + "\n")
    print_ratios(results)
    print(f"wrote {out / f'{name}.json'} and {out / f'{name}.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
