"""Layout of a flow diagram: nodes in columns by how far the data has travelled, hops as arrows.

Pure geometry in a unit square, so the PDF and the HTML (SVG) draw the same picture. Columns are
longest-path layers over the hops with cycles broken (a carrier that sends data back to the
platform would otherwise make the layering loop); within a column nodes are ordered by the mean
position of their senders, which keeps most arrows short and uncrossed. Everything is ordered by
ids on ties, so the same diagram always gets the same layout.
"""

from __future__ import annotations

from dataclasses import dataclass

from lineage.reports.model import Diagram

STATUS_COLOURS = {
    "not_required": (120, 144, 156),
    "adequate": (46, 125, 50),
    "covered": (21, 101, 192),
    "derogation": (239, 108, 0),
    "invalid": (198, 40, 40),
    "uncovered": (183, 28, 28),
    "unknown": (106, 27, 154),
}
# Beyond this many boxes a page-sized drawing is unreadable; the renderers say so and point to
# `flowreg export-graph` (Gephi, yEd) instead.
MAX_NODES = 120
KIND_FILLS = {"subject": (255, 248, 225), "system": (232, 240, 254), "party": (237, 247, 237)}


@dataclass(frozen=True)
class Placed:
    """A node's place: column and row (0-based), and the centre in the unit square."""

    column: int
    row: int
    x: float
    y: float


@dataclass(frozen=True)
class Layout:
    """Where every node goes, plus the grid size (for box sizes)."""

    nodes: dict[str, Placed]
    columns: int
    max_rows: int
    back_edges: frozenset[str]


def layout(diagram: Diagram) -> Layout:
    """Place every node of `diagram`; `back_edges` are the flow ids drawn against the direction."""
    ids = [n.id for n in diagram.nodes]
    out_edges: dict[str, list[tuple[str, str]]] = {i: [] for i in ids}
    for e in sorted(diagram.edges, key=lambda e: (e.source, e.target, e.flow)):
        out_edges[e.source].append((e.target, e.flow))
    back = _back_edges(ids, out_edges, {e.target for e in diagram.edges})
    layer = _layers(ids, out_edges, back)
    columns: dict[int, list[str]] = {}
    for node in ids:
        columns.setdefault(layer[node], []).append(node)
    senders: dict[str, list[str]] = {i: [] for i in ids}
    for e in diagram.edges:
        if e.flow not in back:
            senders[e.target].append(e.source)
    position: dict[str, float] = {}
    for col in sorted(columns):
        members = columns[col]
        if col == 0:
            members.sort(key=lambda n: (_kind_rank(diagram, n), n))
        else:
            members.sort(key=lambda n: (_mean([position[s] for s in senders[n] if s in position]), n))
        for row, node in enumerate(members):
            position[node] = row / max(len(members) - 1, 1)
    n_cols = max(columns) + 1 if columns else 1
    max_rows = max((len(m) for m in columns.values()), default=1)
    placed = {}
    for col, members in columns.items():
        for row, node in enumerate(members):
            x = (col + 0.5) / n_cols
            y = (row + 0.5) / len(members)
            placed[node] = Placed(col, row, x, y)
    return Layout(placed, n_cols, max_rows, frozenset(back))


def _kind_rank(diagram: Diagram, node: str) -> int:
    kind = next(n.kind for n in diagram.nodes if n.id == node)
    return {"subject": 0, "party": 1, "system": 2}.get(kind, 3)


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.5


def _back_edges(ids: list[str], out_edges: dict[str, list[tuple[str, str]]], targets: set[str]) -> set[str]:
    """Flow ids that close a cycle in a depth-first walk (starting from nodes nothing feeds)."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    back: set[str] = set()
    starts = [i for i in ids if i not in targets] + sorted(ids)
    for start in starts:
        if start in state:
            continue
        stack = [(start, iter(out_edges[start]))]
        state[start] = 1
        while stack:
            node, edges = stack[-1]
            step = next(edges, None)
            if step is None:
                state[node] = 2
                stack.pop()
                continue
            target, flow = step
            if state.get(target) == 1:
                back.add(flow)
            elif target not in state:
                state[target] = 1
                stack.append((target, iter(out_edges[target])))
    return back


def _layers(ids: list[str], out_edges: dict[str, list[tuple[str, str]]], back: set[str]) -> dict[str, int]:
    """Longest path from a source over forward edges (Kahn's order, so it terminates)."""
    indegree = {i: 0 for i in ids}
    for node in ids:
        for target, flow in out_edges[node]:
            if flow not in back and target != node:
                indegree[target] += 1
    layer = {i: 0 for i in ids}
    ready = sorted(i for i in ids if indegree[i] == 0)
    while ready:
        node = ready.pop(0)
        for target, flow in out_edges[node]:
            if flow in back or target == node:
                continue
            layer[target] = max(layer[target], layer[node] + 1)
            indegree[target] -= 1
            if indegree[target] == 0:
                ready.append(target)
                ready.sort()
    return layer
