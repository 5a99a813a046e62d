"""Running the real `flowreg` command in a subprocess, against a store of the test's own.

Every run checks the promise every command makes: whatever happens, no traceback on stderr.
"""

from __future__ import annotations

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
