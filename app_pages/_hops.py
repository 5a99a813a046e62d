"""The hops table as the answer, and the per-hop detail view.

`hops_section` shows a list of hops the way a privacy officer reads it: problems first (INVALID,
UNCOVERED, unknown, then the rest), five columns that fit 1440 px without scrolling sideways
(status, from, to with countries, the tool relied on by name, the reason, wrapped), filters by
status, regime, party kind and tool, one page of rows at a time so every row is coloured at any
size. Clicking a row opens `hop_detail`: each regime's status, reason and the decision or
mechanism it rests on and the transfer impact assessment in force, the flow's facts (with its
processor contract), the findings about it with their evidence and fix.

Selections are read from `st.session_state` at the start of a run (the table's state belongs
to the rows the previous run showed), so a click takes effect in the same rerun.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import streamlit as st

from app_pages import _common as c
from app_pages import _contracts, _heap
from lineage.aggregate import PROBLEM_ORDER, filter_hops, problems_first
from lineage.findings import Finding
from lineage.status import HopStatus
from registry.model import Flow

ROW_HEIGHT = 76  # three lines of a wrapped reason
# A page holds the hops of any group of a 10k-flow registry's default chart, so a drilled-down
# group's hop is one click away (scrolling inside the table is not a click).
PAGE_ROWS = 500
EMPTY_SELECTION = {"selection": {"rows": [], "columns": [], "cells": []}}


def selected_row(key: str) -> int | None:
    """The row picked in the dataframe `key` on the previous run (a row or any cell of it)."""
    state = st.session_state.get(key)
    selection = state.get("selection") if isinstance(state, dict) else getattr(state, "selection", None)
    if not selection:
        return None
    rows = list(selection.get("rows") or [])
    cells = list(selection.get("cells") or [])
    if rows:
        return int(rows[0])
    if cells:
        return int(cells[0][0])
    return None


def clear_selection(key: str) -> None:
    st.session_state[key] = {"selection": {"rows": [], "columns": [], "cells": []}}


@dataclass(frozen=True)
class Choices:
    """What the filters offer for a list of hops, and the list problems first."""

    ordered: list[HopStatus]
    statuses: list[str]
    regimes: list[str]
    kinds: list[str]
    tools: Counter[str]


def choices(hops: Sequence[HopStatus]) -> Choices:
    return Choices(
        problems_first(hops),
        [s.value for s in PROBLEM_ORDER if any(h.status is s for h in hops)],
        sorted({r for h in hops for r in h.regimes}),
        sorted({h.recipient_kind for h in hops if h.recipient_kind}, key=c.kind_word),
        Counter(b for h in hops for b in h.basis),
    )


@st.cache_resource(max_entries=32, show_spinner=False)
def _choices(scope: str, _hops: Sequence[HopStatus]) -> Choices:
    out = choices(_hops)
    _heap.freeze()
    return out


def hops_section(snap: c.Snapshot, hops: Sequence[HopStatus], key: str, *, noun: str = "hops",
                 scope: str | None = None) -> HopStatus | None:
    """Filters, the problems-first table of `hops` (a page at a time) and, for the row clicked,
    the hop's details. Returns the hop shown in detail, if any.

    `scope` names the list (store, revision, date and what it is of) so that its order and
    filter options are computed once for every session; without it they are computed each run."""
    table_key, shown_key, hop_key = f"{key}_table", f"{key}_shown", f"{key}_hop"
    row = selected_row(table_key)
    shown_before: list[str] = st.session_state.get(shown_key, [])
    if row is not None and row < len(shown_before):
        st.session_state[hop_key] = shown_before[row]

    offered = _choices(scope, hops) if scope is not None else choices(hops)
    ordered = filters(snap, offered, key)
    counts = Counter(h.status.value for h in ordered)
    summary = " · ".join(f"{counts[s.value]:,} {c.status_word(s)}" for s in PROBLEM_ORDER if counts.get(s.value))
    st.caption(f"{len(ordered):,} {noun}" + (f" of {len(hops):,}" if len(ordered) != len(hops) else "")
               + (f": {summary}" if summary else "") + ". Problems first; click a row for its details.")
    page = list(c.paged(ordered, f"{key}_page", page_rows=PAGE_ROWS, noun=noun))
    flows = [h.flow for h in page]
    if flows != shown_before:
        clear_selection(table_key)  # the rows changed: an old row number would point elsewhere
        st.session_state[shown_key] = flows
    c.table(c.hop_rows(snap, page), status=["status"], key=table_key, column_config=c.HOP_COLUMNS,
            on_select="rerun", selection_mode=["single-row", "single-cell"], row_height=ROW_HEIGHT,
            height=min(len(page), 8) * ROW_HEIGHT + 40)

    wanted = st.session_state.get(hop_key)
    hop = next((h for h in hops if h.flow == wanted), None)
    if hop is not None:
        hop_detail(snap, hop, f"{key}_detail", hop_key=hop_key)
    return hop


def filters(snap: c.Snapshot, offered: Choices, key: str) -> list[HopStatus]:
    """Status, regime, party kind and tool pickers over the values the hops have; the hops that
    pass, problems first."""
    statuses, regimes, kinds, tools = offered.statuses, offered.regimes, offered.kinds, offered.tools
    cols = st.columns(4)
    chosen_status = cols[0].multiselect("Status", statuses, key=f"{key}_status", format_func=c.status_word,
                                        placeholder="every status")
    chosen_regimes = cols[1].multiselect("Regime", regimes, key=f"{key}_regime", format_func=snap.regime,
                                         placeholder="every regime",
                                         help="Hops whose data carries this regime; with a status, that "
                                              "regime's status.")
    chosen_kinds = cols[2].multiselect("Recipient kind", kinds, key=f"{key}_kind", format_func=c.kind_word,
                                       placeholder="every kind")
    chosen_tools = cols[3].multiselect("Relies on", [t for t, _ in tools.most_common()], key=f"{key}_tool",
                                       format_func=lambda t: f"{snap.tool(t)} ({tools[t]:,})",
                                       placeholder="any tool or none")
    if not (chosen_status or chosen_regimes or chosen_kinds or chosen_tools):
        return offered.ordered
    return filter_hops(offered.ordered, statuses=chosen_status, regimes=chosen_regimes, kinds=chosen_kinds,
                       tools=chosen_tools)


def _close(hop_key: str) -> None:
    st.session_state.pop(hop_key, None)


def hop_detail(snap: c.Snapshot, hop: HopStatus, key: str, *, hop_key: str | None = None,
               heading: str = "Hop details", compact: bool = False) -> None:
    """One hop on the snapshot's date: each regime's verdict, the flow's facts, findings.
    With `hop_key` (the session key that holds the hop shown), a Close button clears it;
    `compact` lays it out for half the page (two dates side by side)."""
    rg = snap.graph()
    flow: Flow | None = rg.flows.get(hop.flow)
    with st.container(border=True):
        head, badge, close = st.columns([6, 2, 2] if not compact else [3, 2, 1], vertical_alignment="center")
        head.subheader(heading)
        badge.badge(c.status_word(hop.status), color=_BADGE.get(hop.status.value, "gray"))
        if hop_key:
            close.button("Close", key=f"{key}_close", on_click=_close, args=(hop_key,), icon=":material/close:")
        st.text(f"{snap.node_label(hop.source)}  →  {snap.node_label(hop.target)}")
        st.caption(c.STATUS_MEANINGS[hop.status.value].capitalize() + f" · on {snap.day:%d %b %Y}")
        if not hop.regimes:
            st.text(hop.reason)
        elif compact:  # words wrap in half a page; a four-column table would not fit
            tias = _contracts.assessments(snap, hop)
            for r, v in hop.regimes.items():
                relied = snap.tools(v.basis)
                st.markdown(f"**{c.literal(snap.regime(r))}**: {c.literal(c.status_word(v.status))}. "
                            f"{c.literal(v.reason)}" + (f"  \n*Relies on*: {c.literal(relied)}" if relied else "")
                            + f"  \n*Transfer impact assessment*: {c.literal(tias[r])}")
        else:
            tias = _contracts.assessments(snap, hop)
            c.table([{
                "regime": snap.regime(r),
                "status": c.status_word(v.status),
                "reason": v.reason,
                "decision or mechanism": snap.tools(v.basis) or "—",
                "transfer impact assessment": tias[r],
            } for r, v in hop.regimes.items()], status=["status"], key=f"{key}_regimes",
                row_height=ROW_HEIGHT if any(len(v.reason) > 90 for v in hop.regimes.values()) else None,
                column_config={"regime": st.column_config.TextColumn(width=100),
                               "status": st.column_config.TextColumn(width=92),
                               "reason": st.column_config.TextColumn(width=330),
                               "decision or mechanism": st.column_config.TextColumn(width=200),
                               "transfer impact assessment": st.column_config.TextColumn(width=220)})
        if compact:
            facts, findings_col = st.container(), st.container()
        else:
            facts, findings_col = st.columns([2, 3], gap="large")
        with facts:
            st.caption("The flow")
            st.markdown("  \n".join(f"**{name}**: {c.literal(value)}" for name, value in _facts(snap, hop, flow)))
        with findings_col:
            _finding_cards(snap, hop)


def _finding_cards(snap: c.Snapshot, hop: HopStatus) -> None:
    found = _findings_about(snap, hop)
    st.caption("Findings on this hop, with evidence and fix")
    if not found:
        if hop.status.is_problem:
            st.info("No finding names this hop; see the reason above.")
        else:
            st.success("No finding: nothing to fix on this hop on this date.")
    for f in found:
        with st.container(border=True):
            st.badge(c.SEVERITY_WORDS[f.severity.value], color=_SEVERITY_BADGE[f.severity.value])
            st.text(f"{c.rule_word(f.rule, snap.registry())}: {f.title}")
            st.text(f.message)
            st.caption("Fix")
            st.text(f.fix)
            if f.evidence:
                st.caption("Evidence")
                st.text("\n".join(evidence_text(snap, e) for e in f.evidence))


_BADGE = {"invalid": "red", "uncovered": "red", "unknown": "violet", "derogation": "orange",
          "covered": "blue", "adequate": "green", "not_required": "gray"}
_SEVERITY_BADGE = {"high": "red", "medium": "orange", "low": "gray"}


def _facts(snap: c.Snapshot, hop: HopStatus, flow: Flow | None) -> list[tuple[str, str]]:
    """(what, value) lines about the flow, in words (its registry id last, for reference)."""
    rows = [
        ("From", f"{snap.node_label(hop.source)}, {_what(snap, hop.source)}"),
        ("To", f"{snap.node_label(hop.target)}, {_what(snap, hop.target)}"),
        ("Carries", "; ".join(snap.name(x) for x in hop.carries)),
        ("Purpose", hop.purpose or "not stated"),
        ("Recipient's role", c.role_word(hop.role) or "not stated"),
        ("Frequency", (hop.frequency or "").capitalize()),
        ("Processor contract", _contracts.contract_text(snap, hop)),
    ]
    if flow is not None:
        rows.append(("Claims", snap.tools(flow.under) if flow.under else "nothing"))
        rows.append(("Runs", f"from {flow.valid_from or 'the start'} until {flow.valid_until or 'open'}"))
        if flow.retention_days is not None:
            rows.append(("Retention", f"{flow.retention_days} days"))
        if flow.source:
            rows.append(("Source", flow.source))
    rows.append(("Registry id", hop.flow))
    return rows


def _what(snap: c.Snapshot, node: str) -> str:
    rg = snap.graph()
    kind = rg.node_kind(node)
    if kind == "subject":
        return "data subjects"
    org = rg.organisation(node)
    if kind == "system":
        return f"system of {org.name if org else 'an unknown owner'}"
    return c.kind_word(org.kind.value) if org else ""


def _findings_about(snap: c.Snapshot, hop: HopStatus) -> list[Finding]:
    """Findings whose flow is this hop, and missing locations at its two ends."""
    found = list(snap.findings_of(hop.flow))
    if hop.status.value == "unknown":
        ends = {hop.source, hop.target}
        found += [f for f in snap.findings() if f.node in ends and f.flow != hop.flow and f.rule == "location-unknown"]
    return found


def evidence_text(snap: c.Snapshot, item: str) -> str:
    rg = snap.graph()
    flow = rg.flows.get(item)
    if flow is not None:
        return f"flow {snap.name(flow.from_)} → {snap.name(flow.to)} ({item})"
    if item in snap.names():
        return f"{snap.tool(item) if snap.tool(item) != item else snap.name(item)} ({item})"
    return item
