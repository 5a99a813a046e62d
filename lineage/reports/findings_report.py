"""The findings report: what is wrong on the date, most severe first, with evidence and the fix."""

from __future__ import annotations

from lineage.findings import SEVERITY_ORDER, Severity
from lineage.reports.context import ReportContext
from lineage.reports.model import Column, Report, Section

COLUMNS = (
    Column("severity", "Severity"),
    Column("rule", "Rule"),
    Column("title", "Finding"),
    Column("message", "Details", brief=False),
    Column("fix", "Fix"),
    Column("flow", "Flow"),
    Column("node", "Node", brief=False),
    Column("regime", "Regime", brief=False),
    Column("evidence", "Evidence (flows)", brief=False),
    Column("id", "Finding id", brief=False),
)
SUMMARY_COLUMNS = (Column("severity", "Severity"), Column("rule", "Rule"), Column("findings", "Findings"))


def findings_report(ctx: ReportContext) -> Report:
    """Every finding on the context's date: Report with sections `findings` and `summary`."""
    found = ctx.fr.findings(ctx.day, rev=ctx.revision.number)
    rows = tuple(
        (
            f.severity.value, f.rule, f.title, f.message, f.fix, f.flow, f.node,
            ctx.regime_name(f.regime) if f.regime else None, tuple(f.evidence), f.id,
        )
        for f in found
    )
    tally: dict[tuple[Severity, str], int] = {}
    for f in found:
        tally[(f.severity, f.rule)] = tally.get((f.severity, f.rule), 0) + 1
    summary = tuple(
        (severity.value, rule, n)
        for (severity, rule), n in sorted(tally.items(), key=lambda kv: (SEVERITY_ORDER[kv[0][0]], kv[0][1]))
    )
    by_severity = {s.value: sum(1 for f in found if f.severity is s) for s in Severity}
    title = f"Findings for {ctx.rg.registry.organization}"
    return Report(
        "findings",
        title,
        ctx.metadata("findings", title, {"findings": len(found), **{f"{k}_severity": v for k, v in by_severity.items()}}),
        (
            Section("findings", "Findings", COLUMNS, rows, "Most severe first; each finding names the hop or node at fault and the fix."),
            Section("summary", "Summary", SUMMARY_COLUMNS, summary, "Findings per severity and rule."),
        ),
    )
