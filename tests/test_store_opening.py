"""Opening a store: only writing commands create one; a read on a mistyped FLOWREG_DB says the
store is missing (and creates nothing). Real files, real commands.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clirun import NORTHWIND, flowreg, invoke

from registry.config import Settings
from registry.errors import MissingStoreError
from registry.sqlite_store import SqliteStore
from registry.store import open_store

READERS = [
    ("history",),
    ("history", "--verify"),
    ("show",),
    ("export",),
    ("diff", "1", "2"),
    ("flows", "subscriber", "--as-of", "2020-08-01"),
    ("findings", "--as-of", "2020-08-01"),
    ("report", "ropa", "--as-of", "2020-08-01"),
    ("export-graph", "--format", "json"),
    ("what-if", "remove-party", "bouncer"),
    ("subprocessor", "add", "--id", "x", "--name", "X", "--country", "FI", "-c", "subscriber",
     "--from-system", "mailer"),
]


def test_history_verify_on_a_mistyped_store_fails(tmp_path: Path) -> None:
    """The issue's reproduction: "verified: 0 revision(s)" on a store that does not exist."""
    missing = tmp_path / "typo" / "flowrge.db"
    result = flowreg("history", "--verify", db=missing)
    assert result.code == 1
    assert "no flowreg store at" in result.stderr and str(missing) in result.stderr, result.stderr
    assert "verified" not in result.stdout
    assert not missing.exists() and not missing.parent.exists()


@pytest.mark.parametrize("args", READERS, ids=lambda a: " ".join(a[:2]))
def test_reading_commands_never_create_a_store(tmp_path: Path, args: tuple[str, ...]) -> None:
    missing = tmp_path / "nothing.db"
    result = invoke(*args, db=missing)
    assert result.code == 1
    assert "no flowreg store at" in result.stderr, result.stderr
    assert not missing.exists()


def test_apply_creates_the_store(tmp_path: Path) -> None:
    new = tmp_path / "new" / "flowreg.db"
    assert invoke("apply", NORTHWIND, "-m", "first", db=new).code == 0
    assert new.exists()
    assert invoke("history", "--verify", db=new).code == 0


def test_an_empty_file_is_not_a_store_to_read(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    assert invoke("show", db=empty).code == 1
    assert empty.read_bytes() == b""


def test_store_level(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    with pytest.raises(MissingStoreError):
        SqliteStore(missing, create=False)
    with pytest.raises(MissingStoreError):
        open_store(Settings(db_path=missing))
    assert not missing.exists()
    with open_store(Settings(db_path=missing), create=True) as store:
        assert store.head() is None
    with open_store(Settings(db_path=missing)) as store:  # exists now
        assert store.head() is None
