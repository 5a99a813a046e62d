"""Moving a registry between backends: `flowreg neo4j push` and `flowreg neo4j pull`.

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
from registry.signing import VerifyKeys
from registry.sqlite_store import SqliteStore
from registry.store import Store, signing_from

neo4j_app = typer.Typer(
    name="neo4j",
    help="Copy the registry's history between the embedded store and a Neo4j server.",
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
