"""JSON: `Report.to_dict()` as indented UTF-8 text (see `lineage.reports.model` for the shape)."""

from __future__ import annotations

import json

from lineage.reports.model import Report


def render_json(report: Report) -> bytes:
    """The report as JSON bytes: {report, title, metadata, notes, sections[{name, title, note,
    columns, rows}], diagram}."""
    return (json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
