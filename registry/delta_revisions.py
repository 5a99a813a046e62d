"""Revisions stored as the elements they add to their parent, with a full snapshot now and then.

A registration adds one party and one flow to a registry of 100k flows; storing the whole
registry again (18 MB) for it made every registration as slow as applying the registry. A
revision that only appends elements is therefore stored as a delta, `{"add": {section:
[element, ...]}}`, on its parent; every `SNAPSHOT_EVERY`-th revision of a run of deltas, and any
revision that removes or edits something, is stored whole. What a revision *is* does not
change: its content hash is still the sha256 of the whole registry's canonical JSON
(`registry.revisions`), computed from shared pieces (`registry.canonical`) rather than from a
fresh 18 MB string, so a history mixing both kinds verifies exactly as before, and reading a
delta revision back checks the rebuilt text against that hash.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from registry.canonical import CanonicalText
from registry.errors import TamperError
from registry.revisions import canonical_json, sha256_text

# A delta revision is read by replaying the deltas since the last snapshot; this bounds that
# replay (and the cost of a snapshot, paid once per this many registrations).
SNAPSHOT_EVERY = 64


@dataclass(frozen=True)
class Materialised:
    """One revision's content, its canonical text in pieces (None when the stored text was not
    canonical), and how many deltas were replayed onto the last snapshot to get it."""

    number: int
    content_hash: str
    content: dict[str, Any]
    text: CanonicalText | None
    depth: int


def delta_text(additions: Mapping[str, Sequence[Mapping[str, Any]]]) -> str:
    """The stored form of a delta: canonical JSON of `{"add": {section: [element, ...]}}`."""
    return canonical_json({"add": {k: list(v) for k, v in additions.items() if v}})


def read_delta(number: int, text: Any) -> dict[str, list[dict[str, Any]]]:
    """The additions a stored delta holds; TamperError when it is not a delta's shape."""
    try:
        value = json.loads(text)
        additions = value["add"]
        if set(value) != {"add"} or not isinstance(additions, dict):
            raise ValueError
        for elements in additions.values():
            if not isinstance(elements, list) or not all(isinstance(e, dict) for e in elements):
                raise ValueError
    except (TypeError, ValueError, KeyError):
        raise TamperError(
            f"revision {number} was changed outside flowreg: its stored change is not readable"
        ) from None
    return additions


def from_snapshot(number: int, content_hash: str, text: Any, *, written: bool = False) -> Materialised:
    """A revision stored whole, its text checked against its content hash. `written`: the text
    was just made by `canonical_json` (so its canonical form need not be checked later)."""
    problem = f"revision {number} was changed outside flowreg"
    if not isinstance(text, str) or sha256_text(text) != content_hash:
        raise TamperError(f"{problem}: its content does not match its hash; run verify")
    try:
        content, pieces = CanonicalText.parse(text, check=False)
        pieces.checked = written
    except ValueError:
        try:  # readable JSON, written by something other than flowreg: no pieces to share
            content, pieces = json.loads(text), None
        except ValueError:
            raise TamperError(f"{problem}: its content is not JSON") from None
    if not isinstance(content, dict):
        raise TamperError(f"{problem}: its content is not a JSON object")
    return Materialised(number, content_hash, content, pieces, 0)


def replay(
    start: Materialised, deltas: Sequence[tuple[int, int | None, Any]], number: int, content_hash: str
) -> Materialised:
    """Revision `number`: `start` plus the stored deltas after it, checked against its hash.

    `deltas` are (number, base, stored text) rows, oldest first, each extending the one
    before it. The rebuilt text must hash to `content_hash`, so a changed delta, a missing
    one or one out of place is refused rather than read as something else.
    """
    problem = f"revision {number} was changed outside flowreg"
    expected = start.number
    merged: dict[str, list[dict[str, Any]]] = {}
    for row_number, base, text in deltas:
        if row_number != expected + 1 or base != expected:
            raise TamperError(f"{problem}: its history of changes is broken at revision {row_number}")
        for section, elements in read_delta(row_number, text).items():
            merged.setdefault(section, []).extend(elements)
        expected = row_number
    if expected != number:
        raise TamperError(f"{problem}: its history of changes is incomplete")
    found = extend(start, number, content_hash, merged)
    if found.text is None or found.text.sha256() != content_hash:
        raise TamperError(f"{problem}: its content does not match its hash; run verify")
    return Materialised(number, content_hash, found.content, found.text, start.depth + len(deltas))


def extend(
    base: Materialised, number: int, content_hash: str, additions: Mapping[str, Sequence[dict[str, Any]]]
) -> Materialised:
    """`base` with `additions` appended (content and text); the hash is not checked here."""
    content = dict(base.content)
    texts: dict[str, list[str]] = {}
    for section, elements in additions.items():
        if not elements:
            continue
        current = content.get(section, [])
        if not isinstance(current, list):
            raise TamperError(f"revision {number}: '{section}' is not a list in its parent")
        content[section] = current + list(elements)
        texts[section] = [canonical_json(e) for e in elements]
    pieces = base.text.appended(texts) if base.text is not None else None
    return Materialised(number, content_hash, content, pieces, base.depth + 1)


def appended(
    base: Materialised, number: int, additions: Mapping[str, Sequence[dict[str, Any]]], *,
    snapshot_every: int = SNAPSHOT_EVERY,
) -> tuple[Materialised, str, int | None]:
    """Revision `number`, which is `base` with `additions` appended, and how to store it:
    (the revision, the text to store, the base number to record, None when stored whole).

    Stored whole when the base's text is not canonical (there are no pieces to share) or when
    it would be the `snapshot_every`-th delta since the last snapshot; else as a delta. The
    content hash is streamed over the pieces either way.
    """
    if base.text is not None and not base.text.is_canonical(base.content):
        base = Materialised(base.number, base.content_hash, base.content, None, base.depth)
    made = extend(base, number, "", additions)
    if made.text is None:
        text = canonical_json(made.content)
        return from_snapshot(number, sha256_text(text), text, written=True), text, None
    if made.depth >= snapshot_every:
        made = Materialised(number, made.text.sha256(), made.content, made.text, 0)
        return made, made.text.text(), None
    made = Materialised(number, made.text.sha256(), made.content, made.text, made.depth)
    return made, delta_text(additions), base.number


def verify_content(
    number: int, content_hash: Any, text: Any, base: Any, previous: Materialised | None,
    problems: list[str],
) -> Materialised | None:
    """Check one stored revision's content (`base` None: whole, else a delta on `previous`)
    against its hash, adding what is wrong to `problems`; returns it materialised (for the
    delta after it) or None when it cannot be read. Stores stream their rows through this."""
    mismatch = f"revision {number}: content does not match its content hash"
    if base is None:
        if not isinstance(text, str) or sha256_text(text) != content_hash:
            problems.append(mismatch)
            return None
        try:
            return from_snapshot(number, content_hash, text)
        except TamperError:
            return None  # hashed fine, so reported by nothing else; a delta after it says so
    if previous is None or previous.number != number - 1 or base != number - 1:
        problems.append(f"revision {number}: stored as a change of revision {base}, "
                        "which cannot be read; its content cannot be checked")
        return None
    try:
        return replay(previous, [(number, base, text)], number, content_hash)
    except TamperError:
        problems.append(mismatch)
        return None
