"""Overview: the registry at a glance on the as-of date."""

from __future__ import annotations

from collections import Counter

import streamlit as st

from app_pages import _charts
from app_pages import _common as c
from lineage.aggregate import problems_first

snap = c.snapshot()
reg = snap.registry()
hops = snap.hops()
findings = snap.findings()
c.page_header("Overview", "The registry at a glance", snap)

st.text(reg.organization)
transfers = [h for h in hops if not h.collection]
crossings = [h for h in transfers if h.crosses_border]
severity = Counter(f.severity.value for f in findings)

row = st.columns(6)
row[0].metric("Data categories", f"{len(reg.categories):,}")
row[1].metric("Subject groups", f"{len(reg.subjects):,}")
row[2].metric("Systems", f"{len(reg.systems):,}")
row[3].metric("Parties", f"{len(reg.parties):,}")
row[4].metric("Active hops", f"{len(hops):,}", help="Flows active on the as-of date, collection included.")
row[5].metric("Border crossings", f"{len(crossings):,}", help="Hops whose ends are in different countries.")

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("Hop statuses")
    st.caption("Every active hop, by the worst status of the regimes its data carries.")
    statuses = Counter(h.status.value for h in hops)
    st.plotly_chart(_charts.status_bar(statuses), width="stretch", config={"displayModeBar": False})
    problems = problems_first(h for h in hops if h.status.is_problem)
    if not problems:
        st.success("No hop is invalid, uncovered or of unknown location on this date.")
with right:
    st.subheader("Findings")
    f_cols = st.columns(3)
    f_cols[0].metric("High", f"{severity.get('high', 0):,}")
    f_cols[1].metric("Medium", f"{severity.get('medium', 0):,}")
    f_cols[2].metric("Low", f"{severity.get('low', 0):,}")
    by_rule = Counter((f.severity.value, f.rule) for f in findings)
    if by_rule:
        rank = {"high": 0, "medium": 1, "low": 2}
        c.table([{"severity": c.SEVERITY_WORDS[s], "check": c.rule_word(r, reg), "count": n}
                 for (s, r), n in sorted(by_rule.items(), key=lambda x: (rank[x[0][0]], -x[1]))],
                severity=["severity"], row_height=c.FINDING_ROW_HEIGHT, height=min(len(by_rule), 8) * 66 + 40,
                column_config={"severity": st.column_config.TextColumn(width=72),
                               "check": st.column_config.TextColumn(width=210),
                               "count": st.column_config.NumberColumn(width=60)})
    st.page_link("app_pages/findings.py", label="Open findings", icon=":material/arrow_forward:")

if problems:
    st.subheader("Hops that need attention")
    st.caption(f"{len(problems):,} hop(s) are INVALID, UNCOVERED or of unknown location"
               + (": the first 20, most urgent first." if len(problems) > 20 else "."))
    c.table(c.hop_rows(snap, problems[:20]), status=["status"], row_height=76, column_config=c.HOP_COLUMNS,
            height=min(len(problems), 6) * 76 + 40)
    st.page_link("app_pages/flow_explorer.py", label="Every hop, by category: Flow explorer",
                 icon=":material/arrow_forward:")

left, right = st.columns([3, 2], gap="large")
with left:
    st.subheader("Parties by kind")
    kinds = Counter(p.kind.value for p in reg.parties)
    c.table([{"kind": c.KIND_TITLES.get(k, k), "parties": n} for k, n in kinds.most_common()])
with right:
    st.subheader("Registry revision")
    st.caption("Pinned for every answer on this page; reports carry the same hash.")
    head = snap.head
    c.table([
        {"field": "revision", "value": str(head.number)},
        {"field": "written", "value": f"{head.created_at:%Y-%m-%d %H:%M} UTC"},
        {"field": "author", "value": head.author},
        {"field": "message", "value": head.message},
        {"field": "legal knowledge", "value": snap.fr.law.data.version.isoformat()},
    ])
    st.code(head.hash, language=None, wrap_lines=True)
