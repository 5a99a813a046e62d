"""The as-of date every page answers for, and the way to compare two dates.

The date is typed into a small form: Enter (or Apply) applies it. A form sends nothing while
the user types, so clicking a page link with a half-typed date simply navigates (the date stays
what it was); a date field that applied itself when it lost focus would rerun the old page at
the same moment and swallow the navigation. Key dates of the law apply at once when picked.
"""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from app_pages._common import AS_OF_KEY, flowreg

TEXT_KEY = "as_of_text"
ERROR_KEY = "as_of_error"
KEY_DATE_KEY = "key_date"
FIRST, LAST = date(1995, 1, 1), date(2100, 12, 31)

# The comparison page's two dates and scope, set by the links on other pages.
CMP_BEFORE, CMP_AFTER, CMP_CATEGORY = "cmp_before", "cmp_after", "cmp_category"


def parse_day(text: str) -> date:
    """An ISO date (YYYY-MM-DD) in the dashboard's range; ValueError with the reason otherwise.

    >>> parse_day(" 2020-07-16 ")
    datetime.date(2020, 7, 16)
    """
    value = text.strip()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a date: type it as YYYY-MM-DD, e.g. 2020-07-16") from None
    if not FIRST <= day <= LAST:
        raise ValueError(f"{day} is outside {FIRST} to {LAST}")
    return day


def set_as_of(day: date) -> None:
    """Make `day` the as-of date (call from a callback or before the sidebar is drawn)."""
    st.session_state[AS_OF_KEY] = day
    st.session_state[TEXT_KEY] = day.isoformat()
    st.session_state.pop(ERROR_KEY, None)


def _apply_typed() -> None:
    try:
        day = parse_day(str(st.session_state.get(TEXT_KEY, "")))
    except ValueError as exc:
        st.session_state[ERROR_KEY] = str(exc)
    else:
        set_as_of(day)


def key_dates() -> list[tuple[date, str]]:
    """Dates where the law changes for the frameworks it knows, plus today."""
    law = flowreg().law
    out = [(date.today(), "Today")]
    for fw in law.frameworks.values():
        if fw.valid_from:
            out.append((fw.valid_from, f"{fw.name} in force"))
        if fw.valid_until:
            out.append((fw.valid_until, f"{fw.name} ends ({fw.ended_by or 'end of validity'})"))
    for rule in law.data.scc:
        if rule.regime == "eu" and rule.valid_until:
            out.append((rule.valid_until, f"old EU SCC ({rule.version}) no longer valid"))
    return sorted(set(out), key=lambda x: x[0])


def _jump() -> None:
    choice = st.session_state.get(KEY_DATE_KEY)
    if choice is not None:
        set_as_of(choice[0])
        st.session_state[KEY_DATE_KEY] = None


def date_controls() -> None:
    """The as-of field (a form: Enter applies), its error, and the key dates of the law."""
    if AS_OF_KEY not in st.session_state:
        st.session_state[AS_OF_KEY] = date.today()
    current = st.session_state[AS_OF_KEY]
    if not st.session_state.get(ERROR_KEY):
        # Always set (not only when it differs): text typed but not applied before a page link
        # was followed is then replaced by the date the pages answer for.
        st.session_state[TEXT_KEY] = current.isoformat()
    with st.form("as_of_form", border=False, enter_to_submit=True):
        field, button = st.columns([3, 2], vertical_alignment="bottom")
        field.text_input(
            "As of", key=TEXT_KEY, placeholder="YYYY-MM-DD", max_chars=10,
            help="Every page answers for this date: flows active then, and the law then in force. "
                 "Type a date (YYYY-MM-DD) and press Enter.",
        )
        button.form_submit_button("Apply", on_click=_apply_typed, width="stretch")
    error = st.session_state.get(ERROR_KEY)
    if error:
        st.error(f"Not applied: {error}. The pages still answer for {current:%d %b %Y}.", icon=":material/event_busy:")
    else:
        st.caption(f"Answers are for **{current:%A %d %B %Y}**.")
    st.selectbox(
        "Jump to a key date", key_dates(), index=None, key=KEY_DATE_KEY, on_change=_jump,
        format_func=lambda d: f"{d[0].isoformat()} · {d[1]}", placeholder="Key dates of the law",
        label_visibility="collapsed",
    )


def _open_compare(before: date, after: date, category: str | None) -> None:
    st.session_state[CMP_BEFORE] = before
    st.session_state[CMP_AFTER] = after
    st.session_state[CMP_CATEGORY] = category


def compare_link(prefix: str, category: str | None = None) -> None:
    """A button that opens the date comparison: the as-of date against the same day a year
    earlier (both editable there), for `category` or all data."""
    after = st.session_state.get(AS_OF_KEY) or date.today()
    before = after - timedelta(days=365)
    if st.button("Compare with another date", key=f"{prefix}_compare", icon=":material/compare_arrows:",
                 on_click=_open_compare, args=(before, after, category),
                 help="What changed between two dates: hops whose status changed, new and resolved findings."):
        st.switch_page("app_pages/compare.py")
