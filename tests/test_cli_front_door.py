"""The first commands a newcomer types: `flowreg` alone shows the help and exits 0, a command
with several required options missing names them all at once, and `hash-password` reads a piped
password instead of crashing. Real subprocesses.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import bcrypt
import pytest
from clirun import REPO, flowreg


@pytest.mark.parametrize("group", [(), ("what-if",), ("subprocessor",), ("neo4j",)])
def test_a_group_alone_shows_its_help_and_exits_0(tmp_path: Path, group: tuple[str, ...]) -> None:
    result = flowreg(*group, db=tmp_path / "db")
    assert result.code == 0, result.stderr
    assert "Usage: flowreg" in result.stdout and "Commands:" in result.stdout


def test_every_missing_option_is_named_at_once(tmp_path: Path) -> None:
    result = flowreg("subprocessor", "add", "--name", "Acme", db=tmp_path / "db")
    assert result.code == 1
    assert "Missing options '--id', '--country', '--category', '--from-system'" in result.stderr, result.stderr
    single = flowreg("subprocessor", "add", "--id", "acme", "--name", "Acme", "--country", "FI",
                     "-c", "content", db=tmp_path / "db")
    assert single.code == 1 and "Missing option '--from-system'" in single.stderr, single.stderr
    argument = flowreg("path", db=tmp_path / "db")
    assert argument.code == 1 and "Missing arguments 'FROM', 'TO'" in argument.stderr, argument.stderr


def _hash_password(stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app_pages._auth", "hash-password"], input=stdin,
                          capture_output=True, text=True, cwd=REPO, timeout=60)


def test_hash_password_reads_a_piped_password() -> None:
    made = _hash_password("correct horse\n")
    assert made.returncode == 0, made.stderr
    assert "Traceback" not in made.stderr
    digest = made.stdout.strip()
    assert bcrypt.checkpw(b"correct horse", digest.encode("ascii"))
    assert bcrypt.checkpw(b"correct horse", digest.encode("ascii"))


@pytest.mark.parametrize("stdin", ["", "\n"])
def test_hash_password_refuses_an_empty_piped_password(stdin: str) -> None:
    made = _hash_password(stdin)
    assert made.returncode == 1 and "Traceback" not in made.stderr
    assert "empty" in made.stderr
