"""The `flowreg` command end to end: real subprocesses, a real store per test, no stand-ins.

Covers the command-line contract of registry-format.md (exit codes, stderr, key paths) and the
registry commands: validate, apply, history (--verify), show, export, diff, subprocessor add.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from clirun import NORTHWIND, SEED, flowreg, revisions

from registry.loader import load_registry_file
from registry.revisions import content_hash
from registry.sqlite_store import SqliteStore


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "flowreg.db"


@pytest.fixture
def northwind_db(db: Path) -> Path:
    """A store holding the Northwind example as revision 1."""
    result = flowreg("apply", NORTHWIND, "-m", "northwind example", db=db)
    assert result.code == 0, result.stderr
    return db


def test_the_installed_console_script_runs(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "flowreg"
    assert script.exists(), "pip install -e . should have put the flowreg script beside python"
    proc = subprocess.run(
        [str(script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={"FLOWREG_DB": str(tmp_path / "x.db"), "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr
    for command in ("validate", "apply", "history", "show", "export", "diff", "subprocessor"):
        assert command in proc.stdout


@pytest.mark.parametrize(
    "command",
    [["validate"], ["apply"], ["history"], ["show"], ["export"], ["diff"], ["subprocessor", "add"]],
)
def test_every_command_explains_itself_with_an_example(command: list[str], db: Path) -> None:
    result = flowreg(*command, "--help", db=db)
    assert result.code == 0
    assert "Example:" in result.stdout or "Examples:" in result.stdout
    assert f"flowreg {' '.join(command)}" in result.stdout


def test_the_twilio_seed_exists_validates_and_round_trips(db: Path, tmp_path: Path) -> None:
    assert SEED.exists(), "seeds/twilio.yaml is part of the product"
    checked = flowreg("validate", SEED, "--format", "json", db=db)
    assert checked.code == 0, checked.stderr
    report = checked.json()
    assert report["valid"] is True and report["organization"]
    assert flowreg("apply", SEED, db=db).code == 0
    exported = tmp_path / "twilio-export.yaml"
    assert flowreg("export", "-o", exported, db=db).code == 0
    assert load_registry_file(exported).content() == load_registry_file(SEED).content()
    assert revisions(db)[0]["content_hash"] == report["content_hash"]


def test_apply_writes_one_revision_with_author_and_message(northwind_db: Path) -> None:
    (revision,) = revisions(northwind_db)
    assert revision["number"] == 1
    assert revision["author"] == "tester"  # FLOWREG_AUTHOR
    assert revision["message"] == "northwind example"
    assert revision["parent_hash"] is None
    assert revision["content_hash"] == content_hash(load_registry_file(NORTHWIND).content())

    table = flowreg("history", db=northwind_db)
    assert table.code == 0
    assert "northwind example" in table.stdout and revision["hash"][:12] in table.stdout


def test_applying_identical_content_writes_nothing_and_says_so(northwind_db: Path) -> None:
    again = flowreg("apply", NORTHWIND, "--author", "bob", db=northwind_db)
    assert again.code == 0
    assert "unchanged" in again.stdout
    assert len(revisions(northwind_db)) == 1


def test_apply_if_empty_only_seeds_an_empty_store(db: Path) -> None:
    first = flowreg("apply", "--if-empty", NORTHWIND, db=db)
    assert first.code == 0 and "revision 1 written" in first.stdout
    second = flowreg("apply", "--if-empty", SEED, db=db)
    assert second.code == 0 and "skipped" in second.stdout
    assert len(revisions(db)) == 1


def test_validate_reads_standard_input(db: Path) -> None:
    ok = flowreg("validate", "-", db=db, stdin=NORTHWIND.read_text(encoding="utf-8"))
    assert ok.code == 0 and "standard input: valid registry" in ok.stdout
    bad = flowreg("validate", "-", db=db, stdin="flowreg: 1\norganization: X\nparties: [{id: p}]\n")
    assert bad.code == 1
    assert "parties[0].name: required key is missing (line 3)" in bad.stderr
    assert "parties[0].kind: required key is missing (line 3)" in bad.stderr


def test_history_verify_passes_then_detects_a_hand_edited_revision(northwind_db: Path) -> None:
    ok = flowreg("history", "--verify", db=northwind_db)
    assert ok.code == 0, ok.stderr
    assert "verified: 1 revision," in ok.stdout
    report = flowreg("history", "--verify", "--format", "json", db=northwind_db).json()
    assert report["verified"] is True and report["problems"] == []

    with sqlite3.connect(northwind_db) as conn:  # an editor that knows to drop the guard first
        conn.execute("DROP TRIGGER revisions_no_update")
        conn.execute("UPDATE revisions SET message = 'nothing to see' WHERE number = 1")
    conn.close()

    tampered = flowreg("history", "--verify", db=northwind_db)
    assert tampered.code == 1
    assert "revision 1: chain hash is wrong" in tampered.stderr
    assert "does NOT verify" in tampered.stderr
    as_json = flowreg("history", "--verify", "--format", "json", db=northwind_db)
    assert as_json.code == 1 and as_json.json()["verified"] is False


def test_history_of_an_empty_store(db: Path) -> None:
    missing = flowreg("history", db=db)
    assert missing.code == 1 and "no flowreg store at" in missing.stderr, "reading creates nothing"
    SqliteStore(db).close()  # an existing store without revisions
    assert flowreg("history", db=db).stdout.startswith("the registry has no revisions yet")
    assert revisions(db) == []
    assert flowreg("history", "--verify", db=db).code == 0


def test_export_then_reapply_is_identical(northwind_db: Path, tmp_path: Path) -> None:
    original = revisions(northwind_db)[0]
    to_stdout = flowreg("export", db=northwind_db)
    assert to_stdout.code == 0
    assert f"# exported from revision 1 ({original['hash']})" in to_stdout.stdout
    path = tmp_path / "out" / "registry.yaml"
    path.parent.mkdir()
    to_file = flowreg("export", "--rev", "1", "-o", path, db=northwind_db)
    assert to_file.code == 0 and "exported revision 1" in to_file.stderr
    assert path.read_text(encoding="utf-8") == to_stdout.stdout

    # Into the same store: nothing changes. Into a fresh store: the same content hash.
    assert "unchanged" in flowreg("apply", path, db=northwind_db).stdout
    fresh = tmp_path / "fresh.db"
    assert flowreg("apply", path, db=fresh).code == 0
    assert revisions(fresh)[0]["content_hash"] == original["content_hash"]


def test_export_to_an_unwritable_place_fails_cleanly(northwind_db: Path, tmp_path: Path) -> None:
    result = flowreg("export", "-o", tmp_path / "missing" / "dir" / "x.yaml", db=northwind_db)
    assert result.code == 1
    assert result.stderr.startswith("error: cannot write")


def test_show_summarises_a_revision(northwind_db: Path) -> None:
    summary = flowreg("show", "--format", "json", db=northwind_db).json()
    assert summary["organization"] == "Northwind Mail"
    assert summary["revision"]["number"] == 1
    assert summary["counts"]["flows"] == 3 and summary["counts"]["parties"] == 4
    assert summary["parties_by_kind"] == {"affiliate": 2, "other": 1, "subprocessor": 1}
    table = flowreg("show", db=northwind_db)
    assert table.code == 0 and "Northwind Mail: revision 1" in table.stdout
    missing = flowreg("show", "--rev", "7", db=northwind_db)
    assert missing.code == 1
    assert missing.stderr == "error: revision 7 does not exist (the head is 1)\n"


SUBPROCESSOR = [
    "subprocessor",
    "add",
    "--id",
    "speechco",
    "--name",
    "SpeechCo Oy",
    "--country",
    "fi",
    "--category",
    "subscriber.content",
    "--category",
    "subscriber.contact.email",
    "--from-system",
    "mailer",
    "--purpose",
    "transcription",
    "--under",
    "eu-us-dpf",
    "--certification",
    "eu-us-dpf:2023-10-02",
]


def test_subprocessor_add_writes_a_revision_with_party_and_flow(northwind_db: Path) -> None:
    result = flowreg(*SUBPROCESSOR, "-m", "new vendor", "--author", "carol", db=northwind_db)
    assert result.code == 0, result.stderr
    assert "revision 2 written" in result.stdout
    assert "flow mailer-to-speechco" in result.stdout
    latest = revisions(northwind_db)[-1]
    assert (latest["number"], latest["author"], latest["message"]) == (2, "carol", "new vendor")

    changes = flowreg("diff", "1", "2", "--format", "json", db=northwind_db).json()
    assert {(c["section"], c["id"], c["kind"]) for c in changes} == {
        ("parties", "speechco", "added"),
        ("flows", "mailer-to-speechco", "added"),
    }
    table = flowreg("diff", "1", "2", db=northwind_db)
    assert table.code == 0 and "mailer-to-speechco" in table.stdout

    exported = flowreg("export", db=northwind_db).stdout
    assert (
        "  - id: speechco\n    name: SpeechCo Oy\n    kind: subprocessor\n    country: FI\n"
        in exported
    )
    assert "    carries: [subscriber.content, subscriber.contact.email]\n" in exported
    assert flowreg("history", "--verify", db=northwind_db).code == 0
    # Only the change is stored: the new revision is a delta on revision 1.
    with sqlite3.connect(northwind_db) as conn:
        stored = conn.execute("SELECT base, content FROM revisions WHERE number = 2").fetchone()
    assert stored[0] == 1 and json.loads(stored[1])["add"].keys() == {"parties", "flows"}

    # Same again: the party id is taken now, and the error names the option.
    again = flowreg(*SUBPROCESSOR, db=northwind_db)
    assert again.code == 1
    assert "--id: 'speechco' is already used by a party" in again.stderr


def test_subprocessor_add_dry_run_writes_nothing(northwind_db: Path) -> None:
    result = flowreg(*SUBPROCESSOR, "--dry-run", db=northwind_db)
    assert result.code == 0, result.stderr
    assert "nothing written" in result.stdout
    assert "  - id: mailer-to-speechco\n" in result.stdout
    as_json = flowreg(*SUBPROCESSOR, "--dry-run", "--format", "json", db=northwind_db).json()
    assert as_json["dry_run"] is True and as_json["revision"] is None
    assert as_json["parties"][0]["certifications"] == [
        {"framework": "eu-us-dpf", "valid_from": "2023-10-02"}
    ]
    assert len(revisions(northwind_db)) == 1


def test_subprocessor_add_bad_input_names_every_option_and_writes_nothing(
    northwind_db: Path,
) -> None:
    result = flowreg(
        "subprocessor",
        "add",
        "--id",
        "acme",
        "--name",
        "Acme",
        "--country",
        "XX",
        "--category",
        "subscriber.phone",
        "--from-system",
        "nowhere",
        "--kind",
        "vendor",
        "--under",
        "handshake",
        "--certification",
        "eu-us-dpf:2023-02-30",
        db=northwind_db,
    )
    assert result.code == 1
    for line in (
        "--country: 'XX' is not an ISO 3166-1 alpha-2 country code",
        "--category: unknown category 'subscriber.phone'",
        "--from-system: unknown system 'nowhere'",
        "--kind: 'vendor' is not one of",
        "--under: unknown mechanism 'handshake'",
        "--certification: '2023-02-30' is not a real date",
    ):
        assert f"  {line}" in result.stderr, result.stderr
    assert "parties[" not in result.stderr and "flows[" not in result.stderr
    assert len(revisions(northwind_db)) == 1


def test_subprocessor_add_needs_a_registry_first(db: Path) -> None:
    result = flowreg(*SUBPROCESSOR, db=db)
    assert result.code == 1
    assert "no flowreg store at" in result.stderr and "flowreg apply FILE" in result.stderr
    SqliteStore(db).close()
    result = flowreg(*SUBPROCESSOR, db=db)
    assert result.code == 1
    assert "no revisions yet" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bogus"], "No such command 'bogus'"),
        (["history", "--format", "xml"], "Invalid value for '--format'"),
        (["diff", "1"], "Missing argument 'REV_B'"),
        (["diff", "0", "1"], "Invalid value for 'REV_A'"),
        (["subprocessor", "add", "--id", "x"], "Missing option"),
        (["validate"], "Missing argument 'FILE'"),
    ],
)
def test_usage_errors_exit_1_on_stderr(args: list[str], message: str, db: Path) -> None:
    result = flowreg(*args, db=db)
    assert result.code == 1  # click would say 2; the contract says 1 for every user error
    assert message in result.stderr
    assert result.stdout == ""


def test_diff_of_a_missing_revision(northwind_db: Path) -> None:
    result = flowreg("diff", "1", "9", db=northwind_db)
    assert result.code == 1
    assert result.stderr == "error: revision 9 does not exist (the head is 1)\n"


def test_store_problems_are_user_errors(tmp_path: Path) -> None:
    not_a_store = tmp_path / "notes.txt"
    not_a_store.write_text("my notes\n", encoding="utf-8")
    result = flowreg("history", db=not_a_store)
    assert result.code == 1 and "not a flowreg store" in result.stderr
    assert not_a_store.read_text(encoding="utf-8") == "my notes\n"

    directory = flowreg("apply", NORTHWIND, db=tmp_path)
    assert directory.code == 1 and "is a directory" in directory.stderr

    backend = flowreg("history", db=tmp_path / "x.db", FLOWREG_BACKEND="oracle")
    assert backend.code == 1 and "FLOWREG_BACKEND must be one of" in backend.stderr
