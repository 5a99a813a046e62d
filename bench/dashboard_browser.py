"""The dashboard benchmark in the real browser: Debian's Chromium driven by Playwright against
`streamlit run app.py` on a loopback port (nothing leaves the machine).

An action is timed from the click (or Enter) until the server has finished the script runs it
causes (Streamlit's `script_finished` message, read from the page's websocket) and the page
shows no stale element: server, transfer and rendering.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from bench.dashboard import ROOT, _summary

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
TITLES = {"overview": "Overview", "flow_explorer": "Flow explorer", "third_parties": "Third parties",
          "transfers": "Transfers", "findings": "Findings", "compare": "Compare dates",
          "register": "Register a sub-processor", "review": "Review proposals", "history": "History",
          "reports": "Reports"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Runs:
    """Counts Streamlit's finished script runs from the websocket's binary frames."""

    def __init__(self) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        self.message = ForwardMsg
        self.finished = 0
        self.last = 0.0  # perf_counter() when the last run finished

    def frame(self, payload: Any) -> None:
        if isinstance(payload, bytes | bytearray):
            try:
                msg = self.message.FromString(bytes(payload))
            except Exception:  # noqa: BLE001 - not every frame is a ForwardMsg we read
                return
            if msg.WhichOneof("type") == "script_finished" and msg.script_finished != 2:  # 2: early, for a rerun
                self.finished += 1
                self.last = time.perf_counter()


def browser_child(db: str, probes: dict[str, Any], reps: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    env = {k: v for k, v in os.environ.items() if k not in ("FLOWREG_USERS", "FLOWREG_BACKEND")}
    env.update(FLOWREG_DB=db, FLOWREG_DEMO="1")
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
         "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.3)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1440, "height": 1400})
            runs = Runs()
            page.on("websocket", lambda ws: ws.on("framereceived", runs.frame))
            return _walk(page, url, runs, probes, reps)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def _walk(page: Any, url: str, runs: Runs, probes: dict[str, Any], reps: int) -> dict[str, Any]:
    def settled(expected_runs: int = 1, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while runs.finished < expected_runs and time.monotonic() < deadline:
            page.wait_for_timeout(10)
        page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=timeout * 1000)

    server: dict[str, list[float]] = {}

    def timed(action: Callable[[], None], expected_runs: int = 1, name: str = "") -> float:
        """ms from the action to a settled page; the part until the server's last run finished
        (script, transfer of its messages) is kept per `name` for the report."""
        runs.finished = 0
        started = time.perf_counter()
        action()
        settled(expected_runs)
        took = (time.perf_counter() - started) * 1000
        server.setdefault(name, []).append((runs.last - started) * 1000)
        return took

    def nav(title: str) -> None:
        page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()

    day = date.fromisoformat(probes["as_of"])
    page.goto(url)
    page.get_by_role("textbox", name="User name").wait_for(timeout=120_000)
    page.get_by_role("textbox", name="User name").fill("officer")
    page.get_by_role("textbox", name="Password").fill("officer-demo")

    def set_day(when: date) -> None:
        box = page.get_by_role("textbox", name="As of")
        box.fill(when.isoformat())  # typing is the user's time, not the app's: not timed
        box.press("Enter")

    def day_setter(when: date) -> Callable[[], None]:
        page.get_by_role("textbox", name="As of").fill(when.isoformat())
        return lambda: page.get_by_role("textbox", name="As of").press("Enter")

    out: dict[str, Any] = {}
    out["sign_in_and_overview"] = _summary([timed(lambda: page.get_by_role("button", name="Sign in").click(), name="sign_in_and_overview")])
    out["set_as_of_first"] = _summary([timed(day_setter(day), name="set_as_of_first")])
    for name, title in TITLES.items():
        samples = []
        for _ in range(reps + 1):
            nav("Overview" if name != "overview" else "History")
            settled()
            samples.append(timed(lambda t=title: nav(t), name=f"page_{name}"))
        out[f"page_{name}"] = _summary(samples[1:], samples[0])

    nav("Flow explorer")
    settled()
    roots = probes["roots"]

    def category(cid: str) -> float:
        """Open the category list and type, untimed; time the click on the option."""
        box = page.get_by_role("combobox", name="Data category")
        box.click()
        box.fill(cid)
        option = page.get_by_role("option").filter(has_text=re.compile(rf"·\s+{re.escape(cid)}$")).first
        option.wait_for()
        return timed(option.click, name="pick_category")

    picks = [roots[i % len(roots)] for i in range(1, reps + 1)]
    out["pick_category"] = _summary([category(r) for r in picks])
    new_days = [day - timedelta(days=53 * k) for k in range(1, reps + 1)]
    out["change_date_new"] = _summary([timed(day_setter(d), name="change_date_new") for d in new_days])
    seen = [(new_days[-1], new_days[-2])[i % 2] for i in range(reps)]  # the two asked last: still cached
    out["change_date_seen"] = _summary([timed(day_setter(d), name="change_date_seen") for d in seen])
    set_day(day)
    settled()
    graph = []
    for _ in range(reps):
        graph.append(timed(lambda: page.get_by_text("Graph", exact=True).first.click(), name="open_graph"))
        page.frame_locator("iframe").first.locator("canvas").first.wait_for(timeout=60_000)
        runs.finished = 0
        page.get_by_text("Sankey", exact=True).first.click()
        settled()
    out["open_graph"] = _summary(graph)

    def click_row(table: int, row: int, height: int) -> None:
        frame = page.locator('[data-testid="stDataFrame"]').nth(table)
        frame.scroll_into_view_if_needed()
        box = frame.bounding_box()
        x, y = box["x"] + 140, box["y"] + 36 + height * row + height / 2
        page.mouse.move(x, y)
        page.wait_for_timeout(150)
        runs.finished = 0
        started = time.perf_counter()
        page.mouse.click(x, y)
        settled()
        clicks.append((time.perf_counter() - started) * 1000)
        server.setdefault("drill_group" if table == 0 else "drill_hop", []).append((runs.last - started) * 1000)

    groups: list[float] = []
    hops: list[float] = []
    for i in range(reps):
        clicks: list[float] = []
        click_row(0, 1 + i % 8, 35)
        page.get_by_text("Hops of the picked group").first.wait_for(timeout=60_000)
        click_row(1, 0, 76)
        page.get_by_text("Hop details").first.wait_for(timeout=60_000)
        groups.append(clicks[0])
        hops.append(clicks[1])
    out["drill_group"], out["drill_hop"] = _summary(groups), _summary(hops)

    nav("Transfers")
    settled()
    page.get_by_role("tab", name="What if a tool falls?").click()
    out["what_if"] = _summary([timed(lambda: page.get_by_role("button", name="Run what-if").click(), name="what_if")
                               for _ in range(reps)])

    nav("Compare dates")
    settled()

    def compare(before: date) -> Callable[[], None]:
        page.get_by_role("textbox", name="From").fill(before.isoformat())  # typing: not timed
        page.get_by_role("textbox", name="To").fill(day.isoformat())
        return lambda: page.get_by_role("button", name="Compare").click()

    fresh = [day - timedelta(days=31 * k + 5) for k in range(1, reps + 1)]
    out["compare_new"] = _summary([timed(compare(d), name="compare_new") for d in fresh])
    last = [(fresh[-1], fresh[-2])[i % 2] for i in range(reps)]  # the two asked last: still cached
    out["compare_seen"] = _summary([timed(compare(d), name="compare_seen") for d in last])
    for name, samples in server.items():  # the server's share: script runs and their messages
        if name in out and samples:
            out[name]["server_p50_ms"] = round(sorted(samples)[len(samples) // 2], 1)
    return out


if __name__ == "__main__":  # pragma: no cover - run through bench.dashboard
    sys.exit("run: python -m bench.dashboard --browser 10k")
