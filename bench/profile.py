"""Profile one benchmark operation with pyinstrument, on a registry the runner generated.

    python -m bench.profile --size 100k --op flows_root [--calls 3] [--html out.html]

Applies the size's registry file (bench/results/tmp, made by `python -m bench.run` or here) to a
fresh embedded store, opens it, warms the operation once, then profiles `--calls` more calls,
rotating over the same arguments as the benchmark. `--op open` profiles the open itself.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from bench.backends import EmbeddedBackend
from bench.generator import parse_size, size_label, write_json
from bench.run import OPERATIONS, WORK, operation_calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__.split("\n")[0])
    parser.add_argument("--size", default="100k")
    parser.add_argument("--op", default="flows_root", choices=["open", "apply"] + [n for n, _ in OPERATIONS])
    parser.add_argument("--calls", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--html", default=None, help="also write pyinstrument's HTML report here")
    args = parser.parse_args(argv)
    from pyinstrument import Profiler

    from lineage.api import Flowreg
    from registry.loader import load_registry_data
    from registry.sqlite_store import SqliteStore

    label = size_label(parse_size(args.size))
    data = WORK / f"registry-{label}-seed{args.seed}.json"
    probes_path = WORK / f"registry-{label}-seed{args.seed}.probes.json"
    if not data.exists() or not probes_path.exists():
        probes_path.parent.mkdir(parents=True, exist_ok=True)
        probes_path.write_text(json.dumps(write_json(data, parse_size(label), args.seed)))
    probes = json.loads(probes_path.read_text())
    profiler = Profiler()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "profile.db"
        document = json.loads(data.read_bytes())
        if args.op == "apply":
            profiler.start()
        registry = load_registry_data(document)
        Flowreg(SqliteStore(db)).apply(registry, author="bench", message="profile")
        if args.op == "apply":
            profiler.stop()
        del document, registry
        backend = EmbeddedBackend()
        if args.op == "open":
            profiler.start()
        engine = backend.engine(backend.open_store({"db": str(db)}))
        engine.open()
        if args.op == "open":
            profiler.stop()
        if args.op not in ("open", "apply"):
            calls = operation_calls(engine, probes)[args.op]
            calls[0]()
            profiler.start()
            for i in range(args.calls):
                started = time.perf_counter()
                calls[(i + 1) % len(calls)]()
                print(f"call {i + 1}: {(time.perf_counter() - started) * 1000:.1f} ms", file=sys.stderr)
            profiler.stop()
    print(profiler.output_text(unicode=True, color=False, show_all=False))
    if args.html:
        Path(args.html).write_text(profiler.output_html())
    return 0


if __name__ == "__main__":
    sys.exit(main())
