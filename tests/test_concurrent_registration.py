"""`flowreg subprocessor add` under concurrency: many real processes register at the same moment
on one real store. A change that still applies to the newer head is written without the user
seeing "registry changed, try again"; one that no longer applies (the id was taken meanwhile)
fails with the reason. Nothing is lost and the chain verifies.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from clirun import REPO, SEED, invoke

# Each process imports flowreg first (a second or so), then waits for the start signal, so that
# all of them call the command at once rather than one after another.
DRIVER = """
import os, sys, time
from lineage.cli import run
go = sys.argv[1]
while not os.path.exists(go):
    time.sleep(0.005)
sys.exit(run(sys.argv[2:]))
"""


def _race(db: Path, tmp_path: Path, commands: list[list[str]]) -> list[subprocess.CompletedProcess[str]]:
    go = tmp_path / "go"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWREG_", "NEO4J_"))}
    env.update(FLOWREG_DB=str(db), FLOWREG_AUTHOR="racer")
    procs = [subprocess.Popen([sys.executable, "-c", DRIVER, str(go), *args], cwd=REPO, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for args in commands]
    time.sleep(min(2 + 0.2 * len(commands), 10))  # let every process finish importing
    go.touch()
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        results.append(subprocess.CompletedProcess(proc.args, proc.returncode, out, err))
    return results


def _add(party: str) -> list[str]:
    return ["subprocessor", "add", "--id", party, "--name", f"Vendor {party}", "--country", "FI",
            "-c", "content.voice.recording", "--from-system", "comms-records", "-m", f"add {party}"]


def test_concurrent_registrations_all_land(tmp_path: Path) -> None:
    db = tmp_path / "flowreg.db"
    assert invoke("apply", SEED, "-m", "seed", db=db).code == 0
    count = 24
    results = _race(db, tmp_path, [_add(f"vendor-{i}") for i in range(count)])
    failures = [(r.returncode, r.stderr) for r in results if r.returncode != 0]
    assert not failures, failures[:3]
    assert not [r for r in results if "Traceback" in r.stderr]
    history = invoke("history", "--verify", "--format", "json", db=db).json()
    assert history["verified"], history["problems"]
    assert len(history["revisions"]) == count + 1
    exported = invoke("export", db=db).stdout
    for i in range(count):
        assert f"id: vendor-{i}\n" in exported


def test_the_same_id_registered_at_once_lands_once(tmp_path: Path) -> None:
    db = tmp_path / "flowreg.db"
    assert invoke("apply", SEED, "-m", "seed", db=db).code == 0
    results = _race(db, tmp_path, [_add("speechco")] * 6)
    won = [r for r in results if r.returncode == 0]
    lost = [r for r in results if r.returncode != 0]
    assert len(won) == 1, [r.stderr for r in results]
    for r in lost:
        assert "'speechco' is already used by a party" in r.stderr, r.stderr
        assert "try again" not in r.stderr
    assert len(invoke("history", "--format", "json", db=db).json()) == 2
