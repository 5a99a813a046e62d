"""changes.atom: the change history as an Atom 1.0 feed (RFC 4287).

One entry per change announced on or before the day (`Publication.changes`). The feed has the
elements RFC 4287 requires (4.1.1: id, title, updated, and an author, given once for the whole
feed; 4.1.2: each entry's id, title, updated, and a link or content) plus a summary and an HTML
content per entry. Ids are `urn:uuid:` URNs made from what identifies the feed or the change,
so they stay the same from one publication to the next. An entry is `published` on the day the
change was announced and `updated` on the day it took effect, once it has.

The XML is built with ElementTree, so every registry string is a text node (escaped by the
serialiser); the HTML content is escaped once more as HTML before that.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import date

from lineage.publish.changes import NAMESPACE, Change
from lineage.publish.html_pages import CHANGE_WORDS, anchor, missing_notice
from lineage.publish.publication import Publication
from lineage.publish.safe import clean, country_name, esc

ATOM = "http://www.w3.org/2005/Atom"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def _el(parent: ET.Element, name: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, name, {k: clean(v) for k, v in attrs.items()})
    if text is not None:
        element.text = clean(text)
    return element


def _stamp(day: date) -> str:
    """An RFC 3339 date-time for a day (its start, UTC)."""
    return f"{day.isoformat()}T00:00:00Z"


def feed_id(pub: Publication) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, 'feed' + chr(31) + pub.organization)}"


def updated(change: Change, pub: Publication) -> date:
    """The day an entry last changed on `pub.day`: when it took effect, or was announced."""
    return change.day if change.day <= pub.day else change.announced


def feed(pub: Publication) -> bytes:
    """The Atom document (UTF-8 bytes)."""
    changes = sorted(pub.changes, key=lambda c: (updated(c, pub), c.day, c.name, c.party), reverse=True)
    # Unqualified names under a literal default namespace declaration: ElementTree would
    # otherwise invent prefixes (or refuse unqualified attributes with `default_namespace`).
    root = ET.Element("feed", {"xmlns": ATOM, XML_LANG: "en"})
    _el(root, "id", feed_id(pub))
    _el(root, "title", f"Sub-processor changes of {pub.organization}", type="text")
    _el(root, "subtitle", f"New, changed and removed sub-processors of {pub.organization}, with the notice "
        f"date and the earliest start allowed by the {pub.notice_days}-day notice period.", type="text")
    _el(root, "updated", _stamp(max((updated(c, pub) for c in changes), default=pub.day)))
    author = _el(root, "author")
    _el(author, "name", pub.organization)
    _el(root, "link", rel="alternate", type="text/html", href=pub.url("changes.html"))
    if pub.base_url:
        _el(root, "link", rel="self", type="application/atom+xml", href=pub.url("changes.atom"))
    _el(root, "generator", "flowreg")
    for change in changes:
        _entry(root, change, pub)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _title(change: Change, pub: Publication) -> str:
    verb = CHANGE_WORDS[change.kind]
    when = f" (from {change.day.isoformat()})" if change.day > pub.day else ""
    return f"{verb}: {change.name}{when}"


def _summary(change: Change, pub: Publication) -> str:
    parts = [f"{CHANGE_WORDS[change.kind]} on {change.day.isoformat()}: {change.name}: {change.what}."]
    if change.notice is not None:
        parts.append(f"Notice given on {change.notice.isoformat()}.")
    if change.earliest is not None:
        parts.append(f"Earliest start allowed by the notice period: {change.earliest.isoformat()}.")
    if change.early:
        parts.append("It takes effect before the notice period has run.")
    return " ".join(parts)


def _content(change: Change, pub: Publication) -> str:
    """The entry as an HTML fragment (every value escaped here; the XML serialiser escapes the
    fragment as a whole once more)."""
    entry = change.entry
    rows = [
        ("Takes effect", change.day.isoformat()),
        ("Change", CHANGE_WORDS[change.kind]),
        ("Sub-processor", change.name + (" (affiliate)" if entry.affiliate else "")),
        ("What changed", change.what),
        ("Notice given", change.notice.isoformat() if change.notice else missing_notice(change)),
        ("Earliest start allowed", change.earliest.isoformat() if change.earliest else "not applicable"),
        ("Country", country_name(entry.country)),
        ("Processing locations", ", ".join(country_name(c) for c in entry.locations) or "none"),
        ("What it does", ", ".join(entry.purposes) or "not stated"),
        ("Categories of personal data", ", ".join(entry.category_names)),
        ("Transfer tools", "; ".join(f"{pub.regime_names.get(r, r)}: {w}" for r, w in entry.tools) or "none needed"),
    ]
    if change.early:
        rows.append(("Note", "takes effect before the notice period has run"))
    return "<dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in rows) + "</dl>"


def _entry(root: ET.Element, change: Change, pub: Publication) -> None:
    entry = _el(root, "entry")
    _el(entry, "id", f"urn:uuid:{change.uid(pub.organization)}")
    _el(entry, "title", _title(change, pub), type="text")
    _el(entry, "updated", _stamp(updated(change, pub)))
    _el(entry, "published", _stamp(change.announced))
    _el(entry, "link", rel="alternate", type="text/html", href=pub.url(f"changes.html#{anchor(change, pub)}"))
    _el(entry, "category", term=change.kind, label=CHANGE_WORDS[change.kind])
    _el(entry, "summary", _summary(change, pub), type="text")
    _el(entry, "content", _content(change, pub), type="html")
