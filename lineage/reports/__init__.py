"""Reports for auditors: builders (pure functions to a format-neutral `Report`), renderers
(CSV, XLSX, JSON, Markdown, HTML, PDF) and graph exports (GraphML, node-link JSON, DPV JSON-LD).

    report = build_report(Flowreg.open(), "ropa", date(2018, 12, 27))
    render(report, "xlsx")  # -> bytes
"""

from lineage.reports.build import KINDS, build_report
from lineage.reports.model import Column, Report, Section

__all__ = ["KINDS", "Column", "Report", "Section", "build_report"]
