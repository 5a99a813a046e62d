"""`flowreg warm`: build what a large registry's commands need and keep it for them
(`lineage.snapshots`), e.g. from a scheduled job after registrations, so that people's
commands open on it instead of building it."""

from __future__ import annotations

import time
from datetime import date
from typing import Annotated, Any

import typer

from lineage.api import Flowreg
from lineage.cli import context
from lineage.cli.output import Format, FormatOpt, emit_json, say
from lineage.snapshots import snapshots_for
from registry.config import settings_from_env
from registry.errors import FlowregError


def register(app: typer.Typer) -> None:
    """Add `warm` to the `flowreg` app."""
    app.command("warm")(warm)


def warm(
    as_of: Annotated[list[str] | None, typer.Option(
        "--as-of", metavar="DATE", help="A date to evaluate (YYYY-MM-DD; repeat for several); default today.")] = None,
    rev: context.RevOpt = None,
    fmt: FormatOpt = Format.TABLE,
) -> None:
    """Build a revision's graph, and each date's hop statuses and findings, and keep them in
    the snapshot directory (FLOWREG_SNAPSHOTS) whatever they cost: later commands on that
    revision and date read them instead of building them.

    \b
    Examples:
      flowreg warm --as-of 2018-12-27
      flowreg warm --as-of today --as-of 2024-06-30 --format json
    """
    days = [context.parse_day(value, "--as-of") or date.today() for value in as_of or ["today"]]
    settings = settings_from_env()
    if settings.backend != "sqlite":
        raise FlowregError("warm: the Neo4j backend keeps its graphs on the server; there is nothing to warm")
    snapshots = snapshots_for(settings)
    if snapshots is None:
        raise FlowregError("warm: FLOWREG_SNAPSHOTS is off; name a directory (or unset it) to keep snapshots")
    snapshots.min_seconds = 0.0  # asked for: keep everything, however quick
    out: dict[str, Any] = {}
    with context.store() as store:
        fr = Flowreg(store, snapshots=snapshots)
        number, _ = fr.resolved(rev)
        started = time.perf_counter()
        fr.graph(number)
        out = {"revision": number, "graph_s": round(time.perf_counter() - started, 2), "dates": []}
        for day in dict.fromkeys(days):
            started = time.perf_counter()
            hops = fr.evaluation(day, number).hops()
            findings = fr.findings(day, rev=number)
            out["dates"].append({"as_of": day.isoformat(), "hops": len(hops), "findings": len(findings),
                                 "seconds": round(time.perf_counter() - started, 2)})
    out["read"] = {kind: n for kind, n in snapshots.loaded.items() if n}
    out["kept"] = {kind: n for kind, n in snapshots.saved.items() if n}
    if fmt is Format.JSON:
        emit_json(out)
        return
    say(f"revision {out['revision']}: graph ready in {out['graph_s']} s")
    for entry in out["dates"]:
        say(f"{entry['as_of']}: {entry['hops']} hops, {entry['findings']} findings, ready in {entry['seconds']} s")
    kept = ", ".join(f"{n} {kind}" for kind, n in out["kept"].items()) or "nothing new (all were kept already)"
    say(f"kept: {kept}")
