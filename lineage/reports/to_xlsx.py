"""XLSX via openpyxl: an "About" sheet with the metadata, then one sheet per section.

Each section sheet has a bold, frozen header row and an auto filter over its data. Text cells are
neutralised like CSV (a leading apostrophe before = + - @ tab CR) and also typed as strings, so
neither Excel nor LibreOffice ever evaluates registry text as a formula. Characters XML cannot
hold (control characters) are dropped. Document properties carry the generation time, so the
workbook states it even outside the About sheet.
"""

from __future__ import annotations

import io
import re
from datetime import datetime

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from lineage.reports.model import Cell, Report, cell_text, field_title
from lineage.reports.neutralise import neutralise

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="EEF1F4")
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")
MAX_WIDTH = 60


def _value(value: Cell) -> str | int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", cell_text(value, sep="\n" if isinstance(value, tuple) else "; "))
    return neutralise(text)


def _put(ws: Worksheet, row: int, col: int, value: Cell) -> None:
    cell = ws.cell(row=row, column=col)
    written = _value(value)
    cell.value = written
    if isinstance(written, str):
        # openpyxl types a str starting with "=" as a formula; neutralised text never starts so,
        # but pin the type anyway: a report cell is data, never code.
        cell.data_type = "s"
        if "\n" in written:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


def _sheet_title(title: str, taken: set[str]) -> str:
    base = _SHEET_BAD.sub("-", title).strip("'") or "Sheet"
    base = base[:31]
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name = base[: 31 - len(suffix)] + suffix
        n += 1
    taken.add(name.lower())
    return name


def _table(ws: Worksheet, headers: list[str], rows: list[tuple[Cell, ...]]) -> None:
    widths = [len(h) for h in headers]
    for col, header in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=col, value=neutralise(header))
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row, start=1):
            _put(ws, r, c, value)
            longest = max((len(line) for line in cell_text(value, sep="\n").split("\n")), default=0)
            widths[c - 1] = max(widths[c - 1], longest)
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = min(MAX_WIDTH, width + 2)
    ws.freeze_panes = "A2"
    last = get_column_letter(len(headers))
    ws.auto_filter.ref = f"A1:{last}{max(len(rows) + 1, 2)}"


def render_xlsx(report: Report) -> bytes:
    """The report as an XLSX workbook (bytes)."""
    wb = Workbook()
    about = wb.active
    assert about is not None
    taken: set[str] = set()
    about.title = _sheet_title("About", taken)
    about_rows: list[tuple[Cell, ...]] = [(field_title(k), v) for k, v in report.metadata.items()]
    about_rows += [("Note", n) for n in report.notes]
    about_rows += [(f"Sheet: {s.title}", s.note) for s in report.sections]
    _table(about, ["Field", "Value"], about_rows)
    for section in report.sections:
        ws = wb.create_sheet(_sheet_title(section.title, taken))
        _table(ws, [c.title for c in section.columns], list(section.rows))
    generated = report.metadata.get("generated_at")
    if isinstance(generated, str):
        when = datetime.fromisoformat(generated).replace(tzinfo=None)
        wb.properties.created = when
        wb.properties.modified = when
    wb.properties.creator = "flowreg"
    wb.properties.title = ILLEGAL_CHARACTERS_RE.sub("", report.title)[:250]
    wb.properties.subject = f"revision {cell_text(report.metadata.get('revision'))} ({cell_text(report.metadata.get('revision_hash'))})"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
