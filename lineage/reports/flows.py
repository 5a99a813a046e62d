"""The flow report: every hop of one category (or of all data) with its status and safeguard.

For one category, each hop's status is that of the category's data (a hop may carry other data
under other regimes; the category report answers for the category asked about), and a second
section lists the organisations the category reaches, directly or onward.
"""

from __future__ import annotations

from lineage.reports.context import ReportContext
from lineage.reports.model import Column, Diagram, DiagramEdge, DiagramNode, Report, Section, texts
from lineage.reports.tools import hop_tools, tool_labels
from lineage.status import HopStatus

HOP_COLUMNS = (
    Column("flow", "Flow"),
    Column("origin", "Origin"),
    Column("origin_name", "Origin name", brief=False),
    Column("origin_kind", "Origin kind", brief=False),
    Column("origin_countries", "Origin countries"),
    Column("destination", "Destination"),
    Column("destination_name", "Destination name", brief=False),
    Column("destination_countries", "Destination countries"),
    Column("recipient", "Recipient organisation"),
    Column("recipient_kind", "Recipient kind"),
    Column("role", "Recipient role"),
    Column("categories", "Categories carried", brief=False),
    Column("purpose", "Purpose", brief=False),
    Column("legal_basis", "Legal basis", brief=False),
    Column("frequency", "Frequency", brief=False),
    Column("collection", "Collection", brief=False),
    Column("crosses_border", "Crosses a border", brief=False),
    Column("regimes", "Regimes and status"),
    Column("status", "Status"),
    Column("relied_on", "Mechanism or decision relied on"),
    Column("reason", "Reason"),
)

RECIPIENT_COLUMNS = (
    Column("party", "Organisation"),
    Column("name", "Name"),
    Column("kind", "Kind"),
    Column("country", "Country"),
    Column("hops", "Hops from collection"),
    Column("onward", "Onward recipient"),
    Column("via", "First reached by flow"),
)


def hop_row(ctx: ReportContext, hop: HopStatus) -> tuple:
    """One hop as a row of HOP_COLUMNS."""
    flow = ctx.flow(hop.flow)
    recipient = ctx.rg.registry.get(hop.recipient) if hop.recipient else None
    return (
        hop.flow,
        hop.source,
        ctx.name(hop.source),
        ctx.node_kind(hop.source),
        ",".join(hop.source_countries),
        hop.target,
        ctx.name(hop.target),
        ",".join(hop.target_countries),
        getattr(recipient, "name", None),
        hop.recipient_kind,
        hop.role,
        tuple(hop.carries),
        hop.purpose,
        flow.legal_basis.value if flow.legal_basis else None,
        hop.frequency,
        hop.collection,
        hop.crosses_border,
        tuple(f"{ctx.regime_name(r)}: {v.status.value}" for r, v in hop.regimes.items()),
        hop.status.value,
        tool_labels(hop_tools(ctx.rg, ctx.law, hop, ctx.day)),
        hop.reason,
    )


def diagram_of(ctx: ReportContext, hops: list[HopStatus]) -> Diagram:
    """The nodes and hops to draw, in first-seen order."""
    nodes: dict[str, DiagramNode] = {}
    for hop in hops:
        for node in (hop.source, hop.target):
            if node not in nodes:
                nodes[node] = DiagramNode(node, ctx.name(node), ctx.rg.node_kind(node) or "", ctx.countries(node))
    edges = tuple(DiagramEdge(h.flow, h.source, h.target, h.status.value) for h in hops)
    return Diagram(tuple(nodes.values()), edges)


def flow_report(ctx: ReportContext, category: str | None = None) -> Report:
    """The flow report for `category` (with its hierarchy), or for all data when None.

    Returns a Report with section `hops` (and `recipients` for one category) and a diagram.
    Raises NotFoundError for an unknown category.
    """
    if category is None:
        hops = ctx.hops()
        title = f"Data flows of {ctx.rg.registry.organization}: all categories"
        extra = {"category": None}
        scope_note = "Every flow active on the date; each hop's status covers all the data it carries."
    else:
        hops = ctx.category_hops(category)
        title = f"Data flows of {ctx.name(category)} ({category})"
        extra = {"category": category, "category_name": ctx.name(category)}
        scope_note = (
            f"Flows that carry '{category}', a part of it, or a whole that contains it; each hop's "
            "status is that of this category's data."
        )
    sections = [
        Section("hops", "Hops", HOP_COLUMNS, tuple(hop_row(ctx, h) for h in hops), scope_note),
    ]
    if category is not None:
        recipients = ctx.fr.recipients(category, ctx.day, rev=ctx.revision.number)
        sections.append(
            Section(
                "recipients",
                "Recipients",
                RECIPIENT_COLUMNS,
                tuple((r.party, r.name, r.kind, r.country, r.hops, r.onward, r.via) for r in recipients),
                "Organisations the category reaches, nearest first; onward recipients got it from another recipient.",
            )
        )
    summary = _status_counts(hops)
    extra["hops"] = len(hops)
    extra["status_counts"] = summary
    return Report(
        "flows",
        title,
        ctx.metadata("flows", title, extra),
        tuple(sections),
        diagram_of(ctx, hops),
    )


def _status_counts(hops: list[HopStatus]) -> tuple[str, ...]:
    counts: dict[str, int] = {}
    for hop in hops:
        counts[hop.status.value] = counts.get(hop.status.value, 0) + 1
    return texts(f"{status}: {n}" for status, n in counts.items())
