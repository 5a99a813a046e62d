"""index.html and changes.html: the public sub-processor list and its change history.

Offline and self-contained: the style sheet (with a print style) and the sorting script are
bundled inline, and a Content-Security-Policy lets exactly those two run and nothing load.
Accessible: one h1 per page, sections with headings, tables with a caption, column headers
(`scope="col"`), the sub-processor's name as the row header and `aria-sort` on the sorted
column; dates are `<time>` elements. Every registry value goes through `safe.esc`, and only
absolute http(s) addresses become links (`safe.link_target`).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from datetime import date
from pathlib import Path

from lineage.publish.changes import ADDED, CHANGED, REMOVED, Change
from lineage.publish.listing import PublicEntry
from lineage.publish.publication import Publication
from lineage.publish.safe import country_name, esc, link_target
from registry.revisions import iso_utc

_HERE = Path(__file__).parent
CSS = (_HERE / "site.css").read_text(encoding="utf-8")
SORT_JS = (_HERE / "sort.js").read_text(encoding="utf-8")


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


CSP = (
    f"default-src 'none'; style-src '{_sha256(CSS)}'; script-src '{_sha256(SORT_JS)}'; "
    "img-src 'none'; base-uri 'none'; form-action 'none'"
)
CHANGE_WORDS = {ADDED: "Added", REMOVED: "Removed", CHANGED: "Changed"}
PAGES = (("index.html", "Sub-processors"), ("changes.html", "Changes"))
CURRENT = ' aria-current="page"'
SORTED = ' aria-sort="ascending"'


def _time(day: date | None, empty: str = "not recorded") -> str:
    if day is None:
        return f'<span class="muted">{esc(empty)}</span>'
    return f'<time datetime="{day.isoformat()}">{day.isoformat()}</time>'


def _list(items: Iterable[str]) -> str:
    """Already escaped items as a list (one item stays plain text)."""
    items = list(items)
    if not items:
        return '<span class="muted">none</span>'
    if len(items) == 1:
        return items[0]
    return "<ul>" + "".join(f"<li>{item}</li>" for item in items) + "</ul>"


def _page(pub: Publication, current: str, title: str, body: list[str]) -> bytes:
    nav = "".join(
        f'<li><a href="{name}"{CURRENT if name == current else ""}>{label}</a></li>' for name, label in PAGES
    )
    org = esc(pub.organization)
    head = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title>",
        f'<link rel="alternate" type="application/atom+xml" title="{esc("Sub-processor changes of " + pub.organization)}" href="changes.atom">',
        '<link rel="alternate" type="application/json" href="subprocessors.json">',
        '<meta name="generator" content="flowreg">',
        f'<meta name="flowreg:revision" content="{pub.revision.number}">',
        f'<meta name="flowreg:revision_hash" content="{esc(pub.revision.hash)}">',
        f'<meta name="flowreg:as_of" content="{pub.day.isoformat()}">',
        f'<meta name="flowreg:generated_at" content="{esc(iso_utc(pub.generated_at))}">',
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        '<a class="skip" href="#main">Skip to the content</a>',
        f'<header><p class="org">{org}</p>',
        f'<nav aria-label="Sub-processor pages"><ul>{nav}'
        '<li><a href="changes.atom" type="application/atom+xml">Subscribe to changes (Atom feed)</a></li>'
        '<li><a href="subprocessors.json" type="application/json">Machine-readable list (JSON)</a></li>'
        "</ul></nav></header>",
        '<main id="main">',
    ]
    foot = [
        "</main>",
        f"<footer><p>Published from {org}'s data-flow registry by flowreg: revision "
        f"{pub.revision.number} (<code>{esc(pub.revision.hash[:16])}</code>), as of {_time(pub.day)}, "
        f"generated {esc(iso_utc(pub.generated_at))}.</p></footer>",
        f"<script>{SORT_JS}</script>",
        "</body>",
        "</html>",
    ]
    return ("\n".join(head + body + foot) + "\n").encode("utf-8")


# --- index.html ---------------------------------------------------------------------------
ENTRY_COLUMNS = ("Sub-processor", "What it does", "Categories of personal data", "Country",
                 "Processing locations", "Transfer tool relied on", "Since")


def _name_cell(entry: PublicEntry) -> str:
    target = link_target(entry.url)
    name = esc(entry.name)
    if target is not None:
        name = f'<a href="{esc(target)}" rel="noopener noreferrer nofollow">{name}</a>'
    return f'<th scope="row" data-sort="{esc(entry.name.casefold())}">{name}</th>'


def _tools_cell(entry: PublicEntry, pub: Publication) -> str:
    if not entry.tools:
        return "<td>none needed: the data carries no transfer regime</td>"
    items = [f'<span class="regime">{esc(pub.regime_names.get(r, r))}:</span> {esc(words)}' for r, words in entry.tools]
    return f"<td>{_list(items)}</td>"


def _entry_row(entry: PublicEntry, pub: Publication) -> str:
    since = pub.since.get(entry.party)
    since_text = _time(since, f"before {pub.record_start.isoformat()}" if pub.record_start <= pub.day else "not recorded")
    cells = [
        _name_cell(entry),
        f"<td>{_list(esc(p) for p in entry.purposes)}</td>",
        f"<td>{_list(esc(n) for n in entry.category_names)}</td>",
        f'<td data-sort="{esc(entry.country or "")}">{esc(country_name(entry.country))}</td>',
        f"<td>{_list(esc(country_name(c)) for c in entry.locations)}</td>",
        _tools_cell(entry, pub),
        f'<td data-sort="{since.isoformat() if since else "0000"}">{since_text}</td>',
    ]
    return "<tr>" + "".join(cells) + "</tr>"


def _entry_table(entries: tuple[PublicEntry, ...], pub: Publication, caption: str, empty: str,
                 first: str = ENTRY_COLUMNS[0]) -> list[str]:
    if not entries:
        return [f"<p>{esc(empty)}</p>"]
    heads = "".join(
        f'<th scope="col"{SORTED if i == 0 else ""}>{first if i == 0 else title}</th>'
        for i, title in enumerate(ENTRY_COLUMNS)
    )
    return [
        f'<table class="sortable"><caption>{esc(caption)}</caption>',
        f"<thead><tr>{heads}</tr></thead><tbody>",
        *(_entry_row(e, pub) for e in entries),
        "</tbody></table>",
    ]


def index_page(pub: Publication) -> bytes:
    """The current list as one HTML page (UTF-8)."""
    org, day = pub.organization, pub.day.isoformat()
    subs, affiliates = pub.subprocessors, pub.affiliates
    body = [
        f"<h1>Sub-processors of {esc(org)}</h1>",
        f'<p class="lede">The companies that process customer personal data on behalf of {esc(org)} '
        f"on {_time(pub.day)}: what each does, which personal data it receives, where, and the "
        "transfer tool relied on where the data leaves the area of a data protection law. "
        f"The notice period is {pub.notice_days} days: customers are told of a new sub-processor "
        'before it starts and may object in that time. See <a href="changes.html">the changes</a> or '
        'subscribe to <a href="changes.atom" type="application/atom+xml">the change feed</a>.</p>',
        '<section aria-labelledby="subprocessors"><h2 id="subprocessors">Sub-processors</h2>',
        *_entry_table(subs, pub, f"{len(subs)} sub-processor{'s' if len(subs) != 1 else ''} receiving "
                      f"personal data on {day}", f"No sub-processor receives personal data on {day}."),
        "</section>",
        '<section aria-labelledby="affiliates"><h2 id="affiliates">Affiliates that process customer data</h2>',
        f"<p>Companies of the {esc(org)} group that process customer data as sub-processors.</p>",
        *_entry_table(affiliates, pub, f"{len(affiliates)} affiliate{'s' if len(affiliates) != 1 else ''} "
                      f"processing customer data on {day}", f"No affiliate processes customer data on {day}.",
                      "Affiliate"),
        "</section>",
    ]
    if pub.announced:
        body += ['<section aria-labelledby="announced"><h2 id="announced">Announced changes</h2>',
                 "<p>Changes announced on or before this date that take effect later.</p>",
                 *_change_table(pub.announced, pub, f"{len(pub.announced)} announced change(s)"),
                 "</section>"]
    body += _about(pub)
    return _page(pub, "index.html", f"Sub-processors of {org}", body)


def _about(pub: Publication) -> list[str]:
    rows = [
        ("As of", _time(pub.day)),
        ("Notice period", f"{pub.notice_days} days"),
        ("Changes recorded since", _time(pub.record_start)),
        ("Registry revision", f"{pub.revision.number}, written {esc(iso_utc(pub.revision.created_at))}"),
        ("Revision hash", f"<code>{esc(pub.revision.hash)}</code>"),
        ("Legal knowledge version", _time(pub.law_version)),
    ]
    return ['<section aria-labelledby="about"><h2 id="about">About this list</h2><dl class="about">',
            *(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows), "</dl></section>"]


# --- changes.html -------------------------------------------------------------------------
CHANGE_COLUMNS = ("Takes effect", "Change", "Sub-processor", "What changed", "Notice given",
                  "Earliest start allowed", "Status")


def anchor(change: Change, pub: Publication) -> str:
    """The fragment id of a change's row on changes.html (hex only: never registry text)."""
    return f"change-{change.uid(pub.organization).hex}"


def missing_notice(change: Change) -> str:
    """What the notice column says when a change has no notice date."""
    if change.kind == REMOVED:
        return "not needed"
    if change.revision is None:
        return "none: the law or a tool's dates changed"
    return "not recorded"


def _status(change: Change, pub: Publication) -> str:
    if change.day > pub.day:
        text = "announced"
    else:
        text = "in effect"
    if change.early:
        return f'{text}; <span class="early">takes effect before the notice period has run</span>'
    return text


def _change_row(change: Change, pub: Publication) -> str:
    entry = change.entry
    cells = [
        f'<td data-sort="{change.day.isoformat()}">{_time(change.day)}</td>',
        f"<td>{CHANGE_WORDS[change.kind]}</td>",
        f'<th scope="row" data-sort="{esc(change.name.casefold())}">{esc(change.name)}'
        f'{" (affiliate)" if entry.affiliate else ""}</th>',
        f"<td>{esc(change.what)}</td>",
        f'<td data-sort="{change.notice.isoformat() if change.notice else "0000"}">'
        f"{_time(change.notice, missing_notice(change))}</td>",
        f'<td data-sort="{change.earliest.isoformat() if change.earliest else "0000"}">'
        f"{_time(change.earliest, 'not applicable')}</td>",
        f"<td>{_status(change, pub)}</td>",
    ]
    return f'<tr id="{anchor(change, pub)}">' + "".join(cells) + "</tr>"


def _change_table(changes: tuple[Change, ...], pub: Publication, caption: str) -> list[str]:
    heads = "".join(f'<th scope="col">{title}</th>' for title in CHANGE_COLUMNS)
    return [
        f'<table class="sortable"><caption>{esc(caption)}</caption>',
        f"<thead><tr>{heads}</tr></thead><tbody>",
        *(_change_row(c, pub) for c in changes),
        "</tbody></table>",
    ]


def changes_page(pub: Publication) -> bytes:
    """Every change up to the day, newest first, and those announced for later (UTF-8)."""
    org = pub.organization
    body = [
        f"<h1>Sub-processor changes of {esc(org)}</h1>",
        f'<p class="lede">Every addition, removal and change of a sub-processor of {esc(org)} since '
        f"{_time(pub.record_start)}, as of {_time(pub.day)}, with the day customers were told and the "
        f"earliest day the change may take effect ({pub.notice_days} days later, the notice period for "
        'objections). Subscribe to <a href="changes.atom" type="application/atom+xml">the Atom feed</a> '
        "to be told of each new entry.</p>",
    ]
    if pub.announced:
        body += ['<section aria-labelledby="announced"><h2 id="announced">Announced</h2>',
                 *_change_table(pub.announced, pub, f"{len(pub.announced)} change(s) taking effect after "
                                f"{pub.day.isoformat()}"), "</section>"]
    effect = pub.in_effect
    body += ['<section aria-labelledby="history"><h2 id="history">In effect</h2>']
    if effect:
        body += _change_table(effect, pub, f"{len(effect)} change(s) from {pub.record_start.isoformat()} "
                              f"to {pub.day.isoformat()}, newest first")
    else:
        body.append(f"<p>No change between {_time(pub.record_start)} and {_time(pub.day)}.</p>")
    body.append("</section>")
    body += _about(pub)
    return _page(pub, "changes.html", f"Sub-processor changes of {org}", body)
