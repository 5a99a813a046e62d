"""The dashboard in a real browser: Debian's Chromium driven by Playwright (browsers cannot be
downloaded here, so `executable_path` points at /usr/bin/chromium).

Starts `streamlit run app.py` on a free loopback port over a fresh store seeded with the Twilio
registry (`flowreg apply`), signs in, walks the main pages, registers a sub-processor as an
engineer and approves it as a privacy officer, registers one with a hostile name, and checks
that no request left 127.0.0.1 and no script ran. Screenshots go to test-output/browser/.
Without /usr/bin/chromium the test skips, unless CI is set: then it fails.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
OUT = ROOT / "test-output" / "browser"
SEED = ROOT / "seeds" / "twilio.yaml"
XSS = "<img src=x onerror=alert(1)>"
LOCAL_SCHEMES = {"data", "blob", "about", "chrome-error"}

pytestmark = pytest.mark.browser


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMIUM.exists():
        if in_ci():
            pytest.fail(f"CI is set but {CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api")
    tmp = tmp_path_factory.mktemp("browser")
    env = {k: v for k, v in os.environ.items() if k not in ("FLOWREG_USERS", "FLOWREG_BACKEND")}
    env.update(FLOWREG_DB=str(tmp / "flowreg.db"), FLOWREG_DEMO="1")
    flowreg = Path(sys.executable).with_name("flowreg")
    subprocess.run([str(flowreg), "apply", str(SEED), "--author", "flowreg-seed", "-m", "Twilio seed"],
                   env=env, check=True, capture_output=True)
    port = free_port()
    log = (tmp / "streamlit.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not start: {(tmp / 'streamlit.log').read_text()}") from None
                time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        OUT.mkdir(parents=True, exist_ok=True)
        (OUT / "streamlit.log").write_text((tmp / "streamlit.log").read_text())  # beside the screenshots


class Browser:
    """A signed-in page with helpers that wait for Streamlit to finish each rerun."""

    def __init__(self, page: object, url: str) -> None:
        self.page = page
        self.url = url

    def settle(self, text: str | None = None, timeout: float = 30_000) -> None:
        page = self.page
        if text is not None:
            page.get_by_text(text, exact=False).first.wait_for(timeout=timeout)  # type: ignore[attr-defined]
        page.wait_for_function(  # type: ignore[attr-defined]
            "() => !document.querySelector('[data-testid=\"stStatusWidget\"] [data-testid=\"stSpinner\"]')"
            " && !document.querySelector('[data-stale=\"true\"]')", timeout=timeout)
        page.wait_for_timeout(400)  # type: ignore[attr-defined]

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]

    def sign_in(self, user: str, password: str) -> None:
        page = self.page
        page.goto(self.url)  # type: ignore[attr-defined]
        self.settle("Sign in")
        page.get_by_role("textbox", name="User name").fill(user)  # type: ignore[attr-defined]
        page.get_by_role("textbox", name="Password").fill(password)  # type: ignore[attr-defined]
        page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
        self.settle("The registry at a glance")

    def go(self, title: str) -> None:
        self.page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()  # type: ignore[attr-defined]
        self.settle()
        self.page.get_by_role("heading", name=title).first.wait_for()  # type: ignore[attr-defined]
        self.settle()

    def choose(self, label: str, text: str) -> None:
        """Type into a selectbox or multiselect labelled `label` and pick the first match."""
        box = self.page.get_by_role("combobox", name=label)  # type: ignore[attr-defined]
        box.click()
        box.fill(text)
        self.page.get_by_role("option").filter(has_text=text).first.click()  # type: ignore[attr-defined]
        if self.page.get_by_role("listbox").count():  # type: ignore[attr-defined]
            self.page.keyboard.press("Escape")  # a multiselect stays open for more
        self.settle()

    def fill(self, label: str, text: str) -> None:
        self.page.get_by_role("textbox", name=label).fill(text)  # type: ignore[attr-defined]

    def click(self, name: str) -> None:
        self.page.get_by_role("button", name=name).first.click()  # type: ignore[attr-defined]
        self.settle()

    def type_as_of(self, iso: str) -> None:
        """Type a date into the sidebar's as-of field (not applied yet)."""
        field = self.page.get_by_role("textbox", name="As of")  # type: ignore[attr-defined]
        field.click()
        field.fill(iso)

    def set_as_of(self, iso: str) -> None:
        """Type the date into the sidebar's as-of field and press Enter."""
        self.type_as_of(iso)
        self.page.get_by_role("textbox", name="As of").press("Enter")  # type: ignore[attr-defined]
        self.settle()

    def click_row(self, table: int, row: int, row_height: int) -> None:
        """Click a cell of row `row` of the `table`-th dataframe on the page (its second column)."""
        frame = self.page.locator('[data-testid="stDataFrame"]').nth(table)  # type: ignore[attr-defined]
        frame.scroll_into_view_if_needed()
        box = frame.bounding_box()
        x, y = box["x"] + 140, box["y"] + 36 + row_height * row + row_height / 2
        self.page.mouse.move(x, y)  # type: ignore[attr-defined]
        self.page.wait_for_timeout(200)  # type: ignore[attr-defined]
        self.page.mouse.click(x, y)  # type: ignore[attr-defined]
        self.page.wait_for_timeout(500)  # type: ignore[attr-defined]
        self.settle()

    def sign_out(self) -> None:
        self.click("Sign out")


def register(b: Browser, party_id: str, name: str, purpose: str, message: str) -> None:
    b.go("Register a sub-processor")
    b.fill("Id", party_id)
    b.fill("Name", name)
    b.choose("Country of its seat", "Finland")
    b.choose("Categories it receives", "Call recordings")
    b.choose("From system", "Stored communication records")
    b.fill("Purpose", purpose)
    b.click("Check and preview impact")
    b.settle("Impact on the as-of date")


def test_walk_register_approve_offline(app_url: str) -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "failure.png").unlink(missing_ok=True)
    requests: list[str] = []
    dialogs: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 1800}, accept_downloads=True)
        context.on("request", lambda r: requests.append(r.url))
        page = context.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        b = Browser(page, app_url)
        try:
            page.goto(app_url)
            b.settle("Sign in")
            b.shot("01-sign-in")

            # --- an engineer walks the pages and proposes a sub-processor ----------------------
            b.sign_in("engineer", "engineer-demo")
            b.set_as_of("2018-12-27")
            b.settle("27 Dec 2018")
            b.shot("02-overview")
            b.go("Flow explorer")
            b.choose("Data category", "Customer Content")
            b.shot("03-flow-explorer-sankey")
            b.choose("Relies on", "EU-US Privacy Shield")  # the hops that relied on it
            b.settle("3 hops of 27")
            b.shot("03b-flow-explorer-privacy-shield")
            page.get_by_text("Graph", exact=True).first.click()
            b.settle()
            page.frame_locator("iframe").first.locator("canvas").first.wait_for(timeout=30_000)
            page.wait_for_timeout(1500)  # the layout animation
            b.shot("04-flow-explorer-graph")
            b.go("Third parties")
            b.shot("05-third-parties")
            b.go("Transfers")
            page.get_by_role("tab", name="Tools over time").click()
            b.settle()
            b.shot("06-transfers-timeline")
            page.get_by_role("tab", name="What if a tool falls?").click()
            b.click("Run what-if")
            b.settle("Hops that change")
            b.shot("07-transfers-what-if")
            b.go("Findings")
            b.shot("08-findings")

            register(b, "speechco", "SpeechCo Oy", "transcription", "second transcription vendor")
            b.shot("09-register-preview")
            b.fill("Why (the proposal's message)", "second transcription vendor")
            b.click("Submit for approval")
            b.settle("Proposal #1 saved")
            for field in ("Id", "Name", "Purpose"):  # an empty form: a second click cannot file it again
                assert page.get_by_role("textbox", name=field).input_value() == "", field
            b.shot("10-register-proposed")
            b.go("Review proposals")
            assert page.get_by_role("button", name="Approve").is_disabled()  # engineers cannot approve
            b.sign_out()

            # --- a privacy officer approves; the change notice appears --------------------------
            b.sign_in("officer", "officer-demo")
            b.go("Review proposals")
            b.settle("#1 by engineer")
            b.shot("11-review-pending")
            b.fill("Note for the record", "DPA signed")
            b.click("Approve")
            b.settle("approved: revision 2 written")
            b.settle("Sub-processor change notice")
            b.shot("12-review-approved-notice")
            b.go("History")
            b.click("Verify now")
            b.settle("Verified: 2 revision(s)")
            b.shot("13-history")
            b.go("Reports")
            with page.expect_download() as download:
                page.locator('[data-testid="stDownloadButton"]').get_by_role("button", name="PDF").first.click()
            pdf = Path(download.value.path()).read_bytes()
            assert pdf.startswith(b"%PDF")
            b.shot("14-reports")
            b.sign_out()

            # --- a hostile name is text everywhere ---------------------------------------------
            b.sign_in("engineer", "engineer-demo")
            register(b, "hostile", XSS, XSS, XSS)
            b.click("Submit for approval")
            b.settle("Proposal #2 saved")
            b.sign_out()
            b.sign_in("officer", "officer-demo")
            b.go("Review proposals")
            b.click("Approve")
            b.settle("approved: revision 3 written")
            b.go("Third parties")
            b.choose("Party", "onerror")
            page.locator('[data-testid="stText"]').filter(has_text=XSS).first.wait_for()
            b.shot("15-hostile-name-as-text")
            b.go("Flow explorer")
            b.choose("Data category", "Call recordings")
            b.settle()
            page.get_by_text("Graph", exact=True).first.click()
            b.settle()
            page.frame_locator("iframe").first.locator("canvas").first.wait_for(timeout=30_000)
            page.wait_for_timeout(1000)
            b.shot("16-hostile-name-in-graph")
            assert page.locator('img[src="x"]').count() == 0
            for frame in page.frames:
                assert frame.locator('img[src="x"]').count() == 0
        except Exception:
            b.shot("failure")  # what the page showed when the walk broke
            raise
        finally:
            context.close()
            browser.close()

    assert not dialogs, f"a script ran: {dialogs}"
    outside = [u for u in requests if urlparse(u).scheme not in LOCAL_SCHEMES and urlparse(u).hostname != "127.0.0.1"]
    assert not outside, f"requests left 127.0.0.1: {sorted(set(outside))[:10]}"
    assert len(requests) > 20


def test_date_on_enter_drill_down_and_two_dates(app_url: str) -> None:
    """The as-of date applies on Enter and a half-typed date never swallows a page link; the
    explorer drills from a group to a hop in two clicks; two dates side by side."""
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 2200})
        context.on("request", lambda r: requests.append(r.url))
        page = context.new_page()
        b = Browser(page, app_url)
        try:
            b.sign_in("officer", "officer-demo")
            b.set_as_of("2020-07-16")  # Enter applies it
            b.settle("16 Jul 2020")
            b.type_as_of("2018-12-27")  # typed, not applied, then a page link: the link wins
            page.locator('[data-testid="stSidebarNav"]').get_by_text("Findings", exact=True).click()
            b.settle()
            page.get_by_role("heading", name="Findings").first.wait_for()
            b.settle("16 Jul 2020")  # the date stays what was applied
            assert page.get_by_role("textbox", name="As of").input_value() == "2020-07-16"

            b.go("Flow explorer")
            b.choose("Data category", "Customer Content")
            page.get_by_text("Where the data enters").first.wait_for()  # the Sankey's column titles
            assert page.get_by_text("Hops by status").count() and page.get_by_text("INVALID").count()  # legend
            b.shot("20-explorer-legend")
            groups = page.locator('[data-testid="stDataFrame"]').first
            groups.get_by_text("Twilio Inc. (US)").first.wait_for(state="attached")
            b.click_row(0, 5, 35)  # click 1: the group "Twilio Inc. (US)" (step 1)
            b.settle("Hops of the picked group")
            b.click_row(1, 0, 76)  # click 2: its first hop
            b.settle("Hop details")
            page.get_by_text("EU GDPR", exact=True).first.wait_for(state="attached")  # a grid cell
            page.get_by_role("heading", name="Hop details").first.scroll_into_view_if_needed()
            b.shot("21-explorer-drill-down-hop")

            b.click("Compare with another date")
            page.get_by_role("heading", name="Compare dates").first.wait_for()
            b.choose("Or around a key date of the law (the day before against the day of)", "Privacy Shield ends")
            b.settle("Hops whose status changed")
            assert page.get_by_role("textbox", name="From").input_value() == "2020-07-15"
            b.click_row(0, 0, 76)
            b.settle("On 15 Jul 2020")
            page.get_by_text("On 16 Jul 2020").first.wait_for()
            page.get_by_role("heading", name="On 15 Jul 2020").first.scroll_into_view_if_needed()
            b.shot("22-compare-dates")
        except Exception:
            b.shot("failure-2")
            raise
        finally:
            context.close()
            browser.close()
    outside = [u for u in requests if urlparse(u).scheme not in LOCAL_SCHEMES and urlparse(u).hostname != "127.0.0.1"]
    assert not outside, f"requests left 127.0.0.1: {sorted(set(outside))[:10]}"


def test_sign_in_survives_a_reload_and_sign_out_ends_it(app_url: str) -> None:
    """The session cookie is signed (app_pages/_auth.py): a reload keeps the user signed in, a
    sign-out ends it for good (the token is revoked, not only the cookie cleared)."""
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        page = context.new_page()
        b = Browser(page, app_url)
        try:
            b.sign_in("officer", "officer-demo")
            b.settle("Olga Officer")
            for _ in range(50):  # the page script sets it once the sidebar has rendered
                cookies = {c["name"]: c for c in context.cookies()}
                if "flowreg_session" in cookies:
                    break
                page.wait_for_timeout(200)
            assert "flowreg_session" in cookies, cookies.keys()
            assert cookies["flowreg_session"]["sameSite"] == "Strict"
            token = cookies["flowreg_session"]["value"]
            page.reload()
            b.settle("The registry at a glance")
            page.get_by_text("Olga Officer").first.wait_for()
            b.shot("17-signed-in-after-reload")
            b.sign_out()
            b.settle("Sign in")
            page.reload()
            b.settle("Sign in")
            assert not page.get_by_text("The registry at a glance").count()
            # the old token is refused even if the browser still sends it
            context.add_cookies([{"name": "flowreg_session", "value": token, "url": app_url}])
            page.reload()
            b.settle("Sign in")
            assert not page.get_by_text("The registry at a glance").count()
            forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
            context.add_cookies([{"name": "flowreg_session", "value": forged, "url": app_url}])
            page.reload()
            b.settle("Sign in")
            b.shot("18-signed-out-after-reload")
        except Exception:
            b.shot("failure-reload")
            raise
        finally:
            context.close()
            browser.close()
