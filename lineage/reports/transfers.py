"""The transfer register: every hop that crosses a border, per regime, with its tool and status.

One section per regime (EU GDPR, UK GDPR, Swiss FADP, in the knowledge file's order), one for
border-crossing hops whose data no regime protects (listed so the register is complete), and a
summary of statuses per regime. Hops whose location is missing are included: they may be
transfers, and the register must not hide them.

Each row also carries the hop's transfer impact assessment for that regime and its processor
contract (DPA), and two sections list them in full (date, outcome, measures, review date,
document; signature, authorisation, document). Where the registry lacks one that the hop needs,
the row says so ("missing: ...").
"""

from __future__ import annotations

from lineage.contracts import TIA, DpaCheck, TiaCheck, dpa_check, tia_check, tia_text
from lineage.reports.context import ReportContext
from lineage.reports.model import Cell, Column, Report, Section
from lineage.reports.ropa_record import NOT_RECORDED, dpa_line, dpa_state
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
    Column("assessment", "Transfer impact assessment", brief=False),
    Column("dpa", "Processor contract (DPA)", brief=False),
)
TIA_COLUMNS = (
    Column("flow", "Flow"),
    Column("regime", "Regime"),
    Column("tool", "Tool relied on"),
    Column("assessment", "Assessment"),
    Column("assessed", "Assessed"),
    Column("outcome", "Outcome"),
    Column("measures", "Supplementary measures"),
    Column("review_by", "Review by"),
    Column("document", "Document"),
)
DPA_COLUMNS = (
    Column("flow", "Flow"),
    Column("exporter", "Sent by"),
    Column("importer", "Processor"),
    Column("role", "Role"),
    Column("agreement", "Contract (Art. 28(3))"),
    Column("term", "In force"),
    Column("authorisation", "Sub-processor authorisation"),
    Column("document", "Signed copy"),
    Column("state", "State on the date"),
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
    tia_rows: list[tuple[Cell, ...]] = []
    dpa_rows: list[tuple[Cell, ...]] = []
    for hop in hops:
        dpa = dpa_check(ctx.rg, ctx.record, ctx.flow(hop.flow), ctx.day)
        if dpa is not None:
            dpa_rows.append(_dpa_row(ctx, hop, dpa))
        if not hop.regimes:
            per_regime[NO_REGIME].append(_row(ctx, hop, None, None, dpa))
        for regime in hop.regimes:
            tia = tia_check(ctx.rg, ctx.law, ctx.record, hop, regime, ctx.day)
            if tia.required or tia.assessment is not None:
                tia_rows.append(_tia_row(ctx, hop, tia))
            per_regime.setdefault(regime, []).append(_row(ctx, hop, regime, tia, dpa))

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
    duty = ctx.law.obligation(TIA)
    sections.append(Section(
        "assessments", "Transfer impact assessments", TIA_COLUMNS, tuple(tia_rows),
        f"Each hop covered for a regime by a tool of kind {', '.join(duty.tools)} (an assessment is required "
        f"from {duty.valid_from}: {ctx.law.source(duty.source).title}), and each hop with an assessment on record."))
    sections.append(Section(
        "dpas", "Processor contracts (DPA) of these hops", DPA_COLUMNS, tuple(dpa_rows),
        "Each hop whose recipient acts as processor or sub-processor for the organisation that sends the data."))
    sections.append(Section("summary", "Summary", SUMMARY_COLUMNS, tuple(summary), "Hops per regime and status."))
    title = f"Transfer register of {ctx.rg.registry.organization}"
    return Report(
        "transfers",
        title,
        ctx.metadata("transfers", title, {"transfers": len(hops)}),
        tuple(sections),
    )


def _row(ctx: ReportContext, hop: HopStatus, regime: str | None, tia: TiaCheck | None, dpa: DpaCheck | None) -> tuple:
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
        tia_text(ctx.law, tia, ctx.day),
        dpa_line(ctx, dpa) if dpa is not None else "not needed (no processor role)",
    )


def _tia_row(ctx: ReportContext, hop: HopStatus, tia: TiaCheck) -> tuple[Cell, ...]:
    tool = tia.tool.id if tia.tool else ", ".join(hop.regimes[tia.regime].basis) or "none"
    a = tia.assessment
    if a is None or tia.state != "in_force":
        return (hop.flow, ctx.regime_name(tia.regime), tool, tia_text(ctx.law, tia, ctx.day),
                a.assessed.isoformat() if a else "", a.outcome.value if a else "", tuple(a.measures) if a else (),
                (a.review_by.isoformat() if a.review_by else "") if a else "", (a.document or NOT_RECORDED) if a else "")
    return (hop.flow, ctx.regime_name(tia.regime), tool, a.id, a.assessed.isoformat(), a.outcome.value,
            tuple(a.measures) or ("none",), a.review_by.isoformat() if a.review_by else "no review date",
            a.document or NOT_RECORDED)


def _dpa_row(ctx: ReportContext, hop: HopStatus, dpa: DpaCheck) -> tuple[Cell, ...]:
    a = dpa.agreement
    return (
        hop.flow, dpa.counterpart_text(), f"{ctx.name(dpa.processor)} ({dpa.processor})", hop.role,
        a.id if a else "(none in force)",
        f"{a.signed} to {a.valid_until or 'open'}" if a else "",
        (a.authorisation.value if a.authorisation else NOT_RECORDED) if a else "",
        (a.document or NOT_RECORDED) if a else "",
        dpa_state(ctx, dpa),
    )
