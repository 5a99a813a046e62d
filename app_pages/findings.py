"""Findings: what is wrong on the as-of date, with the evidence and the fix."""

from __future__ import annotations

from collections import Counter
from datetime import date

import streamlit as st

from app_pages import _common as c
from app_pages import _contracts, _heap
from app_pages._dates import compare_link
from app_pages._hops import evidence_text
from lineage.findings import Finding
from lineage.record_findings import RULES

PAGE_SIZE = 20


@st.cache_resource(max_entries=8, show_spinner=False)
def _involved(_snap: c.Snapshot, key: str, rev_hash: str, day: date) -> dict[str, frozenset[str]]:
    """Finding id -> the organisations it is about: its node, its flow's ends, its evidence."""
    rg = _snap.graph()
    out: dict[str, frozenset[str]] = {}
    for f in _snap.findings():
        nodes = [f.node] if f.node else []
        if f.flow and f.flow in rg.flows:
            nodes += [rg.flows[f.flow].from_, rg.flows[f.flow].to]
        nodes += [e for e in f.evidence if e in rg.graph]
        parties = {p.id for p in (rg.organisation(n) for n in nodes if n in rg.graph) if p is not None}
        out[f.id] = frozenset(parties)
    _heap.freeze()
    return out


def filters(snap: c.Snapshot, findings: list[Finding], involved: dict[str, frozenset[str]]) -> list[Finding]:
    reg = snap.registry()
    severities = ["high", "medium", "low"]
    # the record's rules are always offered, so "none of these" is visible too
    rules = sorted({f.rule for f in findings} | set(RULES), key=lambda r: c.rule_word(r, reg))
    parties = sorted({p for ps in involved.values() for p in ps}, key=lambda p: snap.name(p).lower())
    left, middle, right = st.columns(3)
    chosen_sev = left.multiselect("Severity", severities, default=severities, key="fd_severity",
                                  format_func=c.SEVERITY_WORDS.__getitem__)
    chosen_rules = middle.multiselect("Check", rules, key="fd_rules", placeholder="every check",
                                      format_func=lambda r: c.rule_word(r, reg))
    party = right.selectbox("Party", [None, *parties], key="fd_party",
                            format_func=lambda p: "every party" if p is None else snap.node_label(p))
    record_rules = _contracts.record_rule_filter("fd_record")
    return [
        f for f in findings
        if f.severity.value in chosen_sev and (not chosen_rules or f.rule in chosen_rules)
        and (party is None or party in involved.get(f.id, ()))
        and (record_rules is None or f.rule in record_rules)
    ]


def evidence_cards(snap: c.Snapshot, shown: list[Finding]) -> None:
    reg = snap.registry()
    pages = (len(shown) + PAGE_SIZE - 1) // PAGE_SIZE
    page = st.number_input(f"Page (of {pages})", min_value=1, max_value=max(pages, 1), value=1,
                           key=f"fd_page_{len(shown)}") if pages > 1 else 1
    for f in shown[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]:
        with st.container(border=True):
            head, badge = st.columns([6, 1])
            head.text(f.title)
            colour = {"high": "red", "medium": "orange", "low": "gray"}[f.severity.value]
            badge.badge(c.SEVERITY_WORDS[f.severity.value], color=colour)
            st.text(f.message)
            fix_col, evidence_col = st.columns([3, 2])
            with fix_col:
                st.caption("Fix")
                st.text(f.fix)
            with evidence_col:
                st.caption("Evidence · " + c.literal(c.rule_word(f.rule, reg))
                           + (" · " + c.literal(snap.regime(f.regime)) if f.regime else ""))
                st.text("\n".join(evidence_text(snap, e) for e in f.evidence) or snap.name(f.node or f.flow or ""))


def main() -> None:
    snap = c.snapshot()
    findings = snap.findings()
    c.page_header("Findings", "Uncovered or invalid transfers, broken promises, missing notices and locations", snap)
    involved = _involved(snap, snap.key, snap.head.hash, snap.day)
    shown = filters(snap, findings, involved)
    counts = Counter(f.severity.value for f in shown)
    row = st.columns(4)
    row[0].metric("Findings shown", f"{len(shown):,}")
    row[1].metric("High", f"{counts.get('high', 0):,}")
    row[2].metric("Medium", f"{counts.get('medium', 0):,}")
    row[3].metric("Low", f"{counts.get('low', 0):,}")
    compare_link("fd")
    if not shown:
        st.success("No finding matches these filters on this date.")
        st.stop()
    c.table(c.finding_rows(c.paged(shown, "fd_table_page", noun="findings"), snap), severity=["severity"],
            key="fd_table", column_config=c.FINDING_COLUMNS, row_height=c.FINDING_ROW_HEIGHT)
    st.subheader("Evidence and fixes")
    evidence_cards(snap, shown)


main()
