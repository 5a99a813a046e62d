"""Reports: every report of lineage.reports in every format, pinned to a revision and the as-of
date, plus the graph exports. Files are built when a button is clicked (not on page load)."""

from __future__ import annotations

from datetime import date

import streamlit as st

from app_pages import _common as c
from app_pages._downloads import GRAPH_FORMATS, cached_build, cached_graph, cached_report
from app_pages._words import cell_words
from lineage.publish.site import site_archive
from lineage.reports import KINDS
from lineage.reports.model import cell_text
from lineage.reports.render import FORMATS, MEDIA_TYPES, SUFFIXES
from registry.errors import FlowregError

TITLES = {
    "flows": ("Flow report", "Every hop with its status, reason and tool (one category, or all data)."),
    "ropa": ("Record of processing activities", "GDPR Art. 30: activities as controller and as processor."),
    "transfers": ("Transfer register", "Border crossings per regime and the tools they rely on."),
    "subprocessors": ("Sub-processor list", "Current and announced sub-processors, with locations."),
    "changes": ("Sub-processor change notice", "New, changed and removed sub-processors between two revisions."),
    "findings": ("Findings", "What is wrong on the date, with evidence and the fix."),
}

snap = c.snapshot()
c.page_header("Reports", "Auditor's downloads, each stating its revision, hash and as-of date", snap)

numbers = [r.number for r in snap.fr.store.history()]
left, middle = st.columns(2)
rev = left.selectbox("Revision", list(reversed(numbers)), key="rp_rev",
                     format_func=lambda n: f"revision {n}" + (" (head)" if n == snap.rev else ""))
categories = c.category_options(snap.registry())
category = middle.selectbox("Category (flow report only)", [None, *categories], key="rp_category",
                            format_func=lambda x: "all data" if x is None else c.tree_label(snap, x))
from_rev = None
if len(numbers) > 1:
    older = [n for n in numbers if n < rev] or [rev]
    from_rev = st.selectbox("Change notice: changes since revision", list(reversed(older)), key="rp_from",
                            format_func=lambda n: f"revision {n}")


rev_hash = snap.fr.revision(rev).hash
for kind in KINDS:
    title, blurb = TITLES.get(kind, (kind, ""))
    with st.container(border=True):
        text_col, *buttons = st.columns([3, 1, 1, 1, 1, 1, 1], vertical_alignment="center")
        text_col.markdown(f"**{title}**  \n{blurb}")
        if kind == "changes" and (from_rev is None or from_rev == rev):
            text_col.caption("Needs two revisions: pick a later revision above.")
            continue
        for column, fmt in zip(buttons, FORMATS, strict=True):
            stem = f"{kind}-r{rev}-{snap.day.isoformat()}" if kind != "changes" else f"changes-r{from_rev}-r{rev}"
            column.download_button(
                fmt.upper(),
                data=lambda kind=kind, fmt=fmt: cached_report(
                    c.store_key(), rev_hash, rev, kind, fmt, snap.day, category, from_rev),
                file_name=stem + SUFFIXES[fmt], mime=MEDIA_TYPES[fmt], on_click="ignore",
                key=f"dl_{kind}_{fmt}", width="stretch",
            )

with st.container(border=True):
    text_col, *buttons = st.columns([3, 1, 1, 1, 3], vertical_alignment="center")
    text_col.markdown("**Flow graph export**  \nGraphML for Gephi or yEd, node-link JSON for d3, JSON-LD in W3C DPV terms.")
    for column, (fmt, (label, mime, suffix)) in zip(buttons, GRAPH_FORMATS.items(), strict=False):
        column.download_button(
            label, data=lambda fmt=fmt: cached_graph(c.store_key(), rev_hash, rev, fmt, snap.day),
            file_name=f"flow-graph-r{rev}-{snap.day.isoformat()}{suffix}", mime=mime, on_click="ignore",
            key=f"dl_graph_{fmt}", width="stretch",
        )

# --- the public sub-processor site (flowreg publish) as one zip; built on click -------------
@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def _site_zip(store_key: str, rev_hash: str, rev: int, day: date) -> bytes:
    return site_archive(c.flowreg(), day, rev=rev)


with st.container(border=True):
    text_col, button_col = st.columns([3, 1], vertical_alignment="center")
    text_col.markdown("**Public sub-processor site**  \nThe list as of the date, its changes and Atom feed, "
                      "and JSON, as `flowreg publish` writes them (one zip).")
    button_col.download_button(
        "ZIP", data=lambda: _site_zip(c.store_key(), rev_hash, rev, snap.day),
        file_name=f"subprocessors-r{rev}-{snap.day.isoformat()}.zip", mime="application/zip",
        on_click="ignore", key="dl_site", width="stretch",
    )

st.subheader("Preview")
kind = st.selectbox("Report", [k for k in KINDS if k != "changes" or (from_rev and from_rev != rev)],
                    key="rp_preview", format_func=lambda k: TITLES.get(k, (k, ""))[0])
try:
    report = cached_build(c.store_key(), rev_hash, rev, kind, snap.day, category, from_rev)
except FlowregError as exc:
    c.show_error(exc, "This report cannot be built.")
    st.stop()
st.caption("The preview shows values in words; the files keep the registry format's values "
           "(the JSON contract), as scripts and auditors' tools expect.")
for section in report.sections:
    st.caption(c.literal(section.title) + f" · {len(section.rows):,} row(s)" + (" · the first 200" if len(section.rows) > 200 else ""))
    c.table([{col.title: cell_words(cell_text(v)) for col, v in zip(section.columns, row, strict=True)}
             for row in section.rows[:200]], key=f"rp_section_{section.name}")
