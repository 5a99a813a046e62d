"""Flow explorer: where one category of data goes, and whether every hop is covered.

The chart aggregates (groups per step, an "other" node, a depth limit) so it stays legible at
any size; the groups table and the graph drill down to a group's hops; the hops table, problems
first, is the answer, and a click on a hop shows its details.
"""

from __future__ import annotations

from collections import Counter

import streamlit as st

from app_pages import _common as c
from app_pages import _explorer as ex
from app_pages._dates import compare_link
from app_pages._hops import hops_section
from lineage.status import HopStatus
from registry.model import Registry

GRAPH_KEY = "fx_graph"


def pick_view(snap: c.Snapshot, reg: Registry) -> tuple[str, str | None, bool]:
    categories = c.category_options(reg)
    if not categories:
        st.info("The registry has no data categories yet.")
        st.stop()
    roots = [cid for cid in categories if "." not in cid]
    left, right = st.columns([3, 2])
    category = left.selectbox(
        "Data category", categories, index=categories.index(roots[0]) if roots else 0, key="fx_category",
        format_func=lambda cid: c.tree_label(snap, cid),
        help="A category carries its parts: picking a parent shows the flows of all its children too.",
    )
    # Only where this category's data can start from: subject groups and the senders of its hops.
    senders = dict.fromkeys(h.source for h in snap.flows(category))
    starts = [None, *sorted(senders, key=lambda n: (_kind_rank(snap, n), snap.name(n).lower()))]
    if st.session_state.get("fx_start") not in starts:
        st.session_state["fx_start"] = None
    start = right.selectbox(
        "Start from", starts, key="fx_start",
        format_func=lambda n: "every origin" if n is None else f"{_kind_word(snap, n)} · {snap.name(n)}",
        help="Only the hops reachable from this subject group, system or party.",
    )
    collection = st.toggle("Include collection from data subjects", value=True, key="fx_collection")
    return category, start, collection


def _kind_rank(snap: c.Snapshot, node: str) -> int:
    return {"subject": 0, "party": 1, "system": 2}.get(snap.graph().node_kind(node) or "", 3)


def _kind_word(snap: c.Snapshot, node: str) -> str:
    return {"subject": "Subject group", "party": "Party", "system": "System"}.get(snap.graph().node_kind(node) or "", "")


def metrics(snap: c.Snapshot, hops: list[HopStatus]) -> None:
    statuses = Counter(h.status.value for h in hops)
    recipients = {h.recipient for h in hops if h.recipient}
    row = st.columns(4)
    row[0].metric("Hops", f"{len(hops):,}")
    row[1].metric("Recipient organisations", f"{len(recipients):,}")
    row[2].metric("Border crossings", f"{sum(1 for h in hops if h.crosses_border):,}")
    row[3].metric("Need attention", f"{sum(n for s, n in statuses.items() if s in ('invalid', 'uncovered', 'unknown')):,}",
                  help="INVALID, UNCOVERED or unknown hops.")


def main() -> None:
    snap = c.snapshot()
    reg = snap.registry()
    c.page_header("Flow explorer", "Where a category of personal data goes, and which safeguard covers each hop", snap)
    category, start, collection = pick_view(snap, reg)
    chart_kind, by, top, depth = ex.grouping_controls()
    view = ex.View(category, start, collection, by, top, depth)
    hops, agg = ex.view_hops(snap, view)
    if not hops:
        st.info("No active flow carries this category on this date (from this start).")
        st.stop()
    metrics(snap, hops)

    texts = [ex.node_text(snap, by, node, depth) for node in agg.nodes]
    picked = ex.drill(snap, view, agg, GRAPH_KEY)
    ex.chart(snap, view, agg, texts, chart_kind, picked, GRAPH_KEY)
    st.subheader("Groups")
    st.caption("Click a group to list its hops below.")
    ex.groups_table(agg, texts)
    compare_link("fx", category)

    drilled = ex.drilled_flows(agg, picked)
    if drilled is None:
        st.subheader("Hops")
        shown = hops
    else:
        names = " → ".join(texts[i].label for i in sorted(picked))
        st.subheader("Hops of the picked group")
        st.text(names)
        wanted = set(drilled)
        shown = [h for h in hops if h.flow in wanted]
    hops_section(snap, shown, "fx_hops", scope=f"{snap.key}|{view.signature(snap)}|{sorted(picked)}")


main()
