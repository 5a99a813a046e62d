"""The signed-in user and the sidebar controls every page shares (as-of date, revision, sign-out)."""

from __future__ import annotations

import json

import streamlit as st

from app_pages import _auth, _dates
from app_pages._common import flowreg, literal
from registry.errors import FlowregError, PermissionDenied

USER_KEY = "flowreg_user"
# The session cookie to set (a token) or clear ("") on the next run: a page script does it, and
# st.rerun() right after signing in would drop a script rendered in the same run.
COOKIE_KEY = "flowreg_cookie"
TOKEN_KEY = "flowreg_token"


def _cookie() -> str:
    """The session cookie the browser sent when this session started ("" when none)."""
    value = st.context.cookies.get(_auth.SESSION_COOKIE)
    return value if isinstance(value, str) else ""


def current_user() -> _auth.User | None:
    """The signed-in user: from this session, or from a valid session cookie the browser sent
    (a reload starts a new session; the signed cookie signs the user back in)."""
    user = st.session_state.get(USER_KEY)
    if isinstance(user, _auth.User):
        return user
    token = _cookie()
    if not token or st.session_state.get(COOKIE_KEY) == "":
        return None
    try:
        user = _auth.user_from_token(token, _auth.configured_users())
    except FlowregError:
        return None  # an unreadable users file: the sign-in page says so
    if user is not None:
        st.session_state[USER_KEY] = user
        st.session_state[TOKEN_KEY] = token
    return user


def sign_out() -> None:
    token = st.session_state.pop(TOKEN_KEY, None) or _cookie()
    if token:
        _auth.revoke_token(token)
    st.session_state.pop(USER_KEY, None)
    st.session_state[COOKIE_KEY] = ""  # clear it in the browser


def _signed_in(user: _auth.User) -> None:
    token = _auth.issue_token(user)
    st.session_state[USER_KEY] = user
    st.session_state[TOKEN_KEY] = token
    st.session_state[COOKIE_KEY] = token


def write_cookie() -> None:
    """Set or clear the session cookie in the browser, once, if a sign-in or sign-out asked to.

    The script is ours alone: the token is base64url and a dot, embedded as a JSON string."""
    value = st.session_state.pop(COOKIE_KEY, None)
    if value is None:
        return
    age = _auth.SESSION_SECONDS if value else 0
    cookie = json.dumps(f"{_auth.SESSION_COOKIE}={value}; Path=/; Max-Age={age}; SameSite=Strict")
    st.html(
        "<script>document.cookie = " + cookie
        + " + (location.protocol === 'https:' ? '; Secure' : '');</script>",
        unsafe_allow_javascript=True,
    )


def sign_in_page() -> None:
    """The sign-in form (offline: bcrypt hashes from the users file)."""
    write_cookie()  # after a sign-out: clear the session cookie
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
                _signed_in(_auth.authenticate(users, username, password))
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
        write_cookie()  # after a sign-in: keep it across reloads
        _dates.date_controls()
        head = flowreg().store.head()
        if head is not None:
            st.caption(f"Registry revision **{head.number}** · `{head.hash[:12]}`")
        st.divider()
        st.caption("Signed in as")
        st.text(f"{user.name} ({user.username})")
        st.caption(_auth.ROLE_TITLES[user.role] + (" · demo mode" if _auth.demo_mode() else ""))
        st.button("Sign out", on_click=sign_out, icon=":material/logout:")
