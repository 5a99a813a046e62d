"""Paging the whole-registry answers (`findings`, `impact`, `path`, `what-if`): --limit, --offset,
--format jsonl, and `findings --rule`, end to end in real subprocesses on the Twilio seed and the
Northwind fixture, on the embedded store and on a real Neo4j server (nothing is mocked).

Every page is checked against the same command's unpaged answer: the totals equal the unpaged
counts, the pages put together are the unpaged answer, and without a paging option the output is
what it always was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from clirun import NORTHWIND, SEED, flowreg

from lineage.impact import Impact
from lineage.paging import Page, check_window, page_sections
from lineage.queries import PathResult
from lineage.whatif import WhatIf
from registry.config import Settings
from registry.errors import FlowregError

DAY = "2018-12-27"


class Store:
    """A store of the test's own, on one backend, holding one registry file as revision 1."""

    def __init__(self, db: Path, env: dict[str, str]) -> None:
        self.db, self.env = db, env

    def run(self, *args: str) -> Any:
        return flowreg(*args, db=self.db, **self.env)

    def json(self, *args: str) -> Any:
        result = self.run(*args, "--format", "json")
        assert result.code == 0, result.stderr
        return result.json()

    def lines(self, *args: str) -> list[Any]:
        result = self.run(*args, "--format", "jsonl")
        assert result.code == 0, result.stderr
        return [json.loads(line) for line in result.stdout.splitlines()]


def _store(request: pytest.FixtureRequest, tmp_path: Path, source: Path) -> Iterator[Store]:
    env: dict[str, str] = {}
    if request.param == "neo4j":
        settings: Settings = request.getfixturevalue("neo4j_settings")
        assert settings.neo4j_uri and settings.neo4j_password
        env = {"FLOWREG_BACKEND": "neo4j", "NEO4J_URI": settings.neo4j_uri,
               "NEO4J_USER": settings.neo4j_user or "neo4j",
               "NEO4J_PASSWORD": settings.neo4j_password.get_secret_value()}
    store = Store(tmp_path / "flowreg.db", env)
    applied = store.run("apply", str(source), "-m", "test")
    assert applied.code == 0, applied.stderr
    yield store


BACKENDS = ["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)]


@pytest.fixture(params=BACKENDS)
def seed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from _store(request, tmp_path, SEED)


@pytest.fixture(params=BACKENDS)
def northwind(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from _store(request, tmp_path, NORTHWIND)


def _flat(answer: dict[str, Any], lists: tuple[str, ...]) -> list[tuple[str, Any]]:
    return [(name, item) for name in lists for item in answer[name]]


# --- findings ------------------------------------------------------------------------------------
def _check_findings_pages(store: Store, day: str) -> list[dict[str, Any]]:
    whole = store.json("findings", "--as-of", day)
    assert isinstance(whole, list) and len(whole) > 4  # the contract's array, unchanged
    n = len(whole)
    first = store.json("findings", "--as-of", day, "--limit", "3")
    assert first == {"total": n, "offset": 0, "limit": 3, "items": whole[:3]}
    pages = [store.json("findings", "--as-of", day, "--limit", "3", "--offset", str(start))
             for start in range(0, n, 3)]
    assert all(p["total"] == n for p in pages)
    assert [f for p in pages for f in p["items"]] == whole
    last = pages[-1]
    assert len(last["items"]) == n - 3 * (len(pages) - 1)
    past = store.json("findings", "--as-of", day, "--offset", str(n + 5))
    assert past == {"total": n, "offset": n + 5, "limit": None, "items": []}
    assert store.json("findings", "--as-of", day, "--limit", "0")["items"] == []
    assert store.json("findings", "--as-of", day, "--offset", "0")["items"] == whole
    lines = store.lines("findings", "--as-of", day)
    assert lines[0] == {"total": n, "offset": 0, "limit": None} and lines[1:] == whole
    return whole


def test_findings_pages_add_up_to_the_unpaged_answer_on_the_seed(seed: Store) -> None:
    whole = _check_findings_pages(seed, DAY)
    n = len(whole)
    text = seed.run("findings", "--as-of", DAY, "--limit", "2", "--offset", "1")
    assert text.code == 0 and text.stdout.splitlines()[0] == f"showing 2-3 of {n}"
    past = seed.run("findings", "--as-of", DAY, "--offset", str(n))
    assert past.code == 0 and past.stdout.splitlines()[0] == (
        f"showing none of {n} (offset {n} is past the end)")
    plain = seed.run("findings", "--as-of", DAY)
    assert plain.code == 0 and "showing" not in plain.stdout  # default text output unchanged
    # --rule, repeated, keeps exactly those rules' findings in order; --severity still applies.
    rules = sorted({f["rule"] for f in whole})[:2]
    picked = seed.json("findings", "--as-of", DAY, "--rule", rules[0], "--rule", rules[1])
    assert picked == [f for f in whole if f["rule"] in rules] and picked
    high = seed.json("findings", "--as-of", DAY, "--rule", rules[0], "--severity", "high",
                     "--limit", "1")
    wanted = [f for f in whole if f["rule"] == rules[0] and f["severity"] == "high"]
    assert high["total"] == len(wanted) and high["items"] == wanted[:1]


def test_findings_pages_on_northwind(northwind: Store) -> None:
    _check_findings_pages(northwind, "2020-08-01")


@pytest.mark.parametrize(("args", "option"), [
    (["--limit", "-1"], "--limit"),
    (["--limit", "ten"], "--limit"),
    (["--limit", "2.5"], "--limit"),
    (["--offset", "-3"], "--offset"),
    (["--offset", ""], "--offset"),
    (["--rule", "no-such-rule"], "--rule"),
])
def test_bad_paging_options_name_the_option_and_write_nothing(args: list[str], option: str,
                                                              tmp_path: Path) -> None:
    db = tmp_path / "flowreg.db"
    assert flowreg("apply", str(NORTHWIND), "-m", "test", db=db).code == 0
    for command in (["findings"], ["impact", "bouncer"], ["path", "customers", "bouncer"],
                    ["what-if", "remove-party", "bouncer"]):
        if option == "--rule" and command != ["findings"]:
            continue
        result = flowreg(*command, *args, "--format", "json", db=db)
        assert result.code == 1, (command, result.stdout)
        assert result.stdout == "" and result.stderr.startswith(f"error: {option}:"), result.stderr
    if option == "--rule":
        # The error lists the rules there are: built-in ones and the registry's own.
        assert "tia-missing" in result.stderr and "no-message-content-to-ads" in result.stderr
    assert len(json.loads(flowreg("history", "--format", "json", db=db).stdout)) == 1


# --- impact, path, what-if -----------------------------------------------------------------------
def _check_sections(store: Store, args: list[str], lists: tuple[str, ...]) -> None:
    whole = store.json(*args)
    flat = _flat(whole, lists)
    n = len(flat)
    assert n > 3, flat
    pages = [store.json(*args, "--limit", "2", "--offset", str(start)) for start in range(0, n, 2)]
    for start, page in zip(range(0, n, 2), pages, strict=True):
        assert (page["total"], page["offset"], page["limit"]) == (n, start, 2)
        assert _flat(page, lists) == flat[start:start + 2]
        # Everything but the paged lists is the unpaged answer's.
        assert {k: v for k, v in page.items() if k not in (*lists, "total", "offset", "limit")} == {
            k: v for k, v in whole.items() if k not in lists}
    past = store.json(*args, "--offset", str(n))
    assert past["total"] == n and _flat(past, lists) == []
    lines = store.lines(*args)
    assert lines[0]["total"] == n and not set(lists) & set(lines[0])
    assert [(line["section"], line["item"]) for line in lines[1:]] == flat
    text = store.run(*args, "--limit", "1")
    assert text.code == 0 and f"showing 1-1 of {n}" in text.stdout.splitlines()
    assert "showing" not in store.run(*args).stdout


def test_impact_pages_through_all_its_lists(seed: Store) -> None:
    _check_sections(seed, ["impact", "twilio-bcr-controller", "--as-of", DAY], Impact.PAGED)


def test_path_pages_through_its_hops(seed: Store) -> None:
    _check_sections(seed, ["path", "customers-eea", "sift", "--category", "account", "--as-of", DAY],
                    PathResult.PAGED)


def test_what_if_pages_through_hops_then_findings(northwind: Store) -> None:
    _check_sections(northwind, ["what-if", "remove-party", "northwind-inc", "--as-of", "2020-08-01"],
                    WhatIf.PAGED)


# --- the Page type the API and the CLI share -----------------------------------------------------
def test_page_boundaries() -> None:
    items = list(range(7))
    assert Page.of(items, limit=3) == Page([0, 1, 2], 7, 0, 3)
    assert Page.of(items, offset=6, limit=3).items == [6]
    assert Page.of(iter(items), offset=7).items == [] and Page.of(iter(items)).total == 7
    assert Page.of(items, limit=0).shown() == "showing none of 7"
    assert Page.of([], limit=5).shown() == "showing none of 0"
    for bad in ({"offset": -1}, {"limit": -2}, {"offset": True}, {"limit": 1.5}):
        with pytest.raises(FlowregError, match=next(iter(bad))):
            check_window(bad.get("offset", 0), bad.get("limit"))
    cut, page = page_sections({"a": [1], "b": [2, 3], "x": "kept"}, ["a", "b"], offset=1)
    assert cut == {"a": [], "b": [2, 3], "x": "kept", "total": 3, "offset": 1, "limit": None}
    assert page.items == [("b", 2), ("b", 3)]
