"""Compare two dates: the dashboard's `flowreg between`. Hops whose status changed, findings that
appear or go, and any changed hop side by side on both dates. Reached from the flow explorer,
transfers and findings pages (their "Compare with another date" button), or the navigation."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import streamlit as st

from app_pages import _charts, _dates, _heap
from app_pages import _common as c
from app_pages._hops import ROW_HEIGHT, clear_selection, hop_detail, selected_row
from lineage.between import DateComparison, compare_dates

TABLE_KEY = "cmp_table"


@st.cache_resource(max_entries=8, show_spinner=False)
def _compare(_snap: c.Snapshot, key: str, rev_hash: str, before: date, after: date,
             category: str | None) -> DateComparison:
    early, late = _snap.at(before), _snap.at(after)
    if category is None:
        out = compare_dates(before, after, early.hops(), late.hops(), early.findings(), late.findings())
    else:
        a, b = early.flows(category), late.flows(category)
        out = compare_dates(before, after, a, b, early.findings(), late.findings(),
                            flows={h.flow for h in a} | {h.flow for h in b})
    _heap.freeze()
    return out


def _use_key_date() -> None:
    choice = st.session_state.get("cmp_key_date")
    if choice is not None:
        st.session_state["cmp_before_text"] = (choice[0] - timedelta(days=1)).isoformat()
        st.session_state["cmp_after_text"] = choice[0].isoformat()
        st.session_state["cmp_key_date"] = None
        _submit()


def _submit() -> None:
    errors = []
    days = {}
    for side in ("before", "after"):
        try:
            days[side] = _dates.parse_day(str(st.session_state.get(f"cmp_{side}_text", "")))
        except ValueError as exc:
            errors.append(f"{'First' if side == 'before' else 'Second'} date: {exc}")
    if errors:
        st.session_state["cmp_errors"] = errors
        return
    st.session_state.pop("cmp_errors", None)
    st.session_state[_dates.CMP_BEFORE], st.session_state[_dates.CMP_AFTER] = days["before"], days["after"]


def pick_dates(snap: c.Snapshot) -> tuple[date, date, str | None]:
    before = st.session_state.get(_dates.CMP_BEFORE) or snap.day - timedelta(days=365)
    after = st.session_state.get(_dates.CMP_AFTER) or snap.day
    if not st.session_state.get("cmp_errors"):
        st.session_state["cmp_before_text"] = before.isoformat()
        st.session_state["cmp_after_text"] = after.isoformat()
    categories = [None, *c.category_options(snap.registry())]
    if st.session_state.get(_dates.CMP_CATEGORY) not in categories:
        st.session_state[_dates.CMP_CATEGORY] = None
    with st.form("cmp_form", border=True, enter_to_submit=True):
        cols = st.columns([2, 2, 4, 2], vertical_alignment="bottom")
        cols[0].text_input("From", key="cmp_before_text", max_chars=10, placeholder="YYYY-MM-DD")
        cols[1].text_input("To", key="cmp_after_text", max_chars=10, placeholder="YYYY-MM-DD")
        cols[2].selectbox("Data", categories, key=_dates.CMP_CATEGORY,
                          format_func=lambda x: "all data" if x is None else c.tree_label(snap, x))
        cols[3].form_submit_button("Compare", type="primary", on_click=_submit, width="stretch")
    st.selectbox("Or around a key date of the law (the day before against the day of)", _dates.key_dates(),
                 index=None, key="cmp_key_date", on_change=_use_key_date, placeholder="Key dates of the law",
                 format_func=lambda d: f"{d[0].isoformat()} · {d[1]}")
    for error in st.session_state.get("cmp_errors", []):
        st.error(c.literal(error))
    return before, after, st.session_state.get(_dates.CMP_CATEGORY)


def side_by_side(snap: c.Snapshot, before: date, after: date, category: str | None) -> None:
    left, right = st.columns(2, gap="large")
    for column, day in ((left, before), (right, after)):
        at = snap.at(day)
        hops = at.hops() if category is None else at.flows(category)
        counts = Counter(h.status.value for h in hops)
        with column:
            st.markdown(f"**On {day:%d %b %Y}**: {len(hops):,} active hops, "
                        f"{sum(1 for f in at.findings() if f.severity.value == 'high'):,} high findings")
            st.plotly_chart(_charts.status_bar(counts, height=160), width="stretch", config={"displayModeBar": False},
                            key=f"cmp_bar_{day}")


def changed_table(snap: c.Snapshot, diff: DateComparison) -> None:
    st.subheader(f"Hops whose status changed ({len(diff.changed):,})")
    if not diff.changed:
        st.success("No hop changed status between these dates.")
        return
    row = selected_row(TABLE_KEY)
    shown_before = st.session_state.get("cmp_shown", [])
    if row is not None and row < len(shown_before):
        st.session_state["cmp_hop"] = shown_before[row]
    page = list(c.paged(diff.changed, "cmp_page", noun="changed hops"))
    flows = [ch.flow for ch in page]
    if flows != shown_before:
        clear_selection(TABLE_KEY)
        st.session_state["cmp_shown"] = flows
    rows = [{
        "before": c.status_word(ch.before.status) if ch.before else "not active",
        "after": c.status_word(ch.after.status) if ch.after else "not active",
        "from": f"{snap.name(ch.hop.source)} ({', '.join(ch.hop.source_countries) or 'location unknown'})",
        "to": f"{snap.name(ch.hop.target)} ({', '.join(ch.hop.target_countries) or 'location unknown'})",
        "reason now": ch.after.reason if ch.after else "the flow no longer runs",
    } for ch in page]
    st.caption("Problems first. Click a hop to see it on both dates side by side.")
    c.table(rows, status=["before", "after"], key=TABLE_KEY, on_select="rerun",
            selection_mode=["single-row", "single-cell"], row_height=ROW_HEIGHT,
            height=min(len(rows), 8) * ROW_HEIGHT + 40,
            column_config={"before": c.HOP_COLUMNS["status"], "after": c.HOP_COLUMNS["status"],
                           "from": c.HOP_COLUMNS["from"], "to": c.HOP_COLUMNS["to"],
                           "reason now": st.column_config.TextColumn(width=300)})
    picked = next((ch for ch in diff.changed if ch.flow == st.session_state.get("cmp_hop")), None)
    if picked is not None:
        left, right = st.columns(2)
        for column, day, hop in ((left, diff.before_day, picked.before), (right, diff.after_day, picked.after)):
            with column:
                if hop is None:
                    with st.container(border=True):
                        st.subheader(f"On {day:%d %b %Y}")
                        st.info("This flow is not active on this date.")
                else:
                    hop_detail(snap.at(day), hop, f"cmp_detail_{day}", heading=f"On {day:%d %b %Y}", compact=True)


def findings_tables(snap: c.Snapshot, diff: DateComparison) -> None:
    for title, found, day, key in (("New findings", diff.new_findings, diff.after_day, "cmp_new"),
                                   ("Resolved findings", diff.resolved_findings, diff.before_day, "cmp_resolved")):
        st.subheader(f"{title} ({len(found):,})")
        rows = c.finding_rows(found, snap.at(day))
        c.table(c.paged(rows, f"{key}_page", noun="findings"), severity=["severity"], key=key,
                column_config=c.FINDING_COLUMNS, row_height=c.FINDING_ROW_HEIGHT)


def main() -> None:
    snap = c.snapshot()
    c.page_header("Compare dates", "What changed between two dates for the same registry revision", snap)
    before, after, category = pick_dates(snap)
    if before == after:
        st.info("Pick two different dates.")
        st.stop()
    diff = _compare(snap, snap.key, snap.head.hash, before, after, category)
    scope = "all data" if category is None else f"data of {snap.name(category)}"
    st.caption(f"From {before:%d %b %Y} to {after:%d %b %Y}, {scope}, revision {snap.rev}.")
    cols = st.columns(3)
    cols[0].metric("Hops whose status changed", f"{len(diff.changed):,}")
    cols[1].metric("New findings", f"{len(diff.new_findings):,}")
    cols[2].metric("Resolved findings", f"{len(diff.resolved_findings):,}")
    worse = sum(1 for ch in diff.changed if ch.after and ch.after.status.is_problem
                and not (ch.before and ch.before.status.is_problem))
    if worse:
        st.warning(f"{worse:,} hop(s) became INVALID, UNCOVERED or unknown.")
    side_by_side(snap, before, after, category)
    changed_table(snap, diff)
    findings_tables(snap, diff)


main()
