"""The sub-processor change notice between two revisions (GDPR Art. 28(2) general authorisation).

New, changed and removed sub-processors with their categories and countries, the notice date
and the objection deadline. The notice date is the date of the later revision (UTC) unless one
is given; the deadline is the notice date plus the notice period, which is the newer registry's
`notice_days` (30 by default) unless overridden. Both revisions' lists are taken on the notice
date, counting announced flows that start later (see `lineage.reports.subprocessors`).
"""

from __future__ import annotations

from datetime import date, datetime

from lineage.api import Flowreg
from lineage.days import add_days
from lineage.reports.context import ReportContext
from lineage.reports.model import Column, Report, Section
from lineage.reports.subprocessors import SubprocessorEntry, subprocessor_entries
from registry.errors import FlowregError
from registry.model import MAX_NOTICE_DAYS

COLUMNS = (
    Column("change", "Change"),
    Column("party", "Id"),
    Column("name", "Sub-processor"),
    Column("country", "Country"),
    Column("processing_countries", "Processing locations"),
    Column("categories", "Categories of personal data"),
    Column("purpose", "Purpose"),
    Column("since", "Starts", brief=False),
    Column("what_changed", "What changed"),
    Column("notice_date", "Notice date"),
    Column("objection_deadline", "Objection deadline"),
)

FIELD_TITLES = {
    "name": "name",
    "country": "country",
    "processing_countries": "processing locations",
    "purposes": "purposes",
    "categories": "categories",
    "kind": "kind",
}


def change_report(
    fr: Flowreg,
    from_rev: int,
    to_rev: int,
    *,
    notice_date: date | None = None,
    notice_days: int | None = None,
    generated_at: datetime | None = None,
) -> Report:
    """The change notice from revision `from_rev` to `to_rev`.

    Returns a Report with section `changes` (one row per new, changed or removed sub-processor;
    removed ones have no objection deadline). Raises NotFoundError for a missing revision and
    FlowregError for a negative notice period.
    """
    old = fr.revision(from_rev)
    new = fr.revision(to_rev)
    if notice_days is not None and not 0 <= notice_days <= MAX_NOTICE_DAYS:
        raise FlowregError(f"the notice period (--notice-days) must be 0 to {MAX_NOTICE_DAYS} days")
    day = notice_date or max(old.created_at, new.created_at).date()
    ctx = ReportContext.open(fr, day, rev=to_rev, generated_at=generated_at)
    period = ctx.rg.registry.notice_days if notice_days is None else notice_days
    deadline = add_days(day, period)

    before = {e.party: e for e in subprocessor_entries(fr.graph(from_rev), day)}
    after = {e.party: e for e in subprocessor_entries(ctx.rg, day)}
    rows = []
    for party, entry in after.items():
        if party not in before:
            rows.append(_row(ctx, "new", entry, "new sub-processor", day, deadline))
        else:
            what = _differences(ctx, before[party], entry)
            if what:
                rows.append(_row(ctx, "changed", entry, what, day, deadline))
    for party, entry in before.items():
        if party not in after:
            rows.append(_row(ctx, "removed", entry, "no longer a sub-processor", day, None))

    title = f"Sub-processor change notice of {ctx.rg.registry.organization}"
    extra = {
        "from_revision": old.number,
        "from_revision_hash": old.hash,
        "to_revision": new.number,
        "notice_date": day.isoformat(),
        "notice_days": period,
        "objection_deadline": deadline.isoformat(),
        "new": sum(1 for r in rows if r[0] == "new"),
        "changed": sum(1 for r in rows if r[0] == "changed"),
        "removed": sum(1 for r in rows if r[0] == "removed"),
    }
    note = (
        f"Changes to the sub-processors between revision {old.number} and revision {new.number}. "
        f"Customers may object to a new or changed sub-processor until {deadline} "
        f"({period} days after the notice of {day})."
    )
    return Report(
        "changes",
        title,
        ctx.metadata("changes", title, extra),
        (Section("changes", "Changes", COLUMNS, tuple(rows), note),),
    )


def _row(
    ctx: ReportContext, change: str, e: SubprocessorEntry, what: str, day: date, deadline: date | None
) -> tuple:
    return (
        change,
        e.party,
        e.name,
        e.country,
        e.processing_countries,
        ctx.category_names(e.categories),
        e.purposes,
        e.since.isoformat() if e.since else None,
        what,
        day.isoformat(),
        deadline.isoformat() if deadline else None,
    )


def _differences(ctx: ReportContext, old: SubprocessorEntry, new: SubprocessorEntry) -> str:
    """What changed, in words: 'categories: added a, b; removed c'. Empty when nothing did."""
    a, b = old.comparable(), new.comparable()
    parts = []
    for key, title in FIELD_TITLES.items():
        if a[key] == b[key]:
            continue
        if isinstance(a[key], tuple):
            added = [x for x in b[key] if x not in a[key]]  # type: ignore[operator, union-attr]
            removed = [x for x in a[key] if x not in b[key]]  # type: ignore[operator, union-attr]
            detail = "; ".join(
                p for p in (
                    f"added {', '.join(added)}" if added else "",
                    f"removed {', '.join(removed)}" if removed else "",
                ) if p
            )
            parts.append(f"{title}: {detail}")
        else:
            parts.append(f"{title}: {a[key] or 'none'} to {b[key] or 'none'}")
    return " | ".join(parts)
