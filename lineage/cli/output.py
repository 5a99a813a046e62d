"""How every flowreg command writes: data on stdout (JSON or a table), errors on stderr.

Registry values are user text and may contain `[brackets]` that rich would read as markup
(`flows[3].carries[0]` is a real issue path), so every cell goes in as a `rich.text.Text` and
plain messages go through `typer.echo`; nothing is ever interpreted.

Nor may user text drive the terminal: a name holding `ESC [2J` would clear the screen, `ESC ]0;`
set the window title, a bidi override reorder what an auditor reads. Everything written for
people passes through `terminal_text`, which shows such characters as visible escapes (`\x1b`,
`\u202e`). JSON escapes them too (the parsed data is unchanged); data written to standard
output (`export`, a report) is exact when piped and made visible only on a terminal.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from enum import StrEnum
from itertools import chain
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


class PagedFormat(StrEnum):
    """Output formats of commands whose answer may be long (and is paged, `lineage.paging`)."""

    TABLE = "table"
    JSON = "json"
    JSONL = "jsonl"


PagedFormatOpt = Annotated[
    PagedFormat,
    typer.Option(
        "--format", "-f", case_sensitive=False,
        help="table for people, json for scripts, jsonl for streams: one JSON object per line, "
        "the first with the total.",
    ),
]


def _width() -> int | None:
    # Without a terminal rich would squeeze tables into 80 columns; pipes and CI logs read
    # better wide. COLUMNS, when set, still wins.
    return None if sys.stdout.isatty() or os.environ.get("COLUMNS") else 160


def console() -> Console:
    """A console on stdout; built per call so tests and redirections see the current stdout."""
    return Console(file=sys.stdout, width=_width(), highlight=False, markup=False, emoji=False)


# C0 controls but tab and line feed, DEL, C1 controls; zero-width characters and marks, bidi
# embeddings, overrides and isolates; line and paragraph separators; the byte-order mark.
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ufeff]"
)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def terminal_text(text: str) -> str:
    r"""`text` safe to show on a terminal: control, bidi and invisible characters as escapes.

    >>> terminal_text("Acme\x1b[2J")
    'Acme\\x1b[2J'
    """
    return _UNSAFE.sub(_visible, text)


def counted(n: int, noun: str, verb: str | None = None) -> str:
    """`n` and the noun (and verb) in agreement: 1 hop changes, 2 hops change, 0 findings go.

    >>> counted(1, "hop", "change"), counted(2, "finding", "appear"), counted(0, "revision")
    ('1 hop changes', '2 findings appear', '0 revisions')
    """
    words = f"{n} {noun}{'' if n == 1 else 's'}"
    if verb is not None:
        words += " " + (verb + ("es" if verb.endswith(("s", "sh", "ch", "o")) else "s") if n == 1 else verb)
    return words


def say(message: str) -> None:
    """A plain line for people on stdout."""
    typer.echo(terminal_text(message))


def note(message: str) -> None:
    """A plain line for people on stderr (progress and remarks that are not the command's data)."""
    typer.echo(terminal_text(message), err=True)


def error(message: str) -> None:
    """An error line on stderr, prefixed so it stands out in logs."""
    typer.echo(f"error: {terminal_text(message)}", err=True)


def write_data(data: bytes) -> None:
    """A command's data on stdout: exact bytes when piped or redirected; on a terminal, shown
    with `terminal_text` (line ends kept)."""
    if sys.stdout.isatty():
        text = data.decode("utf-8", "replace").replace("\r\n", "\n")
        data = terminal_text(text).encode("utf-8")
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `message` as an error and return the Exit to raise: `raise fail("...")`."""
    error(message)
    return typer.Exit(code)


def print_issues(heading: str, issues: Sequence[Any]) -> None:
    """A heading and one issue per line on stderr, the issue's path first (the CLI contract)."""
    error(f"{heading} ({len(issues)} problem{'s' if len(issues) != 1 else ''}):")
    for issue in issues:
        typer.echo(f"  {terminal_text(str(issue))}", err=True)


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def emit_json(data: Any) -> None:
    """`data` as indented JSON on stdout (dates and other values as text); characters that
    could drive a terminal are written as JSON escapes, which parse back to the same text."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=str)
    typer.echo(_UNSAFE.sub(_json_escape, text))


def emit_jsonl(header: Mapping[str, Any], items: Iterable[Any]) -> None:
    """`header`, then each of `items`, as one JSON object per line on stdout (escaped as in
    `emit_json`), written as they come."""
    for value in chain([header], items):
        text = json.dumps(value, ensure_ascii=False, default=str, separators=(",", ":"))
        typer.echo(_UNSAFE.sub(_json_escape, text))


def emit_table(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    *,
    title: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Rows as a table on stdout; `columns` are the row keys shown, in order."""
    headers = headers or {}
    table = Table(title=terminal_text(title) if title else None, title_justify="left",
                  show_lines=False)
    for column in columns:
        table.add_column(terminal_text(headers.get(column, column)), overflow="fold")
    for row in rows:
        table.add_row(*(Text(terminal_text(_cell(row.get(column)))) for column in columns))
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
