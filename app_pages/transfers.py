"""Transfers: border crossings by regime, origin and destination; the transfer tools over time;
and what changes if one of them falls."""

from __future__ import annotations

from collections import Counter

import streamlit as st

from app_pages import _charts, _contracts
from app_pages import _common as c
from lineage.status import HopStatus, Status
from registry.errors import FlowregError
from registry.ids import FRAMEWORK_IDS, MechanismKind

snap = c.snapshot()
reg = snap.registry()
law = snap.fr.law
c.page_header("Transfers", "Border crossings, the tools they rely on, and what-if scenarios", snap)

crossings = [h for h in snap.hops() if h.crosses_border and not h.collection]
regimes = sorted({r for h in crossings for r in h.regimes})
regime = st.selectbox("Regime", [None, *regimes], key="tr_regime",
                      format_func=lambda r: "all regimes" if r is None else law.regime_name(r))


def status_of(h: HopStatus) -> Status:
    return h.regimes[regime].status if regime else h.status


shown = [h for h in crossings if regime is None or regime in h.regimes]
statuses = Counter(status_of(h).value for h in shown)
row = st.columns(4)
row[0].metric("Border crossings", len(shown))
row[1].metric("Adequate or no tool needed", statuses.get("adequate", 0) + statuses.get("not_required", 0))
row[2].metric("Covered by a tool or derogation", statuses.get("covered", 0) + statuses.get("derogation", 0))
row[3].metric("Invalid, uncovered or unknown",
              statuses.get("invalid", 0) + statuses.get("uncovered", 0) + statuses.get("unknown", 0))

tab_map, tab_time, tab_whatif = st.tabs(["Origin × destination", "Tools over time", "What if a tool falls?"])

with tab_map:
    pairs = [(o, d) for h in shown for o in (h.source_countries or ("?",)) for d in (h.target_countries or ("?",))]
    if pairs:
        st.plotly_chart(_charts.crossing_matrix(pairs), width="stretch", config={"displaylogo": False})
    rows = []
    for h in shown:
        verdict = h.regimes.get(regime) if regime else None
        rows.append({
            "status": c.status_word(status_of(h)), "flow": h.flow,
            "from": snap.node_label(h.source), "to": snap.node_label(h.target),
            "regimes": ", ".join(law.regime_name(r) for r in h.regimes),
            "relies on": c.joined(verdict.basis if verdict else h.basis),
            "reason": verdict.reason if verdict else h.reason,
        })
    c.table(rows, status=["status"], key="tr_crossings")
    _contracts.transfer_detail(snap, shown, "tr_detail")

with tab_time:
    st.caption("The organisation's own mechanisms, the frameworks and SCC versions its flows rely on. "
               "The dotted line is the as-of date.")
    claimed = {u for f in reg.flows for u in f.under} | {x.framework.value for p in reg.parties for x in p.certifications}
    claimed |= {b for h in crossings for b in h.basis}
    spans: list[_charts.Span] = []
    for m in reg.mechanisms:
        spans.append(_charts.Span(
            m.id, m.kind.value, m.valid_from, m.valid_until,
            f"{m.name or m.id} · {m.kind.value} · {law.regime_name(m.regime.value)} · members: {c.joined(m.members) or 'none'}"))
    for fid, fw in law.frameworks.items():
        if fid in claimed:
            spans.append(_charts.Span(fw.name, "framework", fw.valid_from, fw.valid_until,
                                      f"{law.regime_name(fw.regime)} → {fw.destination}; ended by {fw.ended_by or '(in force)'}"))
    versions = {(m.regime.value, m.version.value) for m in reg.mechanisms if m.kind is MechanismKind.SCC and m.version}
    for regime_id, version in sorted(versions):
        rule = law.scc_rule(regime_id, version)
        if rule:
            spans.append(_charts.Span(
                f"SCC {version} ({law.regime_name(regime_id)})", "scc version", rule.new_from, rule.valid_until,
                f"new contracts until {rule.new_until or 'open'}; valid until {rule.valid_until or 'open'}"))
    if spans:
        st.plotly_chart(_charts.timeline(spans, snap.day), width="stretch", config={"displaylogo": False})
    else:
        st.info("The registry relies on no transfer tool.")

with tab_whatif:
    st.caption("Invalidate a mechanism or a framework from a date, and see which hops and findings "
               "change on the as-of date. Nothing is stored.")
    tools = [m.id for m in reg.mechanisms] + sorted(FRAMEWORK_IDS)
    default_tool = "eu-us-privacy-shield" if "eu-us-privacy-shield" in tools else tools[0]
    with st.form("whatif"):
        left, middle, right = st.columns(3)
        tool = left.selectbox("Tool", tools, index=tools.index(default_tool), key="wi_tool",
                              format_func=lambda t: f"framework · {t}" if t in FRAMEWORK_IDS else f"mechanism · {t}")
        from_day = middle.date_input("Invalid from", value=snap.day, key="wi_from")
        day = right.date_input("Evaluated on", value=snap.day, key="wi_day")
        run = st.form_submit_button("Run what-if", type="primary")
    if run:
        try:
            st.session_state["wi_result"] = (snap.head.hash, snap.fr.what_if_invalidate(tool, from_day, day, rev=snap.rev))
        except FlowregError as exc:
            c.show_error(exc)
    stored = st.session_state.get("wi_result")
    if stored and stored[0] == snap.head.hash:
        result = stored[1]
        st.text(f"Scenario: {result.scenario}, evaluated on {result.day.isoformat()}")
        cols = st.columns(3)
        cols[0].metric("Hops that change", len(result.changed_hops))
        cols[1].metric("New findings", len(result.new_findings))
        cols[2].metric("Resolved findings", len(result.resolved_findings))
        if result.changed_hops:
            c.table([{"flow": h.flow, "before": c.status_word(h.before or "-"), "after": c.status_word(h.after or "-"),
                      "reason": h.reason} for h in result.changed_hops], status=["before", "after"], key="wi_hops")
        else:
            st.success("No hop changes status: nothing relies on this tool on that date.")
        if result.new_findings:
            st.caption("New findings")
            c.table(c.finding_rows(result.new_findings), severity=["severity"], key="wi_new")
        if result.resolved_findings:
            st.caption("Findings that go away")
            c.table(c.finding_rows(result.resolved_findings), severity=["severity"], key="wi_resolved")
