"""Shared by the report tests: stores with the Northwind example and the Twilio seed (two
revisions each, the second adding one sub-processor), and readers that turn a rendered report
back into text with a real parser (csv, openpyxl, json, html.parser, pypdf).
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader
from rdflib import Graph

from lineage.api import Flowreg
from lineage.reports import build_report
from lineage.reports.model import Report
from registry.loader import load_registry_file
from registry.model import Registry
from registry.registration import add_subprocessor
from registry.sqlite_store import SqliteStore

ROOT = Path(__file__).resolve().parents[1]
NORTHWIND = ROOT / "tests" / "fixtures" / "northwind.yaml"
TWILIO = ROOT / "seeds" / "twilio.yaml"
NW_DAY = date(2020, 8, 1)
TW_DAY = date(2018, 12, 27)
GENERATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
EVIL = "<script>alert(1)</script>"


def make_fr(path: Path, *contents: dict[str, Any]) -> Flowreg:
    """A store at `path` holding `contents` as revisions 1, 2, ..."""
    store = SqliteStore(path)
    for i, content in enumerate(contents, start=1):
        store.append(content, author="test", message=f"revision {i}")
    return Flowreg(store)


def with_new_subprocessor(registry: Registry, **kw: Any) -> Registry:
    """`registry` plus one sub-processor and its flow (registry.registration)."""
    return add_subprocessor(registry, **kw)


def northwind_store(tmp_path_factory: pytest.TempPathFactory) -> Flowreg:
    """Northwind: revision 1 the example, revision 2 adds sub-processor acme-dns (CA)."""
    base = load_registry_file(NORTHWIND)
    second = with_new_subprocessor(
        base, party_id="acme-dns", name="Acme DNS Ltd", country="CA", categories=["subscriber.contact.email"],
        from_system="mailer", purpose="bounce handling",
    )
    return make_fr(tmp_path_factory.mktemp("nw") / "db", base.content(), second.content())


def twilio_store(tmp_path_factory: pytest.TempPathFactory) -> Flowreg:
    """The Twilio seed: revision 2 adds sub-processor speechco (US); skips without the seed."""
    if not TWILIO.exists():
        pytest.skip("seeds/twilio.yaml is not there yet")
    base = load_registry_file(TWILIO)
    second = with_new_subprocessor(
        base, party_id="speechco", name="SpeechCo Transcription Inc.", country="US",
        categories=["content.voice.recording"], from_system="comms-records", purpose="transcription",
        under=["eu-us-privacy-shield"],
    )
    return make_fr(tmp_path_factory.mktemp("tw") / "db", base.content(), second.content())


def build(fr: Flowreg, kind: str, day: date, **kw: Any) -> Report:
    """A report on revision 1 (changes: from 1 to 2), generated at the fixed GENERATED time."""
    if kind == "changes":
        return build_report(fr, "changes", None, from_rev=1, to_rev=2, generated_at=GENERATED, **kw)
    return build_report(fr, kind, day, rev=1, generated_at=GENERATED, **kw)


# --- readers: each turns a rendered report back into text by a real parser -----------------
class HTMLText(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if tag == "meta" and (values.get("name") or "").startswith("flowreg:"):
            self.meta[values["name"]] = values.get("content") or ""

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def read_csv(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def read_back(data: bytes, fmt: str) -> str:
    """All the text a real parser finds in the output, whitespace normalised."""
    if fmt == "csv":
        rows = read_csv(data)
        text = " ".join(" ".join(v for v in row.values() if v) for row in rows)
    elif fmt == "xlsx":
        wb = load_workbook(io.BytesIO(data))
        text = " ".join(str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c is not None)
    elif fmt == "json":
        text = json.dumps(json.loads(data), ensure_ascii=False)
    elif fmt == "md":
        text = data.decode("utf-8").replace("\\", "")
    elif fmt == "html":
        parser = HTMLText()
        parser.feed(data.decode("utf-8"))
        text = " ".join(parser.text)
    else:
        text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return " ".join(text.split())


TOOL_QUERY = """
PREFIX dct: <http://purl.org/dc/terms/>
PREFIX dpv: <https://w3id.org/dpv#>
PREFIX flowreg: <https://w3id.org/flowreg#>
SELECT ?tool WHERE {
  ?hop a dpv:Transfer ; dct:identifier ?flow ; flowreg:transferTool ?tool .
} ORDER BY ?tool
"""


def tools_of(graph: Graph, flow: str) -> list[str]:
    from rdflib import Literal

    return [str(r.tool) for r in graph.query(TOOL_QUERY, initBindings={"flow": Literal(flow)})]
