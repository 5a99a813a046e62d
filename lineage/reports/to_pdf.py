"""PDF via fpdf2: metadata, notes, one table per section, and a flow diagram for flow reports.

Only the PDF core fonts (Helvetica) are used, so the output does not depend on fonts installed
on the machine. They cover Latin-1; other characters are transliterated (accents dropped,
typographic quotes and dashes made plain, anything else becomes "?"), and the PDF says so when
it happened: the CSV, XLSX and JSON outputs carry the exact text. Every page's footer states
the revision, its hash, the as-of date and the generation time.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from datetime import datetime

from fpdf import FPDF
from fpdf.fonts import FontFace

from lineage.reports.diagram import KIND_FILLS, MAX_NODES, STATUS_COLOURS, layout
from lineage.reports.model import Column, Diagram, Report, Section, cell_text, field_title

FONT = "Helvetica"
PAGE_W, PAGE_H, MARGIN = 297.0, 210.0, 10.0
CONTENT_W = PAGE_W - 2 * MARGIN
MAX_CELL_CHARS = 1500  # a single cell taller than a page cannot be laid out; longer text is cut
PLAIN = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201c": '"', "\u201d": '"', "\u201e": '"',
    "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2026": "...", "\u2022": "*", "\u2192": "->",
    "\u2190": "<-", "\u20ac": "EUR", "\u2264": "<=", "\u2265": ">=", "\u00a0": " ", "\u2009": " ",
}


class _Text:
    """Makes text printable in a core font and remembers whether it had to change any."""

    def __init__(self) -> None:
        self.changed = False

    def __call__(self, text: str) -> str:
        out = []
        for ch in text:
            if ord(ch) < 256 and (ch.isprintable() or ch in "\n"):
                out.append(ch)
                continue
            self.changed = True
            if ch in PLAIN:
                out.append(PLAIN[ch])
                continue
            if not ch.isprintable():
                out.append(" ")
                continue
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            out.append(base if base and all(ord(c) < 256 for c in base) else "?")
        return "".join(out)


class _PDF(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.footer_text = footer_text
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=14)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(FONT, size=6.5)
        self.set_text_color(110)
        self.cell(0, 4, f"{self.footer_text} | page {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0)


def render_pdf(report: Report, progress: Callable[[int, int], None] | None = None) -> bytes:
    """The report as PDF bytes; `progress(done, total)` is called after each section."""
    text = _Text()
    meta = report.metadata
    footer = text(
        f"flowreg | {cell_text(meta.get('organization'))} | revision {cell_text(meta.get('revision'))} "
        f"({cell_text(meta.get('revision_hash'))[:16]}) | as of {cell_text(meta.get('as_of'))} | "
        f"generated {cell_text(meta.get('generated_at'))}"
    )
    pdf = _PDF(footer)
    pdf.set_title(text(report.title))
    pdf.set_author("flowreg")
    pdf.set_subject(text(f"revision {cell_text(meta.get('revision'))} {cell_text(meta.get('revision_hash'))}"))
    generated = meta.get("generated_at")
    if isinstance(generated, str):
        pdf.set_creation_date(datetime.fromisoformat(generated))
    pdf.add_page()
    pdf.set_font(FONT, "B", 15)
    pdf.multi_cell(0, 7, text(report.title), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    _metadata(pdf, report, text)
    for note in report.notes:
        pdf.set_font(FONT, "I", 8)
        pdf.multi_cell(0, 4, text(note), new_x="LMARGIN", new_y="NEXT")
    total = len(report.sections) + (1 if report.diagram else 0)
    done = 0
    if report.diagram is not None and len(report.diagram.nodes) > MAX_NODES:
        pdf.set_font(FONT, "I", 8)
        pdf.multi_cell(
            0, 4, f"The flow diagram has {len(report.diagram.nodes)} nodes, too many for a page; "
            "export the graph (flowreg export-graph --format graphml) to view it in Gephi or yEd.",
            new_x="LMARGIN", new_y="NEXT",
        )
    elif report.diagram is not None and report.diagram.edges:
        _diagram_page(pdf, report.diagram, text)
        done += 1
        if progress:
            progress(done, total)
    for section in report.sections:
        _section(pdf, section, text)
        done += 1
        if progress:
            progress(done, total)
    if text.changed:
        pdf.ln(3)
        pdf.set_font(FONT, "I", 7)
        pdf.multi_cell(
            0, 4,
            "Some characters outside Latin-1 were transliterated in this PDF; the CSV, XLSX and JSON "
            "outputs of the same report carry the exact text.",
            new_x="LMARGIN", new_y="NEXT",
        )
    return bytes(pdf.output())


def _metadata(pdf: FPDF, report: Report, text: _Text) -> None:
    pdf.set_font(FONT, size=8)
    with pdf.table(
        col_widths=(45, CONTENT_W - 45), width=CONTENT_W, text_align="LEFT", line_height=4,
        first_row_as_headings=False, borders_layout="HORIZONTAL_LINES", padding=0.8,
    ) as table:
        for key, value in report.metadata.items():
            row = table.row()
            row.cell(text(field_title(key)), style=FontFace(emphasis="BOLD"))
            row.cell(text(cell_text(value)) or "-")
    pdf.ln(3)


def _columns(section: Section) -> list[int]:
    """Indices of the columns the PDF shows: all when they fit, else the brief ones."""
    if len(section.columns) <= 9:
        return list(range(len(section.columns)))
    return [i for i, c in enumerate(section.columns) if c.brief]


def _widths(pdf: FPDF, columns: list[Column], rows: list[list[str]]) -> list[float]:
    """Each column at least as wide as its longest word (so ids are not split), the rest of
    the page shared by how much text each column holds."""
    pad = 2.2
    least, want = [], []
    for i, column in enumerate(columns):
        cells = [r[i] for r in rows] + [column.title]
        words = [w for c in cells for w in c.split()] or [""]
        least.append(min(max(pdf.get_string_width(w) for w in words) + pad, 45))
        longest = max(pdf.get_string_width(c) for c in cells) + pad
        want.append(max(least[-1], min(longest, 90)))
    if sum(least) >= CONTENT_W:
        return [w * CONTENT_W / sum(least) for w in least]
    if sum(want) <= CONTENT_W:
        return [w * CONTENT_W / sum(want) for w in want]
    spare = CONTENT_W - sum(least)
    extra = [w - m for w, m in zip(want, least, strict=True)]
    return [m + spare * e / sum(extra) for m, e in zip(least, extra, strict=True)]


def _section(pdf: FPDF, section: Section, text: _Text) -> None:
    if pdf.get_y() > PAGE_H - 50:
        pdf.add_page()
    pdf.ln(2)
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(0, 6, text(section.title), new_x="LMARGIN", new_y="NEXT")
    if section.note:
        pdf.set_font(FONT, "I", 7.5)
        pdf.multi_cell(0, 3.6, text(section.note), new_x="LMARGIN", new_y="NEXT")
    shown = _columns(section)
    hidden = len(section.columns) - len(shown)
    if hidden:
        pdf.set_font(FONT, "I", 7)
        pdf.multi_cell(0, 3.5, f"{hidden} more column(s) in the CSV, XLSX and JSON outputs.", new_x="LMARGIN", new_y="NEXT")
    if not section.rows:
        pdf.set_font(FONT, "I", 8)
        pdf.multi_cell(0, 5, "No entries.", new_x="LMARGIN", new_y="NEXT")
        return
    columns = [section.columns[i] for i in shown]
    rows = [[_cut(text(cell_text(row[i]))) for i in shown] for row in section.rows]
    size = 6.5 if len(columns) > 8 else 7.5
    pdf.set_font(FONT, size=size)
    widths = _widths(pdf, columns, rows)
    with pdf.table(
        col_widths=widths, width=CONTENT_W, text_align="LEFT", line_height=size * 0.42,
        headings_style=FontFace(emphasis="BOLD", fill_color=(238, 241, 244)), padding=0.7, v_align="TOP",
    ) as table:
        head = table.row()
        for column in columns:
            head.cell(text(column.title))
        for values in rows:
            row = table.row()
            for value in values:
                row.cell(value)


def _cut(value: str) -> str:
    return value if len(value) <= MAX_CELL_CHARS else value[: MAX_CELL_CHARS - 20] + " ... (cut; see CSV)"


def _diagram_page(pdf: FPDF, diagram: Diagram, text: _Text) -> None:
    """A landscape page with the hops drawn as arrows between boxes, coloured by status."""
    pdf.add_page()
    pdf.set_font(FONT, "B", 11)
    pdf.cell(0, 6, "Flow diagram", new_x="LMARGIN", new_y="NEXT")
    _legend(pdf)
    placed = layout(diagram)
    top, bottom = 26.0, PAGE_H - 16
    area_h = bottom - top
    box_w = min(62.0, CONTENT_W / placed.columns * 0.66)
    box_h = min(11.0, area_h / placed.max_rows * 0.72)
    label_pt = max(3.5, min(7.0, box_h * 0.62))
    names = {n.id: n for n in diagram.nodes}

    def centre(node: str) -> tuple[float, float]:
        p = placed.nodes[node]
        return MARGIN + p.x * CONTENT_W, top + p.y * area_h

    edge_labels = len(diagram.edges) <= 60
    for edge in diagram.edges:
        (x1, y1), (x2, y2) = centre(edge.source), centre(edge.target)
        if x2 > x1:
            x1, x2 = x1 + box_w / 2, x2 - box_w / 2
        else:
            y1, y2 = y1 + box_h / 2, y2 + box_h / 2
        colour = STATUS_COLOURS.get(edge.status, STATUS_COLOURS["unknown"])
        pdf.set_draw_color(*colour)
        pdf.set_fill_color(*colour)
        pdf.set_line_width(0.3)
        if edge.flow in placed.back_edges or x2 <= x1:
            pdf.set_dash_pattern(dash=1.2, gap=0.8)
        pdf.line(x1, y1, x2, y2)
        pdf.set_dash_pattern()
        _arrow_head(pdf, x1, y1, x2, y2)
        if edge_labels:
            pdf.set_font(FONT, size=3.6)
            pdf.set_text_color(*colour)
            lx, ly = x1 + (x2 - x1) * 0.55, y1 + (y2 - y1) * 0.55
            pdf.text(lx, ly - 0.6, text(edge.flow))
            pdf.set_text_color(0)
    pdf.set_draw_color(120)
    pdf.set_line_width(0.2)
    for node_id in placed.nodes:
        node = names[node_id]
        cx, cy = centre(node_id)
        pdf.set_fill_color(*KIND_FILLS.get(node.kind, (245, 245, 245)))
        pdf.rect(cx - box_w / 2, cy - box_h / 2, box_w, box_h, style="DF", round_corners=True, corner_radius=1)
        pdf.set_font(FONT, "B", label_pt)
        pdf.text(cx - box_w / 2 + 1, cy - box_h * 0.08, _fit(pdf, text(node.label), box_w - 2))
        pdf.set_font(FONT, size=label_pt * 0.8)
        where = f"{node.id} ({node.countries or 'location unknown'})"
        pdf.text(cx - box_w / 2 + 1, cy + box_h * 0.32, _fit(pdf, text(where), box_w - 2))
    pdf.set_draw_color(0)
    pdf.set_fill_color(255)
    # Drawing does not move the cursor: the tables start on a page of their own.
    pdf.add_page()


def _legend(pdf: FPDF) -> None:
    pdf.set_font(FONT, size=7)
    x, y = MARGIN, pdf.get_y() + 1
    for status, colour in STATUS_COLOURS.items():
        pdf.set_fill_color(*colour)
        pdf.rect(x, y, 3, 3, style="F")
        pdf.text(x + 4, y + 2.6, status)
        x += 6 + pdf.get_string_width(status) + 4
    pdf.text(x + 2, y + 2.6, "dashed: hop against the main direction (data comes back)")
    pdf.set_fill_color(255)


def _arrow_head(pdf: FPDF, x1: float, y1: float, x2: float, y2: float, size: float = 1.6) -> None:
    angle = math.atan2(y2 - y1, x2 - x1)
    left = (x2 - size * math.cos(angle - 0.4), y2 - size * math.sin(angle - 0.4))
    right = (x2 - size * math.cos(angle + 0.4), y2 - size * math.sin(angle + 0.4))
    pdf.polygon([(x2, y2), left, right], style="F")


def _fit(pdf: FPDF, value: str, width: float) -> str:
    if pdf.get_string_width(value) <= width:
        return value
    while value and pdf.get_string_width(value + "...") > width:
        value = value[:-1]
    return value + "..."
