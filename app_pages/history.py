"""History: every revision with its author and message, a diff between any two, the review
trail of proposals, and verification of the hash chain."""

from __future__ import annotations

import streamlit as st

from app_pages import _common as c
from registry.config import settings_from_env
from registry.errors import FlowregError
from registry.revisions import diff_contents
from registry.store import signing_from
from registry.verification import verify_history

snap = c.snapshot()
store = snap.fr.store
c.page_header("History", "Append-only, hash-chained revisions: who changed what, when and why", snap)

history = store.history()
c.table([{"revision": r.number, "written": f"{r.created_at:%Y-%m-%d %H:%M:%S} UTC", "author": r.author,
          "message": r.message, "hash": r.hash[:12], "parent": (r.parent_hash or "")[:12]}
         for r in reversed(history)], key="hi_revisions", height=min(38 + 35 * len(history), 360))

with st.container(border=True):
    st.subheader("Verify the chain")
    st.caption("Recomputes every content hash and chain link: any edit made outside flowreg shows here.")
    if st.button("Verify now", icon=":material/verified:", key="hi_verify"):
        notes: list[str] = []
        try:
            # The same check as `flowreg history --verify`: with FLOWREG_VERIFY_KEY set, the
            # signatures too (registry.verification).
            check = verify_history(store, keys=signing_from(settings_from_env())[1])
            problems, notes = check.problems, check.notes
        except FlowregError as exc:
            problems = [exc.message]
        if problems:
            st.error(f"The history does not verify: {len(problems)} problem(s).")
            st.code("\n".join(problems), language=None)
        else:
            st.success(f"Verified: {len(history)} revision(s), every hash and link intact; "
                       f"head {snap.head.number} (`{snap.head.hash[:12]}`).")
        for note in notes:
            st.caption(c.literal(note))

st.subheader("Compare two revisions")
numbers = [r.number for r in history]
left, right = st.columns(2)
older = left.selectbox("From revision", [0, *numbers], index=max(len(numbers) - 1, 0), key="hi_from",
                       format_func=lambda n: "empty registry" if n == 0 else f"revision {n}")
newer = right.selectbox("To revision", numbers, index=len(numbers) - 1, key="hi_to",
                        format_func=lambda n: f"revision {n}")
a = snap.fr.revision(older).content if older else None
b = snap.fr.revision(newer).content
changes = diff_contents(a, b)
counts = {kind: sum(1 for ch in changes if ch.kind == kind) for kind in ("added", "changed", "removed")}
cols = st.columns(3)
cols[0].metric("Added", counts["added"])
cols[1].metric("Changed", counts["changed"])
cols[2].metric("Removed", counts["removed"])
if changes:
    c.table([{"change": ch.kind, "section": ch.section, "id": ch.id or "", "fields": ", ".join(ch.fields)}
             for ch in changes], key="hi_diff", height=min(38 + 35 * len(changes), 420))
else:
    st.caption("No difference.")

st.subheader("Proposals and decisions")
proposals = store.proposals()
if proposals:
    c.table([{"#": p.id, "status": p.status, "author": p.author, "message": p.message,
              "proposed": f"{p.created_at:%Y-%m-%d %H:%M} UTC", "reviewer": p.reviewer or "",
              "decided": f"{p.decided_at:%Y-%m-%d %H:%M} UTC" if p.decided_at else "",
              "note": p.decision_note, "revision": p.applied_revision or ""}
             for p in reversed(proposals)], key="hi_proposals")
else:
    st.caption("No proposal yet.")
