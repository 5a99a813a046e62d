"""Self-contained HTML: one file, inline CSS, an inline SVG flow diagram, no scripts, no links out.

Every value from the registry goes through `html.escape` (quotes included), whether it lands in
text, an attribute or the SVG; a Content-Security-Policy forbids scripts and remote loads as a
second line of defence. Machines can read the revision from `<meta name="flowreg:...">` tags.
"""

from __future__ import annotations

from html import escape

from lineage.reports.diagram import KIND_FILLS, MAX_NODES, STATUS_COLOURS, layout
from lineage.reports.model import Diagram, Report, cell_text, field_title

CSS = """
body { font: 14px/1.45 -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1d1d1f; margin: 2rem; }
h1 { font-size: 1.5rem; margin-bottom: .5rem; }
h2 { font-size: 1.15rem; margin-top: 2rem; border-bottom: 1px solid #ddd; padding-bottom: .25rem; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .15rem 1rem; background: #f6f8fa; padding: .75rem 1rem; border-radius: 6px; }
dl.meta dt { font-weight: 600; } dl.meta dd { margin: 0; font-family: ui-monospace, Menlo, Consolas, monospace; word-break: break-all; }
p.note { color: #555; }
table { border-collapse: collapse; width: 100%; font-size: 12.5px; }
th, td { border: 1px solid #d0d7de; padding: .3rem .45rem; text-align: left; vertical-align: top; }
th { background: #eef1f4; position: sticky; top: 0; }
tr:nth-child(even) td { background: #fafbfc; }
td.status { font-weight: 600; white-space: nowrap; }
ul.cell { margin: 0; padding-left: 1rem; }
.st-adequate { color: #2e7d32; } .st-covered { color: #1565c0; } .st-derogation { color: #ef6c00; }
.st-invalid, .st-uncovered { color: #c62828; } .st-unknown { color: #6a1b9a; } .st-not_required { color: #607d8b; }
svg.diagram { width: 100%; height: auto; border: 1px solid #eee; margin-top: 1rem; }
footer { margin-top: 2rem; color: #777; font-size: 12px; }
"""
STATUS_KEYS = frozenset({"status", "overall_status", "transfer_status"})


def _cell(key: str, value: object) -> str:
    if isinstance(value, tuple) and len(value) > 1:
        items = "".join(f"<li>{escape(cell_text(v))}</li>" for v in value)
        return f"<td><ul class=\"cell\">{items}</ul></td>"
    text = cell_text(value)  # type: ignore[arg-type]
    if key in STATUS_KEYS and text in STATUS_COLOURS:
        # the class name comes from a fixed list, never from registry text
        return f'<td class="status st-{text}">{escape(text)}</td>'
    return f"<td>{escape(text)}</td>"


def render_html(report: Report) -> bytes:
    """The report as one standalone HTML page (UTF-8 bytes)."""
    meta = report.metadata
    head = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(report.title)}</title>",
    ]
    for key in ("revision", "revision_hash", "as_of", "generated_at"):
        head.append(f'<meta name="flowreg:{key}" content="{escape(cell_text(meta.get(key)))}">')
    head += [f"<style>{CSS}</style>", "</head><body>"]
    body = [f"<h1>{escape(report.title)}</h1>", '<dl class="meta">']
    for key, value in meta.items():
        body.append(f"<dt>{escape(field_title(key))}</dt><dd>{escape(cell_text(value)) or '&ndash;'}</dd>")
    body.append("</dl>")
    body += [f'<p class="note">{escape(note)}</p>' for note in report.notes]
    if report.diagram is not None and len(report.diagram.nodes) > MAX_NODES:
        body.append(
            f'<p class="note">The flow diagram has {len(report.diagram.nodes)} nodes, too many to draw here; '
            "export the graph (flowreg export-graph --format graphml) to view it in Gephi or yEd.</p>"
        )
    elif report.diagram is not None and report.diagram.edges:
        body += ["<h2>Flow diagram</h2>", svg(report.diagram)]
    for section in report.sections:
        body.append(f'<section id="{escape(section.name)}"><h2>{escape(section.title)}</h2>')
        if section.note:
            body.append(f'<p class="note">{escape(section.note)}</p>')
        if not section.rows:
            body.append("<p><em>No entries.</em></p></section>")
            continue
        body.append("<table><thead><tr>" + "".join(f"<th>{escape(c.title)}</th>" for c in section.columns) + "</tr></thead><tbody>")
        for row in section.rows:
            body.append("<tr>" + "".join(_cell(c.key, v) for c, v in zip(section.columns, row, strict=True)) + "</tr>")
        body.append("</tbody></table></section>")
    body.append(
        f"<footer>flowreg &middot; {escape(cell_text(meta.get('organization')))} &middot; revision "
        f"{escape(cell_text(meta.get('revision')))} ({escape(cell_text(meta.get('revision_hash')))}) &middot; as of "
        f"{escape(cell_text(meta.get('as_of')))} &middot; generated {escape(cell_text(meta.get('generated_at')))}</footer>"
    )
    body.append("</body></html>")
    return ("\n".join(head + body) + "\n").encode("utf-8")


def _rgb(colour: tuple[int, int, int]) -> str:
    r, g, b = colour
    return f"#{r:02x}{g:02x}{b:02x}"


def svg(diagram: Diagram, width: int = 1200) -> str:
    """The diagram as an inline SVG element (labels escaped)."""
    placed = layout(diagram)
    row_h = 46
    height = max(placed.max_rows * row_h + 40, 160)
    box_w = min(220, int(width / placed.columns * 0.62))
    box_h = 32
    names = {n.id: n for n in diagram.nodes}

    def centre(node: str) -> tuple[float, float]:
        p = placed.nodes[node]
        return 20 + p.x * (width - 40), 20 + p.y * (height - 40)

    parts = [
        f'<svg class="diagram" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="flow diagram">',
        "<defs>" + "".join(
            f'<marker id="arrow-{s}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{_rgb(c)}"/></marker>'
            for s, c in STATUS_COLOURS.items()
        ) + "</defs>",
    ]
    for edge in diagram.edges:
        (x1, y1), (x2, y2) = centre(edge.source), centre(edge.target)
        status = edge.status if edge.status in STATUS_COLOURS else "unknown"
        colour = _rgb(STATUS_COLOURS[status])
        dash = ' stroke-dasharray="5,4"' if edge.flow in placed.back_edges else ""
        if x2 > x1:
            x1, x2 = x1 + box_w / 2, x2 - box_w / 2
        parts.append(
            f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{colour}" stroke-width="1.4"{dash} '
            f'marker-end="url(#arrow-{status})"><title>{escape(edge.flow)}: {escape(status)}</title></line>'
        )
    for node_id in placed.nodes:
        node = names[node_id]
        cx, cy = centre(node_id)
        fill = _rgb(KIND_FILLS.get(node.kind, (245, 245, 245)))
        label = node.label if len(node.label) <= 34 else node.label[:33] + "\u2026"
        where = f" ({node.countries})" if node.countries else " (location unknown)"
        parts.append(
            f'<g><title>{escape(node.id)}{escape(where)}</title>'
            f'<rect x="{cx - box_w / 2:.1f}" y="{cy - box_h / 2:.1f}" width="{box_w}" height="{box_h}" rx="5" '
            f'fill="{fill}" stroke="#888"/>'
            f'<text x="{cx:.1f}" y="{cy - 2:.1f}" font-size="11" text-anchor="middle">{escape(label)}</text>'
            f'<text x="{cx:.1f}" y="{cy + 11:.1f}" font-size="9" fill="#555" text-anchor="middle">{escape(node.id + where)}</text></g>'
        )
    legend = " ".join(
        f'<tspan fill="{_rgb(c)}">\u25a0 {escape(s)}</tspan>' for s, c in STATUS_COLOURS.items()
    )
    parts.append(f'<text x="20" y="{height - 6}" font-size="10">{legend}</text>')
    parts.append("</svg>")
    return "".join(parts)
