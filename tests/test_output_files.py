"""Commands that write a file (`export`, `report`, `export-graph`, `import-fides`, `keygen`)
share one rule: an existing file is replaced only with --force, and the open store never, not
even with --force or through a symbolic link. Real subprocesses on a real store.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from clirun import NORTHWIND, REPO, flowreg, invoke

from registry.errors import FlowregError
from registry.output_files import write_output

FIDES = REPO / "tests" / "fixtures" / "fides_acme.yaml"
WRITERS = [
    ("export",),
    ("report", "ropa", "--as-of", "2020-08-01", "--format", "json"),
    ("export-graph", "--format", "json", "--as-of", "2020-08-01"),
    ("import-fides", str(FIDES), "--country", "DE"),
]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "store.db"
    assert invoke("apply", NORTHWIND, "-m", "northwind", db=path).code == 0
    return path


def _intact(db: Path) -> None:
    result = invoke("history", "--verify", db=db)
    assert result.code == 0 and "verified: 1 revision" in result.stdout, result.stderr


def test_a_report_into_flowreg_db_is_refused(db: Path) -> None:
    """The issue's reproduction, as a user types it: `flowreg report ... -o "$FLOWREG_DB"`."""
    before = db.read_bytes()
    result = flowreg("report", "ropa", "--as-of", "2020-08-01", "-o", db, db=db)
    assert result.code == 1 and "the open store" in result.stderr, result.stderr
    assert db.read_bytes() == before
    _intact(db)


@pytest.mark.parametrize("args", WRITERS, ids=lambda a: a[0])
def test_the_open_store_is_never_overwritten(db: Path, args: tuple[str, ...]) -> None:
    before = db.read_bytes()
    for extra in ((), ("--force",)):
        result = invoke(*args, "-o", db, *extra, db=db)
        assert result.code == 1, result.stdout
        assert "the open store" in result.stderr, result.stderr
    link = db.parent / "innocent.json"
    link.symlink_to(db)
    assert invoke(*args, "-o", link, "--force", db=db).code == 1
    assert invoke(*args, "-o", db.with_name(db.name + "-wal"), "--force", db=db).code == 1
    assert db.read_bytes() == before
    _intact(db)


@pytest.mark.parametrize("args", WRITERS, ids=lambda a: a[0])
def test_an_existing_file_needs_force(db: Path, tmp_path: Path, args: tuple[str, ...]) -> None:
    target = tmp_path / "out.txt"
    target.write_text("keep me")
    refused = invoke(*args, "-o", target, db=db)
    assert refused.code == 1 and "--force" in refused.stderr, refused.stderr
    assert target.read_text() == "keep me"
    forced = invoke(*args, "-o", target, "--force", db=db)
    assert forced.code == 0, forced.stderr
    assert target.read_text() != "keep me"


def test_a_new_file_is_written_without_force(db: Path, tmp_path: Path) -> None:
    target = tmp_path / "new.yaml"
    assert invoke("export", "-o", target, db=db).code == 0
    assert target.read_text().startswith("# flowreg registry")


def test_write_output_rules(tmp_path: Path) -> None:
    store = tmp_path / "flowreg.db"
    store.write_bytes(b"store")
    for protected in (store, tmp_path / "flowreg.db-wal"):
        with pytest.raises(FlowregError, match="the open store"):
            write_output(protected, b"x", force=True, protected=[store])
    with pytest.raises(FlowregError, match="is a directory"):
        write_output(tmp_path, b"x", force=True)
    out = tmp_path / "a.txt"
    write_output(out, b"one", force=False)
    with pytest.raises(FlowregError, match="--force"):
        write_output(out, b"two", force=False)
    write_output(out, b"two", force=True)
    assert out.read_bytes() == b"two"
    secret = tmp_path / "key.pem"
    write_output(secret, b"k", force=False, mode=0o600)
    assert secret.stat().st_mode & 0o777 == 0o600
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary file is left"
