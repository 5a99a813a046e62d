"""The sub-processor change notice between two revisions (GDPR Art. 28(2) general authorisation).

New, changed and removed sub-processors with their categories and countries, the notice date
and the objection deadline. The notice date is the date of the later revision (UTC) unless one
is given; the deadline is the notice date plus the notice period, which is the newer registry's
`notice_days` (30 by default) unless overridden. Both revisions' lists are taken on the notice
date, counting announced flows that start later (see `lineage.reports.subprocessors`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from lineage.api import Flowreg
from lineage.notice import earliest_start
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
    deadline = earliest_start(day, period)

    before = {e.party: e for e in subprocessor_entries(fr.graph(from_rev), day)}
    after = {e.party: e for e in subprocessor_entries(ctx.rg, day)}
    rows = []
    for party, entry in after.items():
        if party not in before:
            rows.append(_row(ctx, "new", entry, "new sub-processor", day, deadline))
        else:
            what = differences(before[party].comparable(), entry.comparable())
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


def differences(
    old: Mapping[str, object], new: Mapping[str, object], titles: Mapping[str, str] = FIELD_TITLES,
    arrow: str = " to ",
) -> str:
    """What changed between two entries' fields, in words: 'categories: added a, b; removed c',
    'country: DE to US' (`arrow` between old and new), one part per field of `titles` that
    differs, joined by ' | '. Empty when nothing did.

    >>> differences({"country": "DE", "categories": ("a",)}, {"country": "US", "categories": ("a", "b")},
    ...             {"country": "country", "categories": "categories"})
    'country: DE to US | categories: added b'
    """
    parts = []
    for key, title in titles.items():
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, tuple) or isinstance(b, tuple):
            a, b = a or (), b or ()
            added = [str(x) for x in b if x not in a]  # type: ignore[union-attr]
            removed = [str(x) for x in a if x not in b]  # type: ignore[union-attr]
            detail = "; ".join(
                p for p in (
                    f"added {', '.join(added)}" if added else "",
                    f"removed {', '.join(removed)}" if removed else "",
                ) if p
            )
            parts.append(f"{title}: {detail}")
        else:
            parts.append(f"{title}: {a or 'none'}{arrow}{b or 'none'}")
    return " | ".join(parts)
