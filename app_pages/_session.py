"""The signed-in user and the sidebar controls every page shares (as-of date, revision, sign-out)."""

from __future__ import annotations

import streamlit as st

from app_pages import _auth, _dates
from app_pages._common import flowreg, literal
from registry.errors import FlowregError, PermissionDenied

USER_KEY = "flowreg_user"


def current_user() -> _auth.User | None:
    user = st.session_state.get(USER_KEY)
    return user if isinstance(user, _auth.User) else None


def sign_out() -> None:
    st.session_state.pop(USER_KEY, None)


def sign_in_page() -> None:
    """The sign-in form (offline: bcrypt hashes from the users file)."""
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("flowreg")
        st.caption("Where personal data goes, and which safeguard covers each hop, on any date.")
        try:
            users = _auth.configured_users()
        except FlowregError as exc:
            st.error("The users file cannot be read.  \n" + literal(exc.message))
            return
        if not users:
            st.warning(
                "No users are configured. Set `FLOWREG_USERS` to a YAML file of user name → "
                "`name`, `role` (viewer, engineer, officer) and `password_hash` (bcrypt; make one "
                "with `.venv/bin/python -m app_pages._auth hash-password`), or start the "
                "documented demo with `make run` (`FLOWREG_DEMO=1`)."
            )
            return
        with st.form("sign_in", border=True):
            st.subheader("Sign in")
            username = st.text_input("User name", autocomplete="username")
            password = st.text_input("Password", type="password", autocomplete="current-password")
            submitted = st.form_submit_button("Sign in", type="primary", width="stretch")
        if submitted:
            try:
                st.session_state[USER_KEY] = _auth.authenticate(users, username, password)
            except PermissionDenied as exc:
                st.error(literal(exc.message))
            else:
                st.rerun()
        demo = [(u, r) for u, r in users.items() if r.demo_password]
        if demo and _auth.demo_mode():
            with st.container(border=True):
                st.markdown("**Demo mode** (`FLOWREG_DEMO=1`): these accounts work only in demo mode.")
                st.dataframe(
                    [{"user name": u, "password": r.demo_password, "role": _auth.ROLE_TITLES[r.user.role]}
                     for u, r in demo],
                    hide_index=True, width="stretch",
                )


def sidebar(user: _auth.User) -> None:
    """As-of date (shared by every page through st.session_state), head revision, user."""
    with st.sidebar:
        _dates.date_controls()
        head = flowreg().store.head()
        if head is not None:
            st.caption(f"Registry revision **{head.number}** · `{head.hash[:12]}`")
        st.divider()
        st.caption("Signed in as")
        st.text(f"{user.name} ({user.username})")
        st.caption(_auth.ROLE_TITLES[user.role] + (" · demo mode" if _auth.demo_mode() else ""))
        st.button("Sign out", on_click=sign_out, icon=":material/logout:")
