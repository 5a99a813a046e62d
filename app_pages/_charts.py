"""Figures: the aggregated Sankey of a category's hops, the interactive graph's elements, colour
legends, the border-crossing matrix and the transfer-tool timeline.

Plotly renders a subset of HTML in its text (links, bold, spans); every registry value given to
a figure goes through `esc` (html.escape), which Plotly shows as the literal characters. The graph
component shows node and edge properties as HTML, so `graph_elements` escapes every property but
`label`, which it shows as plain text (innerText) and draws on a canvas.
"""

from __future__ import annotations

import html
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import plotly.graph_objects as go

from app_pages._words import STATUS_COLOURS, STATUS_MEANINGS, status_word
from lineage.aggregate import Aggregate, Link, severity_rank
from lineage.days import add_days

NODE_COLOUR = "#7B8794"  # a group of organisations: neutral, so that colour always means status
BUCKET_COLOUR = "#B8C2CC"  # "other" and "further on" buckets
FOCUS_COLOUR = "#0B1F33"  # the picked group: drawn dark, outlined
FONT = dict(family="Source Sans Pro, sans-serif", size=13, color="#1F2933")
LABEL_CHARS = 30


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def short(text: str, limit: int = LABEL_CHARS) -> str:
    """`text` cut to `limit` characters with an ellipsis (the full text is in the hover)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _rgba(hex_colour: str, alpha: float) -> str:
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


@dataclass(frozen=True)
class NodeText:
    """What a chart shows for one aggregated node: its label, its hover text, its colour."""

    label: str
    hover: str
    colour: str = NODE_COLOUR
    full: str = ""  # the label uncut, for tables


def sankey(agg: Aggregate, texts: Sequence[NodeText], focus: frozenset[int] = frozenset(),
           headers: Sequence[str] = (), width: int = 1000) -> go.Figure:
    """The aggregated view as a Sankey: one node per group and step (in the aggregate's order,
    most problems on top), one band per status between two nodes, its width the number of hops.
    Nodes in `focus` are outlined and their bands drawn strong, the others faint.

    Labels cannot collide: a column's labels are cut to the room before the next column
    (`width` is the chart's width in pixels), nodes are at least `pad` apart, and the rightmost
    column ("further on", which plotly would label leftwards into the column before) is named
    by its header instead. `headers` name the columns from the left."""
    per_column = Counter(n.column for n in agg.nodes)
    columns = max(per_column, default=0) + 1
    height = max(460, 58 * max(per_column.values(), default=1) + 90)
    room = int((width - 40) / max(columns - 1, 1) / 7.2)  # characters that fit between columns
    limit = max(12, min(LABEL_CHARS + 6, room))
    labels = ["" if node.bucket == "further" else short(text.label, limit)
              for node, text in zip(agg.nodes, texts, strict=True)]

    def strong(link: Link) -> bool:
        return not focus or link.source in focus or link.target in focus

    fig = go.Figure(go.Sankey(
        arrangement="snap",
        node=dict(
            label=[esc(label) for label in labels],
            color=[FOCUS_COLOUR if i in focus else t.colour for i, t in enumerate(texts)],
            customdata=[esc(t.hover) for t in texts],
            hovertemplate="%{customdata}<extra></extra>",
            pad=22, thickness=16, align="left", sort="input",
            line=dict(color=[FOCUS_COLOUR if i in focus else "rgba(0,0,0,0)" for i in range(len(texts))],
                      width=[3 if i in focus else 0 for i in range(len(texts))]),
        ),
        link=dict(
            source=[link.source for link in agg.links],
            target=[link.target for link in agg.links],
            value=[link.value for link in agg.links],
            color=[_rgba(STATUS_COLOURS[link.status.value], 0.55 if strong(link) else 0.12) for link in agg.links],
            customdata=[esc(f"{texts[link.source].label} → {texts[link.target].label}: "
                            f"{link.value:,} hop{'s' if link.value != 1 else ''} {status_word(link.status)}")
                        for link in agg.links],
            hovertemplate="%{customdata}<extra></extra>",
        ),
    ))
    for column, header in enumerate(headers[:columns]):
        x = column / max(columns - 1, 1)
        anchor = "left" if column == 0 else "right" if column == columns - 1 else "center"
        fig.add_annotation(x=x, y=1, xref="paper", yref="paper", yanchor="bottom", xanchor=anchor, yshift=14,
                           text=f"<b>{esc(header)}</b>", showarrow=False, font=dict(size=12, color="#52606D"))
    fig.update_layout(height=height, margin=dict(l=8, r=8, t=48, b=8), font=dict(FONT, size=12))
    return fig


@dataclass(frozen=True)
class GraphStyle:
    """A Cytoscape style rule (the component calls `.dump()` on each)."""

    selector: str
    style: dict[str, Any]

    def dump(self) -> dict[str, Any]:
        return {"selector": self.selector, "style": self.style}


GRAPH_LAYOUT = {"name": "preset", "fit": True, "padding": 30, "animate": False}
_COLUMN_GAP, _ROW_GAP = 280, 96


def graph_elements(
    agg: Aggregate, texts: Sequence[NodeText], focus: frozenset[int] = frozenset()
) -> tuple[dict[str, Any], list[GraphStyle], list[GraphStyle]]:
    """Nodes and edges of the aggregated view for st_link_analysis, laid out in columns by step
    (so labels never overlap), and their styles.

    Element ids are `g<node>` and `l<source>-<target>`: the page maps a tap back to a group.
    Elements are not selectable: the component's own selection would paint them red (its
    highlight colour, which reads as INVALID) and show raw properties; the page shows the
    details instead. Every property but `label` is escaped; `label` is drawn as plain text."""
    rows: Counter[int] = Counter()
    node_data = []
    for i, (node, text) in enumerate(zip(agg.nodes, texts, strict=True)):
        node_data.append({
            "data": {"id": f"g{i}", "label": text.label, "tone": "focus" if i in focus else node.bucket,
                     "colour": text.colour},
            "position": {"x": node.column * _COLUMN_GAP, "y": rows[node.column] * _ROW_GAP},
            "selectable": False,
        })
        rows[node.column] += 1
    pairs: dict[tuple[int, int], list[Link]] = {}
    for link in agg.links:
        pairs.setdefault((link.source, link.target), []).append(link)
    edge_data = []
    for (source, target), links in pairs.items():
        worst = min((link.status for link in links), key=severity_rank)
        count = sum(link.value for link in links)
        edge_data.append({
            "data": {"id": f"l{source}-{target}", "source": f"g{source}", "target": f"g{target}",
                     "label": f"{count:,}", "status": worst.value,
                     "weight": round(1.5 + min(6.0, math.log2(count + 1)), 1),
                     "tone": "focus" if source in focus or target in focus or not focus else "faint"},
            "selectable": False,
        })
    node_styles = [
        GraphStyle("node", {
            "background-color": "data(colour)", "label": "data(label)", "font-size": 15,
            "min-zoomed-font-size": 0, "text-wrap": "wrap", "text-max-width": "220px",
            "text-valign": "bottom", "text-margin-y": 5, "width": 30, "height": 30,
            "border-width": 0, "color": "#1F2933", "text-background-color": "#FFFFFF",
            "text-background-opacity": 0.9, "text-background-padding": 2,
        }),
        GraphStyle('node[tone = "focus"]', {"border-width": 4, "border-color": FOCUS_COLOUR, "font-weight": "bold",
                                             "background-color": FOCUS_COLOUR}),
        GraphStyle('node[tone = "other"], node[tone = "further"]', {"shape": "round-rectangle"}),
    ]
    edge_styles = [
        GraphStyle("edge", {"width": "data(weight)", "curve-style": "bezier", "target-arrow-shape": "triangle",
                            "arrow-scale": 1.0, "label": "data(label)", "font-size": 12, "color": "#3E4C59",
                            "text-background-color": "#FFFFFF", "text-background-opacity": 0.85,
                            "text-background-padding": 2, "min-zoomed-font-size": 0}),
        *(GraphStyle(f'edge[status = "{status}"]', {"line-color": colour, "target-arrow-color": colour})
          for status, colour in STATUS_COLOURS.items()),
        GraphStyle('edge[tone = "faint"]', {"opacity": 0.18}),
    ]
    return {"nodes": node_data, "edges": edge_data}, node_styles, edge_styles


def legend(statuses: Iterable[str], nodes: Sequence[tuple[str, str]] = ()) -> str:
    """HTML of a colour legend: a swatch and the word for each status present (with what it
    means on hover), then the node swatches given as (colour, words). Fixed words only."""
    items = [
        f'<span title="{esc(STATUS_MEANINGS[s])}" style="white-space:nowrap;margin-right:14px">'
        f'<span style="display:inline-block;width:22px;height:10px;border-radius:2px;vertical-align:middle;'
        f'margin-right:5px;background:{STATUS_COLOURS[s]}"></span>{esc(status_word(s))}</span>'
        for s in STATUS_COLOURS if s in set(statuses)
    ]
    shapes = [
        f'<span style="white-space:nowrap;margin-right:14px"><span style="display:inline-block;width:12px;'
        f'height:12px;border-radius:3px;vertical-align:middle;margin-right:5px;background:{colour}"></span>'
        f'{esc(words)}</span>'
        for colour, words in nodes
    ]
    parts = ['<div style="font-size:0.9rem;line-height:1.9;color:#3E4C59">']
    if items:
        parts.append('<b style="margin-right:10px">Hops by status</b>' + "".join(items))
    if shapes:
        parts.append('<br><b style="margin-right:10px">Nodes</b>' + "".join(shapes))
    parts.append("</div>")
    return "".join(parts)


def crossing_matrix(counts: Counter[tuple[str, str]]) -> go.Figure:
    """Origin country x destination country, the number of border-crossing hops in each cell;
    one row per origin tall enough for its label and count, and a colour scale."""
    origins = sorted({o for o, _ in counts})
    destinations = sorted({d for _, d in counts})
    z = [[counts.get((o, d), 0) for d in destinations] for o in origins]
    fig = go.Figure(go.Heatmap(
        z=z, x=[esc(d) for d in destinations], y=[esc(o) for o in origins],
        colorscale=[[0, "#F5F7FA"], [0.001, "#DDE9FB"], [1, "#1C4E9E"]],
        text=[[str(v) if v else "" for v in row] for row in z], texttemplate="%{text}",
        textfont=dict(size=10 if len(destinations) > 25 else 12),
        hovertemplate="%{y} → %{x}: %{z} hop(s)<extra></extra>", xgap=2, ygap=2,
        showscale=True, colorbar=dict(title=dict(text="hops", side="top"), thickness=12, len=0.6),
    ))
    fig.update_layout(
        height=max(320, 24 * len(origins) + 90), margin=dict(l=8, r=8, t=30, b=8), font=FONT,
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


TIMELINE_WORDS = {
    "framework": "Framework", "bcr": "BCR", "scc": "SCC contracts", "scc version": "SCC version (law)",
    "derogation": "Derogation", "idta": "IDTA", "uk-addendum": "UK Addendum", "ad-hoc": "Ad hoc clauses",
    "code-of-conduct": "Code of conduct", "certification": "Certification",
}
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
            name=esc(TIMELINE_WORDS.get(kind, kind)), orientation="h", y=[esc(s.label) for s in chosen],
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
        barmode="overlay", height=height or max(280, 34 * len(spans) + 130), font=FONT,
        margin=dict(l=8, r=8, t=36, b=70),
        # in the bottom margin, below the axis: never over the last bars
        legend=dict(orientation="h", yanchor="bottom", y=0, x=0, yref="container"),
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
