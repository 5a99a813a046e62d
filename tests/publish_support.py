"""Shared by the publish tests: a store whose revisions carry chosen dates, a registry whose
sub-processors come and go over the years (with the list and changes it must give, written out
by hand), and readers that check the published files with real parsers: RFC 4287's required
elements on the parsed Atom XML, html5lib (strict: any HTML parse error fails) for the pages.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import html5lib
from registry_builders import flow, party, registry, scc, subjects, system

from lineage.api import Flowreg
from registry.loader import load_registry_data
from registry.revisions import Revision, chain_hash, content_hash
from registry.sqlite_store import SqliteStore

ATOM = "{http://www.w3.org/2005/Atom}"
XHTML = "{http://www.w3.org/1999/xhtml}"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
GENERATED = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def dated_store(path: Path, *revisions: tuple[datetime | str, dict[str, Any]]) -> Flowreg:
    """A real SQLite store holding `revisions` (time, content) as revisions 1, 2, ...

    The store stamps new revisions with the current time, so each is written with `adopt`,
    the path `flowreg neo4j pull` uses to copy a history verbatim (hashes computed here)."""
    store = SqliteStore(path)
    parent = None
    for number, (when, content) in enumerate(revisions, start=1):
        created = datetime.fromisoformat(when) if isinstance(when, str) else when
        content = load_registry_data(content).content()  # validated, canonical
        digest = content_hash(content)
        own = chain_hash(number, created, "test", f"revision {number}", digest, parent)
        store.adopt(Revision(number=number, created_at=created, author="test", message=f"revision {number}",
                             content_hash=digest, parent_hash=parent, hash=own, content=content))
        parent = own
    return Flowreg(store)


# --- a registry whose sub-processors come and go -------------------------------------------
def come_and_go(*, epsilon: bool = False, zeta: bool = False) -> dict[str, Any]:
    """Acme Mail (NL) and its sub-processors, 2016-2024:
    alpha (DE) 2016-03-01..2019-07-01; beta (US, Privacy Shield then DPF certified) from
    2018-01-10; gamma (FR, from 2019-06-15, notice only 2019-06-01) moving to its US data centre
    on 2022-01-01 under SCC; delta, an affiliate in SG acting as sub-processor, from 2021-01-01
    with no tool; `epsilon` (IE, undated: a revision dates it); `zeta` (PT) from 2024-07-01."""
    items = [
        party("acme", "NL", "affiliate", name="Acme Mail B.V."),
        subjects("customers", "NL"),
        system("app", "NL", "acme"),
        flow("collect", "customers", "app", "mail"),
        party("alpha", "DE", "subprocessor", name="Alpha Hosting GmbH", notice_given="2016-01-15",
              url="https://alpha.example/privacy"),
        flow("to-alpha", "app", "alpha", "mail", purpose="hosting", valid_from="2016-03-01",
             valid_until="2019-07-01"),
        party("beta", "US", "subprocessor", name="Beta Analytics Inc.", notice_given="2017-12-01",
              certified={"eu-us-privacy-shield": "2016-10-01", "eu-us-dpf": "2023-10-02"}),
        flow("to-beta", "app", "beta", "mail.meta", purpose="analytics", valid_from="2018-01-10",
             under=["eu-us-privacy-shield"]),
        party("gamma", "FR", "subprocessor", name="Gamma Mail SAS", notice_given="2019-06-01"),
        system("gamma-fr", "FR", "gamma"),
        system("gamma-us", "US", "gamma"),
        scc("scc-gamma", "2021/914", "acme", "gamma", signed="2021-12-01"),
        flow("to-gamma-fr", "app", "gamma-fr", "mail", purpose="delivery", valid_from="2019-06-15",
             valid_until="2022-01-01"),
        flow("to-gamma-us", "app", "gamma-us", "mail", purpose="delivery", valid_from="2022-01-01",
             under=["scc-gamma"]),
        party("delta", "SG", "affiliate", name="Acme Asia Pte. Ltd."),
        flow("to-delta", "app", "delta", "mail.meta", purpose="support", role="subprocessor",
             valid_from="2021-01-01"),
    ]
    if epsilon:
        items += [party("epsilon", "IE", "subprocessor", name="Epsilon Search Ltd"),
                  flow("to-epsilon", "app", "epsilon", "mail", purpose="search")]
    if zeta:
        items += [party("zeta", "PT", "subprocessor", name="Zeta Backup Lda"),
                  flow("to-zeta", "app", "zeta", "mail", purpose="backup", valid_from="2024-07-01")]
    return registry(*items, organization="Acme Mail", notice_days=30)


def come_and_go_store(path: Path) -> Flowreg:
    """Revision 1 (2015-12-01) records the dated history; revision 2 (2024-03-01) adds epsilon
    without a date; revision 3 (2024-05-01) drops epsilon and announces zeta for 2024-07-01."""
    return dated_store(
        path,
        ("2015-12-01T09:00:00+00:00", come_and_go()),
        ("2024-03-01T09:00:00+00:00", come_and_go(epsilon=True)),
        ("2024-05-01T09:00:00+00:00", come_and_go(zeta=True)),
    )


D = date.fromisoformat
# Who receives data on each day (sub-processors; affiliates acting as sub-processors).
EXPECTED_LISTS = {
    D("2015-12-31"): ([], []),
    D("2016-02-29"): ([], []),
    D("2016-03-01"): (["alpha"], []),
    D("2018-01-09"): (["alpha"], []),
    D("2018-01-10"): (["alpha", "beta"], []),
    D("2019-06-20"): (["alpha", "beta", "gamma"], []),
    D("2019-07-01"): (["beta", "gamma"], []),
    D("2021-01-01"): (["beta", "gamma"], ["delta"]),
    D("2022-06-01"): (["beta", "gamma"], ["delta"]),
    D("2024-03-01"): (["beta", "epsilon", "gamma"], ["delta"]),
    D("2024-04-30"): (["beta", "epsilon", "gamma"], ["delta"]),
    D("2024-05-01"): (["beta", "gamma"], ["delta"]),
    D("2024-06-30"): (["beta", "gamma"], ["delta"]),
    D("2024-07-01"): (["beta", "gamma", "zeta"], ["delta"]),
}


@dataclass(frozen=True)
class Expected:
    day: date
    kind: str
    party: str
    notice: date | None
    earliest: date | None
    early: bool
    fields: tuple[str, ...] = ()

    @property
    def announced(self) -> date:
        return min(self.day, self.notice) if self.notice else self.day


# Every change, oldest first, with its notice date (notice_given, else the recording revision's
# day, none for the first revision) and the earliest start 30 days later.
EXPECTED_CHANGES = (
    Expected(D("2016-03-01"), "added", "alpha", D("2016-01-15"), D("2016-02-14"), False),
    Expected(D("2018-01-10"), "added", "beta", D("2017-12-01"), D("2017-12-31"), False),
    Expected(D("2019-06-15"), "added", "gamma", D("2019-06-01"), D("2019-07-01"), True),
    Expected(D("2019-07-01"), "removed", "alpha", None, None, False),
    Expected(D("2020-07-16"), "changed", "beta", None, None, False, ("EU GDPR transfer tool",)),  # Schrems II
    Expected(D("2021-01-01"), "added", "delta", None, None, False),
    Expected(D("2022-01-01"), "changed", "gamma", None, None, False, ("processing locations", "EU GDPR transfer tool")),
    Expected(D("2023-10-02"), "changed", "beta", None, None, False, ("EU GDPR transfer tool",)),  # DPF certified
    Expected(D("2024-03-01"), "added", "epsilon", D("2024-03-01"), D("2024-03-31"), True),
    Expected(D("2024-05-01"), "removed", "epsilon", D("2024-05-01"), None, False),
    Expected(D("2024-07-01"), "added", "zeta", D("2024-05-01"), D("2024-05-31"), False),
)


# --- readers ---------------------------------------------------------------------------------
def parse_html(data: bytes) -> ET.Element:
    """The page as an element tree (html5lib, strict: a parse error raises)."""
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=True)
    return parser.parse(data.decode("utf-8"))


def tag(name: str) -> str:
    return f"{XHTML}{name}"


def text_of(element: ET.Element) -> str:
    return " ".join("".join(element.itertext()).split())


def _is_iri(value: str) -> bool:
    return bool(urlsplit(value).scheme)


def rfc4287_problems(data: bytes) -> list[str]:
    """What the document breaks of RFC 4287's MUST rules for feeds and entries (4.1.1, 4.1.2,
    4.2.7 links, 3.1 text constructs, 3.3 dates, 4.2.6 ids); empty when none."""
    problems: list[str] = []
    root = ET.fromstring(data)
    if root.tag != f"{ATOM}feed":
        return [f"root element is {root.tag}, not atom:feed"]

    def once(parent: ET.Element, name: str, where: str, *, required: bool = True) -> ET.Element | None:
        found = parent.findall(f"{ATOM}{name}")
        if len(found) > 1 or (required and not found):
            problems.append(f"{where} has {len(found)} atom:{name} (must have {'exactly' if required else 'at most'} one)")
        return found[0] if found else None

    def text_construct(element: ET.Element | None, where: str) -> None:
        if element is not None and element.get("type", "text") not in ("text", "html", "xhtml"):
            problems.append(f"{where}: type {element.get('type')!r} is not text, html or xhtml")

    def date_construct(element: ET.Element | None, where: str) -> None:
        if element is not None and not RFC3339.match(element.text or ""):
            problems.append(f"{where}: {element.text!r} is not an RFC 3339 date-time")

    def links(parent: ET.Element, where: str) -> list[ET.Element]:
        found = parent.findall(f"{ATOM}link")
        seen = set()
        for link in found:
            if not link.get("href"):
                problems.append(f"{where}: atom:link without href")
            if (link.get("rel") or "alternate") == "alternate":
                key = (link.get("type"), link.get("hreflang"))
                if key in seen:
                    problems.append(f"{where}: two alternate links with the same type and hreflang")
                seen.add(key)
        return found

    feed_id = once(root, "id", "feed")
    if feed_id is not None and not _is_iri(feed_id.text or ""):
        problems.append(f"feed id {feed_id.text!r} is not an IRI")
    text_construct(once(root, "title", "feed"), "feed title")
    text_construct(once(root, "subtitle", "feed", required=False), "feed subtitle")
    date_construct(once(root, "updated", "feed"), "feed updated")
    links(root, "feed")
    feed_authors = root.findall(f"{ATOM}author")
    for author in feed_authors:
        once(author, "name", "feed author")
    ids = set()
    for i, entry in enumerate(root.findall(f"{ATOM}entry")):
        where = f"entry {i}"
        entry_id = once(entry, "id", where)
        if entry_id is not None:
            if not _is_iri(entry_id.text or ""):
                problems.append(f"{where}: id {entry_id.text!r} is not an IRI")
            if entry_id.text in ids:
                problems.append(f"{where}: id {entry_id.text} repeats")
            ids.add(entry_id.text)
        text_construct(once(entry, "title", where), f"{where} title")
        date_construct(once(entry, "updated", where), f"{where} updated")
        date_construct(once(entry, "published", where, required=False), f"{where} published")
        text_construct(once(entry, "summary", where, required=False), f"{where} summary")
        content = once(entry, "content", where, required=False)
        text_construct(content, f"{where} content")
        entry_links = links(entry, where)
        if content is None and not any((link.get("rel") or "alternate") == "alternate" for link in entry_links):
            problems.append(f"{where}: no atom:content and no alternate link")
        if not feed_authors and not entry.findall(f"{ATOM}author"):
            problems.append(f"{where}: no atom:author, and the feed has none")
    return problems
