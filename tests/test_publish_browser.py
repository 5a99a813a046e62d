"""The published site in a real browser (Debian's Chromium, driven by Playwright), opened from
files with the network cut off: the bundled sorting script runs under the page's
Content-Security-Policy, sorts by any column with the keyboard, and the print style hides the
navigation. Screenshots go to test-output/publish/. Without /usr/bin/chromium the test skips,
unless CI is set: then it fails.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

import pytest
from publish_support import GENERATED, come_and_go_store

from lineage.publish.publication import publication
from lineage.publish.site import site_files, write_site

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
OUT = ROOT / "test-output" / "publish"

pytestmark = pytest.mark.browser


def test_sorting_and_printing_in_chromium(tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"CI is set but {CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    fr = come_and_go_store(tmp_path / "db")
    site = tmp_path / "site"
    write_site(site_files(publication(fr, date(2024, 7, 1), generated_at=GENERATED)), site)
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            remote: list[str] = []
            page.route("**/*", lambda route: (remote.append(route.request.url), route.abort())
                       if not route.request.url.startswith("file:") else route.continue_())
            problems: list[str] = []
            page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.goto((site / "index.html").as_uri())
            table = page.locator("section[aria-labelledby=subprocessors] table")
            names = table.locator("tbody th")
            assert names.all_inner_texts() == ["Beta Analytics Inc.", "Gamma Mail SAS", "Zeta Backup Lda"]
            country = table.locator("thead th").nth(3)
            country.get_by_role("button").focus()
            page.keyboard.press("Enter")  # the script made the header a button: keyboard works
            assert country.get_attribute("aria-sort") == "ascending"
            assert names.all_inner_texts() == ["Gamma Mail SAS", "Zeta Backup Lda", "Beta Analytics Inc."]  # FR, PT, US
            page.keyboard.press("Enter")
            assert country.get_attribute("aria-sort") == "descending"
            assert names.all_inner_texts() == ["Beta Analytics Inc.", "Zeta Backup Lda", "Gamma Mail SAS"]
            page.screenshot(path=str(OUT / "index.png"), full_page=True)
            page.emulate_media(media="print")
            assert not page.locator("nav").is_visible()
            assert page.locator("h1").is_visible()
            page.emulate_media(media="screen")
            page.goto((site / "changes.html").as_uri())
            since = page.locator("section[aria-labelledby=history] thead th").first
            rows = page.locator("section[aria-labelledby=history] tbody tr td:first-child")
            dates = rows.all_inner_texts()
            assert dates == sorted(dates, reverse=True)  # newest first as published
            since.get_by_role("button").click()
            assert rows.all_inner_texts() == sorted(dates)
            page.screenshot(path=str(OUT / "changes.png"), full_page=True)
            assert remote == [] and problems == [], (remote, problems)
        finally:
            browser.close()
