"""`flowreg lineage-check`: OpenLineage run events held against the registry.

Thin over `lineage.discovery`: reads the map (validated against the revision checked), runs
the check, prints movements, findings and coverage (or the JSON of shared/lineage-map.md), and
with `--propose` stores the flows that would declare what was found as a proposal for review.
Problems in the events (malformed ones skipped, omissions read with a warning) go to stderr.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from lineage.cli import context
from lineage.cli.output import Format, FormatOpt, emit_json, emit_table, note, say
from lineage.cli.query_cmds import RevOpt, _parse_day
from lineage.cli.registry_cmds import AuthorOpt
from lineage.discovery.check import LineageCheck, check_revision
from lineage.discovery.event_files import sources_from_paths
from lineage.discovery.proposal import propose
from registry.errors import FlowregError
from registry.lineage_map import load_lineage_map_file

MAX_LISTED = 20  # unmapped datasets listed in the table view; the JSON lists them all
MAX_PROBLEMS = 50  # problems printed on stderr; the JSON lists them all


def register(app: typer.Typer) -> None:
    """Add `flowreg lineage-check` to the app."""
    app.command("lineage-check")(lineage_check)


def lineage_check(
    events: Annotated[list[Path], typer.Argument(
        metavar="EVENTS...", help="OpenLineage run events: files of JSON lines, JSON arrays, or folders of .json files.")],
    map_file: Annotated[Path, typer.Option("--map", metavar="MAP.yaml", help="The lineage map (datasets to systems or parties, fields to categories).")],
    as_of: Annotated[str, typer.Option("--as-of", metavar="DATE", help="Compare movements dated up to this date (YYYY-MM-DD, or 'today').")],
    since: Annotated[str | None, typer.Option("--since", metavar="DATE", help="Only movements from this date on.")] = None,
    fmt: FormatOpt = Format.TABLE,
    propose_it: Annotated[bool, typer.Option("--propose", help="Save the flows that would declare what was found as a proposal for review.")] = False,
    message: Annotated[str | None, typer.Option("--message", "-m", help="The proposal's message (with --propose).")] = None,
    author: AuthorOpt = None,
    rev: RevOpt = None,
) -> None:
    """Compare what pipelines did (OpenLineage run events) with the registry: flows that happen
    but are not registered (judged by the engine as if they were), categories a flow carries
    without declaring them, and registered flows never observed.

    Every event and dataset read is accounted for (compared, outside the dates, not personal
    data, unmapped, malformed); malformed events are reported with file and line and skipped.

    \b
    Example:
      flowreg lineage-check docs/examples/lineage/twilio-events.jsonl \\
        --map docs/examples/lineage/twilio-map.yaml --as-of 2026-11-30
      flowreg lineage-check docs/examples/lineage/twilio-events.jsonl \\
        --map docs/examples/lineage/twilio-map.yaml --as-of 2026-11-30 --format json --propose
    """
    day = _parse_day(as_of, "--as-of")
    start = _parse_day(since, "--since") if since is not None else None
    if start is not None and start > day:
        raise FlowregError(f"--since: {start} is after --as-of {day}")
    if propose_it and rev is not None:
        raise FlowregError("--propose: a proposal is made on the head revision; leave out --rev")
    sources = sources_from_paths(events)
    fr = context.engine(context.store())
    try:
        number = fr.revision(rev).number
        lineage_map = load_lineage_map_file(map_file, fr.registry(number))
        result = check_revision(fr, lineage_map, sources, day, start, rev=number)
        proposed = None
        if propose_it and not result.plan.empty:
            proposed = propose(fr.store, fr.registry(number), number, result.plan,
                               author=author or context.default_author(), message=message or "")
    finally:
        fr.close()
    for problem in result.problems[:MAX_PROBLEMS]:
        note(f"{problem.severity}: {problem}")
    if len(result.problems) > MAX_PROBLEMS:
        note(f"... and {len(result.problems) - MAX_PROBLEMS} more problems (--format json lists them all)")
    if fmt is Format.JSON:
        data = result.to_dict()
        if propose_it:
            data["proposed"] = None if proposed is None else {"id": proposed.id, "message": proposed.message}
        emit_json(data)
        return
    _table(result)
    if propose_it:
        if proposed is None:
            say("nothing to propose: every observed movement is declared")
        else:
            say(f"proposal #{proposed.id} saved for review on revision {number}: {proposed.message}")


def _table(result: LineageCheck) -> None:
    span = f"from {result.since} to {result.as_of}" if result.since else f"up to {result.as_of}"
    emit_table([{"movement": f"{m.source} -> {m.target}", "categories": "\n".join(m.categories) or "(none)",
                 "jobs": "\n".join(m.jobs), "seen": _seen(m.first_seen, m.last_seen), "flow": m.flow or "-",
                 "compared": "yes" if m.compared else "no: no category"} for m in result.movements],
               ["movement", "categories", "jobs", "seen", "flow", "compared"],
               title=f"Observed movements {span} (revision {result.revision})")
    rows: list[dict[str, Any]] = [
        {"severity": f.severity, "rule": f.rule, "movement": f"{f.source} -> {f.target}", "flow": f.flow or "-",
         "categories": "\n".join(f.categories), "engine": f.status or ""} for f in result.findings]
    emit_table(rows, ["severity", "rule", "movement", "flow", "categories", "engine"],
               title=f"Findings ({len(result.findings)})")
    cov = result.coverage
    events, runs, datasets = cov.events, cov.runs, cov.summary()
    other = sum(v for k, v in events.items() if k not in ("read", "run_events", "malformed"))
    say(f"events: {events['read']} read from {cov.files} file{'s' if cov.files != 1 else ''}: "
        f"{events['run_events']} run events, {events['malformed']} malformed (skipped), "
        f"{other} dataset or job events (not about runs)")
    say(f"runs: {runs['read']} read: {runs['compared']} compared, {runs['before_since']} before --since, "
        f"{runs['after_as_of']} after --as-of, {runs['failed']} failed, {runs['aborted']} aborted, "
        f"{runs['not_completed']} not completed")
    say(f"datasets: {datasets['read']} read: {datasets['personal']} personal data, "
        f"{datasets['not_personal']} not personal data, {datasets['unmapped']} unmapped")
    unmapped = [d.dataset for d in cov.datasets if d.status == "unmapped"]
    if unmapped:
        more = len(unmapped) - MAX_LISTED
        say("unmapped (not personal data as far as the map knows): " + ", ".join(unmapped[:MAX_LISTED])
            + (f" and {more} more (--format json lists all)" if more > 0 else ""))
    quiet = [m for m in result.movements if not m.compared]  # listed above; said again for the count
    if quiet:
        say(f"movements carrying no category (not compared): {len(quiet)}")


def _seen(first: Any, last: Any) -> str:
    return str(first) if first == last else f"{first} to {last}"
