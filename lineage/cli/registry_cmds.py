"""Registry commands: validate, apply, history, show, export, diff.

They talk to the store directly rather than through `lineage.api.Flowreg`: none of them needs
the graph or the legal knowledge, and `flowreg validate` in a pre-commit hook should not pay for
loading either.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from lineage.cli import context
from lineage.cli.output import (
    Format,
    FormatOpt,
    counted,
    emit_json,
    emit_table,
    error,
    fail,
    note,
    print_issues,
    say,
    write_data,
)
from registry.config import settings_from_env
from registry.errors import RegistryError
from registry.model import SECTIONS
from registry.revisions import RevisionInfo, content_hash, diff_contents
from registry.store import signing_from
from registry.verification import verify_history
from registry.yamlexport import to_yaml

FileArg = Annotated[
    Path,
    typer.Argument(
        metavar="FILE", help="A registry YAML file (format 1), or - for standard input."
    ),
]
RevOpt = context.RevOpt
AuthorOpt = Annotated[
    str | None,
    typer.Option("--author", "-a", help="Who makes the change; default $FLOWREG_AUTHOR or login."),
]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the `flowreg` app."""
    for command in (validate, apply, history, show, export, diff):
        app.command()(command)


def counts(content: dict[str, Any]) -> dict[str, int]:
    """Number of elements per section."""
    return {section: len(content.get(section) or []) for section in SECTIONS}


def revision_row(info: RevisionInfo) -> dict[str, Any]:
    """A revision's metadata as JSON-able values (what `history` prints per revision)."""
    return info.model_dump(mode="json")


def validate(file: FileArg, fmt: FormatOpt = Format.TABLE) -> None:
    """Check a registry file; exit 0 when valid, else 1 listing every problem.

    Nothing is stored.
    Each problem names the path of the offending key and, where known, its line,
    e.g. `flows[3].carries[0]: unknown category 'subscriber.phone' (line 41)`.

    \b
    Examples:
      flowreg validate seeds/twilio.yaml
      flowreg validate docs/examples/broken.yaml --format json    # exit 1: two problems
    """
    name = context.shown_name(file)
    try:
        registry = context.read_registry(file)
    except RegistryError as exc:
        if fmt is Format.JSON:
            emit_json({"file": name, "valid": False, "issues": [_issue(i) for i in exc.issues]})
        print_issues(f"{name} is not a valid registry", exc.issues)
        raise typer.Exit(1) from None
    content = registry.content()
    if fmt is Format.JSON:
        emit_json(
            {
                "file": name,
                "valid": True,
                "organization": registry.organization,
                "content_hash": content_hash(content),
                "counts": counts(content),
            }
        )
        return
    summary = ", ".join(f"{n} {section}" for section, n in counts(content).items())
    say(f"{name}: valid registry of {registry.organization} ({summary})")


def apply(
    file: FileArg,
    author: AuthorOpt = None,
    message: Annotated[
        str | None, typer.Option("--message", "-m", help="Why; default 'apply FILE'.")
    ] = None,
    if_empty: Annotated[
        bool,
        typer.Option(
            "--if-empty", help="Only write when the store has no revisions (setup scripts)."
        ),
    ] = False,
) -> None:
    """Validate a registry file and store it as one new revision, or nothing.

    Applying content identical to the head writes no revision (exit 0, says so). The store is
    the one FLOWREG_DB names.

    \b
    Example:
      flowreg apply seeds/twilio.yaml -m "Twilio privacy policy, 2018"
    """
    name = context.shown_name(file)
    try:
        registry = context.read_registry(file)
    except RegistryError as exc:
        print_issues(f"{name} is not a valid registry; nothing was written", exc.issues)
        raise typer.Exit(1) from None
    content = registry.content()
    with context.store(create=True) as store:
        head = store.head()
        if head is not None and if_empty:
            say(f"skipped: the store already holds revision {head.number}; nothing written")
            return
        if head is not None and head.content_hash == content_hash(content):
            say(f"unchanged: {name} is identical to revision {head.number}; nothing written")
            return
        before = store.get(head.number).content if head is not None else None
        revision = store.append(
            content,
            author=author or context.default_author(),
            message=message or f"apply {Path(name).name}",
            # --if-empty must hold at write time too, or two setups racing would both seed.
            **({"expected_head": None} if if_empty else {}),
        )
    changes = diff_contents(before, content)
    say(f"revision {revision.number} written ({revision.hash[:12]}): {_change_summary(changes)}")


def history(
    verify: Annotated[
        bool,
        typer.Option(
            "--verify", help="Check every content hash and the chain; exit 1 if tampered."
        ),
    ] = False,
    head: Annotated[
        str | None,
        typer.Option(
            "--head",
            metavar="HASH",
            help="With --verify: a revision hash you trust (from a report or an earlier check; "
            "at least 12 hex digits). The history must still contain it.",
        ),
    ] = None,
    fmt: FormatOpt = Format.TABLE,
) -> None:
    """List every revision, oldest first; --verify checks the hash chain.

    Each revision shows its number, time, author, message and hash (and the key that signed
    it, for signed revisions). With --verify, also recompute the hash chain: any revision edited
    outside flowreg is reported and the exit code is 1. Whoever can write the store could
    rewrite and re-hash it all, so give what a forger cannot change: FLOWREG_VERIFY_KEY (the
    public key revisions are signed with) and/or --head HASH (the head you recorded; --head
    implies --verify). JSON output is a list of revisions, or with --verify an object
    {verified, problems, notes, revisions}.

    \b
    Examples:
      flowreg history --verify
      flowreg history --verify --head 4f0c2a9d81b3    # a head hash you recorded
      FLOWREG_VERIFY_KEY="$(cat signing-key.pub)" flowreg history --verify
    """
    verify = verify or head is not None
    _signer, keys = signing_from(settings_from_env())
    notes: list[str] = []
    problems: list[str] = []
    with context.store(check_head=not verify) as store:
        if verify:
            check = verify_history(store, keys=keys, pin=head)
            infos, problems, notes = check.revisions, check.problems, check.notes
        else:
            infos = store.history()
    rows = [revision_row(info) for info in infos]
    if fmt is Format.JSON:
        emit_json(
            {"verified": not problems, "problems": problems, "notes": notes, "revisions": rows}
            if verify else rows
        )
    elif rows:
        columns = ["number", "created_at", "author", "message", "hash"]
        if any(row["signer"] for row in rows):
            columns.append("signer")
        for row in rows:
            row["hash"] = row["hash"][:12]
        emit_table(rows, columns, title="Revisions", headers={"signer": "signed by"})
    else:
        say("the registry has no revisions yet (flowreg apply FILE writes the first)")
    if problems:
        for problem in problems:
            error(problem)
        raise fail(f"history does NOT verify ({counted(len(problems), 'problem')}); do not trust "
                   "this store")
    if verify and fmt is Format.TABLE:
        for line in notes:
            say(line)
        last = f", head {infos[-1].number} ({infos[-1].hash[:12]})" if infos else ""
        say(f"verified: {counted(len(infos), 'revision')}, every hash and link intact{last}")


def show(rev: RevOpt = None, fmt: FormatOpt = Format.TABLE) -> None:
    """Summarise a revision: who wrote it, counts by section and party kind.

    \b
    Example:
      flowreg show --rev 1 --format json
    """
    with context.store() as store:
        revision = store.get(rev)
    content = revision.content
    by_kind: dict[str, int] = {}
    for party in content.get("parties") or []:
        by_kind[party.get("kind", "?")] = by_kind.get(party.get("kind", "?"), 0) + 1
    summary = {
        "organization": content.get("organization"),
        "revision": revision_row(revision.info()),
        "counts": counts(content),
        "parties_by_kind": dict(sorted(by_kind.items())),
    }
    if fmt is Format.JSON:
        emit_json(summary)
        return
    info = summary["revision"]
    say(f"{summary['organization']}: revision {info['number']} ({info['hash'][:12]})")
    say(f"written {info['created_at']} by {info['author']}: {info['message']}")
    emit_table(
        [{"section": s, "count": n} for s, n in summary["counts"].items()], ["section", "count"]
    )
    emit_table(
        [{"kind": k, "parties": n} for k, n in summary["parties_by_kind"].items()],
        ["kind", "parties"],
        title="Parties by kind",
    )


def export(
    rev: RevOpt = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file instead of standard output."),
    ] = None,
    force: context.ForceOpt = False,
) -> None:
    """Export a revision (default the head) as YAML that re-applies identically.

    The YAML is the registry file format; `flowreg apply` on it gives the same content hash.
    An existing file is replaced only with --force.

    \b
    Examples:
      flowreg export | head -6
      flowreg export --rev 1 -o registry.yaml
    """
    context.check_output(output, force=force)
    with context.store() as store:
        revision = store.get(rev)
    text = to_yaml(revision)
    if output is None:
        write_data(text.encode("utf-8"))
        return
    context.write_file(output, text.encode("utf-8"), force=force)
    note(f"exported revision {revision.number} to {output}")


def diff(
    rev_a: Annotated[
        int, typer.Argument(min=1, max=context.REV_MAX, metavar="REV_A", help="The older revision.")
    ],
    rev_b: Annotated[
        int, typer.Argument(min=1, max=context.REV_MAX, metavar="REV_B", help="The newer revision.")
    ],
    fmt: FormatOpt = Format.TABLE,
) -> None:
    """Show what changed between two revisions.

    Elements added, removed or changed (with the changed fields), matched by id.

    \b
    Example:
      flowreg diff 1 2
    """
    with context.store() as store:
        a, b = store.get(rev_a), store.get(rev_b)
    changes = [change.model_dump() for change in diff_contents(a.content, b.content)]
    if fmt is Format.JSON:
        emit_json(changes)
    elif changes:
        emit_table(
            changes, ["section", "id", "kind", "fields"], title=f"Revision {rev_a} -> {rev_b}"
        )
    else:
        say(f"revisions {rev_a} and {rev_b} have identical content")


def _issue(issue: Any) -> Any:
    return issue.to_dict() if hasattr(issue, "to_dict") else str(issue)


def _change_summary(changes: list[Any]) -> str:
    if not changes:
        return "no element changed"
    tally: dict[str, int] = {}
    for change in changes:
        tally[change.kind] = tally.get(change.kind, 0) + 1
    return "elements " + ", ".join(f"{kind}: {n}" for kind, n in tally.items())
