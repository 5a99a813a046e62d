"""History: every revision with its author and message, a diff between any two, the review
trail of proposals, and verification of the hash chain."""

from __future__ import annotations

import streamlit as st

from app_pages import _common as c
from app_pages import _heap
from lineage.api import Flowreg
from registry.config import settings_from_env
from registry.errors import FlowregError
from registry.revisions import Change, diff_contents
from registry.store import signing_from
from registry.verification import verify_history


@st.cache_resource(max_entries=8, show_spinner=False)
def _diff(_fr: Flowreg, key: str, older: int, newer: int, older_hash: str, newer_hash: str
          ) -> tuple[list[Change], dict[tuple[str, str], str]]:
    """The changes between two revisions and the names of the elements they touch (once per pair)."""
    a = _fr.revision(older).content if older else None
    b = _fr.revision(newer).content
    names = {(section, str(e.get("id"))): str(e.get("name") or "") for content in (a or {}, b)
             for section in ("categories", "subjects", "parties", "systems", "mechanisms")
             for e in content.get(section) or [] if isinstance(e, dict)}
    out = diff_contents(a, b), names
    _heap.freeze()
    return out


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
changes, names = _diff(snap.fr, c.store_key(), older, newer,
                       snap.fr.revision(older).hash if older else "", snap.fr.revision(newer).hash)
counts = {kind: sum(1 for ch in changes if ch.kind == kind) for kind in ("added", "changed", "removed")}
cols = st.columns(3)
cols[0].metric("Added", f"{counts['added']:,}")
cols[1].metric("Changed", f"{counts['changed']:,}")
cols[2].metric("Removed", f"{counts['removed']:,}")
if changes:
    page = c.paged(changes, "hi_diff_page", page_rows=200, noun="changes")
    c.table([{"change": ch.kind, "what": c.SECTION_WORDS.get(ch.section, ch.section),
              "name": names.get((ch.section, ch.id or "")) or "", "registry id": ch.id or "",
              "fields": ", ".join(ch.fields)} for ch in page], key="hi_diff", height=min(38 + 35 * len(page), 420))
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
