"""The flow explorer's aggregated chart: the grouping controls, the cached aggregate, the words
on each node, the Sankey or graph with its legend, the table of groups and the drill-down.

Drill-down: clicking a row of the groups table (or tapping a node or a band's edge in the
graph) picks a group; the hops table below then lists that group's individual hops, and a click
on one of them opens its details: any single hop in two clicks. The pick belongs to one view
(revision, date, category, start, grouping), so changing any of them clears it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

import streamlit as st
from st_link_analysis import st_link_analysis
from st_link_analysis.component.events import Event

from app_pages import _charts, _heap
from app_pages import _common as c
from app_pages._hops import clear_selection, selected_row
from lineage.aggregate import (
    ENTRY,
    PROBLEM_ORDER,
    SUBJECTS,
    UNKNOWN,
    Aggregate,
    GroupBy,
    Node,
    aggregate_by,
)
from lineage.status import HopStatus

GROUP_WORDS: dict[str, str] = {
    "organisation": "Recipient organisation",
    "kind": "Party kind",
    "country": "Country",
    "status": "Status of the hop",
}
NODE_WORDS = {
    "organisation": "an organisation or a group of data subjects, at one step",
    "kind": "the organisations of one kind at one step",
    "country": "the organisations in one country at one step",
    "status": "where the data enters; other nodes have the colour of their status",
}
PLURAL = {"organisation": "organisations", "kind": "kinds", "country": "countries", "status": "statuses"}
DRILL_KEY = "fx_drill"
GROUPS_KEY = "fx_groups"
TAP_SEEN_KEY = "fx_tap_seen"


@dataclass(frozen=True)
class View:
    """What the chart shows; its `signature` names one view for the drill-down state."""

    category: str
    start: str | None
    collection: bool
    by: GroupBy
    top: int
    depth: int

    def signature(self, snap: c.Snapshot) -> str:
        return "|".join(map(str, (snap.head.hash, snap.day, self.category, self.start, self.collection,
                                  self.by, self.top, self.depth)))


@st.cache_resource(max_entries=32, show_spinner=False)
def _aggregate(_snap: c.Snapshot, key: str, rev_hash: str, day: date, category: str, start: str | None,
               collection: bool, by: GroupBy, top: int, depth: int) -> tuple[list[HopStatus], Aggregate]:
    hops = [h for h in _snap.flows(category, start) if collection or not h.collection]
    out = hops, aggregate_by(_snap.graph(), hops, by, top=top, depth=depth)
    _heap.freeze()
    return out


def view_hops(snap: c.Snapshot, view: View) -> tuple[list[HopStatus], Aggregate]:
    """The view's hops and their aggregate, computed once per revision, date and view for every
    session."""
    return _aggregate(snap, snap.key, snap.head.hash, snap.day, view.category, view.start, view.collection,
                      view.by, view.top, view.depth)


def grouping_controls() -> tuple[str, GroupBy, int, int]:
    """Chart kind, grouping, groups per step and depth."""
    cols = st.columns([2, 2, 2, 2], vertical_alignment="bottom")
    chart = cols[0].segmented_control("Chart", ["Sankey", "Graph"], default="Sankey", key="fx_view",
                                      required=True)
    by = cols[1].selectbox("Group by", list(GROUP_WORDS), key="fx_by", format_func=GROUP_WORDS.__getitem__,
                           help="Recipients grouped at each step along the way the data takes.")
    top = cols[2].slider("Groups per step", 3, 15, 8, key="fx_top",
                         help="The groups with the most problem hops, then the most hops; the rest "
                              "are one 'other' node.")
    depth = cols[3].slider("Steps shown", 1, 6, 3, key="fx_depth",
                           help="Hops further from where the data enters are one 'further on' node.")
    return chart or "Sankey", by, top, depth


# --- words on the nodes ------------------------------------------------------------------------
def group_name(snap: c.Snapshot, by: GroupBy, key: str) -> str:
    if by == "organisation":
        return snap.node_label(key)
    if by == "kind":
        return "Data subjects" if key == SUBJECTS else c.KIND_TITLES.get(key, key)
    if by == "country":
        return "Location unknown" if key == UNKNOWN else (c.country_name(key) if "," not in key else key)
    return "Where the data enters" if key == ENTRY else f"Reached by {c.status_word(key)} hops"


def node_text(snap: c.Snapshot, by: GroupBy, node: Node, depth: int) -> _charts.NodeText:
    if node.bucket == "further":
        label = f"Further on: {len(node.units):,} recipients"
        where = f"hops leaving recipients more than {depth} steps from where the data enters"
    elif node.bucket == "other":
        label = f"{len(node.groups):,} other {PLURAL[by]}"
        where = "; ".join(_charts.short(group_name(snap, by, g), 40) for g in node.groups[:6])
        where += "…" if len(node.groups) > 6 else ""
    else:
        label = group_name(snap, by, node.key or "")
        where = f"{len(node.units):,} organisation{'s' if len(node.units) != 1 else ''}" \
            if by != "organisation" else ""
        if node.returning:
            label = "↩ " + label
            where = (where + "; " if where else "") + "reached again: the data comes back here"
    counts = " · ".join(f"{node.statuses[s.value]:,} {c.status_word(s)}" for s in PROBLEM_ORDER
                        if node.statuses.get(s.value))
    hover = f"{label} (step {node.column})<br>{len(node.flows):,} hops: {counts}" + (f"<br>{where}" if where else "")
    if node.bucket != "group":
        colour = _charts.BUCKET_COLOUR
    elif by == "status" and node.key in c.STATUS_COLOURS:
        colour = c.STATUS_COLOURS[node.key]
    else:
        colour = _charts.NODE_COLOUR
    return _charts.NodeText(label, hover, colour, label)


# --- the drill-down state -----------------------------------------------------------------------
def drill(snap: c.Snapshot, view: View, agg: Aggregate, graph_key: str) -> frozenset[int]:
    """The nodes picked for drill-down (none, one node, or a link's two ends), from the groups
    table and the graph, whichever changed last; cleared when the view changes."""
    signature = view.signature(snap)
    state = st.session_state.get(DRILL_KEY)
    if not isinstance(state, dict) or state.get("sig") != signature:
        state = {"sig": signature, "nodes": (), "row": None}
        clear_selection(GROUPS_KEY)
        st.session_state[DRILL_KEY] = state
        return frozenset()
    row = selected_row(GROUPS_KEY)
    if row != state.get("row"):
        state["row"] = row
        state["nodes"] = (row,) if row is not None and row < len(agg.nodes) else ()
    tap = st.session_state.get(graph_key)
    if isinstance(tap, dict) and tap.get("timestamp") != st.session_state.get(TAP_SEEN_KEY):
        st.session_state[TAP_SEEN_KEY] = tap.get("timestamp")
        state["nodes"] = _tapped(tap, len(agg.nodes))
    return frozenset(state["nodes"])


def _tapped(event: dict[str, Any], count: int) -> tuple[int, ...]:
    target = str((event.get("data") or {}).get("target_id") or "")
    try:
        if target.startswith("g"):
            picked = (int(target[1:]),)
        elif target.startswith("l"):
            source, _, end = target[1:].partition("-")
            picked = (int(source), int(end))
        else:
            return ()
    except ValueError:
        return ()
    return picked if all(0 <= i < count for i in picked) else ()


def drilled_flows(agg: Aggregate, picked: frozenset[int]) -> tuple[str, ...] | None:
    """The hops of the picked group (or of the band between two picked groups)."""
    if not picked:
        return None
    if len(picked) == 2:
        a, b = sorted(picked)
        return agg.link_flows(a, b) or agg.link_flows(b, a)
    return agg.nodes[next(iter(picked))].flows


# --- the chart and the groups table --------------------------------------------------------------
def chart(snap: c.Snapshot, view: View, agg: Aggregate, texts: list[_charts.NodeText], kind: str,
          picked: frozenset[int], graph_key: str) -> None:
    statuses = {link.status.value for link in agg.links}
    node_keys = [(_charts.NODE_COLOUR, NODE_WORDS[view.by])]
    if view.by == "status":
        statuses |= {n.key for n in agg.nodes if n.key in c.STATUS_COLOURS}
    if any(n.bucket != "group" for n in agg.nodes):
        node_keys.append((_charts.BUCKET_COLOUR, "other groups / further on"))
    if picked:
        node_keys.append((_charts.FOCUS_COLOUR, "picked for drill-down (its hops are listed below)"))
    st.html(_charts.legend(statuses, node_keys))
    if kind == "Sankey":
        st.plotly_chart(_charts.sankey(agg, texts, picked, headers(agg, view)), width="stretch",
                        config={"displaylogo": False, "modeBarButtonsToRemove": ["select2d", "lasso2d"]})
    else:
        elements, node_styles, edge_styles = _charts.graph_elements(agg, texts, picked)
        st_link_analysis(elements, layout=_charts.GRAPH_LAYOUT, node_styles=node_styles, edge_styles=edge_styles,
                         height=max(520, 110 * max(Counter(n.column for n in agg.nodes).values(), default=1)),
                         key=graph_key, events=[Event("tap", "tap", "node, edge")])
        st.caption("Tap a node or an edge to list its hops below; drag to rearrange, scroll to zoom. "
                   "Edge labels count hops; an edge has the colour of its most urgent status.")
    hidden = f" {agg.folded:,} smaller groups are folded into 'other'." if agg.folded else ""
    inside = f" {agg.internal:,} hops stay inside one organisation (not transfers) and are counted with it." \
        if agg.internal else ""
    st.caption(f"{len(agg.nodes)} groups for {agg.hops:,} hops, by step from where the data enters."
               + hidden + inside)


def headers(agg: Aggregate, view: View) -> list[str]:
    """Column titles: where the data enters, each step, and what lies further on."""
    out = ["Where the data enters"] + [f"Step {i}" for i in range(1, view.depth + 1)]
    further = next((n for n in agg.nodes if n.bucket == "further"), None)
    if further is not None:
        out.append(f"Further on: {len(further.flows):,} hops, {len(further.units):,} recipients")
    return out


def groups_table(agg: Aggregate, texts: list[_charts.NodeText]) -> None:
    rows = []
    for node, text in zip(agg.nodes, texts, strict=True):
        rows.append({
            "step": node.column,
            "group": text.full,
            "hops": len(node.flows),
            "need attention": node.problems,
            "statuses": " · ".join(f"{node.statuses[s.value]:,} {c.status_word(s)}" for s in PROBLEM_ORDER
                                   if node.statuses.get(s.value)),
        })
    c.table(rows, key=GROUPS_KEY, on_select="rerun", selection_mode=["single-row", "single-cell"],
            height=min(len(rows), 10) * 35 + 40,
            column_config={"step": st.column_config.NumberColumn(width=60),
                           "group": st.column_config.TextColumn(width="large"),
                           "hops": st.column_config.NumberColumn(width=80),
                           "need attention": st.column_config.NumberColumn(width=120),
                           "statuses": st.column_config.TextColumn(width="large")})
