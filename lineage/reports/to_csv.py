"""CSV: one file per report, every row tagged with its section.

Layout (stable, for auditors' scripts): the first column is `section`; then `field` and `value`,
used only by the `about` rows that come first and carry the metadata (revision, hash, as-of date,
generation time...); then the union of every section's columns, by column title, in order of
first appearance. A data row fills its own section's columns and leaves the others empty, so
`rows where section == "hops"` is the hop table. Lists inside a cell are joined with "; ".
The file is UTF-8 with a byte-order mark (so spreadsheet programs read accents right), CRLF line
ends. Every text cell is quoted and passes through `neutralise_cell`, so no cell starts a formula
whatever the reader splits on (`;`, tab, `|` as well as `,`); numbers stay unquoted numbers.
"""

from __future__ import annotations

import csv
import io

from lineage.reports.model import Report, cell_text, field_title
from lineage.reports.neutralise import neutralise_cell

ABOUT = "about"


def _text(value: object) -> str | int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return neutralise_cell(cell_text(value))  # type: ignore[arg-type]


def render_csv(report: Report) -> bytes:
    """The report as CSV bytes (UTF-8 with BOM)."""
    titles: dict[str, str] = {}
    for section in report.sections:
        for column in section.columns:
            titles.setdefault(column.key, column.title)
    keys = list(titles)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow(["section", "field", "value", *(titles[k] for k in keys)])
    blank = [""] * len(keys)
    for key, value in report.metadata.items():
        writer.writerow([ABOUT, field_title(key), _text(value), *blank])
    for note in report.notes:
        writer.writerow([ABOUT, "Note", _text(note), *blank])
    for section in report.sections:
        for record in section.records():
            writer.writerow([section.name, "", "", *(_text(record[k]) if k in record else "" for k in keys)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
