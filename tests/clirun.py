"""Running the real `flowreg` command in a subprocess, against a store of the test's own.

Every run checks the promise every command makes: whatever happens, no traceback on stderr.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
NORTHWIND = FIXTURES / "northwind.yaml"
SEED = REPO / "seeds" / "twilio.yaml"
# `python -m lineage.cli` is the console script's code path without depending on where pip put
# the script; test_cli.py checks the installed script separately.
COMMAND = [sys.executable, "-m", "lineage.cli"]


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


def flowreg(*args: str | Path, db: Path, stdin: str | None = None, **env: str) -> Result:
    """Run `flowreg ARGS` with FLOWREG_DB=db; assert it did not crash with a traceback."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("FLOWREG_") and not key.startswith("NEO4J_")
    }
    environment.update({"FLOWREG_DB": str(db), "FLOWREG_AUTHOR": "tester", **env})
    proc = subprocess.run(
        [*COMMAND, *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        env=environment,
        cwd=REPO,
        timeout=120,
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stdout, proc.stdout
    return Result(proc.returncode, proc.stdout, proc.stderr)


def revisions(db: Path) -> list[dict[str, Any]]:
    """The store's history as `flowreg history --format json` prints it."""
    result = flowreg("history", "--format", "json", db=db)
    assert result.code == 0, result.stderr
    return result.json()


def invoke(*args: str | Path, db: Path, stdin: str | None = None, **env: str) -> Result:
    """`flowreg ARGS` run in this process (no interpreter start-up: for tests that run many
    commands); the same environment as `flowreg` gives, and the same no-traceback check."""
    from lineage.cli import run

    saved_env = dict(os.environ)
    saved_streams = sys.stdin, sys.stdout, sys.stderr
    out, err = io.BytesIO(), io.BytesIO()
    streams = [io.TextIOWrapper(io.BytesIO((stdin or "").encode("utf-8")), encoding="utf-8"),
               io.TextIOWrapper(out, encoding="utf-8", write_through=True),
               io.TextIOWrapper(err, encoding="utf-8", write_through=True)]
    try:
        for key in [k for k in os.environ if k.startswith(("FLOWREG_", "NEO4J_"))]:
            del os.environ[key]
        os.environ.update({"FLOWREG_DB": str(db), "FLOWREG_AUTHOR": "tester", **env})
        sys.stdin, sys.stdout, sys.stderr = streams
        code = run([str(a) for a in args])
    finally:
        sys.stdin, sys.stdout, sys.stderr = saved_streams
        for stream in streams:
            stream.flush()
            stream.detach()  # keeps the bytes readable after the wrapper is gone
        os.environ.clear()
        os.environ.update(saved_env)
    result = Result(code, out.getvalue().decode("utf-8"), err.getvalue().decode("utf-8"))
    assert "Traceback" not in result.stderr, result.stderr
    return result
