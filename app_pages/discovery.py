"""Discovery: what the pipelines actually do (OpenLineage run events), held against the
registry; the flows that would declare what is undeclared are proposed for approval, reviewed
like a registered sub-processor on Review proposals."""

from __future__ import annotations

import hashlib

import streamlit as st

from app_pages import _common as c
from app_pages import _discovery_actions as act
from app_pages._session import current_user
from lineage.discovery.check import LineageCheck
from registry.errors import FlowregError, PermissionDenied, RegistryError
from registry.yamlexport import sections_yaml

RESULT_KEY = "dc_result"
DONE_KEY = "dc_done"
MAX_ROWS = 2000

snap = c.snapshot()
user = current_user()
c.page_header("Discovery", "What the pipelines actually do (OpenLineage run events), held against the registry", snap)

done = st.session_state.pop(DONE_KEY, None)
if done is not None:
    st.success(f"Proposal #{done} saved for review. A privacy officer approves or rejects it on "
               "**Review proposals**; nothing changes in the registry until then.")

with st.form("discovery", border=True):
    left, right = st.columns([3, 2])
    with left:
        uploads = st.file_uploader(
            "OpenLineage run events", type=["json", "jsonl", "ndjson"], accept_multiple_files=True,
            key="dc_events", help="Files of JSON lines, JSON arrays or single events, as Marquez, Airflow, "
                                  "Spark or dbt emit them.")
    with right:
        map_file = st.file_uploader("Lineage map (YAML)", type=["yaml", "yml"], key="dc_map",
                                    help="Which system or party holds each dataset, and which category each "
                                         "schema field is (openlineage_map: 1).")
        since = st.date_input("Since (optional)", value=None, key="dc_since", format="YYYY-MM-DD",
                              help="Only runs completed on or after this date; the as-of date in the sidebar "
                                   "is the last day compared.")
    run = st.form_submit_button("Compare with the registry", type="primary", icon=":material/compare_arrows:")


def signature() -> str:
    """The inputs a result belongs to: the files, the revision, the dates."""
    digest = hashlib.sha256()
    for item in list(uploads or []) + ([map_file] if map_file else []):
        digest.update(item.name.encode() + b"\0" + hashlib.sha256(item.getvalue()).digest())
    digest.update(f"{snap.head.hash}|{snap.day}|{since}".encode())
    return digest.hexdigest()


if run:
    st.session_state.pop(RESULT_KEY, None)
    if map_file is None:
        st.error("Upload the lineage map too: without it no dataset can be placed in the registry.")
        st.stop()
    try:
        with st.spinner("Reading the events and comparing them with the registry..."):
            outcome = act.run_check(snap.fr, user, [(f.name, f.getvalue()) for f in uploads or []],
                                    map_file.getvalue(), snap.day, since, snap.rev)
    except FlowregError as exc:
        c.show_error(exc, "The check did not run: the lineage map has problems." if isinstance(exc, RegistryError)
                     else "The check did not run.")
        st.stop()
    st.session_state[RESULT_KEY] = (signature(), outcome)

stored = st.session_state.get(RESULT_KEY)
if stored is None or stored[0] != signature():
    st.caption("Upload events and a map, then compare. Nothing is written until a proposal is approved.")
    st.stop()
result: LineageCheck = stored[1]

counts = {s: sum(f.severity == s for f in result.findings) for s in ("high", "medium", "low")}
row = st.columns(5)
row[0].metric("Movements", len(result.movements))
row[1].metric("Findings", len(result.findings))
row[2].metric("High", counts["high"])
row[3].metric("Medium", counts["medium"])
row[4].metric("Low", counts["low"])

st.subheader("Findings")
if not result.findings:
    st.success("Every observed movement is declared, and every mapped flow was seen.")
else:
    c.table([{"severity": f.severity, "rule": f.rule, "from": snap.name(f.source), "to": snap.name(f.target),
              "flow": f.flow or "", "categories": f.categories,
              "engine": c.status_word(f.status) if f.status else "",
              "seen": f"{f.first_seen} to {f.last_seen}" if f.first_seen else "", "jobs": f.jobs, "detail": f.message}
             for f in result.findings[:MAX_ROWS]],
            severity=["severity"], key="dc_findings",
            column_config={"detail": st.column_config.TextColumn(width="large")})

st.subheader("Observed movements")
c.table([{"from": snap.name(m.source), "to": snap.name(m.target), "categories": m.categories, "jobs": m.jobs,
          "first seen": str(m.first_seen), "last seen": str(m.last_seen), "registry flow": m.flow or "",
          "runs": m.runs, "compared": "yes" if m.compared else "no (no category)"}
         for m in result.movements[:MAX_ROWS]], key="dc_movements")

st.subheader("Coverage")
cov = result.coverage
events, runs, datasets = cov.events, cov.runs, cov.summary()
cols = st.columns(3)
other = sum(v for k, v in events.items() if k not in ("read", "run_events", "malformed"))
cols[0].metric("Events read", events["read"])
cols[0].text(f"{events['run_events']} run events\n{events['malformed']} malformed (skipped)\n"
             f"{other} dataset or job events")
cols[1].metric("Runs", runs["read"])
cols[1].text(f"{runs['compared']} compared\n{runs['before_since'] + runs['after_as_of']} outside the dates\n"
             f"{runs['failed'] + runs['aborted']} failed or aborted\n{runs['not_completed']} not completed")
cols[2].metric("Datasets", datasets["read"])
cols[2].text(f"{datasets['personal']} personal data\n{datasets['not_personal']} not personal data\n"
             f"{datasets['unmapped']} unmapped")
with st.expander(f"Datasets ({datasets['read']})"):
    c.table([d.to_dict() for d in cov.datasets[:MAX_ROWS]], key="dc_datasets")
if result.problems:
    with st.expander(f"Problems in the events ({len(result.problems)})"):
        c.table([p.to_dict() for p in result.problems[:MAX_ROWS]], key="dc_problems")

st.subheader("Propose the undeclared flows")
if result.plan.empty:
    st.caption("Nothing to propose.")
    st.stop()
if result.revision != snap.rev:
    st.warning("The registry has changed since this check: compare again before proposing.")
    st.stop()
st.caption("New flows for movements no flow declares (from the first date seen), and flows that carry the "
           "categories they were seen carrying. A privacy officer reviews them on Review proposals.")
st.code(sections_yaml(result.plan.document), language="yaml")
allowed = user is not None and user.may("propose")
if not allowed:
    st.info("You are signed in read-only: engineers and privacy officers can propose these flows.")
with st.form("dc_propose", border=True):
    message = st.text_input("Why (the proposal's message)", key="dc_message",
                            placeholder="flows observed in the pipelines' lineage")
    submit = st.form_submit_button("Submit for approval", type="primary", disabled=not allowed, icon=":material/send:")
if submit:
    try:
        proposal = act.propose_discovered(snap.fr, user, result, message)
    except PermissionDenied as exc:
        c.show_error(exc, "Not allowed.")
    except FlowregError as exc:
        c.show_error(exc, "The proposal was not saved.")
    else:
        st.session_state.pop(RESULT_KEY, None)
        st.session_state[DONE_KEY] = proposal.id
        st.rerun()
