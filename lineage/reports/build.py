"""One entry point for every report kind: `build_report(fr, "ropa", day)`.

The CLI and the dashboard call this; each kind's builder lives in its own module.
"""

from __future__ import annotations

from datetime import date, datetime

from lineage.api import Flowreg
from lineage.reports.changes import change_report
from lineage.reports.context import ReportContext
from lineage.reports.findings_report import findings_report
from lineage.reports.flows import flow_report
from lineage.reports.model import Report
from lineage.reports.ropa import ropa_report
from lineage.reports.subprocessors import subprocessor_report
from lineage.reports.transfers import transfer_report
from registry.errors import FlowregError

KINDS = ("flows", "ropa", "transfers", "subprocessors", "changes", "findings")


def build_report(
    fr: Flowreg,
    kind: str,
    day: date | None = None,
    *,
    rev: int | None = None,
    category: str | None = None,
    from_rev: int | None = None,
    to_rev: int | None = None,
    notice_days: int | None = None,
    generated_at: datetime | None = None,
) -> Report:
    """Build a report of `kind` on revision `rev` (default the head) as of `day`.

    `category` applies to `flows` only (None: all data). `changes` needs `from_rev`; `to_rev`
    defaults to `rev` or the head, `day` is then the notice date (default: the later revision's
    date) and `notice_days` overrides the registry's notice period. Raises FlowregError for an
    unknown kind or a missing argument, NotFoundError for an unknown revision or category.
    """
    if kind not in KINDS:
        raise FlowregError(f"unknown report kind '{kind}' (one of {', '.join(KINDS)})")
    if kind == "changes":
        if from_rev is None:
            raise FlowregError("the changes report needs --from REV (and optionally --to REV)")
        target = to_rev if to_rev is not None else rev if rev is not None else fr.revision().number
        return change_report(fr, from_rev, target, notice_date=day, notice_days=notice_days, generated_at=generated_at)
    if category is not None and kind != "flows":
        raise FlowregError("--category applies to the flows report only")
    if day is None:
        raise FlowregError(f"the {kind} report needs an as-of date")
    ctx = ReportContext.open(fr, day, rev=rev, generated_at=generated_at)
    if kind == "flows":
        return flow_report(ctx, category)
    return {
        "ropa": ropa_report,
        "transfers": transfer_report,
        "subprocessors": subprocessor_report,
        "findings": findings_report,
    }[kind](ctx)
