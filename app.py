"""flowreg dashboard: `make run` (demo users) or `streamlit run app.py` with FLOWREG_USERS set.

Every page lives in `app_pages/` and is a thin view over `lineage.api.Flowreg`: it reads the
head revision once per run and answers for the as-of date chosen in the sidebar. Roles are
checked inside each write (app_pages/_actions.py), not only by hiding buttons.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app_pages import _session
from app_pages._common import literal
from registry.errors import FlowregError

# A bundled icon file: a ":material/...:" page icon would make the browser fetch it from a CDN.
FAVICON = str(Path(__file__).with_name("app_pages") / "assets" / "favicon.svg")
st.set_page_config(page_title="flowreg", page_icon=FAVICON, layout="wide")

PAGES = {
    "Registry": [
        st.Page("app_pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("app_pages/flow_explorer.py", title="Flow explorer", icon=":material/account_tree:"),
        st.Page("app_pages/third_parties.py", title="Third parties", icon=":material/handshake:"),
        st.Page("app_pages/transfers.py", title="Transfers", icon=":material/public:"),
        st.Page("app_pages/findings.py", title="Findings", icon=":material/report:"),
        st.Page("app_pages/compare.py", title="Compare dates", icon=":material/compare_arrows:"),
    ],
    "Changes": [
        st.Page("app_pages/register.py", title="Register a sub-processor", icon=":material/add_business:"),
        st.Page("app_pages/discovery.py", title="Discovery", icon=":material/travel_explore:"),
        st.Page("app_pages/review.py", title="Review proposals", icon=":material/fact_check:"),
        st.Page("app_pages/history.py", title="History", icon=":material/history:"),
    ],
    "Audit": [
        st.Page("app_pages/reports.py", title="Reports", icon=":material/download:"),
    ],
}


def main() -> None:
    user = _session.current_user()
    if user is None:
        _session.sign_in_page()
        return
    page = st.navigation(PAGES)
    try:
        _session.sidebar(user)
        page.run()
    except FlowregError as exc:  # a user error from the library: its message, never a traceback
        st.error("flowreg could not answer this page.  \n" + literal(exc.message))


main()
