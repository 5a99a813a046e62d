"""Register a sub-processor: a form, its validation per field, the impact before anything is
saved, then a proposal that a privacy officer approves or rejects (Review proposals)."""

from __future__ import annotations

from typing import Any

import pycountry
import streamlit as st

from app_pages import _actions as act
from app_pages import _common as c
from app_pages import _contracts
from app_pages._session import current_user
from registry.errors import FlowregError, PermissionDenied, RegistryError
from registry.ids import FRAMEWORK_IDS, PartyKind, Role
from registry.yamlexport import sections_yaml

PREVIEW_KEY = "reg_preview"
ERRORS_KEY = "reg_errors"
DONE_KEY = "reg_done"

snap = c.snapshot()
reg = snap.registry()
user = current_user()
c.page_header("Register a sub-processor", "Check a new recipient's impact, then propose it for approval", snap)

if user is None or not user.may("propose"):
    st.info("You are signed in read-only: you can check a sub-processor and preview its impact, "
            "but only engineers and privacy officers can propose it.")

# What an empty form holds. Resetting sets these values rather than deleting the keys: a deleted
# key leaves the browser showing the old values, so a second click would file them again.
EMPTY_FORM: dict[str, Any] = {
    "reg_id": "", "reg_name": "", "reg_country": None, "reg_categories": [], "reg_purpose": "",
    "reg_under": [], "reg_kind": "subprocessor", "reg_from": None, "reg_role": "subprocessor",
    "reg_public": "not stated", "reg_source": "", "reg_message": "",
}

done = st.session_state.pop(DONE_KEY, None)
if done is not None:
    for key in [k for k in st.session_state if str(k).startswith("reg_") and k not in EMPTY_FORM]:
        del st.session_state[key]  # errors and previews of the values just filed
    st.session_state.update(EMPTY_FORM)  # an empty form for the next one
    st.success(f"Proposal #{done} saved for review. A privacy officer approves or rejects it "
               "on **Review proposals**; nothing changes in the registry until then.")
for form_key, empty in EMPTY_FORM.items():  # the defaults live here, not in the widgets (one source)
    st.session_state.setdefault(form_key, empty)

countries = sorted((country.alpha_2 for country in pycountry.countries),
                   key=lambda code: pycountry.countries.get(alpha_2=code).name)
categories = c.category_options(reg)
senders = [s.id for s in reg.systems] + [p.id for p in reg.parties]
tools = [m.id for m in reg.mechanisms] + sorted(FRAMEWORK_IDS)


def draft_from_state() -> act.SubprocessorDraft:
    s = st.session_state
    public: Any = {"yes": True, "no": False}.get(s.get("reg_public", "not stated"))
    return act.SubprocessorDraft(
        party_id=s.get("reg_id") or "", name=s.get("reg_name") or "", country=s.get("reg_country") or "",
        categories=tuple(s.get("reg_categories") or ()), from_system=s.get("reg_from") or "",
        kind=s.get("reg_kind") or "subprocessor", purpose=s.get("reg_purpose") or "",
        role=s.get("reg_role") or "subprocessor", under=tuple(s.get("reg_under") or ()),
        public_list=public, source=s.get("reg_source") or "", **_contracts.dpa_from_state("reg"),
    )


# Errors and the preview belong to the values that were checked; once the form holds other
# values (e.g. after leaving the page) they are not shown.
checked_draft, errors = st.session_state.get(ERRORS_KEY, (None, {}))
if checked_draft != draft_from_state():
    errors = {}


def field_errors(name: str) -> None:
    for message in errors.get(name, []):
        st.error(c.literal(message), icon=":material/error:")


with st.form("register", border=True):
    left, right = st.columns(2)
    with left:
        st.text_input("Id", key="reg_id", placeholder="e.g. speechco",
                      help="A new id, unique in the whole registry, e.g. the company's short name.")
        field_errors("party_id")
        st.selectbox("Country of its seat", countries, index=None, key="reg_country",
                     format_func=lambda code: f"{pycountry.countries.get(alpha_2=code).name} ({code})",
                     placeholder="Choose a country")
        field_errors("country")
        st.multiselect("Categories it receives", categories, key="reg_categories",
                       format_func=lambda cid: c.flat_label(snap, cid), placeholder="Choose from the category tree")
        field_errors("categories")
        st.text_input("Purpose", key="reg_purpose", placeholder="e.g. transcription")
        field_errors("purpose")
        st.multiselect("Transfer mechanism it relies on", tools, key="reg_under", format_func=snap.tool,
                       help="Leave empty when no tool is needed (or to see the finding if one is).")
        field_errors("under")
    with right:
        st.text_input("Name", key="reg_name", placeholder="e.g. SpeechCo Oy")
        field_errors("name")
        kinds = [k.value for k in PartyKind]
        st.selectbox("Kind", kinds, key="reg_kind",
                     format_func=lambda k: c.KIND_SINGULAR.get(k, k))
        field_errors("kind")
        st.selectbox("From system", senders, index=None, key="reg_from", placeholder="The system that sends the data",
                     format_func=snap.node_label)
        field_errors("from_system")
        roles = [r.value for r in Role]
        st.selectbox("Its role", roles, key="reg_role", format_func=c.role_word)
        field_errors("role")
        st.selectbox("On the public sub-processor list", ["not stated", "yes", "no"], key="reg_public")
        st.text_input("Source", key="reg_source", placeholder="e.g. DPA signed 2024-03-01")
        field_errors("source")
    _contracts.dpa_inputs("reg")
    field_errors("dpa")
    field_errors("form")
    checked = st.form_submit_button("Check and preview impact", type="primary", icon=":material/troubleshoot:")


if checked:
    st.session_state.pop(PREVIEW_KEY, None)
    draft = draft_from_state()
    try:
        preview = act.preview_subprocessor(snap.fr, user, draft, snap.day, snap.rev)
    except RegistryError as exc:
        st.session_state[ERRORS_KEY] = (draft, act.FieldErrors.of(exc).by_field)
    except FlowregError as exc:
        st.session_state[ERRORS_KEY] = (draft, {"form": [exc.message]})
    else:
        st.session_state[ERRORS_KEY] = (draft, {})
        st.session_state[PREVIEW_KEY] = preview
    st.rerun()  # show the messages beside their fields

if errors:
    st.error("Nothing was saved: correct the fields marked above.")

preview: act.Preview | None = st.session_state.get(PREVIEW_KEY)
if preview is None or preview.draft != draft_from_state():
    st.stop()
if preview.base_revision != snap.rev:
    st.warning("The registry has changed since this preview: check again.")
    st.stop()

st.subheader("Impact on the as-of date")
result = preview.whatif
new_hops = [h for h in result.changed_hops if h.before is None]
other = [h for h in result.changed_hops if h.before is not None]
cols = st.columns(3)
cols[0].metric("New hops", len(new_hops))
cols[1].metric("New findings", len(result.new_findings))
cols[2].metric("Other hops that change", len(other))
flows = {f["id"]: f for f in preview.added["flows"]}
c.table([{"status": c.status_word(h.after or "-"),
          "from": snap.node_label(flows[h.flow]["from"]) if h.flow in flows else snap.name(h.flow),
          "to": f"{preview.draft.name} ({preview.draft.country})" if h.flow in flows else "",
          "reason": h.reason} for h in new_hops + other], status=["status"], key="reg_hops",
        row_height=76, column_config={"status": c.HOP_COLUMNS["status"],
                                      "from": st.column_config.TextColumn(width=240),
                                      "to": st.column_config.TextColumn(width=200),
                                      "reason": st.column_config.TextColumn(width=330)})
if result.new_findings:
    st.caption("Findings this change would add")
    c.table(c.finding_rows(result.new_findings, snap), severity=["severity"], key="reg_findings",
            column_config=c.FINDING_COLUMNS, row_height=c.FINDING_ROW_HEIGHT)
else:
    st.success("No new finding.")
with st.expander("What would be added to the registry"):
    st.code(sections_yaml(preview.added), language="yaml")


def overlap_warnings() -> bool:
    """Warn about open proposals that add the same party; True when one is identical (then
    submitting needs an explicit confirmation)."""
    identical = False
    for overlap in act.open_overlaps(snap.fr, preview.added):
        p = overlap.proposal
        when = f"{p.created_at:%Y-%m-%d %H:%M} UTC"
        if overlap.identical:
            identical = True
            st.warning(f"An identical proposal is already open: #{p.id}, by {c.literal(p.author)} on {when} "
                       f"({c.literal(p.message)}). Filing this again would make a duplicate for the reviewer.",
                       icon=":material/content_copy:")
        else:
            st.warning(f"Open proposal #{p.id} (by {c.literal(p.author)} on {when}) also adds "
                       f"'{c.literal(preview.draft.party_id)}', with other details: only one of them can be approved.",
                       icon=":material/warning:")
    return identical


duplicate = overlap_warnings()
with st.form("propose", border=True):
    message = st.text_input("Why (the proposal's message)", key="reg_message",
                            placeholder=f"add sub-processor {preview.draft.party_id}")
    allowed = user is not None and user.may("propose")
    again = st.checkbox("File it again anyway", key="reg_again") if duplicate else True
    submit = st.form_submit_button("Submit for approval", type="primary", disabled=not allowed,
                                   icon=":material/send:",
                                   help=None if allowed else "Only engineers and privacy officers can propose.")
if submit and not again:
    st.error("Not filed: an identical proposal is already open. Tick 'File it again anyway' to file a second one.")
elif submit:
    try:
        proposal = act.propose_subprocessor(snap.fr, user, preview.draft, message)
    except PermissionDenied as exc:
        c.show_error(exc, "Not allowed.")
    except RegistryError as exc:
        st.session_state[ERRORS_KEY] = (preview.draft, act.FieldErrors.of(exc).by_field)
        st.session_state.pop(PREVIEW_KEY, None)
        st.rerun()
    except FlowregError as exc:
        c.show_error(exc, "The proposal was not saved.")
    else:
        st.session_state.pop(PREVIEW_KEY, None)
        st.session_state[DONE_KEY] = proposal.id
        st.rerun()
