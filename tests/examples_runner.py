"""Running the examples a user reads, the way a user would: the console sessions in README.md and
the examples in every `flowreg ... --help`.

Each example runs in `bash` in a fresh sandbox directory (the repository's `seeds/`, `docs/` and
`tests/` linked in, so relative paths in examples work and whatever they write lands in the
sandbox), with the virtualenv's `flowreg` first on PATH, `FLOWREG_AUTHOR=alice` and 100 columns.

The output of a README example must have the shape the README shows: the same lines once
variable parts are masked (`normalise`: hashes, times, keys), where a line `...` in the README
stands for any number of lines. `python tests/examples_runner.py --write` runs the README and
writes what the commands print back into it.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
BIN = Path(sys.executable).parent
LINKED = ("seeds", "docs", "tests")
COLUMNS = "100"

_MASKS = [
    (re.compile(r"ed25519:[A-Za-z0-9+/]{43}="), "<public key>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?\+00:00"), "<time>"),
    (re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}( UTC)?(?= by )"), "<time>"),
    (re.compile(r"\b[0-9a-f]{12,64}\b"), "<hash>"),
    (re.compile(r"\(\d+ bytes\)"), "(<n> bytes)"),
]


def normalise(text: str) -> list[str]:
    """The lines of `text` with what differs between runs masked, trailing spaces dropped."""
    lines = []
    for line in text.splitlines():
        for pattern, mask in _MASKS:
            line = pattern.sub(mask, line)
        lines.append(line.rstrip())
    while lines and not lines[-1]:
        lines.pop()
    return lines


def same_shape(expected: list[str], actual: list[str]) -> str | None:
    """None when `actual` has the shape of `expected` (`...` skips lines), else what differs."""
    want = normalise("\n".join(expected))
    got = normalise("\n".join(actual))

    def match(i: int, j: int) -> bool:
        while i < len(want):
            if want[i] == "...":
                return any(match(i + 1, k) for k in range(j, len(got) + 1))
            if j >= len(got) or want[i] != got[j]:
                return False
            i, j = i + 1, j + 1
        return j == len(got)

    if match(0, 0):
        return None
    return "expected:\n" + "\n".join(want) + "\n--- got:\n" + "\n".join(got)


# --- the sandbox -----------------------------------------------------------------------------------
def sandbox(root: Path) -> Path:
    """A fresh working directory with the repository's example inputs linked in."""
    root.mkdir(parents=True, exist_ok=True)
    for name in LINKED:
        link = root / name
        if not link.exists():
            link.symlink_to(REPO / name)
    return root


def environment(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWREG_", "NEO4J_"))}
    env.pop("CI", None)
    env.update(PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", FLOWREG_AUTHOR="alice",
               COLUMNS=COLUMNS, **extra)
    return env


def run_shell(command: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`command` in bash, stdout and stderr as one stream (as a terminal shows them)."""
    return subprocess.run(["bash", "-c", command], cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=600)


# --- README console sessions ------------------------------------------------------------------------
@dataclass
class Example:
    """One `$ command` of a console block, the lines the README shows after it, and where."""

    command: str
    expected: list[str] = field(default_factory=list)
    line: int = 0


def readme_examples(text: str) -> Iterator[Example]:
    """Every `$ ` command of every ```console block, in order."""
    in_console = False
    current: Example | None = None
    continuing = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            if current is not None:
                yield current
                current = None
            in_console = line.strip() == "```console"
            continue
        if not in_console:
            continue
        if continuing and current is not None:
            current.command += "\n" + line
            continuing = line.endswith("\\")
        elif line.startswith("$ "):
            if current is not None:
                yield current
            current = Example(line[2:], line=number)
            continuing = line.endswith("\\")
        elif current is not None:
            current.expected.append(line)
    if current is not None:
        yield current


HASH_IN_COMMAND = re.compile(r"\b[0-9a-f]{12,64}\b")


def with_head_hash(command: str, cwd: Path, env: dict[str, str]) -> str:
    """`command` with each revision hash it quotes (12 to 64 hex digits) replaced by as much of
    the store's current head hash: the hashes in examples stand for the reader's own."""
    if not HASH_IN_COMMAND.search(command):
        return command
    listed = run_shell("flowreg history --format json", cwd, env)
    head = json.loads(listed.stdout)[-1]["hash"]
    return HASH_IN_COMMAND.sub(lambda m: head[: len(m.group())], command)


def run_readme(work: Path) -> Iterator[tuple[Example, subprocess.CompletedProcess[str]]]:
    """Run the README's console examples in order in `work`; `export X=Y` lines persist."""
    env = environment()
    sandbox(work)
    for example in readme_examples(README.read_text(encoding="utf-8")):
        exported = re.fullmatch(r"export (\w+)=(\S+)", example.command.strip())
        if exported:
            env[exported[1]] = os.path.expandvars(exported[2])
        yield example, run_shell(with_head_hash(example.command, work, env), work, env)


def write_readme(work: Path) -> None:
    """Replace the output shown after each README example by what it prints now."""
    text = README.read_text(encoding="utf-8")
    ran = list(run_readme(work))
    outputs = {example.line: result.stdout for example, result in ran}
    # A hash quoted in a command becomes the one this run's output shows.
    commands = {example.line: result.args[2] for example, result in ran
                if "\n" not in example.command and result.args[2] != example.command}
    out: list[str] = []
    in_console = skipping = continuing = False
    pending: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("```"):
            in_console, skipping = line.strip() == "```console", False
        elif in_console and continuing:
            continuing = line.endswith("\\")
            out.append(line)
            if not continuing:
                out.extend(pending)
            continue
        elif in_console and line.startswith("$ "):
            pending = [ln.rstrip() for ln in outputs[number].rstrip("\n").splitlines()]
            skipping, continuing = True, line.endswith("\\")
            out.append("$ " + commands[number] if number in commands else line)
            if not continuing:
                out.extend(pending)
            continue
        elif skipping:
            continue
        out.append(line)
    README.write_text("\n".join(out) + "\n", encoding="utf-8")


# --- examples in --help ------------------------------------------------------------------------------
def help_examples() -> list[tuple[str, str, int]]:
    """(command path, example, expected exit status) for every example in every `--help`.

    An example's line may end with `# exit N` when it shows a failure on purpose."""
    import typer

    from lineage.cli import app

    found: list[tuple[str, str, int]] = []

    def walk(command: object, path: list[str], parent: object | None) -> None:
        ctx = command.make_context(" ".join(path), [], parent=parent, resilient_parsing=True)  # type: ignore[attr-defined]
        text = command.get_help(ctx)  # type: ignore[attr-defined]
        found.extend((" ".join(path), example, code) for example, code in _examples_in(text))
        for name in getattr(command, "commands", {}) or {}:
            walk(command.commands[name], [*path, name], ctx)  # type: ignore[attr-defined]

    walk(typer.main.get_command(app), ["flowreg"], None)
    return found


def _examples_in(help_text: str) -> Iterator[tuple[str, int]]:
    lines = help_text.splitlines()
    for i, line in enumerate(lines):
        inline = re.match(r"\s*Examples?: (flowreg .*)", line)
        if inline:  # the one-line form; a long one wraps, and then fails to run
            yield inline[1], 0
            continue
        if line.strip() not in ("Example:", "Examples:"):
            continue
        command = ""
        for follow in lines[i + 1:]:
            if not follow.strip():
                break
            command = f"{command}\n{follow.strip()}" if command else follow.strip()
            if command.endswith("\\"):
                continue
            expected = re.search(r"#\s*exit (\d+)", command)
            yield command, int(expected[1]) if expected else 0
            command = ""


if __name__ == "__main__":
    if sys.argv[1:] != ["--write"]:
        sys.exit("usage: python tests/examples_runner.py --write   (refreshes README outputs)")
    import tempfile

    write_readme(Path(tempfile.mkdtemp(prefix="flowreg-readme-")))
