"""Moving a registry between backends (`flowreg neo4j push` and `flowreg neo4j pull`), and
pruning old revisions' graphs on the server (`flowreg neo4j prune`, `registry.neo4j.prune`).

Both copy every revision verbatim (hashes included) and verify both hash chains before and after,
so the two stores end with the same head hash. The embedded store is FLOWREG_DB (or --db); the
Neo4j server comes from NEO4J_URI / NEO4J_USER / NEO4J_PASSWORD / NEO4J_DATABASE or the file
FLOWREG_SECRETS_FILE names, whatever FLOWREG_BACKEND says.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lineage.cli.output import Format, FormatOpt, counted, emit_json, note, say
from registry.config import Settings, settings_from_env
from registry.errors import FlowregError
from registry.history_copy import CopyReport, copy_history
from registry.neo4j.prune import DEFAULT_KEEP, prune_graphs
from registry.signing import VerifyKeys
from registry.sqlite_store import SqliteStore
from registry.store import Store, signing_from

neo4j_app = typer.Typer(
    name="neo4j",
    help="Copy the registry's history between the embedded store and a Neo4j server; prune old graphs.",
    no_args_is_help=True,
)

DbOpt = Annotated[
    Path | None,
    typer.Option("--db", help="The embedded store; default $FLOWREG_DB (.flowreg/flowreg.db)."),
]


def register(app: typer.Typer) -> None:
    """Add the `neo4j` command group to the `flowreg` app."""
    app.add_typer(neo4j_app, name="neo4j")


def _neo4j(settings: Settings, *, create: bool, verify_keys: VerifyKeys | None) -> Store:
    if not settings.neo4j_uri:
        raise FlowregError("NEO4J_URI is not set (set it, or put it in the file named by "
                           "FLOWREG_SECRETS_FILE)")
    try:
        from registry.neo4j.store import Neo4jStore
    except ModuleNotFoundError as exc:
        raise FlowregError(f"the Neo4j backend needs the {exc.name} module (pip install neo4j)") from None
    return Neo4jStore(settings, create=create, verify_keys=verify_keys)


def _report(direction: str, source: Store, target: Store, report: CopyReport, fmt: Format) -> None:
    head = report.head
    if fmt is Format.JSON:
        emit_json({
            "direction": direction, "from": str(source), "to": str(target),
            "copied": report.copied, "already_there": report.already,
            "head": head.model_dump(mode="json") if head else None, "verified": True,
        })
        return
    if head is None:
        say(f"nothing to {direction}: {source} has no revisions")
        return
    say(f"{direction}: {counted(report.copied, 'revision')} copied, {report.already} already there; "
        f"both chains verified, head {head.number} ({head.hash[:12]}) on both sides")


def _run(direction: str, db: Path | None, fmt: Format) -> None:
    settings = settings_from_env()
    _signer, keys = signing_from(settings)
    path = db.expanduser().resolve() if db else settings.db_path
    # push reads the embedded store (it must exist), pull writes into it (and may create it);
    # the Neo4j side is the other way round.
    # Revisions are copied as they are (signed or not): the copy signs nothing itself.
    with SqliteStore(path, create=direction == "pull", verify_keys=keys) as embedded, \
            _neo4j(settings, create=direction == "push", verify_keys=keys) as server:
        source, target = (embedded, server) if direction == "push" else (server, embedded)
        note(f"{direction}: {source} -> {target}")
        _report(direction, source, target, copy_history(source, target, keys), fmt)


@neo4j_app.command()
def push(db: DbOpt = None, fmt: FormatOpt = Format.TABLE) -> None:
    """Copy the embedded store's history (every revision) into Neo4j.

    Only the revisions Neo4j lacks are written, so an interrupted push can simply be run again;
    a Neo4j history that is not a prefix of the embedded one is refused. The head's graph is
    materialised at once, older revisions' graphs when first queried.

    \b
    Example:
      NEO4J_URI=bolt://localhost:7687 flowreg neo4j push
    """
    _run("push", db, fmt)


@neo4j_app.command()
def pull(db: DbOpt = None, fmt: FormatOpt = Format.TABLE) -> None:
    """Copy Neo4j's history (every revision) into the embedded store.

    Only the revisions the embedded store lacks are written; an embedded history that is not a
    prefix of Neo4j's is refused.

    \b
    Example:
      FLOWREG_DB=copy.db NEO4J_URI=bolt://localhost:7687 flowreg neo4j pull
    """
    _run("pull", db, fmt)


@neo4j_app.command()
def prune(
    keep: Annotated[int, typer.Option("--keep", min=1, help="Keep the graphs of this many newest revisions.")] = DEFAULT_KEEP,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only say what would be dropped.")] = False,
    fmt: FormatOpt = Format.TABLE,
) -> None:
    """Drop the materialised graphs of old revisions on the Neo4j server.

    The graphs of the newest --keep revisions stay, with every revision they are made of (a
    registration's graph builds on its parent's). The history itself (contents, hashes,
    signatures) is never deleted, and a pruned revision's graph is built again the first time
    it is queried. Run it when no one queries the revisions being pruned.

    \b
    Example:
      NEO4J_URI=bolt://localhost:7687 flowreg neo4j prune --keep 5 --dry-run
    """
    settings = settings_from_env()
    _signer, keys = signing_from(settings)
    with _neo4j(settings, create=False, verify_keys=keys) as server:
        def told(number: int, deleted: int) -> None:
            note(f"revision {number}: graph dropped ({deleted:,} nodes and relationships deleted)")

        plan = prune_graphs(server, keep, dry_run=dry_run, on_drop=told)  # type: ignore[arg-type]
    if fmt is Format.JSON:
        emit_json({**plan.to_dict(), "keep": keep, "dry_run": dry_run})
        return
    kept = ", ".join(map(str, plan.kept))
    if not plan.dropped:
        say(f"nothing to prune: the graphs kept are those of revisions {kept}" if kept
            else "nothing to prune: the server holds no revisions")
        return
    verb = "would drop" if dry_run else "dropped"
    say(f"{verb} the graphs of {counted(len(plan.dropped), 'revision')} "
        f"({', '.join(map(str, plan.dropped))}); kept those of revisions {kept}. "
        "A pruned revision's graph is built again when it is first queried.")
