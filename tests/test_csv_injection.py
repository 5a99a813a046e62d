"""CSV reports are safe whatever a spreadsheet splits on: comma, semicolon (the default in much
of Europe), tab or pipe, with or without honouring quotes. Every report of a registry whose text
is built to smuggle formulas past a comma-only defence is parsed back with each delimiter, and
no cell may start a formula. Nothing is mocked: real reports, Python's csv parser.
"""

from __future__ import annotations

import copy
import csv
import io
import re

import pytest
from report_support import NORTHWIND, NW_DAY, make_fr

from lineage.api import Flowreg
from lineage.reports import KINDS, build_report
from lineage.reports.neutralise import neutralise_cell
from lineage.reports.render import render
from registry.loader import load_registry_file

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# Each hides a formula behind a separator a reader may split on (the issue's `Acme;=2+3;` first).
SMUGGLED = [
    "Acme;=2+3;",
    "Acme,=2+3",
    "Acme\t=2+3",
    "Acme|=2+3",
    "Acme; =2+3",
    'Acme";=2+3',
    "Acme\n=2+3",
    "Acme;;@SUM(1)",
    "Acme;-2+3",
    "Acme;+2+3",
]
NUMBER = re.compile(r"[+-]?\d+(\.\d+)?")


def _hostile_content() -> dict:
    content = copy.deepcopy(load_registry_file(NORTHWIND).content())
    content["categories"].append({"id": "subscriber.smuggled", "name": "Data;=1+1"})
    for i, name in enumerate(SMUGGLED):
        content["parties"].append({"id": f"smuggler-{i}", "name": name, "kind": "subprocessor",
                                   "country": "US", "source": name})
        content["flows"].append({
            "id": f"mailer-to-smuggler-{i}", "from": "mailer", "to": f"smuggler-{i}",
            "carries": ["subscriber.smuggled"], "role": "subprocessor", "purpose": name,
        })
    return content


@pytest.fixture(scope="module")
def smugglers(tmp_path_factory: pytest.TempPathFactory) -> Flowreg:
    content = _hostile_content()
    second = copy.deepcopy(content)
    second["parties"].append({"id": "late", "name": "Late;=9", "kind": "subprocessor", "country": "US"})
    second["flows"].append({"id": "mailer-to-late", "from": "mailer", "to": "late",
                            "carries": ["subscriber.smuggled"], "purpose": "x;=cmd"})
    return make_fr(tmp_path_factory.mktemp("smuggle") / "db", content, second)


def _cells(text: str, delimiter: str, quoting: int, skip_space: bool) -> list[str]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting,
                        skipinitialspace=skip_space)
    return [cell for row in reader for cell in row]


@pytest.mark.parametrize("kind", KINDS)
def test_no_cell_starts_a_formula_whatever_the_delimiter(smugglers: Flowreg, kind: str) -> None:
    if kind == "changes":
        report = build_report(smugglers, "changes", None, from_rev=1, to_rev=2)
    else:
        report = build_report(smugglers, kind, NW_DAY, rev=1)
    text = render(report, "csv").decode("utf-8-sig")
    # A line-based reader that ignores quotes sees every physical line on its own, too.
    for delimiter in (",", ";", "\t", "|"):
        for quoting in (csv.QUOTE_MINIMAL, csv.QUOTE_NONE):
            for skip_space in (False, True):
                for cell in _cells(text, delimiter, quoting, skip_space):
                    if NUMBER.fullmatch(cell):
                        continue  # a number is data, not a formula
                    assert not cell.startswith(TRIGGERS), (kind, repr(delimiter), quoting, cell)


def test_comma_readers_still_get_every_value_back(smugglers: Flowreg) -> None:
    """Neutralising does not lose the text: a comma reader sees each name, apostrophes aside."""
    text = render(build_report(smugglers, "subprocessors", NW_DAY, rev=1), "csv").decode("utf-8-sig")
    rows = [r for r in csv.DictReader(io.StringIO(text, newline="")) if r["section"] == "subprocessors"]
    names = {r["Id"]: r["Sub-processor"] for r in rows}
    for i, name in enumerate(SMUGGLED):
        assert names[f"smuggler-{i}"].replace("'", "") == name.replace("'", ""), name


def test_every_text_field_is_quoted(smugglers: Flowreg) -> None:
    text = render(build_report(smugglers, "subprocessors", NW_DAY, rev=1), "csv").decode("utf-8-sig")
    header = text.split("\r\n", 1)[0]
    assert header.startswith('"section","field","value"'), header


def test_neutralise_cell_rules() -> None:
    assert neutralise_cell("Acme;=2+3;") == "Acme;'=2+3;"
    assert neutralise_cell("=1") == "'=1"
    assert neutralise_cell("a, -b") == "a, '-b"
    assert neutralise_cell("EU-US Privacy Shield (2016/1250)") == "EU-US Privacy Shield (2016/1250)"
    assert neutralise_cell("plain") == "plain"
