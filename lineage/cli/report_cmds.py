"""Report commands: `flowreg report`, `flowreg export-graph`, `flowreg import-fides`.

    flowreg report ropa --as-of 2018-12-27 -o ropa.xlsx
    flowreg report flows --category account.contact --as-of 2018-12-27 --format pdf -o flows.pdf
    flowreg report changes --from 3 --to 4 --notice-days 30 -o notice.html
    flowreg export-graph --format jsonld -o twilio.jsonld
    flowreg import-fides fides/*.yml --country DE --subject-location EEA -o registry.yaml

Reports are built by `lineage.reports` and pinned to one revision (the head unless --rev) and
one as-of date (today, UTC, unless --as-of); the output states both, with the revision hash and
the generation time. Output files are written atomically. Long exports show a progress bar on
standard error when it is a terminal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from lineage.cli import context
from lineage.cli.output import counted, note, write_data
from lineage.reports.build import KINDS, build_report
from lineage.reports.dpv import dpv_graph, jsonld_bytes
from lineage.reports.graph_export import export_graph, graphml_bytes, node_link_bytes
from lineage.reports.render import BINARY, FORMATS, format_from_path, render
from registry.errors import FlowregError
from registry.fides_import import import_fides_files
from registry.model import MAX_NOTICE_DAYS
from registry.yamlexport import to_yaml

GRAPH_FORMATS = ("graphml", "json", "jsonld")
OUTPUT_OPTION = typer.Option(None, "--output", "-o", help="File to write; default standard output.")
MANIFESTS_ARGUMENT = typer.Argument(..., help="Fides manifest files (YAML with a 'system:' list).")


def register(app: typer.Typer) -> None:
    """Add `report`, `export-graph` and `import-fides` to the `flowreg` app."""
    app.command("report")(report)
    app.command("export-graph")(export_graph_cmd)
    app.command("import-fides")(import_fides_cmd)


def _day(value: str | None, option: str) -> date | None:
    return context.parse_day(value, option)


@contextmanager
def _progress(description: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar on stderr (silent when stderr is not a terminal); yields update(done, total)."""
    console = Console(stderr=True)
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn(),
        console=console, transient=True, disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield update


FORCE_OPTION = typer.Option(False, "--force", help="Replace the output file if it exists (never the store).")


def _emit(data: bytes, output: Path | None, fmt: str, what: str, force: bool) -> None:
    if output is None or str(output) == "-":
        if fmt in BINARY:
            raise FlowregError(f"{fmt} output is binary: give a file with -o FILE")
        write_data(data)
        return
    context.write_file(output, data, force=force)
    note(f"wrote {what} to {output} ({len(data)} bytes)")


def report(
    kind: str = typer.Argument(..., help=f"Report kind: {', '.join(KINDS)}."),
    as_of: str | None = typer.Option(
        None, "--as-of", help="Date the statuses hold on (YYYY-MM-DD); default today (UTC). "
        "For 'changes': the notice date, default the later revision's date."
    ),
    fmt: str | None = typer.Option(
        None, "--format", "-f", help=f"{', '.join(FORMATS)}; default from the -o suffix, else json."
    ),
    output: Path | None = OUTPUT_OPTION,
    force: bool = FORCE_OPTION,
    category: str | None = typer.Option(None, "--category", "-c", help="flows: one category (with its parts)."),
    from_rev: int | None = typer.Option(None, "--from", min=1, max=context.REV_MAX, help="changes: the older revision."),
    to_rev: int | None = typer.Option(None, "--to", min=1, max=context.REV_MAX, help="changes: the newer revision (default the head)."),
    rev: int | None = typer.Option(None, "--rev", "-r", min=1, max=context.REV_MAX, help="Revision to report on; default the head."),
    notice_days: int | None = typer.Option(
        None, "--notice-days", min=0, max=MAX_NOTICE_DAYS, help="changes: notice period in days (default the registry's notice_days, 30)."
    ),
) -> None:
    """Write an auditor's report: flows, ropa, transfers, subprocessors, changes or findings.

    Every report states the registry revision, its hash, the as-of date and when it was
    generated; the same revision and date always give the same content. CSV is one file with a
    `section` column (metadata in the `about` rows); XLSX has an About sheet and one sheet per
    section; PDF flow reports include a flow diagram. An existing file is replaced only with
    --force, and never the store.

    \b
    Examples:
      flowreg report transfers --as-of 2020-07-16 -o transfers.xlsx
      flowreg report flows --category content --as-of 2018-12-27 -o flows.pdf
      flowreg report changes --from 1 --to 2 -o notice.html
    """
    context.check_output(output, force=force)
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise FlowregError(f"unknown report kind '{kind}' (one of {', '.join(KINDS)})")
    chosen = (fmt or (format_from_path(output) if output else None) or "json").lower()
    if chosen not in FORMATS:
        raise FlowregError(f"--format: unknown format '{chosen}' (one of {', '.join(FORMATS)})")
    if kind != "changes" and (from_rev is not None or to_rev is not None or notice_days is not None):
        raise FlowregError("--from, --to and --notice-days apply to the changes report only")
    day = _day(as_of, "--as-of")
    if day is None and kind != "changes":
        day = datetime.now(UTC).date()
    with context.store() as store, _progress(f"{kind} report") as update:
        fr = context.engine(store)
        built = build_report(
            fr, kind, day, rev=rev, category=category, from_rev=from_rev, to_rev=to_rev, notice_days=notice_days
        )
        update(1, len(built.sections) + 1)
        data = render(built, chosen, lambda done, total: update(done + 1, total + 1))
    meta = built.metadata
    _emit(data, output, chosen, f"the {kind} report (revision {meta['revision']}, as of {meta['as_of']}, {chosen})",
          force)


def export_graph_cmd(
    fmt: str = typer.Option(..., "--format", "-f", help="graphml (Gephi, yEd), json (node-link) or jsonld (W3C DPV)."),
    output: Path | None = OUTPUT_OPTION,
    force: bool = FORCE_OPTION,
    as_of: str | None = typer.Option(None, "--as-of", help="Date of the hop statuses (YYYY-MM-DD); default today."),
    rev: int | None = typer.Option(None, "--rev", "-r", min=1, max=context.REV_MAX, help="Revision to export; default the head."),
    base: str | None = typer.Option(
        None, "--base", help="jsonld: IRI prefix for registry elements; default urn:flowreg:<organisation>:."
    ),
) -> None:
    """Export the flow graph (flows active on the date, with their statuses) for other tools.

    \b
    Example:
      flowreg export-graph --format graphml --as-of 2018-12-27 -o twilio.graphml
    """
    context.check_output(output, force=force)
    chosen = fmt.strip().lower()
    if chosen not in GRAPH_FORMATS:
        raise FlowregError(f"--format: unknown graph format '{fmt}' (one of {', '.join(GRAPH_FORMATS)})")
    day = _day(as_of, "--as-of") or datetime.now(UTC).date()
    with context.store() as store, _progress(f"exporting {chosen}") as update:
        fr = context.engine(store)
        if chosen == "jsonld":
            data = jsonld_bytes(dpv_graph(fr, day, rev=rev, base=base, progress=update))
        else:
            graph = export_graph(fr, day, rev=rev, progress=update)
            data = graphml_bytes(graph) if chosen == "graphml" else node_link_bytes(graph)
    _emit(data, output, chosen, f"the flow graph ({chosen}, as of {day})", force)


def import_fides_cmd(
    manifests: list[Path] = MANIFESTS_ARGUMENT,
    output: Path | None = OUTPUT_OPTION,
    force: bool = FORCE_OPTION,
    organization: str | None = typer.Option(None, "--organization", help="Organisation name (default the manifest's)."),
    country: str | None = typer.Option(
        None, "--country", help="ISO code of the organisation's seat, also used as its systems' hosting country."
    ),
    subject_location: str | None = typer.Option(
        None, "--subject-location", help="Where the data subjects are: an ISO code or EEA."
    ),
) -> None:
    """Turn Fides system manifests into a flowreg registry file, and list what did not carry over.

    What could not be mapped, and what the import had to assume, is printed on standard error
    and written as comments at the top of the registry file. Review it, then `flowreg apply`.

    \b
    Example:
      flowreg import-fides tests/fixtures/fides_acme.yaml --country DE --subject-location EEA -o acme.yaml
    """
    context.check_output(output, force=force)
    result = import_fides_files(
        manifests, organization=organization, country=country, subject_location=subject_location
    )
    lines = [f"# Imported from Fides: {', '.join(_comment(str(m)) for m in manifests)}"]
    lines += [f"# not mapped: {_comment(str(n))}" for n in result.unmapped]
    lines += [f"# assumed: {_comment(str(n))}" for n in result.assumptions]
    text = "\n".join(lines) + "\n" + to_yaml(result.registry)
    _emit(text.encode("utf-8"), output, "yaml", "the registry", force)
    reg = result.registry
    note(
        f"imported {len(reg.systems)} systems, {len(reg.parties)} parties, {len(reg.categories)} categories, "
        f"{len(reg.flows)} flows; {counted(len(result.unmapped), 'item')} not mapped, "
        f"{counted(len(result.assumptions), 'assumption')}:"
    )
    for item in result.unmapped:
        note(f"  not mapped: {item}")
    for item in result.assumptions:
        note(f"  assumed: {item}")


def _comment(text: str) -> str:
    # a comment ends at a line break; keep every note on its own line
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
