"""How every flowreg command writes: data on stdout (JSON or a table), errors on stderr.

Registry values are user text and may contain `[brackets]` that rich would read as markup
(`flows[3].carries[0]` is a real issue path), so every cell goes in as a `rich.text.Text` and
plain messages go through `typer.echo`; nothing is ever interpreted.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text


class Format(StrEnum):
    """Output formats of commands whose output is data."""

    TABLE = "table"
    JSON = "json"


FormatOpt = Annotated[
    Format,
    typer.Option(
        "--format", "-f", help="table for people, json for scripts.", case_sensitive=False
    ),
]


def _width() -> int | None:
    # Without a terminal rich would squeeze tables into 80 columns; pipes and CI logs read
    # better wide. COLUMNS, when set, still wins.
    return None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160


def console() -> Console:
    """A console on stdout; built per call so tests and redirections see the current stdout."""
    return Console(file=sys.stdout, width=_width(), highlight=False, markup=False, emoji=False)


def say(message: str) -> None:
    """A plain line for people on stdout."""
    typer.echo(message)


def note(message: str) -> None:
    """A plain line for people on stderr (progress and remarks that are not the command's data)."""
    typer.echo(message, err=True)


def error(message: str) -> None:
    """An error line on stderr, prefixed so it stands out in logs."""
    typer.echo(f"error: {message}", err=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `message` as an error and return the Exit to raise: `raise fail("...")`."""
    error(message)
    return typer.Exit(code)


def print_issues(heading: str, issues: Sequence[Any]) -> None:
    """A heading and one issue per line on stderr, the issue's path first (the CLI contract)."""
    error(f"{heading} ({len(issues)} problem{'s' if len(issues) != 1 else ''}):")
    for issue in issues:
        typer.echo(f"  {issue}", err=True)


def emit_json(data: Any) -> None:
    """`data` as indented JSON on stdout (dates and other values as text)."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))


def emit_table(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Rows as a table on stdout; `columns` are the row keys shown, in order."""
    headers = headers or {}
    table = Table(title=title, title_justify="left", show_lines=False)
    for column in columns:
        table.add_column(headers.get(column, column), overflow="fold")
    for row in rows:
        table.add_row(*(Text(_cell(row.get(column))) for column in columns))
    console().print(table)


def emit(data: Any, fmt: Format, *, columns: Sequence[str], title: str | None = None) -> None:
    """JSON of `data`, or a table of it (`data` is then a list of row mappings)."""
    if fmt is Format.JSON:
        emit_json(data)
    else:
        emit_table(data, columns, title=title)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)
