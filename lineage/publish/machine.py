"""subprocessors.json: the published list for machines, valid against subprocessors.schema.json.

One object per sub-processor receiving data on the day (affiliates acting as sub-processors
included, marked `affiliate: true`), with at least `id`, `name`, `country`, `purposes`,
`categories`, `since` and `tools` (regime id -> the tool relied on, in words); announced
changes are listed apart, so `subprocessors` holds exactly who receives data on the day.
"""

from __future__ import annotations

import json
from typing import Any

from lineage.publish.atom import feed_id
from lineage.publish.changes import Change
from lineage.publish.listing import PublicEntry
from lineage.publish.publication import Publication
from lineage.publish.safe import link_target
from registry.revisions import iso_utc

FORMAT = 1


def _entry(entry: PublicEntry, pub: Publication) -> dict[str, Any]:
    since = pub.since.get(entry.party)
    return {
        "id": entry.party,
        "name": entry.name,
        "kind": entry.kind,
        "affiliate": entry.affiliate,
        "country": entry.country,
        "processing_locations": list(entry.locations),
        "purposes": list(entry.purposes),
        "categories": [{"id": c, "name": n} for c, n in zip(entry.categories, entry.category_names, strict=True)],
        "since": since.isoformat() if since else None,
        "tools": dict(entry.tools),
        "url": link_target(entry.url),
        "notice_given": entry.notice_given.isoformat() if entry.notice_given else None,
    }


def _change(change: Change, pub: Publication) -> dict[str, Any]:
    return {
        "id": f"urn:uuid:{change.uid(pub.organization)}",
        "takes_effect": change.day.isoformat(),
        "change": change.kind,
        "subprocessor": change.party,
        "name": change.name,
        "what": change.what,
        "notice_given": change.notice.isoformat() if change.notice else None,
        "earliest_start": change.earliest.isoformat() if change.earliest else None,
        "early": change.early,
    }


def document(pub: Publication) -> dict[str, Any]:
    """The JSON document as Python data."""
    return {
        "format": FORMAT,
        "organization": pub.organization,
        "as_of": pub.day.isoformat(),
        "generated_at": iso_utc(pub.generated_at),
        "revision": pub.revision.number,
        "revision_hash": pub.revision.hash,
        "notice_days": pub.notice_days,
        "record_start": pub.record_start.isoformat(),
        "feed": feed_id(pub),
        "regimes": dict(pub.regime_names),
        "subprocessors": [_entry(e, pub) for e in pub.entries],
        "announced": [_change(c, pub) for c in pub.announced],
    }


def subprocessors_json(pub: Publication) -> bytes:
    """The JSON document, indented, UTF-8."""
    return (json.dumps(document(pub), indent=2, ensure_ascii=False) + "\n").encode("utf-8")
