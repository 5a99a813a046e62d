"""Lineage commands: flows, findings, recipients, path, impact and what-if, as of any date.

Thin over `lineage.api.Flowreg`: each command parses its arguments, asks one question and prints
the answer as a table or JSON (the JSON shapes are the command-line contract).

Whole-registry answers (findings, impact, path, what-if) page with `--limit` and `--offset`
(`lineage.paging`): without either, the output is exactly what it always was; with one, the
table says "showing X-Y of TOTAL" and the JSON carries `total`, `offset` and `limit` beside the
page (findings: an object with `items`; the others: their usual object, each long list cut to
its part of the page). `--format jsonl` streams one JSON object per line, the first a header
with the total.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from lineage.api import Flowreg
from lineage.cli import context
from lineage.cli.output import (
    Format,
    FormatOpt,
    PagedFormat,
    PagedFormatOpt,
    counted,
    emit,
    emit_json,
    emit_jsonl,
    emit_table,
    say,
)
from lineage.findings import check_rules, rule_ids
from lineage.paging import Page
from registry.errors import FlowregError, RegistryError
from registry.yamlsource import load_yaml_file, shown_source


def _parse_day(value: str | None, option: str) -> date:
    return context.parse_day(value, option) or date.today()


AsOfOpt = Annotated[str | None, typer.Option("--as-of", metavar="DATE", help="The date asked about (YYYY-MM-DD); default today.")]
RevOpt = context.RevOpt

HOP_COLUMNS = ["flow", "from", "to", "from_country", "to_country", "status", "reason"]
LimitOpt = Annotated[str | None, typer.Option(
    "--limit", metavar="N", help="Show at most N items (0: only how many there are).")]
OffsetOpt = Annotated[str | None, typer.Option(
    "--offset", metavar="N", help="Skip the first N items (with --limit: the next page).")]


@dataclass(frozen=True)
class Window:
    """Which part of a long answer to show: `paged` when --limit or --offset was given or the
    format is jsonl (the output then says which items it holds, of how many)."""

    offset: int
    limit: int | None
    paged: bool

    @classmethod
    def parse(cls, offset: str | None, limit: str | None, fmt: PagedFormat) -> Window:
        start = context.parse_count(offset, "--offset")
        count = context.parse_count(limit, "--limit")
        paged = start is not None or count is not None or fmt is PagedFormat.JSONL
        return cls(start or 0, count, paged)


def _emit_page(page: Page[Any], rows: list[Any], fmt: PagedFormat, window: Window, *,
               columns: list[str], title: str) -> None:
    """A page of rows: as always when not paged, else with its place in the whole answer."""
    if fmt is PagedFormat.JSONL:
        emit_jsonl(page.header(), rows)
    elif fmt is PagedFormat.JSON:
        emit_json({**page.header(), "items": rows} if window.paged else rows)
    else:
        if window.paged:
            say(page.shown())
        emit_table(rows, columns, title=title)


def _emit_sections(answer: Any, fmt: PagedFormat, window: Window) -> tuple[dict[str, Any], Page[Any]] | None:
    """Write an impact, path or what-if answer as JSON or JSON lines (paged when asked) and
    return None; for a table, return (the answer cut to the page, the page) to lay out."""
    if not window.paged:
        if fmt is PagedFormat.JSON:
            emit_json(answer.to_dict())
            return None
        return answer.to_dict(), Page.of([])
    cut, page = Flowreg.page(answer, offset=window.offset, limit=window.limit)
    if fmt is PagedFormat.JSONL:
        header = {k: v for k, v in cut.items() if k not in type(answer).PAGED}
        emit_jsonl(header, ({"section": name, "item": item} for name, item in page.items))
        return None
    if fmt is PagedFormat.JSON:
        emit_json(cut)
        return None
    return {k: v for k, v in cut.items() if k not in page.header()}, page


@contextmanager
def _flowreg() -> Iterator[Flowreg]:
    fr = context.engine(context.store())
    try:
        yield fr
    finally:
        fr.close()


def register(app: typer.Typer) -> None:
    """Add the lineage commands to the `flowreg` app."""
    for command in (flows, findings, recipients, path, impact, between):
        app.command()(command)
    app.add_typer(what_if, name="what-if")


def flows(
    category: Annotated[str, typer.Argument(metavar="CATEGORY", help="A category id, e.g. account.contact (its parts count too).")],
    as_of: AsOfOpt = None,
    from_node: Annotated[str | None, typer.Option("--from", help="Only hops reachable from this node.")] = None,
    rev: RevOpt = None,
    fmt: FormatOpt = Format.TABLE,
) -> None:
    """Every hop that carries CATEGORY on a date, with its status per regime and overall.

    \b
    Examples:
      flowreg flows content.voice --as-of 2018-12-27
      flowreg flows content --as-of 2020-07-16 --format json
    """
    day = _parse_day(as_of, "--as-of")
    with _flowreg() as fr:
        hops = [h.to_dict() for h in fr.flows(category, day, from_node=from_node, rev=rev)]
    emit(hops, fmt, columns=HOP_COLUMNS, title=f"Flows of {category} as of {day}")


def findings(
    as_of: AsOfOpt = None,
    severity: Annotated[str | None, typer.Option(help="Only this severity: high, medium or low.")] = None,
    rule: Annotated[list[str] | None, typer.Option(
        "--rule", metavar="RULE", help="Only this rule's findings (repeat for several).")] = None,
    limit: LimitOpt = None,
    offset: OffsetOpt = None,
    rev: RevOpt = None,
    fmt: PagedFormatOpt = PagedFormat.TABLE,
) -> None:
    """Findings on a date: uncovered or invalid transfers, routine derogations, missing
    locations, sub-processor transparency, processor contracts (processor-without-dpa),
    transfer impact assessments (tia-missing, tia-overdue, tia-suspend), special-category data
    in transfers, and every broken rule of the registry.

    \b
    Examples:
      flowreg findings --as-of 2018-12-27 --severity high
      flowreg findings --as-of 2018-12-27 --format json
      flowreg findings --as-of 2018-12-27 --rule transfer-uncovered --limit 5
    """
    day = _parse_day(as_of, "--as-of")
    window = Window.parse(offset, limit, fmt)
    if severity is not None and severity not in ("high", "medium", "low"):
        raise FlowregError(f"--severity: '{severity}' is not one of high, medium, low")
    rules = tuple(rule or ())
    with _flowreg() as fr:
        if rules:
            check_rules(rules, rule_ids(fr.registry(rev)), name="--rule")
        page = fr.findings_page(day, offset=window.offset, limit=window.limit, rules=rules,
                                severity=severity, rev=rev)
    _emit_page(page, [f.to_dict() for f in page.items], fmt, window,
               columns=["severity", "rule", "flow", "regime", "title", "fix"], title=f"Findings as of {day}")


def recipients(
    category: Annotated[str, typer.Argument(metavar="CATEGORY", help="A category id, e.g. content.")],
    as_of: AsOfOpt = None,
    rev: RevOpt = None,
    fmt: FormatOpt = Format.TABLE,
) -> None:
    """Every organisation CATEGORY reaches, directly or onward, with kind, country and hops.

    \b
    Example:
      flowreg recipients content.voice --as-of 2018-12-27
    """
    day = _parse_day(as_of, "--as-of")
    with _flowreg() as fr:
        rows = [r.to_dict() for r in fr.recipients(category, day, rev=rev)]
    emit(rows, fmt, columns=["party", "name", "kind", "country", "hops", "onward", "via"],
         title=f"Recipients of {category} as of {day}")


def path(
    source: Annotated[str, typer.Argument(metavar="FROM", help="A subject group, system or party id.")],
    target: Annotated[str, typer.Argument(metavar="TO", help="A system or party id.")],
    category: Annotated[str | None, typer.Option("--category", "-c", help="Only hops carrying this category.")] = None,
    as_of: AsOfOpt = None,
    limit: LimitOpt = None,
    offset: OffsetOpt = None,
    rev: RevOpt = None,
    fmt: PagedFormatOpt = PagedFormat.TABLE,
) -> None:
    """The hops that connect FROM to TO (every route), each with its status.

    \b
    Example:
      flowreg path customers-eea sift --category account --as-of 2018-12-27
    """
    day = _parse_day(as_of, "--as-of")
    window = Window.parse(offset, limit, fmt)
    with _flowreg() as fr:
        result = fr.path(source, target, day, category=category, rev=rev)
    shown = _emit_sections(result, fmt, window)
    if shown is None:
        return
    say(f"shortest route: {' -> '.join(result.shortest) if result.shortest else 'none'}")
    if window.paged:
        say(shown[1].shown())
    emit_table(shown[0]["hops"], HOP_COLUMNS, title=f"Hops from {source} to {target} as of {day}")


def impact(
    node: Annotated[str, typer.Argument(metavar="NODE", help="A party, system, subject group, mechanism or framework id.")],
    as_of: AsOfOpt = None,
    limit: LimitOpt = None,
    offset: OffsetOpt = None,
    rev: RevOpt = None,
    fmt: PagedFormatOpt = PagedFormat.TABLE,
) -> None:
    """What depends on NODE: categories, subject groups, hops and onward recipients.

    \b
    Examples:
      flowreg impact eu-us-privacy-shield --as-of 2019-01-01
      flowreg impact sift --as-of 2018-12-27
    """
    day = _parse_day(as_of, "--as-of")
    window = Window.parse(offset, limit, fmt)
    with _flowreg() as fr:
        result = fr.impact(node, day, rev=rev)
    shown = _emit_sections(result, fmt, window)
    if shown is None:
        return
    if window.paged:
        say(shown[1].shown())
    emit_table([{"what": k, "items": v} for k, v in shown[0].items()], ["what", "items"],
               title=f"Impact of {node} as of {day}")


def between(
    before: Annotated[str, typer.Argument(metavar="DATE1", help="The earlier date (YYYY-MM-DD).")],
    after: Annotated[str, typer.Argument(metavar="DATE2", help="The later date (YYYY-MM-DD).")],
    rev: RevOpt = None,
    fmt: FormatOpt = Format.TABLE,
) -> None:
    """What changed between two dates for the same registry: hops whose status differs,
    findings that appear or go (law and validity windows moving on).

    \b
    Example:
      flowreg between 2020-07-15 2020-07-16    # the day of Schrems II
    """
    day_a, day_b = _parse_day(before, "DATE1"), _parse_day(after, "DATE2")
    with _flowreg() as fr:
        _show_what_if(fr.between_dates(day_a, day_b, rev=rev), fmt)


what_if = typer.Typer(help="What changes if a tool falls, a party goes, or a proposal lands.", no_args_is_help=True)


def _show_what_if(result: Any, fmt: Format | PagedFormat, window: Window | None = None) -> None:
    """A what-if answer; paged through its lists when `window` says so (the summary line's
    counts are then still the whole answer's)."""
    shown = _emit_sections(result, PagedFormat(fmt.value), window or Window(0, None, False))
    if shown is None:
        return
    data = result.to_dict()
    say(f"{data['scenario']}, as of {data['as_of']}: "
        f"{counted(len(data['changed_hops']), 'hop', 'change')}, "
        f"{counted(len(data['new_findings']), 'finding', 'appear')}, "
        f"{counted(len(data['resolved_findings']), 'finding', 'go')}")
    if window is not None and window.paged:
        say(shown[1].shown())
    data = shown[0]
    if data["changed_hops"]:
        emit_table(data["changed_hops"], ["flow", "before", "after", "reason"], title="Hops whose status changes")
    for key, title in (("new_findings", "New findings"), ("resolved_findings", "Findings that go")):
        if data[key]:
            emit_table(data[key], ["severity", "rule", "flow", "title"], title=title)


@what_if.command("invalidate")
def what_if_invalidate(
    tool: Annotated[str, typer.Argument(metavar="TOOL", help="A mechanism id or a framework (e.g. eu-us-dpf).")],
    from_day: Annotated[str, typer.Option("--from", metavar="DATE", help="The first day it no longer applies.")],
    as_of: AsOfOpt = None,
    limit: LimitOpt = None,
    offset: OffsetOpt = None,
    rev: RevOpt = None,
    fmt: PagedFormatOpt = PagedFormat.TABLE,
) -> None:
    """Invalidate a mechanism or framework from a date; show hops and findings that change.

    \b
    Examples:
      flowreg what-if invalidate eu-us-dpf --from 2026-12-01 --as-of 2027-01-01
      flowreg what-if invalidate twilio-bcr-controller --from 2019-01-01 --as-of 2019-01-01
    """
    start = _parse_day(from_day, "--from")
    day = _parse_day(as_of, "--as-of") if as_of else max(start, date.today())
    window = Window.parse(offset, limit, fmt)
    with _flowreg() as fr:
        _show_what_if(fr.what_if_invalidate(tool, start, day, rev=rev), fmt, window)


@what_if.command("remove-party")
def what_if_remove_party(
    party: Annotated[str, typer.Argument(metavar="PARTY", help="A party id.")],
    as_of: AsOfOpt = None,
    limit: LimitOpt = None,
    offset: OffsetOpt = None,
    rev: RevOpt = None,
    fmt: PagedFormatOpt = PagedFormat.TABLE,
) -> None:
    """Remove a party (with its systems and their flows); show what changes.

    \b
    Example:
      flowreg what-if remove-party sift --as-of 2018-12-27
    """
    day = _parse_day(as_of, "--as-of")
    window = Window.parse(offset, limit, fmt)
    with _flowreg() as fr:
        _show_what_if(fr.what_if_remove_party(party, day, rev=rev), fmt, window)


@what_if.command("add")
def what_if_add(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A registry file whose elements are added (same id replaces).")],
    as_of: AsOfOpt = None,
    limit: LimitOpt = None,
    offset: OffsetOpt = None,
    rev: RevOpt = None,
    fmt: PagedFormatOpt = PagedFormat.TABLE,
) -> None:
    """Merge a proposed registry file in; show hops and findings that change.

    The file holds only what is new or changed (any sections); it is validated with the rest.

    \b
    Example:
      flowreg what-if add docs/examples/proposal.yaml --as-of 2018-12-27
    """
    day = _parse_day(as_of, "--as-of")
    window = Window.parse(offset, limit, fmt)
    parsed = load_yaml_file(file)
    if parsed.issues:
        raise RegistryError(parsed.issues, message=f"{shown_source(file)} is not a valid proposal")
    with _flowreg() as fr:
        _show_what_if(fr.what_if_add(parsed.value, day, rev=rev), fmt, window)
