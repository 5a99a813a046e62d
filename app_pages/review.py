"""Review proposals: a privacy officer approves or rejects proposed changes; on approval the
sub-processor change notice is shown (and can be downloaded)."""

from __future__ import annotations

import streamlit as st

from app_pages import _actions as act
from app_pages import _common as c
from app_pages._session import current_user
from lineage.reports.model import cell_text
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
            # cell_text: None is an empty cell (a flow with no start date starts with the registry)
            c.table([{col.title: cell_text(v) for col, v in zip(section.columns, row, strict=True)}
                     for row in section.rows])
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
if st.session_state.get("rv_choice") not in ids:
    st.session_state["rv_choice"] = ids[0]  # the one shown was decided (or withdrawn): the next one
chosen = st.selectbox("Proposal", ids, key="rv_choice",
                      format_func=lambda i: next(f"#{p.id} · {p.message}" for p in pending if p.id == i))
proposal = next(p for p in pending if p.id == chosen)

with st.container(border=True):
    st.text(f"#{proposal.id} by {proposal.author}: {proposal.message}")
    stale = proposal.base_revision != snap.rev
    if stale:
        st.warning(f"This proposal was made on revision {proposal.base_revision}; the registry is now at "
                   f"revision {snap.rev}. It cannot be approved; reject it and ask for a new proposal.")
    base = snap.fr.revision(proposal.base_revision).content if proposal.base_revision else {}
    changes = diff_contents(base, proposal.content)
    st.caption("What changes")
    named = {(section, str(e.get("id"))): e.get("name") for section in ("categories", "subjects", "parties",
             "systems", "mechanisms") for e in proposal.content.get(section) or [] if isinstance(e, dict)}
    c.table([{"change": ch.kind, "what": c.SECTION_WORDS.get(ch.section, ch.section),
              "name": named.get((ch.section, ch.id or "")) or snap.name(ch.id) or "",
              "registry id": ch.id or "", "fields": ", ".join(ch.fields)} for ch in changes], key="rv_diff")
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
            flows = {str(f.get("id")): f for f in proposal.content.get("flows") or [] if isinstance(f, dict)}

            def ends(flow_id: str) -> tuple[str, str]:
                flow = flows.get(flow_id, {})
                return (named.get(("systems", flow.get("from"))) or named.get(("parties", flow.get("from")))
                        or snap.name(flow.get("from")) or "",
                        named.get(("parties", flow.get("to"))) or named.get(("systems", flow.get("to")))
                        or snap.name(flow.get("to")) or "")

            c.table([{"before": c.status_word(h.before) if h.before else "new hop",
                      "after": c.status_word(h.after) if h.after else "removed",
                      "from": ends(h.flow)[0], "to": ends(h.flow)[1], "reason": h.reason}
                     for h in impact.changed_hops], status=["before", "after"], key="rv_hops", row_height=76,
                    column_config={"before": c.HOP_COLUMNS["status"], "after": c.HOP_COLUMNS["status"],
                                   "from": c.HOP_COLUMNS["from"], "to": c.HOP_COLUMNS["to"],
                                   "reason": c.HOP_COLUMNS["reason"]})
        if impact.new_findings:
            c.table(c.finding_rows(impact.new_findings, snap), severity=["severity"], key="rv_findings",
                    column_config=c.FINDING_COLUMNS, row_height=c.FINDING_ROW_HEIGHT)

    may_decide = user is not None and user.may("decide")
    own = user is not None and user.username == proposal.author
    if not may_decide:
        st.info("Only a privacy officer can approve or reject proposals.")
    elif own:
        st.info("You made this proposal: another privacy officer must decide on it.")
    # Keyed by proposal: a note typed for one proposal never shows up under the next one, and
    # comes back when that proposal is shown again.
    notes: dict[int, str] = st.session_state.setdefault("rv_notes", {})
    note_key = f"rv_note_{proposal.id}"
    if note_key not in st.session_state and proposal.id in notes:
        st.session_state[note_key] = notes[proposal.id]
    note = st.text_input("Note for the record", key=note_key, disabled=not may_decide,
                         on_change=lambda: notes.__setitem__(proposal.id, st.session_state[note_key]))
    approve_col, reject_col, _ = st.columns([1, 1, 4])
    approve = approve_col.button("Approve", type="primary", icon=":material/check:", key=f"rv_approve_{proposal.id}",
                                 disabled=not may_decide or own or stale,
                                 help="It was made on an older revision: reject it and ask for a new one." if stale else None)
    reject = reject_col.button("Reject", icon=":material/close:", key=f"rv_reject_{proposal.id}",
                               disabled=not may_decide or own)

if approve or reject:
    try:
        decided = act.decide_proposal(snap.fr, user, proposal.id, approve=bool(approve), note=note)
    except FlowregError as exc:
        c.show_error(exc, "Not decided.")
    else:
        st.session_state[LAST_KEY] = (decided.id, decided.status == "approved", decided.base_revision,
                                      decided.applied_revision)
        st.session_state.pop(f"rv_note_{decided.id}", None)
        st.session_state.get("rv_notes", {}).pop(decided.id, None)
        st.rerun()
