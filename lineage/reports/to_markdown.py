"""Markdown (CommonMark / GitHub tables): title, metadata list, one table per section.

Registry text is escaped so it can never become markup: the punctuation that starts inline
Markdown is backslash-escaped (so `<script>` renders as text, not as raw HTML, and `|` cannot
break a table), and line breaks become spaces.
"""

from __future__ import annotations

import re

from lineage.reports.model import Report, cell_text, field_title

# Characters that start inline markup anywhere in a line (HTML, entities, emphasis, code,
# links, table cells). Line-start constructs (#, -, >, 1.) cannot occur: every value sits after
# other text on its line. `_` is escaped only where it could open or close emphasis, so ids such
# as `not_required` stay readable in the raw file.
_SPECIAL = re.compile(r"([\\`*\[\]<>|&~])")
_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")


def md_escape(text: str) -> str:
    r"""`text` safe inside a Markdown paragraph or table cell.

    >>> md_escape("<script>a|b</script> not_required _x_")
    '\\<script\\>a\\|b\\</script\\> not_required \\_x\\_'
    """
    flat = " ".join(text.split())
    return _UNDERSCORE.sub(r"\\_", _SPECIAL.sub(r"\\\1", flat))


def render_markdown(report: Report) -> bytes:
    """The report as Markdown (UTF-8 bytes)."""
    lines = [f"# {md_escape(report.title)}", ""]
    for key, value in report.metadata.items():
        lines.append(f"- **{md_escape(field_title(key))}:** {md_escape(cell_text(value)) or '-'}")
    lines.append("")
    for note in report.notes:
        lines += [f"> {md_escape(note)}", ""]
    for section in report.sections:
        lines += [f"## {md_escape(section.title)}", ""]
        if section.note:
            lines += [md_escape(section.note), ""]
        if not section.rows:
            lines += ["_No entries._", ""]
            continue
        lines.append("| " + " | ".join(md_escape(c.title) for c in section.columns) + " |")
        lines.append("|" + "|".join(" --- " for _ in section.columns) + "|")
        for row in section.rows:
            lines.append("| " + " | ".join(md_escape(cell_text(v)) for v in row) + " |")
        lines.append("")
    return ("\n".join(lines).rstrip() + "\n").encode("utf-8")
