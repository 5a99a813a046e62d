"""Figures: the Sankey of a category's hops, the interactive graph's elements, the border-crossing
matrix and the transfer-tool timeline.

Plotly renders a subset of HTML in its text (links, bold, spans); every registry value given to
a figure goes through `esc` (html.escape), which Plotly shows as the literal characters. The graph
component shows node and edge properties as HTML, so `graph_elements` escapes every property but
`label`, which it shows as plain text (innerText) and draws on a canvas.
"""

from __future__ import annotations

import html
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import plotly.graph_objects as go

from app_pages._common import STATUS_COLOURS, Snapshot, joined, status_word
from lineage.days import add_days
from lineage.status import HopStatus
from registry.model import Party

KIND_COLOURS = {
    "subject": "#5B7DB1",
    "system": "#3E4C59",
    "affiliate": "#486581",
    "subprocessor": "#0B7285",
    "service_provider": "#5F3DC4",
    "carrier": "#C2255C",
    "ott_provider": "#E8590C",
    "addon_partner": "#2B8A3E",
    "authority": "#862E9C",
    "data_source": "#845EF7",
    "other": "#868E96",
}
FONT = dict(family="Source Sans Pro, sans-serif", size=13, color="#1F2933")


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def node_kind(snap: Snapshot, node: str) -> str:
    """subject, system, or the party's kind."""
    rg = snap.graph()
    kind = rg.node_kind(node) or "other"
    element = rg.element(node) if kind == "party" else None
    return element.kind.value if isinstance(element, Party) else kind


def _unrolled(hops: Sequence[HopStatus]) -> list[tuple[str, tuple[str, bool], HopStatus]]:
    """(source, (target, is_return), hop) per hop, acyclic: nodes get a depth by breadth-first
    search from where the data enters; a hop back to a node no deeper than its source (data
    returning, e.g. a carrier's inbound leg) ends at a separate "returns to" copy of that node,
    so the Sankey has no loops."""
    targets = {h.target for h in hops}
    roots = [n for n in dict.fromkeys(h.source for h in hops) if n not in targets] or [hops[0].source]
    out: dict[str, list[HopStatus]] = defaultdict(list)
    for h in hops:
        out[h.source].append(h)
    depth = dict.fromkeys(roots, 0)
    queue = deque(roots)
    while queue:
        node = queue.popleft()
        for h in out[node]:
            if h.target not in depth:
                depth[h.target] = depth[node] + 1
                queue.append(h.target)
    links = []
    for h in hops:
        d_source = depth.setdefault(h.source, 0)
        d_target = depth.setdefault(h.target, d_source + 1)
        links.append((h.source, (h.target, d_target <= d_source), h))
    return links


def sankey(snap: Snapshot, hops: Sequence[HopStatus]) -> go.Figure:
    """Where the data goes: one band per hop, coloured by its status."""
    links = _unrolled(hops)
    nodes = list(dict.fromkeys(n for s, t, _ in links for n in ((s, False), t)))
    index = {n: i for i, n in enumerate(nodes)}
    height = min(max(420, 32 * len(nodes)), 1600)
    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node=dict(
            label=[esc(("↩ returns to " if back else "") + snap.node_label(n)) for n, back in nodes],
            color=[KIND_COLOURS.get(node_kind(snap, n), "#868E96") for n, _ in nodes],
            customdata=[esc(f"{n} · {node_kind(snap, n).replace('_', ' ')}") for n, _ in nodes],
            hovertemplate="%{label}<br>%{customdata}<extra></extra>",
            pad=18, thickness=14, line=dict(width=0),
        ),
        link=dict(
            source=[index[(s, False)] for s, _, _ in links],
            target=[index[t] for _, t, _ in links],
            value=[1] * len(links),
            color=[_rgba(STATUS_COLOURS[h.status.value], 0.45) for _, _, h in links],
            customdata=[
                esc(f"{h.flow}: {status_word(h.status)}" + (f" · relies on {joined(h.basis)}" if h.basis else ""))
                for _, _, h in links
            ],
            hovertemplate="%{customdata}<extra></extra>",
        ),
    ))
    fig.update_layout(height=height, margin=dict(l=8, r=8, t=8, b=8), font=FONT)
    return fig


@dataclass(frozen=True)
class GraphStyle:
    """A Cytoscape style rule (the component calls `.dump()` on each)."""

    selector: str
    style: dict[str, Any]

    def dump(self) -> dict[str, Any]:
        return {"selector": self.selector, "style": self.style}


GRAPH_LAYOUT = {
    "name": "breadthfirst", "directed": True, "spacingFactor": 1.15, "padding": 24, "fit": True,
    "animate": False, "nodeDimensionsIncludeLabels": True,
}


def graph_elements(snap: Snapshot, hops: Sequence[HopStatus]) -> tuple[dict[str, Any], list[GraphStyle], list[GraphStyle]]:
    """Nodes and edges for st_link_analysis, and their styles (colour by node kind and hop status)."""
    nodes = list(dict.fromkeys(n for h in hops for n in (h.source, h.target)))
    ids = {n: f"n{i}" for i, n in enumerate(nodes)}
    rg = snap.graph()
    node_data = []
    for n in nodes:
        kind = node_kind(snap, n)
        node_data.append({"data": {
            "id": ids[n],
            "label": snap.name(n),  # shown as plain text (innerText, canvas)
            "kind": kind,
            "registry id": esc(n),
            "type": esc(kind.replace("_", " ")),
            "country": esc(joined(rg.countries(n)) or "unknown"),
        }})
    edge_data = []
    for i, h in enumerate(hops):
        edge_data.append({"data": {
            "id": f"e{i}",
            "source": ids[h.source],
            "target": ids[h.target],
            "label": status_word(h.status),
            "status": h.status.value,
            "flow": esc(h.flow),
            "carries": esc(joined(h.carries)),
            "relies on": esc(joined(h.basis) or "nothing"),
            "reason": esc(h.reason),
        }})
    node_styles = [
        GraphStyle(f'node[kind = "{kind}"]', {
            "background-color": colour, "label": "data(label)", "font-size": 11, "min-zoomed-font-size": 0,
            "text-wrap": "wrap", "text-max-width": "140px", "text-valign": "bottom", "text-margin-y": 4,
        })
        for kind, colour in KIND_COLOURS.items()
    ]
    edge_styles = [
        GraphStyle(f'edge[status = "{status}"]', {
            "line-color": colour, "target-arrow-color": colour, "target-arrow-shape": "triangle",
            "curve-style": "bezier", "width": 3 if status in ("invalid", "uncovered", "unknown") else 2,
        })
        for status, colour in STATUS_COLOURS.items()
    ]
    return {"nodes": node_data, "edges": edge_data}, node_styles, edge_styles


def crossing_matrix(pairs: Iterable[tuple[str, str]], height: int = 420) -> go.Figure:
    """Origin country x destination country, the number of border-crossing hops in each cell."""
    counts = Counter(pairs)
    origins = sorted({o for o, _ in counts})
    destinations = sorted({d for _, d in counts})
    z = [[counts.get((o, d), 0) for d in destinations] for o in origins]
    fig = go.Figure(go.Heatmap(
        z=z, x=[esc(d) for d in destinations], y=[esc(o) for o in origins],
        colorscale=[[0, "#F5F7FA"], [0.001, "#DDE9FB"], [1, "#1C4E9E"]],
        text=[[str(v) if v else "" for v in row] for row in z], texttemplate="%{text}",
        hovertemplate="%{y} → %{x}: %{z} hop(s)<extra></extra>", showscale=False, xgap=2, ygap=2,
    ))
    fig.update_layout(
        height=height, margin=dict(l=8, r=8, t=30, b=8), font=FONT,
        xaxis=dict(title="destination", side="top", type="category"),
        yaxis=dict(title="origin", autorange="reversed", type="category"),
    )
    return fig


@dataclass(frozen=True)
class Span:
    """One bar of the timeline: a tool or framework and when it holds."""

    label: str
    kind: str
    start: date | None
    end: date | None
    detail: str


TIMELINE_COLOURS = {
    "framework": "#2F6FD0", "bcr": "#2F9E62", "scc": "#0B7285", "scc version": "#63A4A8",
    "derogation": "#E8A317", "idta": "#5F3DC4", "uk-addendum": "#845EF7",
}


def timeline(spans: Sequence[Span], day: date, height: int | None = None) -> go.Figure:
    """Horizontal bars from start to end (open ends run to the right edge), a line at `day`."""
    lows = [s.start for s in spans if s.start] + [day]
    highs = [s.end for s in spans if s.end] + [day]
    left = add_days(min(lows), -180)
    right = add_days(max(max(highs), date.today()), 365)
    fig = go.Figure()
    for kind in dict.fromkeys(s.kind for s in spans):
        chosen = [s for s in spans if s.kind == kind]
        starts = [s.start or left for s in chosen]
        ends = [s.end or right for s in chosen]
        fig.add_trace(go.Bar(
            name=esc(kind), orientation="h", y=[esc(s.label) for s in chosen],
            base=[d.isoformat() for d in starts],
            x=[(e - s).days * 86_400_000 for s, e in zip(starts, ends, strict=True)],
            marker_color=TIMELINE_COLOURS.get(kind, "#868E96"),
            customdata=[esc(s.detail) for s in chosen],
            hovertemplate="%{y}<br>%{customdata}<extra></extra>",
        ))
    fig.add_shape(type="line", x0=day.isoformat(), x1=day.isoformat(), y0=0, y1=1, yref="paper",
                  line=dict(color="#D64545", width=2, dash="dot"))
    fig.add_annotation(x=day.isoformat(), y=1, yref="paper", text=f"as of {day.isoformat()}",
                       showarrow=False, yanchor="bottom", font=dict(color="#D64545"))
    fig.update_layout(
        barmode="overlay", height=height or max(260, 34 * len(spans) + 90), font=FONT,
        margin=dict(l=8, r=8, t=36, b=8), legend=dict(orientation="h", y=-0.08),
        xaxis=dict(type="date", range=[left.isoformat(), right.isoformat()]),
        yaxis=dict(autorange="reversed", type="category"),
    )
    return fig


def status_bar(counts: Counter[str], height: int = 110) -> go.Figure:
    """One stacked bar of hop statuses, best to worst."""
    fig = go.Figure()
    for status, colour in STATUS_COLOURS.items():
        if counts.get(status):
            fig.add_trace(go.Bar(
                x=[counts[status]], y=[""], orientation="h", name=status_word(status), marker_color=colour,
                hovertemplate=f"{status_word(status)}: %{{x}}<extra></extra>",
                text=[counts[status]], textposition="inside",
            ))
    fig.update_layout(barmode="stack", height=height, margin=dict(l=0, r=0, t=0, b=40), font=FONT,
                      showlegend=True, legend=dict(orientation="h", yanchor="top", y=-0.05, x=0, traceorder="normal"),
                      xaxis=dict(visible=False), yaxis=dict(visible=False))
    return fig
