"""A revision's canonical JSON text held in pieces, so appending elements costs O(change).

A revision's content hash is the sha256 of its canonical JSON (`registry.revisions`). Written
out whole, that text is 18 MB at 100k flows and 190 MB at 1M; building it again for every
registration, and storing it again, made a registration cost as much as applying the registry.
`CanonicalText` keeps the text of each top-level key as a list of byte pieces: the pieces of the
revision it was read from are shared, elements appended to a section add a piece each, and the
hash is streamed over the pieces. The text it stands for is exactly `canonical_json(content)`
for the content it was built with (tests/test_canonical.py checks this against the full
serialisation).

>>> doc = CanonicalText.parse('{"flowreg":1,"parties":[{"id":"a"}]}')[1]
>>> bigger = doc.appended({"parties": ['{"id":"b"}'], "flows": ['{"id":"f"}']})
>>> bigger.text()
'{"flowreg":1,"flows":[{"id":"f"}],"parties":[{"id":"a"},{"id":"b"}]}'
>>> doc.text()  # the original is unchanged
'{"flowreg":1,"parties":[{"id":"a"}]}'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from registry.revisions import canonical_json

_DECODER = json.JSONDecoder()


class CanonicalText:
    """The canonical JSON text of one content mapping, as shared byte pieces per top-level key.

    A list value's pieces are its elements' texts (`,` separators included), without the
    brackets; any other value is one piece holding its whole text.
    """

    __slots__ = ("_lists", "_pieces", "checked")

    def __init__(self, pieces: dict[str, list[bytes | memoryview]], lists: frozenset[str],
                 checked: bool = True) -> None:
        self._pieces = pieces
        self._lists = lists
        # Whether the text is known to be canonical below its top level too (`is_canonical`).
        self.checked = checked

    @classmethod
    def parse(cls, text: str, *, check: bool = True) -> tuple[dict[str, Any], CanonicalText]:
        """Decode canonical JSON text into its content and its pieces.

        The top-level object is walked key by key with the C decoder (what `json.loads`
        costs). Raises ValueError when `text` is not a canonical JSON object (whitespace,
        unsorted keys, escapes, at any depth). The check below the top level serialises the
        content again (what `json.dumps` costs); `check=False` leaves it to `is_canonical`,
        for stores that read a revision at every open but extend one only now and then.
        """
        content: dict[str, Any] = {}
        spans: dict[str, tuple[int, int]] = {}
        if not text.startswith("{"):
            raise ValueError("not a JSON object")
        position, last_key = 1, None
        while text[position:position + 1] != "}":
            if content:
                if text[position:position + 1] != ",":  # a slice: truncated text is refused
                    raise ValueError(f"expected ',' at {position}")
                position += 1
            key, position = _DECODER.raw_decode(text, position)
            if not isinstance(key, str) or text[position:position + 1] != ":":
                raise ValueError(f"expected a key at {position}")
            if last_key is not None and key <= last_key:
                raise ValueError("keys are not in canonical order")
            start = position + 1
            value, position = _DECODER.raw_decode(text, start)
            content[key], spans[key], last_key = value, (start, position), key
        if position + 1 != len(text):
            raise ValueError("text after the JSON object")
        # The walk above checks the top level only; spacing, key order, escapes or number forms
        # inside a value (or an escaped key) would otherwise become pieces whose text is not
        # canonical_json(content), so hashes of appended revisions would not be content hashes.
        if check and canonical_json(content) != text:
            raise ValueError("not canonical JSON inside a value")
        # ASCII text (the common case: ids and names) has one byte per character, so the
        # pieces are views into one encoded copy; otherwise each value is encoded alone.
        encoded = memoryview(text.encode("utf-8")) if text.isascii() else None
        pieces: dict[str, list[bytes | memoryview]] = {}
        lists = frozenset(k for k, v in content.items() if isinstance(v, list))
        for key, (start, end) in spans.items():
            if key in lists:
                start, end = start + 1, end - 1  # the list's body, without its brackets
            if start == end:
                pieces[key] = []
            elif encoded is not None:
                pieces[key] = [encoded[start:end]]
            else:
                pieces[key] = [text[start:end].encode("utf-8")]
        return content, cls(pieces, lists, check)

    def is_canonical(self, content: Mapping[str, Any]) -> bool:
        """Whether the text is `canonical_json(content)` (checked once, then remembered)."""
        if not self.checked:
            self.checked = self.text() == canonical_json(content)
        return self.checked

    def appended(self, additions: Mapping[str, Sequence[str]]) -> CanonicalText:
        """A new text with the element texts of `additions` appended to their lists.

        `additions` maps a top-level key to canonical JSON texts of the new elements; a key
        not present yet becomes a new list. The pieces of `self` are shared, not copied.
        """
        pieces = dict(self._pieces)
        lists = set(self._lists)
        for key, texts in additions.items():
            if not texts:
                continue
            if key in pieces and key not in lists:
                raise ValueError(f"'{key}' is not a list")
            current = list(pieces.get(key, ()))
            for element in texts:
                current.append((b"," if current else b"") + element.encode("utf-8"))
            pieces[key] = current
            lists.add(key)
        return CanonicalText(pieces, frozenset(lists), self.checked)

    def _chunks(self) -> Iterator[bytes | memoryview]:
        yield b"{"
        for i, key in enumerate(sorted(self._pieces)):
            yield (b"," if i else b"") + json.dumps(key, ensure_ascii=False).encode("utf-8") + b":"
            if key in self._lists:
                yield b"["
                yield from self._pieces[key]
                yield b"]"
            else:
                yield from self._pieces[key]
        yield b"}"

    def sha256(self) -> str:
        """sha256 hex digest of the text, streamed over the pieces."""
        digest = hashlib.sha256()
        for chunk in self._chunks():
            digest.update(chunk)
        return digest.hexdigest()

    def text(self) -> str:
        """The whole canonical JSON text (a copy: only for writing a full snapshot)."""
        return b"".join(self._chunks()).decode("utf-8")

    def piece_count(self) -> int:
        """How many pieces make up the text (grows by one per appended element)."""
        return sum(len(p) for p in self._pieces.values())
