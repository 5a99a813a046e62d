"""The transfer register: every hop that crosses a border, per regime, with its tool and status.

One section per regime (EU GDPR, UK GDPR, Swiss FADP, in the knowledge file's order), one for
border-crossing hops whose data no regime protects (listed so the register is complete), and a
summary of statuses per regime. Hops whose location is missing are included: they may be
transfers, and the register must not hide them.
"""

from __future__ import annotations

from lineage.reports.context import ReportContext
from lineage.reports.model import Column, Report, Section
from lineage.reports.tools import regime_tools
from lineage.status import HopStatus, Status

COLUMNS = (
    Column("flow", "Flow"),
    Column("from", "From"),
    Column("from_country", "From country"),
    Column("to", "To"),
    Column("to_country", "To country"),
    Column("exporter", "Exporter"),
    Column("importer", "Importer"),
    Column("importer_kind", "Importer kind", brief=False),
    Column("role", "Importer role", brief=False),
    Column("categories", "Categories", brief=False),
    Column("frequency", "Frequency", brief=False),
    Column("status", "Status"),
    Column("tool", "Transfer tool"),
    Column("tool_kind", "Tool kind"),
    Column("dpv_term", "DPV term", brief=False),
    Column("reason", "Reason"),
    Column("overall_status", "Overall status", brief=False),
)
SUMMARY_COLUMNS = (Column("regime", "Regime"), Column("status", "Status"), Column("hops", "Hops"))
NO_REGIME = "none"
_STATUS = [c.key for c in COLUMNS].index("status")


def is_transfer_candidate(hop: HopStatus) -> bool:
    """A hop belongs in the register when it crosses a border or might (a location is missing)."""
    if hop.collection:
        return False
    return hop.crosses_border or hop.status is Status.UNKNOWN or not (hop.source_countries and hop.target_countries)


def transfer_report(ctx: ReportContext) -> Report:
    """The transfer register on the context's date.

    Returns a Report with one section per regime present (`eu`, `uk`, `ch`), `none` when some
    border-crossing hop carries no regime, and `summary`.
    """
    hops = [h for h in ctx.hops() if is_transfer_candidate(h)]
    per_regime: dict[str, list[tuple]] = {r: [] for r in ctx.law.regimes}
    per_regime[NO_REGIME] = []
    for hop in hops:
        if not hop.regimes:
            per_regime[NO_REGIME].append(_row(ctx, hop, None))
        for regime in hop.regimes:
            per_regime.setdefault(regime, []).append(_row(ctx, hop, regime))

    sections = []
    summary: list[tuple] = []
    for regime, rows in per_regime.items():
        if not rows:
            continue
        title = ctx.regime_name(regime) if regime != NO_REGIME else "No transfer regime"
        note = (
            f"Border-crossing hops of data protected by {title} on {ctx.day}."
            if regime != NO_REGIME
            else "Hops that cross a border with data no regime protects (not collected or held in the EEA, UK or Switzerland)."
        )
        sections.append(Section(regime, title, COLUMNS, tuple(rows), note))
        counts: dict[str, int] = {}
        for row in rows:
            counts[row[_STATUS]] = counts.get(row[_STATUS], 0) + 1
        for status in Status:
            if status.value in counts:
                summary.append((title, status.value, counts[status.value]))
    sections.append(Section("summary", "Summary", SUMMARY_COLUMNS, tuple(summary), "Hops per regime and status."))
    title = f"Transfer register of {ctx.rg.registry.organization}"
    return Report(
        "transfers",
        title,
        ctx.metadata("transfers", title, {"transfers": len(hops)}),
        tuple(sections),
    )


def _row(ctx: ReportContext, hop: HopStatus, regime: str | None) -> tuple:
    exporter = ctx.rg.organisation(hop.source)
    importer = ctx.rg.organisation(hop.target)
    if regime is None:
        status, reason, tools = hop.status.value, hop.reason, []
    else:
        verdict = hop.regimes[regime]
        status, reason = verdict.status.value, verdict.reason
        tools = regime_tools(ctx.rg, ctx.law, hop, regime, verdict, ctx.day)
    return (
        hop.flow,
        hop.source,
        ",".join(hop.source_countries),
        hop.target,
        ",".join(hop.target_countries),
        exporter.name if exporter else None,
        importer.name if importer else None,
        hop.recipient_kind,
        hop.role,
        tuple(hop.carries),
        hop.frequency,
        status,
        tuple(t.label for t in tools),
        tuple(dict.fromkeys(t.kind for t in tools)),
        tuple(dict.fromkeys(t.term for t in tools)),
        reason,
        hop.status.value,
    )
