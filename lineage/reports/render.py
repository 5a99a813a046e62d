"""Render a report in a named format (writing it to a file is `registry.output_files`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lineage.reports.model import Report
from lineage.reports.to_csv import render_csv
from lineage.reports.to_html import render_html
from lineage.reports.to_json import render_json
from lineage.reports.to_markdown import render_markdown
from lineage.reports.to_pdf import render_pdf
from lineage.reports.to_xlsx import render_xlsx
from registry.errors import FlowregError

FORMATS = ("csv", "xlsx", "json", "md", "html", "pdf")
SUFFIXES = {"csv": ".csv", "xlsx": ".xlsx", "json": ".json", "md": ".md", "html": ".html", "pdf": ".pdf"}
MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "md": "text/markdown",
    "html": "text/html",
    "pdf": "application/pdf",
}
BINARY = frozenset({"xlsx", "pdf"})


def render(report: Report, fmt: str, progress: Callable[[int, int], None] | None = None) -> bytes:
    """The report in `fmt` (one of FORMATS) as bytes; FlowregError for an unknown format."""
    if fmt == "pdf":
        return render_pdf(report, progress)
    renderers = {"csv": render_csv, "xlsx": render_xlsx, "json": render_json, "md": render_markdown, "html": render_html}
    if fmt not in renderers:
        raise FlowregError(f"unknown report format '{fmt}' (one of {', '.join(FORMATS)})")
    return renderers[fmt](report)


def format_from_path(path: Path) -> str | None:
    """The format a file name asks for (`x.xlsx` -> xlsx, `x.markdown` -> md), or None."""
    suffix = path.suffix.lower()
    if suffix in (".markdown", ".md"):
        return "md"
    if suffix == ".htm":
        return "html"
    return next((f for f, s in SUFFIXES.items() if s == suffix), None)
