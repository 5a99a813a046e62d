"""Flow explorer: where one category of data goes, hop by hop, and what covers each hop."""

from __future__ import annotations

from collections import Counter

import streamlit as st
from st_link_analysis import st_link_analysis

from app_pages import _charts
from app_pages import _common as c

snap = c.snapshot()
reg = snap.registry()
c.page_header("Flow explorer", "Where a category of personal data goes, and which safeguard covers each hop", snap)

categories = c.category_options(reg)
if not categories:
    st.info("The registry has no data categories yet.")
    st.stop()
roots = [cid for cid in categories if "." not in cid]
starts = [None, *(s.id for s in reg.subjects), *(s.id for s in reg.systems), *(p.id for p in reg.parties)]
kind_of = {**{s.id: "Subject group" for s in reg.subjects}, **{s.id: "System" for s in reg.systems},
           **{p.id: "Party" for p in reg.parties}}

left, right = st.columns([3, 2])
category = left.selectbox(
    "Data category", categories, index=categories.index(roots[0]) if roots else 0, key="fx_category",
    format_func=lambda cid: c.tree_label(snap, cid),
    help="A category carries its parts: picking a parent shows the flows of all its children too.",
)
start = right.selectbox(
    "Start from", starts, key="fx_start",
    format_func=lambda n: "every origin" if n is None else f"{kind_of[n]} · {snap.name(n)}",
    help="Only the hops reachable from this subject group, system or party.",
)

collection = st.toggle("Include collection from data subjects", value=True, key="fx_collection")
hops = [h for h in snap.flows(category, start) if collection or not h.collection]
if not hops:
    st.info("No active flow carries this category on this date (from this start).")
    st.stop()

statuses = Counter(h.status.value for h in hops)
tools = Counter(b for h in hops for b in h.basis)
row = st.columns(4)
row[0].metric("Hops", len(hops))
row[1].metric("Recipients", len({snap.graph().organisation(h.target).id for h in hops
                                if snap.graph().organisation(h.target) is not None}))
row[2].metric("Border crossings", sum(1 for h in hops if h.crosses_border))
row[3].metric("Need attention", sum(n for s, n in statuses.items() if s in ("invalid", "uncovered", "unknown")))

view = st.radio("View", ["Sankey", "Interactive graph"], horizontal=True, key="fx_view",
                label_visibility="collapsed")
if view == "Sankey":
    st.plotly_chart(_charts.sankey(snap, hops), width="stretch", config={"displaylogo": False})
    st.caption("Bands are hops, coloured by status: "
               + " · ".join(f"{c.status_word(s)}" for s in c.STATUS_COLOURS if statuses.get(s)))
else:
    elements, node_styles, edge_styles = _charts.graph_elements(snap, hops)
    st_link_analysis(elements, layout=_charts.GRAPH_LAYOUT, node_styles=node_styles, edge_styles=edge_styles,
                     height=640, key=f"fx_graph_{snap.head.hash[:8]}_{category}_{start}")
    st.caption("Click a node or a hop for its details; drag to rearrange, scroll to zoom.")

st.subheader("Hops")
relied = st.multiselect(
    "Only hops relying on", sorted(tools), key="fx_relies",
    format_func=lambda t: f"{t} ({tools[t]} hops)",
    help="A mechanism, framework or adequacy decision, e.g. eu-us-privacy-shield.",
)
shown = [h for h in hops if not relied or set(relied) & set(h.basis)]
c.table(c.hop_rows(snap, shown), status=["status"], key="fx_hops",
        column_config={"reason": st.column_config.TextColumn(width="large")})

with st.expander("Transfer tools these hops rely on", expanded=bool(tools)):
    if tools:
        c.table([{"relied on": t, "hops": n, "flows": ", ".join(h.flow for h in hops if t in h.basis)}
                 for t, n in tools.most_common()])
    else:
        st.caption("None: no hop of this category needs or claims a transfer tool on this date.")
