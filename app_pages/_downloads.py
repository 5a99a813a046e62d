"""Report and graph-export bytes for the Reports page, through lineage.reports' own API.

`report_bytes` / `graph_bytes` are plain functions (tested directly); the cached variants are
what the download buttons call, keyed by store, revision hash and date.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from app_pages._common import flowreg
from lineage.api import Flowreg
from lineage.reports import Report, build_report
from lineage.reports.dpv import dpv_graph, jsonld_bytes
from lineage.reports.graph_export import export_graph, graphml_bytes, node_link_bytes
from lineage.reports.render import render

# format -> (button label, media type, file suffix)
GRAPH_FORMATS = {
    "graphml": ("GraphML", "application/graphml+xml", ".graphml"),
    "json": ("JSON", "application/json", ".json"),
    "jsonld": ("JSON-LD", "application/ld+json", ".jsonld"),
}


def build(fr: Flowreg, rev: int, kind: str, day: date, category: str | None = None,
          from_rev: int | None = None) -> Report:
    """The report of `kind` on revision `rev` as of `day` (changes: from `from_rev` to `rev`)."""
    if kind == "changes":
        return build_report(fr, kind, from_rev=from_rev, to_rev=rev)
    return build_report(fr, kind, day, rev=rev, category=category if kind == "flows" else None)


def report_bytes(fr: Flowreg, rev: int, kind: str, fmt: str, day: date,
                 category: str | None = None, from_rev: int | None = None) -> bytes:
    """One report of `kind` on revision `rev` in format `fmt` (changes: from `from_rev`)."""
    return render(build(fr, rev, kind, day, category, from_rev), fmt)


def graph_bytes(fr: Flowreg, rev: int, fmt: str, day: date) -> bytes:
    """The flow graph as GraphML, node-link JSON or DPV JSON-LD."""
    if fmt == "jsonld":
        return jsonld_bytes(dpv_graph(fr, day, rev=rev))
    graph = export_graph(fr, day, rev=rev)
    return graphml_bytes(graph) if fmt == "graphml" else node_link_bytes(graph)


@st.cache_data(ttl=600, max_entries=64, show_spinner=False)
def cached_report(store_key: str, rev_hash: str, rev: int, kind: str, fmt: str, day: date,
                  category: str | None, from_rev: int | None) -> bytes:
    return report_bytes(flowreg(), rev, kind, fmt, day, category, from_rev)


@st.cache_data(ttl=600, max_entries=16, show_spinner=False)
def cached_graph(store_key: str, rev_hash: str, rev: int, fmt: str, day: date) -> bytes:
    return graph_bytes(flowreg(), rev, fmt, day)


@st.cache_resource(ttl=600, max_entries=16, show_spinner=False)
def cached_build(store_key: str, rev_hash: str, rev: int, kind: str, day: date, category: str | None,
                 from_rev: int | None) -> Report:
    """For the preview: a Report is immutable, so sessions can share it."""
    return build(flowreg(), rev, kind, day, category, from_rev)
