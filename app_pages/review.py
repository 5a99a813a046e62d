"""Review proposals: a privacy officer approves or rejects proposed changes; on approval the
sub-processor change notice is shown (and can be downloaded)."""

from __future__ import annotations

import streamlit as st

from app_pages import _actions as act
from app_pages import _common as c
from app_pages._session import current_user
from lineage.reports.render import MEDIA_TYPES, SUFFIXES, render
from registry.errors import FlowregError
from registry.revisions import diff_contents

LAST_KEY = "review_last"

snap = c.snapshot()
user = current_user()
c.page_header("Review proposals", "Approve or reject proposed changes; approval writes a new revision", snap)


def show_notice(from_rev: int, to_rev: int) -> None:
    """The change notice of lineage.reports between two revisions, with downloads."""
    notice = act.change_notice(snap.fr, from_rev, to_rev)
    meta = notice.metadata
    with st.container(border=True):
        st.subheader("Sub-processor change notice")
        cols = st.columns(3)
        cols[0].metric("Notice date", str(meta.get("notice_date", "")))
        cols[1].metric("Objection deadline", str(meta.get("objection_deadline", "")))
        cols[2].metric("New · changed · removed", f"{meta.get('new', 0)} · {meta.get('changed', 0)} · {meta.get('removed', 0)}")
        for section in notice.sections:
            st.text(section.note)
            c.table([{col.title: c.joined(v) for col, v in zip(section.columns, row, strict=True)} for row in section.rows])
        buttons = st.columns(3)
        for column, fmt in zip(buttons, ("pdf", "html", "md"), strict=True):
            column.download_button(
                f"Download notice ({fmt.upper()})", data=lambda fmt=fmt: render(notice, fmt),
                file_name=f"change-notice-r{from_rev}-r{to_rev}{SUFFIXES[fmt]}", mime=MEDIA_TYPES[fmt],
                on_click="ignore", key=f"notice_{fmt}_{from_rev}_{to_rev}", icon=":material/download:",
            )


last = st.session_state.get(LAST_KEY)
if last is not None:
    proposal_id, approved, base, applied = last
    if approved and applied is not None:
        st.success(f"Proposal #{proposal_id} approved: revision {applied} written.")
        if base is not None:
            show_notice(base, applied)
    else:
        st.info(f"Proposal #{proposal_id} rejected; the registry is unchanged.")

pending = snap.fr.store.proposals("pending")
st.subheader(f"Pending proposals ({len(pending)})")
if not pending:
    st.caption("Nothing waits for review. Engineers propose changes on Register a sub-processor.")
    st.stop()
c.table([{"#": p.id, "author": p.author, "proposed": f"{p.created_at:%Y-%m-%d %H:%M} UTC", "message": p.message,
          "based on revision": p.base_revision} for p in pending], key="rv_pending")

ids = [p.id for p in pending]
chosen = st.selectbox("Proposal", ids, key="rv_choice", format_func=lambda i: f"#{i}")
proposal = next(p for p in pending if p.id == chosen)

with st.container(border=True):
    st.text(f"#{proposal.id} by {proposal.author}: {proposal.message}")
    if proposal.base_revision != snap.rev:
        st.warning(f"This proposal was made on revision {proposal.base_revision}; the registry is now at "
                   f"revision {snap.rev}. Approving it fails; reject it and ask for a new proposal.")
    base = snap.fr.revision(proposal.base_revision).content if proposal.base_revision else {}
    changes = diff_contents(base, proposal.content)
    st.caption("What changes")
    c.table([{"change": ch.kind, "section": ch.section, "id": ch.id or "", "fields": ", ".join(ch.fields)}
             for ch in changes], key="rv_diff")
    try:
        impact = act.proposal_impact(snap.fr, proposal, snap.day)
    except FlowregError as exc:
        c.show_error(exc, "The impact cannot be computed.")
    else:
        cols = st.columns(3)
        cols[0].metric("Hops that change", len(impact.changed_hops))
        cols[1].metric("New findings", len(impact.new_findings))
        cols[2].metric("Resolved findings", len(impact.resolved_findings))
        if impact.changed_hops:
            c.table([{"flow": h.flow, "before": c.status_word(h.before or "-") if h.before else "(new)",
                      "after": c.status_word(h.after or "-"), "reason": h.reason} for h in impact.changed_hops],
                    status=["after"], key="rv_hops")
        if impact.new_findings:
            c.table(c.finding_rows(impact.new_findings), severity=["severity"], key="rv_findings")

    may_decide = user is not None and user.may("decide")
    own = user is not None and user.username == proposal.author
    if not may_decide:
        st.info("Only a privacy officer can approve or reject proposals.")
    elif own:
        st.info("You made this proposal: another privacy officer must decide on it.")
    note = st.text_input("Note for the record", key="rv_note", disabled=not may_decide)
    approve_col, reject_col, _ = st.columns([1, 1, 4])
    approve = approve_col.button("Approve", type="primary", icon=":material/check:", key="rv_approve",
                                 disabled=not may_decide or own)
    reject = reject_col.button("Reject", icon=":material/close:", key="rv_reject", disabled=not may_decide or own)

if approve or reject:
    try:
        decided = act.decide_proposal(snap.fr, user, proposal.id, approve=bool(approve), note=note)
    except FlowregError as exc:
        c.show_error(exc, "Not decided.")
    else:
        st.session_state[LAST_KEY] = (decided.id, decided.status == "approved", decided.base_revision,
                                      decided.applied_revision)
        st.rerun()
