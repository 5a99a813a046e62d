"""The complete record on the dashboard: processor contracts (DPA) in the register form and on the
third-party page, a hop's assessment and DPA in the hop detail view, and the findings
filter for the record's rules. Each page calls one function here; the rules stay in
`lineage.contracts` and `lineage.record_findings`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from app_pages import _actions as act
from app_pages import _common as c
from app_pages._auth import User
from lineage.contracts import RecordIndex, dpa_check, tia_check, tia_text
from lineage.record_findings import NO_DPA, SPECIAL_TRANSFER, TIA_MISSING, TIA_OVERDUE, TIA_SUSPEND
from lineage.status import HopStatus
from registry.errors import FlowregError, PermissionDenied, RegistryError
from registry.ids import AgreementKind, Authorisation
from registry.model import Party

EARLIEST, LATEST = date(1990, 1, 1), date(2100, 12, 31)
NOT_STATED = "not stated"
RULE_GROUPS = {
    "Processor contracts (Art. 28)": (NO_DPA,),
    "Transfer impact assessments": (TIA_MISSING, TIA_OVERDUE, TIA_SUSPEND),
    "Special categories in transfers": (SPECIAL_TRANSFER,),
}


# --- the register form ----------------------------------------------------------------------------
def dpa_inputs(prefix: str) -> None:
    """The DPA fields of a form: signature date (none: no DPA recorded), authorisation, document."""
    st.caption("Processor contract (DPA) with it, if signed")
    left, middle, right = st.columns(3)
    left.date_input("DPA signed on", value=None, min_value=EARLIEST, max_value=LATEST, key=f"{prefix}_dpa_signed",
                    help="Leave empty when no DPA is signed yet: the finding processor-without-dpa then shows it.")
    middle.selectbox("Sub-processor authorisation", [NOT_STATED, *(a.value for a in Authorisation)],
                     key=f"{prefix}_dpa_authorisation", help="Art. 28(2): general or specific written authorisation.")
    right.text_input("Where the signed DPA is", key=f"{prefix}_dpa_document", placeholder="e.g. contracts/dpa-speechco.pdf")


def dpa_from_state(prefix: str) -> dict[str, Any]:
    """The DPA fields of the form as `SubprocessorDraft` keywords."""
    s = st.session_state
    authorisation = s.get(f"{prefix}_dpa_authorisation") or NOT_STATED
    return {"dpa_signed": s.get(f"{prefix}_dpa_signed"),
            "dpa_authorisation": "" if authorisation == NOT_STATED else authorisation,
            "dpa_document": s.get(f"{prefix}_dpa_document") or ""}


# --- the third-party page -------------------------------------------------------------------------
def party_contracts(snap: c.Snapshot, user: User | None, party: Party) -> None:
    """The DPAs that name `party` (in force on the as-of date or not), the DPA state of each hop
    into it, and a form that proposes a new or edited DPA for review."""
    reg = snap.registry()
    rg = snap.graph()
    st.subheader("Processor contracts (DPA)")
    signed = [a for a in reg.agreements if party.id in a.parties]
    c.table([{
        "agreement": a.id, "kind": a.kind.value, "with": ", ".join(snap.name(p) for p in a.parties if p != party.id),
        "signed": a.signed.isoformat(), "valid until": a.valid_until.isoformat() if a.valid_until else "open",
        "in force": "yes" if a.in_force(snap.day) else "no",
        "authorisation": a.authorisation.value if a.authorisation else NOT_STATED,
        "document": a.document or "not recorded"} for a in signed], key="tp_dpas")
    index = RecordIndex.of(reg)
    checks = [chk for f in rg.active_flows(snap.day) if (chk := dpa_check(rg, index, f, snap.day)) is not None
              and chk.processor == party.id]
    if checks:
        st.caption("Its hops as processor on the as-of date")
        c.table([{"flow": chk.flow, "with": chk.counterpart_text(),
                  "DPA": chk.agreement.id if chk.agreement else "MISSING"} for chk in checks], key="tp_dpa_hops")

    dpas = [a for a in signed if a.kind is AgreementKind.DPA]
    # Keys per party: a widget keeps its value by key, and each party's form has its own defaults.
    key = f"tp_dpa_{party.id}"
    others = [p.id for p in reg.parties if p.id != party.id]
    default = next((chk.counterparts[0] for chk in checks if chk.counterparts), None)
    with st.expander("Record or edit a DPA (proposed for review)"):
        with st.form(f"{key}_form"):
            replaces = st.selectbox("DPA", ["", *(a.id for a in dpas)], key=f"{key}_replaces",
                                    format_func=lambda x: "a new DPA" if not x else f"edit {x}")
            left, right = st.columns(2)
            counterpart = left.selectbox("Signed with", others, key=f"{key}_counterpart",
                                         index=others.index(default) if default in others else None,
                                         format_func=lambda p: f"{snap.name(p)} · {p}", placeholder="Choose the organisation")
            signed_on = right.date_input("Signed on", value=None, min_value=EARLIEST, max_value=LATEST, key=f"{key}_signed")
            until = left.date_input("Valid until (first day it no longer applies)", value=None, min_value=EARLIEST,
                                    max_value=LATEST, key=f"{key}_until")
            authorisation = right.selectbox("Sub-processor authorisation", [NOT_STATED, *(a.value for a in Authorisation)],
                                            key=f"{key}_authorisation")
            document = st.text_input("Where the signed DPA is", key=f"{key}_document")
            allowed = user is not None and user.may("propose")
            submit = st.form_submit_button("Propose this DPA", disabled=not allowed,
                                           help=None if allowed else "Only engineers and privacy officers can propose.")
        if submit:
            draft = act.DpaDraft(party.id, counterpart or "", signed_on, until,
                                 "" if authorisation == NOT_STATED else authorisation, document, replaces or "")
            try:
                proposal = act.propose_dpa(snap.fr, user, draft)
            except PermissionDenied as exc:
                c.show_error(exc, "Not allowed.")
            except RegistryError as exc:
                c.show_error(exc, "Nothing was saved: correct these fields.")
            except FlowregError as exc:
                c.show_error(exc, "The proposal was not saved.")
            else:
                st.success(f"Proposal #{proposal.id} saved for review. A privacy officer approves it on "
                           "**Review proposals**; nothing changes in the registry until then.")


# --- a hop's detail (every page's hops table) ------------------------------------------------------
def assessments(snap: c.Snapshot, hop: HopStatus) -> dict[str, str]:
    """Regime -> the transfer impact assessment of `hop` in one line: the one in force, or what
    is missing, or why none is needed (as the transfer register words it)."""
    rg, law = snap.graph(), snap.fr.law
    index = RecordIndex.of(snap.registry())
    return {regime: tia_text(law, tia_check(rg, law, index, hop, regime, snap.day), snap.day)
            for regime in hop.regimes}


def contract_text(snap: c.Snapshot, hop: HopStatus) -> str:
    """The processor contract (Art. 28 DPA) a hop relies on, in words, or why it needs none."""
    rg = snap.graph()
    flow = rg.flows.get(hop.flow)
    dpa = dpa_check(rg, RecordIndex.of(snap.registry()), flow, snap.day) if flow is not None else None
    if dpa is None:
        return "not needed: the recipient is not a processor of the sender"
    if dpa.agreement is None:
        return f"MISSING: none in force between {snap.name(dpa.processor)} and {dpa.counterpart_text()}"
    return (f"{dpa.agreement.id}, signed {dpa.agreement.signed} with {dpa.counterpart_text()}"
            f" ({dpa.agreement.document or 'document not recorded'})")


# --- the findings page ----------------------------------------------------------------------------
def record_rule_filter(key: str) -> set[str] | None:
    """A filter by the complete record's rule groups; None when none is chosen (no filtering)."""
    groups = st.multiselect("Complete record", list(RULE_GROUPS), key=key, placeholder="every topic",
                            help="Processor contracts, transfer impact assessments, special categories in transfers.")
    return {rule for group in groups for rule in RULE_GROUPS[group]} or None
