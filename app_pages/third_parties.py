"""Third parties: every organisation that receives data, what it gets, from where, and who next."""

from __future__ import annotations

from collections import defaultdict

import streamlit as st

from app_pages import _common as c
from app_pages import _contracts
from app_pages._session import current_user
from lineage.status import HopStatus

snap = c.snapshot()
reg = snap.registry()
rg = snap.graph()
c.page_header("Third parties", "Who receives personal data, what, from where, and who gets it next", snap)


def org(node: str) -> str | None:
    party = rg.organisation(node)
    return party.id if party else None


inbound: dict[str, list[HopStatus]] = defaultdict(list)
outbound: dict[str, list[HopStatus]] = defaultdict(list)
for hop in snap.hops():
    src, dst = org(hop.source), org(hop.target)
    if dst and dst != src:
        inbound[dst].append(hop)
    if src and dst and dst != src:
        outbound[src].append(hop)

members: dict[str, list[str]] = defaultdict(list)
for m in reg.mechanisms:
    for member in m.members:
        members[member].append(m.id)

kinds = list(dict.fromkeys(p.kind.value for p in reg.parties))
default = [k for k in kinds if k != "affiliate"]
chosen = st.multiselect("Kinds", kinds, default=default, key="tp_kinds",
                        format_func=lambda k: c.KIND_TITLES.get(k, k))
parties = [p for p in reg.parties if p.kind.value in chosen]

rows = []
for p in parties:
    got = inbound.get(p.id, [])
    worst = max((h.status for h in got), key=lambda s: s.rank, default=None)
    rows.append({
        "name": p.name,
        "kind": c.KIND_SINGULAR.get(p.kind.value, p.kind.value),
        "country": p.country or "unknown",
        "worst status": c.status_word(worst) if worst else "not receiving",
        "receives": sorted({cat for h in got for cat in h.carries}),
        "from": sorted({snap.name(h.source) for h in got}),
        "onward to": sorted({snap.name(org(h.target)) for h in outbound.get(p.id, [])}),
        "mechanisms": sorted(set(members.get(p.id, [])) | {b for h in got for b in h.basis}),
        "certifications": [f"{x.framework.value} from {x.valid_from or '?'}" for x in p.certifications],
        "public list": {True: "yes", False: "no", None: ""}[p.public_list],
        "notice given": p.notice_given.isoformat() if p.notice_given else "",
        "id": p.id,
    })
st.caption(f"{len(rows)} part{'y' if len(rows) == 1 else 'ies'} · hops and statuses on the as-of date")
c.table(rows, status=["worst status"], key="tp_table",
        column_config={"receives": st.column_config.TextColumn(width="medium"),
                       "mechanisms": st.column_config.TextColumn(width="medium")})

st.subheader("One party in detail")
ids = [p.id for p in parties]
if not ids:
    st.info("No party of the chosen kinds.")
    st.stop()
pid = st.selectbox("Party", ids, key="tp_party", format_func=lambda i: f"{snap.name(i)} · {i}")
party = next(p for p in parties if p.id == pid)
impact = snap.fr.impact(pid, snap.day, rev=snap.rev)

with st.container(border=True):
    st.text(f"{party.name}  ({c.KIND_SINGULAR.get(party.kind.value, party.kind.value)}, {party.country or 'country unknown'})")
    if party.description:
        st.text(party.description)
    cols = st.columns(4)
    cols[0].metric("Categories", len(impact.categories))
    cols[1].metric("Whose data (subject groups)", len(impact.subjects))
    cols[2].metric("Hops in", len(impact.hops_in))
    cols[3].metric("Onward recipients", len(impact.onward_recipients))
    left, right = st.columns(2)
    with left:
        st.caption("Data subjects whose data reaches it")
        c.table([{"subject group": snap.name(s), "id": s} for s in impact.subjects])
        st.caption("Categories in its hops")
        c.table([{"category": snap.name(x), "id": x} for x in impact.categories])
    with right:
        st.caption("Onward recipients (directly or further on)")
        c.table([{"party": snap.name(x), "id": x} for x in impact.onward_recipients])
        st.caption("Mechanisms it is party to, and certifications")
        c.table([{"mechanism": snap.name(x), "id": x} for x in impact.mechanisms]
                + [{"mechanism": f"certified: {x.framework.value}", "id": f"{x.valid_from or ''} to {x.valid_until or 'open'}"}
                   for x in party.certifications])
    if party.source:
        st.caption("Source")
        st.text(party.source)

st.caption("Hops into this party on the as-of date")
c.table(c.hop_rows(snap, inbound.get(pid, [])), status=["status"], key="tp_in")
if outbound.get(pid):
    st.caption("Hops onward from this party")
    c.table(c.hop_rows(snap, outbound[pid]), status=["status"], key="tp_out")

_contracts.party_contracts(snap, current_user(), party)
