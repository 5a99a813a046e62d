"""Third parties: every organisation that receives data, what it gets, from where, and who next.

The list is read a page at a time, problems first; one party in detail shows its impact and
its hops (the same hops table and detail view as the flow explorer).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import streamlit as st

from app_pages import _common as c
from app_pages import _contracts, _heap
from app_pages._hops import hops_section
from app_pages._session import current_user
from lineage.aggregate import severity_rank
from lineage.status import HopStatus
from registry.model import Party


@dataclass
class Parties:
    """Per party: the hops into it from other organisations, and onward from it."""

    inbound: dict[str, list[HopStatus]] = field(default_factory=lambda: defaultdict(list))
    outbound: dict[str, list[HopStatus]] = field(default_factory=lambda: defaultdict(list))
    members: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))


@st.cache_resource(max_entries=8, show_spinner=False)
def _parties(_snap: c.Snapshot, key: str, rev_hash: str, day: date) -> Parties:
    rg = _snap.graph()
    out = Parties()
    for hop in _snap.hops():
        src, dst = rg.organisation(hop.source), rg.organisation(hop.target)
        if dst is not None and dst != src:
            out.inbound[dst.id].append(hop)
            if src is not None:
                out.outbound[src.id].append(hop)
    for m in _snap.registry().mechanisms:
        for member in m.members:
            out.members[member].append(m.id)
    _heap.freeze()
    return out


def party_row(snap: c.Snapshot, p: Party, data: Parties) -> dict[str, Any]:
    got = data.inbound.get(p.id, [])
    worst = min((h.status for h in got), key=severity_rank, default=None)
    return {
        "name": p.name,
        "kind": c.kind_word(p.kind.value),
        "country": c.country_name(p.country),
        "worst status": c.status_word(worst) if worst else "not receiving",
        "receives": "; ".join(sorted({snap.name(cat) for h in got for cat in h.carries})),
        "tools": "; ".join(sorted({snap.tool(t) for t in data.members.get(p.id, [])} | {snap.tool(b) for h in got for b in h.basis})),
    }


def party_list(snap: c.Snapshot, data: Parties) -> list[Party]:
    reg = snap.registry()
    kinds = list(dict.fromkeys(p.kind.value for p in reg.parties))
    default = [k for k in kinds if k != "affiliate"]
    chosen = st.multiselect("Kinds", kinds, default=default, key="tp_kinds", format_func=lambda k: c.KIND_TITLES.get(k, k))

    def urgency(p: Party) -> tuple[int, str]:
        got = data.inbound.get(p.id, [])
        return (min((severity_rank(h.status) for h in got), default=9), p.name.lower())

    parties = sorted((p for p in reg.parties if p.kind.value in chosen), key=urgency)
    st.caption(f"{len(parties):,} part{'y' if len(parties) == 1 else 'ies'} · hops and statuses on the as-of date · "
               "the most urgent status first")
    page = c.paged(parties, "tp_page", noun="parties")
    c.table([party_row(snap, p, data) for p in page], status=["worst status"], key="tp_table", row_height=66,
            height=min(len(page), 10) * 66 + 40,
            column_config={"name": st.column_config.TextColumn(width=200),
                           "kind": st.column_config.TextColumn(width=110),
                           "country": st.column_config.TextColumn(width=140),
                           "worst status": st.column_config.TextColumn(width=100),
                           "receives": st.column_config.TextColumn(width=210),
                           "tools": st.column_config.TextColumn(width=200)})
    return parties


def party_detail(snap: c.Snapshot, party: Party, data: Parties) -> None:
    impact = snap.fr.impact(party.id, snap.day, rev=snap.rev)
    with st.container(border=True):
        st.text(f"{party.name}  ({c.kind_word(party.kind.value)}, {c.country_name(party.country)})")
        if party.description:
            st.text(party.description)
        listed = {True: "on the public sub-processor list", False: "not on the public sub-processor list",
                  None: "public list: not stated"}[party.public_list]
        notice = f"customers notified on {party.notice_given}" if party.notice_given else "no notice recorded"
        st.caption(f"{listed.capitalize()} · {notice}")
        cols = st.columns(4)
        cols[0].metric("Categories", f"{len(impact.categories):,}")
        cols[1].metric("Whose data (subject groups)", f"{len(impact.subjects):,}")
        cols[2].metric("Hops in", f"{len(impact.hops_in):,}")
        cols[3].metric("Onward recipients", f"{len(impact.onward_recipients):,}")
        left, right = st.columns(2)
        with left:
            st.caption("Data subjects whose data reaches it")
            c.table([{"subject group": snap.name(s)} for s in impact.subjects])
            st.caption("Categories in its hops")
            c.table([{"category": snap.name(x)} for x in impact.categories])
        with right:
            st.caption("Onward recipients (directly or further on)")
            c.table([{"party": snap.node_label(x)} for x in impact.onward_recipients])
            st.caption("Mechanisms it is party to, and certifications")
            c.table([{"tool": snap.tool(x), "valid": ""} for x in impact.mechanisms]
                    + [{"tool": f"certified: {snap.tool(x.framework.value)}",
                        "valid": f"{x.valid_from or 'start'} to {x.valid_until or 'open'}"} for x in party.certifications])
        if party.source:
            st.caption("Source")
            st.text(party.source)


def main() -> None:
    snap = c.snapshot()
    c.page_header("Third parties", "Who receives personal data, what, from where, and who gets it next", snap)
    data = _parties(snap, snap.key, snap.head.hash, snap.day)
    parties = party_list(snap, data)

    st.subheader("One party in detail")
    if not parties:
        st.info("No party of the chosen kinds.")
        st.stop()
    by_id = {p.id: p for p in parties}
    if st.session_state.get("tp_party") not in by_id:
        st.session_state["tp_party"] = parties[0].id
    pid = st.selectbox("Party", list(by_id), key="tp_party",
                       format_func=lambda i: f"{by_id[i].name} ({c.country_name(by_id[i].country)})")
    party = by_id[pid]
    party_detail(snap, party, data)
    st.subheader("Hops into this party")
    hops_section(snap, data.inbound.get(pid, []), "tp_in", scope=f"{snap.key}|{snap.head.hash}|{snap.day}|in|{pid}")
    if data.outbound.get(pid):
        st.subheader("Hops onward from this party")
        hops_section(snap, data.outbound[pid], "tp_out", scope=f"{snap.key}|{snap.head.hash}|{snap.day}|out|{pid}")
    _contracts.party_contracts(snap, current_user(), party)


main()
