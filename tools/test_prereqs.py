"""What the full test suite needs beyond Python, and what is missing here (run by `make test`).

The suite drives real parts: Debian's Chromium for the browser test, and a real Neo4j 5.26 server
(built with Maven, run on Java 17+) for the Neo4j tests. Without them those tests skip with the
reason (with CI=true they fail instead). This prints, before the tests start, what is missing
and how to get it, so a newcomer is not surprised by skips or failures at the end.
Exit status is always 0: it informs, it does not decide.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")


def missing() -> list[str]:
    """One line per missing part: what, which tests need it, how to install it."""
    out = []
    if not CHROMIUM.exists():
        out.append(f"{CHROMIUM} (Debian's chromium package): needed by tests/test_browser.py")
    spec = importlib.util.spec_from_file_location("neo4j_server", ROOT / "tools" / "neo4j" / "neo4j_server.py")
    assert spec is not None and spec.loader is not None
    server = importlib.util.module_from_spec(spec)
    sys.modules["neo4j_server"] = server
    spec.loader.exec_module(server)
    reason = server.java_available()
    if reason is not None:
        out.append(f"{reason}: needed by the Neo4j tests (Java 17+ and Maven)")
    if shutil.which("unshare") is None:
        out.append("unshare (util-linux): needed by tests/test_store_filesystem.py")
    return out


def main() -> int:
    gaps = missing()
    if not gaps:
        print("test prerequisites: Chromium, Java 17+ and Maven are here; the whole suite runs")
        return 0
    strict = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    print("test prerequisites missing:")
    for gap in gaps:
        print(f"  - {gap}")
    print(f"  those tests will {'FAIL (CI is set)' if strict else 'be skipped'}; install them with")
    print("  `sudo apt-get install chromium openjdk-17-jdk-headless maven`, or run `.ci/run`,")
    print("  which installs what is missing and then runs `make test`")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
