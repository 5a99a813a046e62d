"""Transfers: border crossings by regime, origin and destination; the transfer tools over time;
and what changes if one of them falls."""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from datetime import date

import streamlit as st

from app_pages import _charts, _heap
from app_pages import _common as c
from app_pages._dates import compare_link
from app_pages._hops import hops_section
from lineage.aggregate import severity_rank
from lineage.status import HopStatus
from lineage.whatif import WhatIf
from registry.errors import FlowregError
from registry.ids import FRAMEWORK_IDS, MechanismKind
from registry.model import Mechanism

MANY_TOOLS = 25  # above this, contracts are drawn as one bar per kind, version and regime
CONTRACTS = ("scc", "idta", "uk-addendum", "ad-hoc")

snap = c.snapshot()
reg = snap.registry()
law = snap.fr.law
c.page_header("Transfers", "Border crossings, the tools they rely on, and what-if scenarios", snap)

def regime_view(h: HopStatus, regime: str) -> HopStatus:
    """The hop as one regime judges it: that regime's status, reason and basis."""
    verdict = h.regimes[regime]
    return dataclasses.replace(h, status=verdict.status, reason=verdict.reason, regimes={regime: verdict})


@dataclasses.dataclass(frozen=True)
class Crossings:
    """The border crossings of one date (as one regime judges them, or overall)."""

    hops: list[HopStatus]
    statuses: Counter[str]
    pairs: Counter[tuple[str, str]]
    regimes: list[str]


@st.cache_resource(max_entries=16, show_spinner=False)
def _crossings(_snap: c.Snapshot, key: str, rev_hash: str, day: date, regime: str | None) -> Crossings:
    every = [h for h in _snap.hops() if h.crosses_border and not h.collection]
    hops = every if regime is None else [regime_view(h, regime) for h in every if regime in h.regimes]
    pairs = Counter((o, d) for h in hops for o in (h.source_countries or ("?",)) for d in (h.target_countries or ("?",)))
    out = Crossings(hops, Counter(h.status.value for h in hops), pairs, sorted({r for h in every for r in h.regimes}))
    _heap.freeze()
    return out


overall = _crossings(snap, snap.key, snap.head.hash, snap.day, None)
regimes = overall.regimes
regime = st.selectbox("Regime", [None, *regimes], key="tr_regime",
                      format_func=lambda r: "all regimes" if r is None else law.regime_name(r, snap.day))
compare_link("tr")
view = _crossings(snap, snap.key, snap.head.hash, snap.day, regime)
crossings, shown, statuses = overall.hops, view.hops, view.statuses
row = st.columns(4)
row[0].metric("Border crossings", f"{len(shown):,}")
row[1].metric("Adequate or no tool needed", f"{statuses.get('adequate', 0) + statuses.get('not_required', 0):,}")
row[2].metric("Covered by a tool or derogation", f"{statuses.get('covered', 0) + statuses.get('derogation', 0):,}")
row[3].metric("Invalid, uncovered or unknown",
              f"{statuses.get('invalid', 0) + statuses.get('uncovered', 0) + statuses.get('unknown', 0):,}")

tab_map, tab_time, tab_whatif = st.tabs(["Origin × destination", "Tools over time", "What if a tool falls?"])

with tab_map:
    if view.pairs:
        st.plotly_chart(_charts.crossing_matrix(view.pairs), width="stretch", config={"displaylogo": False})
    st.caption("Every border crossing on the as-of date" + (f", judged for {law.regime_name(regime, snap.day)}" if regime else "")
               + ". Filter by status, regime, recipient kind or tool; click a hop for its details.")
    hops_section(snap, shown, "tr_hops",
                 noun="border crossings", scope=f"{snap.key}|{snap.head.hash}|{snap.day}|crossings|{regime}")

@st.cache_resource(max_entries=16, show_spinner=False)
def _what_if(_snap: c.Snapshot, key: str, rev_hash: str, tool: str, from_day: date, day: date) -> WhatIf:
    """A scenario's answer, computed once per revision for every session that asks it."""
    out = _snap.fr.what_if_invalidate(tool, from_day, day, rev=_snap.rev)
    _heap.freeze()
    return out


@st.cache_resource(max_entries=8, show_spinner=False)
def _tool_spans(_snap: c.Snapshot, key: str, rev_hash: str, day: date) -> list[_charts.Span]:
    return tool_spans()


def tool_spans() -> list[_charts.Span]:
    """The bars of the timeline: each of the organisation's own mechanisms (contracts grouped
    by kind, version and regime when there are many), the frameworks relied on and the SCC
    versions' lifetimes."""
    claimed = {u for f in reg.flows for u in f.under} | {x.framework.value for p in reg.parties for x in p.certifications}
    claimed |= {b for h in crossings for b in h.basis}
    spans: list[_charts.Span] = []
    contracts: dict[tuple[str, str, str], list[Mechanism]] = defaultdict(list)
    for m in reg.mechanisms:
        if len(reg.mechanisms) > MANY_TOOLS and m.kind.value in CONTRACTS:
            contracts[(m.kind.value, m.version.value if m.version else "", m.regime.value)].append(m)
            continue
        spans.append(_charts.Span(
            snap.tool(m.id), m.kind.value, m.valid_from, m.valid_until,
            f"{c.MECHANISM_WORDS.get(m.kind.value, m.kind.value)} · {law.regime_name(m.regime.value)} · "
            f"between {'; '.join(snap.name(x) for x in m.members) or 'no one recorded'}"))
    for (kind, version, regime_id), group in sorted(contracts.items()):
        starts = [m.valid_from for m in group if m.valid_from]
        ends = [m.valid_until for m in group]
        words = f"{c.MECHANISM_WORDS.get(kind, kind)} {version}".strip()
        spans.append(_charts.Span(
            f"{words} contracts ({law.regime_name(regime_id)}): {len(group):,}", kind, min(starts, default=None),
            None if any(e is None for e in ends) else max(ends),
            f"{len(group):,} contracts, signed {min(starts, default='?')} to {max(starts, default='?')}"))
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
    return spans


with tab_time:
    st.caption("The organisation's own mechanisms, the frameworks and SCC versions its flows rely on. "
               "The dotted line is the as-of date.")
    spans = _tool_spans(snap, snap.key, snap.head.hash, snap.day)
    if spans:
        st.plotly_chart(_charts.timeline(spans, snap.day), width="stretch", config={"displaylogo": False})
    else:
        st.info("The registry relies on no transfer tool.")

with tab_whatif:
    st.caption("Invalidate a mechanism or a framework from a date, and see which hops and findings "
               "change on the as-of date. Nothing is stored.")
    tools = sorted(FRAMEWORK_IDS) + [m.id for m in reg.mechanisms]
    default_tool = "eu-us-privacy-shield" if "eu-us-privacy-shield" in tools else tools[0]
    with st.form("whatif"):
        left, middle, right = st.columns(3)
        tool = left.selectbox("Tool", tools, index=tools.index(default_tool), key="wi_tool",
                              format_func=lambda t: f"{snap.tool(t)} ({'framework' if t in FRAMEWORK_IDS else 'own mechanism'})")
        from_day = middle.date_input("Invalid from", value=snap.day, key="wi_from")
        day = right.date_input("Evaluated on", value=snap.day, key="wi_day")
        run = st.form_submit_button("Run what-if", type="primary")
    if run:
        try:
            st.session_state["wi_result"] = (snap.head.hash, tool, from_day,
                                             _what_if(snap, snap.key, snap.head.hash, tool, from_day, day))
        except FlowregError as exc:
            c.show_error(exc)
    stored = st.session_state.get("wi_result")
    if stored and stored[0] == snap.head.hash:
        _, tool_asked, from_asked, result = stored
        st.text(f"If {snap.tool(tool_asked)} is invalid from {from_asked:%d %b %Y}: what changes on {result.day:%d %b %Y}")
        cols = st.columns(3)
        cols[0].metric("Hops that change", f"{len(result.changed_hops):,}")
        cols[1].metric("New findings", f"{len(result.new_findings):,}")
        cols[2].metric("Resolved findings", f"{len(result.resolved_findings):,}")
        if result.changed_hops:
            flows = snap.graph().flows
            changed = sorted(result.changed_hops, key=lambda h: severity_rank(h.after) if h.after else 9)
            c.table([{"before": c.status_word(h.before) if h.before else "not active",
                      "after": c.status_word(h.after) if h.after else "not active",
                      "from": snap.node_label(flows[h.flow].from_) if h.flow in flows else "",
                      "to": snap.node_label(flows[h.flow].to) if h.flow in flows else "",
                      "reason": h.reason} for h in c.paged(changed, "wi_page", noun="hops")],
                    status=["before", "after"], key="wi_hops", row_height=76,
                    column_config={"before": c.HOP_COLUMNS["status"], "after": c.HOP_COLUMNS["status"],
                                   "from": c.HOP_COLUMNS["from"], "to": c.HOP_COLUMNS["to"],
                                   "reason": c.HOP_COLUMNS["reason"]})
        else:
            st.success("No hop changes status: nothing relies on this tool on that date.")
        if result.new_findings:
            st.caption("New findings")
            c.table(c.finding_rows(c.paged(result.new_findings, "wi_new_page", noun="findings"), snap),
                    severity=["severity"], key="wi_new", column_config=c.FINDING_COLUMNS, row_height=c.FINDING_ROW_HEIGHT)
        if result.resolved_findings:
            st.caption("Findings that go away")
            c.table(c.finding_rows(c.paged(result.resolved_findings, "wi_resolved_page", noun="findings"), snap),
                    severity=["severity"], key="wi_resolved", column_config=c.FINDING_COLUMNS, row_height=c.FINDING_ROW_HEIGHT)
