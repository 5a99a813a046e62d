"""A store on a read-only file system or a full disk: flowreg says what is wrong (never "damaged
or not a flowreg store"), reads what it can and writes nothing.

Real file systems: each scenario runs in its own user and mount namespace (`unshare -rm`) on a
small tmpfs that is filled up or remounted read-only, with the real `flowreg` command. Without
user namespaces the test skips (and fails under CI=true).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from clirun import NORTHWIND, REPO, SEED
from conftest import in_ci

FLOWREG = f"{sys.executable} -m lineage.cli"


def _namespaces_work() -> str | None:
    if shutil.which("unshare") is None:
        return "unshare is not installed"
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs tmpfs /mnt && umount /mnt"],
                           capture_output=True, text=True)
    return None if probe.returncode == 0 else f"user namespaces are not available: {probe.stderr.strip()}"


@pytest.fixture(scope="module", autouse=True)
def namespaces() -> None:
    reason = _namespaces_work()
    if reason:
        if in_ci():
            pytest.fail(f"CI is set but {reason}")
        pytest.skip(reason)


def scenario(tmp_path: Path, script: str) -> dict[str, tuple[int, str, str]]:
    """Run `script` (shell, with $D a fresh 400 KB tmpfs and `run NAME ARGS...` recording a
    flowreg command) in new namespaces; each recorded command's (exit code, stdout, stderr)."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    full = f"""
set -e
D={mount}
mount -t tmpfs -o size=400k tmpfs "$D"
run() {{ name=$1; shift; set +e; FLOWREG_DB=$DB {FLOWREG} "$@" >{out}/$name.out 2>{out}/$name.err; echo $? >{out}/$name.code; set -e; }}
{script}
"""
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", full], capture_output=True, text=True, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr
    results = {}
    for code in out.glob("*.code"):
        name = code.stem
        results[name] = (int(code.read_text()), (out / f"{name}.out").read_text(), (out / f"{name}.err").read_text())
        assert "Traceback" not in results[name][2] and "unexpected" not in results[name][2], results[name]
    return results


def test_a_read_only_file_system(tmp_path: Path) -> None:
    got = scenario(tmp_path, f"""
DB=$D/flowreg.db
run apply apply {NORTHWIND} -m first
mount -o remount,ro "$D"
run show show
run verify history --verify
run flows flows subscriber --as-of 2020-08-01
run write apply {SEED} -m second
DB=$D/new.db
run create apply {SEED} -m first
""")
    assert got["apply"][0] == 0
    for name in ("show", "verify", "flows"):
        assert got[name][0] == 0, got[name]  # a read-only copy reads (an auditor's mounted copy)
    assert "verified: 1 revision" in got["verify"][1]
    for name in ("write", "create"):
        code, _, err = got[name]
        assert code == 1 and "read-only file system" in err, err
        assert "damaged" not in err


def test_a_full_disk(tmp_path: Path) -> None:
    got = scenario(tmp_path, f"""
DB=$D/flowreg.db
run apply apply {NORTHWIND} -m first
dd if=/dev/zero of=$D/fill bs=1k count=1000 2>/dev/null || true
run write apply {SEED} -m second
run show show
DB=$D/new.db
run create apply {SEED} -m first
rm $D/fill
DB=$D/flowreg.db
run after history --verify
""")
    for name in ("write", "create"):
        code, _, err = got[name]
        assert code == 1 and "full" in err and "damaged" not in err, err
    code, _, err = got["show"]
    assert code == 0 or ("full" in err and "damaged" not in err), err
    after = got["after"]
    assert after[0] == 0 and "verified: 1 revision" in after[1], after  # nothing half-written
