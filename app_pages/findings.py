"""Findings: what is wrong on the as-of date, with the evidence and the fix."""

from __future__ import annotations

from collections import Counter

import streamlit as st

from app_pages import _common as c
from app_pages import _contracts
from lineage.findings import Finding
from lineage.record_findings import RULES

PAGE_SIZE = 20

snap = c.snapshot()
reg = snap.registry()
rg = snap.graph()
findings = snap.findings()
c.page_header("Findings", "Uncovered or invalid transfers, broken promises, missing notices and locations", snap)


def parties_of(f: Finding) -> set[str]:
    """The organisations a finding is about: its node, its flow's ends, its evidence."""
    out: set[str] = set()
    nodes = [f.node] if f.node else []
    if f.flow and f.flow in rg.flows:
        nodes += [rg.flows[f.flow].from_, rg.flows[f.flow].to]
    nodes += [e for e in f.evidence if e in rg.graph]
    for node in nodes:
        party = rg.organisation(node) if node in rg.graph else None
        if party is not None:
            out.add(party.id)
    return out


severities = ["high", "medium", "low"]
rules = sorted({f.rule for f in findings} | set(RULES))  # the record's rules are always offered
involved = sorted({p for f in findings for p in parties_of(f)}, key=snap.name)

left, middle, right = st.columns(3)
chosen_sev = left.multiselect("Severity", severities, default=severities, key="fd_severity")
chosen_rules = middle.multiselect("Rule", rules, key="fd_rules", placeholder="every rule")
party = right.selectbox("Party", [None, *involved], key="fd_party",
                        format_func=lambda p: "every party" if p is None else f"{snap.name(p)} · {p}")

record_rules = _contracts.record_rule_filter("fd_record")
shown = [
    f for f in findings
    if f.severity.value in chosen_sev and (not chosen_rules or f.rule in chosen_rules)
    and (party is None or party in parties_of(f)) and (record_rules is None or f.rule in record_rules)
]
counts = Counter(f.severity.value for f in shown)
row = st.columns(4)
row[0].metric("Findings shown", len(shown))
row[1].metric("High", counts.get("high", 0))
row[2].metric("Medium", counts.get("medium", 0))
row[3].metric("Low", counts.get("low", 0))

if not shown:
    st.success("No finding matches these filters on this date.")
    st.stop()

c.table(c.finding_rows(shown), severity=["severity"], key="fd_table",
        column_config={"title": st.column_config.TextColumn(width="large"), "fix": None})

st.subheader("Evidence and fixes")
pages = (len(shown) + PAGE_SIZE - 1) // PAGE_SIZE
page = st.number_input("Page", min_value=1, max_value=max(pages, 1), value=1, key=f"fd_page_{len(shown)}") if pages > 1 else 1
for f in shown[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]:
    with st.container(border=True):
        head, badge = st.columns([6, 1])
        head.text(f.title)
        colour = {"high": "red", "medium": "orange", "low": "gray"}[f.severity.value]
        badge.badge(f.severity.value, color=colour)
        st.text(f.message)
        fix_col, evidence_col = st.columns([3, 2])
        with fix_col:
            st.caption("Fix")
            st.text(f.fix)
        with evidence_col:
            st.caption("Evidence · rule " + c.literal(f.rule) + (" · regime " + c.literal(f.regime) if f.regime else ""))
            st.code("\n".join(f.evidence) or (f.node or f.flow or ""), language=None)
