"""Registry text never drives the terminal: escape sequences (clear screen, window title, hidden
text), C1 controls and bidi overrides in names, messages and arguments reach the terminal as
visible escapes, in tables, plain lines and errors; JSON stays exact (escaped, same data).
Real commands on a real store; the output is checked byte by byte.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from clirun import NORTHWIND, invoke

from lineage.cli.output import terminal_text

# What a terminal must never receive from registry text: C0 controls but tab and line feed,
# DEL, C1 controls, bidi embeddings/overrides/isolates, zero-width and line separators.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]")
CLEAR = "\x1b[2J\x1b[H"
TITLE = "\x1b]0;pwned\x07"
HIDDEN = "\x1b[8msecret\x1b[0m"
C1_CSI = "\x9b2J"
BIDI = "\u202eevil\u202c"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    doc = yaml.safe_load(NORTHWIND.read_text(encoding="utf-8"))
    doc["organization"] = f"Northwind {TITLE}"
    doc["parties"][0]["name"] = f"Bouncer {CLEAR}{HIDDEN}"
    doc["parties"].append({"id": "c1", "name": f"C1 {C1_CSI} {BIDI}", "kind": "subprocessor", "country": "US"})
    doc["flows"][0]["purpose"] = f"purpose {CLEAR}"
    path = tmp_path / "hostile.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=False), encoding="utf-8")
    store = tmp_path / "flowreg.db"
    result = invoke("apply", path, "-m", f"why {TITLE}", db=store)
    assert result.code == 0, result.stderr
    return store


def _clean(text: str) -> None:
    found = UNSAFE.findall(text)
    assert not found, [hex(ord(c)) for c in found]


@pytest.mark.parametrize("args", [
    ("history",),
    ("history", "--verify"),
    ("show",),
    ("flows", "subscriber", "--as-of", "2020-08-01"),
    ("findings", "--as-of", "2020-08-01"),
    ("recipients", "subscriber", "--as-of", "2020-08-01"),
    ("impact", "mailer", "--as-of", "2020-08-01"),
    ("what-if", "remove-party", "c1", "--as-of", "2020-08-01"),
    ("flows", f"nothing{CLEAR}"),
    ("impact", f"{TITLE}x"),
    ("diff", "1", f"{CLEAR}"),
    (f"bogus{CLEAR}",),
], ids=lambda a: " ".join(a[:2]).encode("unicode_escape").decode())
def test_no_control_character_reaches_the_terminal(db: Path, args: tuple[str, ...]) -> None:
    result = invoke(*args, db=db)
    _clean(result.stdout)
    _clean(result.stderr)


def test_escapes_are_shown_not_dropped(db: Path) -> None:
    shown = invoke("history", db=db).stdout
    assert "\\x1b]0;pwned\\x07" in shown, "the reader sees that the message holds an escape"


def test_json_keeps_the_exact_text(db: Path) -> None:
    result = invoke("history", "--format", "json", db=db)
    _clean(result.stdout)
    assert json.loads(result.stdout)[0]["message"] == f"why {TITLE}"
    flows = invoke("flows", "subscriber", "--as-of", "2020-08-01", "--format", "json", db=db)
    _clean(flows.stdout)
    assert any(h.get("purpose") == f"purpose {CLEAR}" or CLEAR in json.dumps(h) for h in json.loads(flows.stdout))


def test_terminal_text_rules() -> None:
    assert terminal_text("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert terminal_text("x\u202ey") == "x\\u202ey"
    assert terminal_text("line one\nline two\tcol") == "line one\nline two\tcol"
    assert terminal_text("Zürich, 東京") == "Zürich, 東京"


@pytest.mark.parametrize("args", [("export",), ("report", "subprocessors", "--as-of", "2020-08-01", "--format", "md")],
                         ids=lambda a: a[0])
def test_data_on_a_terminal_is_made_safe_but_piped_data_is_exact(db: Path, args: tuple[str, ...]) -> None:
    piped = invoke(*args, db=db)
    assert piped.code == 0
    tty = _on_a_terminal([*args], db)
    _clean(tty.replace("\r\n", "\n"))
    if args[0] == "export":
        assert BIDI in piped.stdout, "piped YAML is the exact text (re-applies identically)"
        assert "\\u202e" in tty


def _on_a_terminal(args: list[str], db: Path) -> str:
    """Run flowreg with its standard output on a real pseudo-terminal; what the terminal got."""
    import os
    import pty
    import subprocess

    from clirun import COMMAND, REPO

    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWREG_", "NEO4J_"))}
    env.update(FLOWREG_DB=str(db), COLUMNS="200")
    proc = subprocess.Popen([*COMMAND, *args], stdout=slave, stderr=subprocess.PIPE, cwd=REPO, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    proc.wait(timeout=120)
    os.close(master)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    return b"".join(chunks).decode("utf-8", "replace")
