"""Every example a user reads runs as shown: the console sessions of README.md (output compared
by shape: the same lines once hashes, times and keys are masked) and the examples of every
`flowreg ... --help` on the Twilio seed (exit status, and output or the file they write).

Real commands in bash, in a sandbox directory (tests/examples_runner.py). The Neo4j examples
run against the session's real server.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from examples_runner import (
    README,
    environment,
    help_examples,
    readme_examples,
    run_readme,
    run_shell,
    same_shape,
    sandbox,
    with_head_hash,
)

HELP = help_examples()
NEO4J_EXAMPLE = "neo4j"
KEYGEN = "flowreg keygen"


def test_the_readme_examples_print_what_the_readme_shows(tmp_path: Path) -> None:
    problems = []
    count = 0
    for example, result in run_readme(tmp_path / "readme"):
        count += 1
        assert "Traceback" not in result.stdout, (example.command, result.stdout)
        assert "unexpected" not in result.stdout, (example.command, result.stdout)
        differs = same_shape(example.expected, result.stdout.splitlines())
        if differs:
            problems.append(f"README line {example.line}: $ {example.command}\n{differs}")
    assert count >= 15, "the README's examples were found"
    assert not problems, "\n\n".join(problems) + "\n\n(refresh with: python tests/examples_runner.py --write)"


def test_the_readme_speaks_only_of_what_a_reader_can_see() -> None:
    text = README.read_text(encoding="utf-8")
    for hidden in ("issue 7", "the brief", "issue notes", "<!--"):
        assert hidden not in text.lower(), hidden
    assert "Chromium" in text and "Java 17" in text and "Maven" in text and ".ci/run" in text


def test_the_files_the_readme_writes_are_ignored() -> None:
    ignored = (README.parent / ".gitignore").read_text(encoding="utf-8").splitlines()
    written = [w for example in readme_examples(README.read_text(encoding="utf-8"))
               for w in example.command.split() if w.startswith("out/")]
    assert written and "out/" in ignored


# --- --help examples ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sandbox with a signing key (made by the keygen example) and a signed store: the seed
    as revision 1, a registration as revision 2."""
    work = sandbox(tmp_path_factory.mktemp("help"))
    keygen = next(example for path, example, _ in HELP if path == KEYGEN)
    env = environment(FLOWREG_SIGNING_KEY_FILE=str(work / "signing-key.pem"))
    made = run_shell(keygen, work, env)
    assert made.returncode == 0 and (work / "signing-key.pub").read_text().startswith("ed25519:"), made.stdout
    for setup in ('flowreg apply seeds/twilio.yaml -m "Twilio privacy policy, 2018"',
                  "flowreg subprocessor add --id transcribe-ca --name 'Transcribe CA' --country CA"
                  " -c content.voice.recording --from-system comms-records"):
        done = run_shell(setup, work, env)
        assert done.returncode == 0, done.stdout
    return work


def _copy(prepared: Path, to: Path) -> Path:
    shutil.copytree(prepared, to, symlinks=True)
    return to


# keygen's example runs in `prepared`, which needs the key it makes.
@pytest.mark.parametrize(("path", "example", "code"),
                         [e for e in HELP if NEO4J_EXAMPLE not in e[0] and e[0] != KEYGEN],
                         ids=lambda v: v if isinstance(v, str) and v.startswith("flowreg ") and "\n" not in v else None)
def test_every_help_example_runs_on_the_seed(prepared: Path, tmp_path: Path, path: str, example: str,
                                             code: int) -> None:
    work = _copy(prepared, tmp_path / "work")
    env = environment(FLOWREG_SIGNING_KEY_FILE=str(work / "signing-key.pem"))
    before = {p.name for p in work.iterdir()}
    result = run_shell(with_head_hash(example, work, env), work, env)
    assert result.returncode == code, (example, result.stdout)
    assert "Traceback" not in result.stdout and "unexpected" not in result.stdout, result.stdout
    written = [p for p in work.iterdir() if p.name not in before]
    assert result.stdout.strip() or written, f"{example}: no output and no file"
    for file in written:
        assert file.stat().st_size > 0, file


def test_every_command_has_an_example() -> None:
    import typer

    from lineage.cli import app

    commands: list[str] = []

    def walk(command: Any, path: list[str]) -> None:
        children = getattr(command, "commands", None)
        if children:
            for name, child in children.items():
                walk(child, [*path, name])
        else:
            commands.append(" ".join(path))

    walk(typer.main.get_command(app), ["flowreg"])
    with_examples = {path for path, _, _ in HELP}
    assert set(commands) <= with_examples, sorted(set(commands) - with_examples)


@pytest.mark.neo4j
def test_the_neo4j_examples_run_against_a_real_server(neo4j_settings: Any, tmp_path: Path) -> None:
    """`flowreg neo4j push` / `pull` / `prune` as their --help shows them, with the session's server in
    place of bolt://localhost:7687; and the README's Neo4j block."""
    work = sandbox(tmp_path / "neo4j")
    env = environment(NEO4J_USER=neo4j_settings.neo4j_user,
                      NEO4J_PASSWORD=neo4j_settings.neo4j_password.get_secret_value())
    assert run_shell("flowreg apply seeds/twilio.yaml -m seed", work, env).returncode == 0
    for path, example, code in [e for e in HELP if NEO4J_EXAMPLE in e[0]]:
        command = example.replace("bolt://localhost:7687", neo4j_settings.neo4j_uri)
        result = run_shell(command, work, env)
        assert result.returncode == code, (path, result.stdout)
        # One revision (the seed): a prune has nothing older to drop.
        expected = "nothing to prune" if "prune" in path else "both chains verified"
        assert expected in result.stdout, result.stdout
    env.update(NEO4J_URI=neo4j_settings.neo4j_uri, FLOWREG_BACKEND="neo4j")
    answer = run_shell("flowreg findings --as-of 2018-12-27", work, env)
    assert answer.returncode == 0 and "Findings as of 2018-12-27" in answer.stdout, answer.stdout
