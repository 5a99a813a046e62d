"""The flow graph for other tools: GraphML (Gephi, yEd) and node-link JSON (d3, networkx).

The exported graph has the same nodes (subject groups, systems, parties) and one edge per flow
active on the date, keyed by the flow id, with the hop's status per regime on that date. Every
attribute is a scalar (GraphML has no lists): every list (countries, carried categories, claimed
tools...) is joined with LIST_SEPARATOR in both formats, so the two exports hold the same values,
and a missing value is left out rather than written as an empty string. Graph attributes carry
the revision, its hash, the as-of date and the generation time.

Both load with networkx's defaults: `nx.read_graphml(path)` (a flow id is each edge's GraphML
`id`, and its key when the graph is a multigraph) and `nx.node_link_graph(data)` (the node-link
document names its edges `edges`, networkx's default since 3.6).
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import networkx as nx

from lineage.api import Flowreg
from lineage.reports.context import ReportContext
from lineage.reports.tools import hop_tools
from registry.model import Party

Progress = Callable[[int, int], None]
LIST_SEPARATOR = ";"


def _scalars(values: dict[str, Any]) -> dict[str, str | int | float | bool]:
    out: dict[str, str | int | float | bool] = {}
    for key, value in values.items():
        if value is None or value == "" or value == () or value == []:
            continue
        if isinstance(value, list | tuple):
            value = LIST_SEPARATOR.join(str(v) for v in value)
        elif isinstance(value, date):
            value = value.isoformat()
        out[key] = value
    return out


def export_graph(
    fr: Flowreg, day: date, *, rev: int | None = None, generated_at: datetime | None = None,
    progress: Progress | None = None,
) -> nx.MultiDiGraph:
    """A MultiDiGraph with scalar attributes only, ready for `nx.write_graphml`."""
    ctx = ReportContext.open(fr, day, rev=rev, generated_at=generated_at or datetime.now(UTC))
    rg = ctx.rg
    meta = ctx.metadata("graph", f"Flow graph of {rg.registry.organization}")
    g = nx.MultiDiGraph(**_scalars({k: v for k, v in meta.items() if k not in ("report", "title")}))
    for node, data in rg.nodes_in_order():
        element = data["element"]
        org = data["org"]
        g.add_node(node, **_scalars({
            "label": getattr(element, "name", node),
            "kind": data["kind"],
            "countries": list(data["countries"]),
            "organisation": org.id if org else None,
            "party_kind": element.kind.value if isinstance(element, Party) else None,
            "description": element.description,
            "source": element.source,
        }))
    hops = ctx.hops()
    for i, hop in enumerate(hops, start=1):
        flow = rg.flows[hop.flow]
        attrs: dict[str, Any] = {
            "flow": flow.id,
            "carries": flow.carries,
            "purpose": flow.purpose,
            "role": hop.role,
            "under": flow.under,
            "frequency": hop.frequency,
            "legal_basis": flow.legal_basis.value if flow.legal_basis else None,
            "retention_days": flow.retention_days,
            "valid_from": flow.valid_from,
            "valid_until": flow.valid_until,
            "collection": hop.collection,
            "crosses_border": hop.crosses_border,
            "status": hop.status.value,
            "reason": hop.reason,
            "relied_on": [t.label for t in hop_tools(rg, ctx.law, hop, ctx.day)],
            "source_ref": flow.source,
        }
        for regime, verdict in hop.regimes.items():
            attrs[f"status_{regime}"] = verdict.status.value
        g.add_edge(hop.source, hop.target, key=hop.flow, **_scalars(attrs))
        if progress:
            progress(i, len(hops))
    return g


def graphml_bytes(graph: nx.MultiDiGraph) -> bytes:
    """GraphML (UTF-8 XML) of an exported graph."""
    out = io.BytesIO()
    nx.write_graphml(graph, out, encoding="utf-8", prettyprint=True)
    return out.getvalue()


def node_link_bytes(graph: nx.MultiDiGraph) -> bytes:
    """Node-link JSON ({directed, multigraph, graph, nodes, edges}) of an exported graph, in
    networkx's default layout, so `nx.node_link_graph(json.loads(text))` rebuilds it."""
    data = nx.node_link_data(graph, edges="edges")
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
