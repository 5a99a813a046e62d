"""Where OpenLineage events come from: files of JSON lines, JSON arrays, single JSON documents,
folders of such files, or uploaded bytes; each event with the line it starts on.

A file is read as JSON lines when its first non-blank line is a JSON value on its own, as one
JSON array when it starts with `[`, and otherwise as one document. A line that is not JSON is
reported (file and line) and skipped; reading goes on with the next line. A broken array is
reported at the line of the break; the events before it are still read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from registry.errors import FlowregError

EVENT_SUFFIXES = (".json", ".jsonl", ".ndjson")


@dataclass(frozen=True)
class Source:
    """One file of events: on disk (`path`) or uploaded (`data`); `name` is how it is shown.

    A piece of a JSON-lines file on disk (`split_lines`) is the bytes from `start` to `end`;
    its lines are numbered from 1 and the reader adds the lines of the pieces before it."""

    name: str
    path: Path | None = None
    data: bytes | None = None
    start: int = 0
    end: int | None = None

    @property
    def piece(self) -> bool:
        return self.start > 0 or self.end is not None

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        if not self.piece:
            return self.path.read_bytes()
        with self.path.open("rb") as file:
            file.seek(self.start)
            return file.read(-1 if self.end is None else self.end - self.start)

    def size(self) -> int:
        if self.data is not None:
            return len(self.data)
        assert self.path is not None
        try:
            total = self.path.stat().st_size
        except OSError:
            return 0
        return (total if self.end is None else self.end) - self.start


def split_lines(source: Source, piece_bytes: int) -> list[Source]:
    """A JSON-lines file on disk cut at line ends into pieces of about `piece_bytes`, so that
    several processes can read it; any other source is returned whole."""
    if source.path is None or source.piece or source.size() <= piece_bytes:
        return [source]
    try:
        with source.path.open("rb") as file:
            head = file.read(65536)
            if head.startswith(b"\xef\xbb\xbf") or not _looks_like_lines(head.lstrip()) or head.lstrip()[:1] == b"[":
                return [source]
            total = source.path.stat().st_size
            pieces, start = [], 0
            while start < total:
                file.seek(min(start + piece_bytes, total))
                file.readline()  # to the end of the line the cut falls in
                end = min(file.tell(), total)
                pieces.append(Source(source.name, path=source.path, start=start, end=None if end >= total else end))
                start = end
    except OSError:
        return [source]
    return pieces


def sources_from_paths(paths: Sequence[str | Path]) -> list[Source]:
    """Files as given, folders as their event files (`.json`, `.jsonl`, `.ndjson`, in name order,
    sub-folders included). FlowregError names a path that does not exist.

    >>> sources_from_paths(["no/such/file.json"])
    Traceback (most recent call last):
    ...
    registry.errors.FlowregError: EVENTS: no such file or folder 'no/such/file.json'
    """
    out: list[Source] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in EVENT_SUFFIXES)
            out += [Source(str(p), path=p) for p in found]
        elif path.is_file():
            out.append(Source(str(given), path=path))
        else:
            raise FlowregError(f"EVENTS: no such file or folder '{given}'")
    return out


@dataclass(frozen=True, slots=True)
class RawEvent:
    """One decoded JSON value of a file, before it is read as an event."""

    value: Any
    where: int  # a line for JSON lines and documents, an element index for arrays


class EventFile:
    """The JSON values of one source, in order, and where each starts.

    Iterating yields `RawEvent`s; a value that is not JSON is recorded in `errors` as
    (line, message) and skipped. `line_of(raw)` is the line a value starts on.
    """

    def __init__(self, source: Source) -> None:
        self.source = source
        self.errors: list[tuple[int | None, str]] = []
        self.lines = 0  # line ends read (a piece's lines, for numbering the pieces after it)
        self._array_text: str | None = None
        self._starts: list[int] = []  # line of each array element, found on demand

    def __iter__(self) -> Iterator[RawEvent]:
        try:
            data = self.source.read()
        except OSError as exc:
            self.errors.append((None, f"cannot read the file: {exc.strerror or exc}"))
            return
        self.lines = data.count(b"\n")
        if self.source.piece:
            yield from self._lines(data)
            return
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        body = data.lstrip()
        if not body:
            return
        if body[:1] == b"[":
            yield from self._array(data)
        elif _looks_like_lines(body):
            yield from self._lines(data)
        else:
            yield from self._document(data)

    def line_of(self, raw: RawEvent) -> int | None:
        if self._array_text is None:
            return raw.where
        return self._array_line(raw.where)

    # --- the three layouts -------------------------------------------------------------------
    def _lines(self, data: bytes) -> Iterator[RawEvent]:
        for number, line in enumerate(data.split(b"\n"), start=1):
            if not line.strip():
                continue
            try:
                yield RawEvent(orjson.loads(line), number)
            except orjson.JSONDecodeError as exc:
                self.errors.append((number, f"not valid JSON: {_reason(exc)}"))

    def _document(self, data: bytes) -> Iterator[RawEvent]:
        try:
            value = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            self.errors.append((exc.lineno, f"not valid JSON: {_reason(exc)}"))
            return
        yield RawEvent(value, _first_content_line(data))

    def _array(self, data: bytes) -> Iterator[RawEvent]:
        try:
            values = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            # Keep what precedes the break: the standard decoder walks the elements one by one.
            self._array_text = data.decode("utf-8", errors="replace")
            good = self._salvage()
            self.errors.append((exc.lineno, f"not valid JSON ({_reason(exc)}); the rest of the file was skipped"))
            yield from good
            return
        if not isinstance(values, list):
            yield RawEvent(values, _first_content_line(data))
            return
        self._array_text = ""  # lines are computed from the text only if a problem needs one
        self._data = data
        for index, value in enumerate(values):
            yield RawEvent(value, index)

    # --- array element lines -----------------------------------------------------------------
    def _array_line(self, index: int) -> int | None:
        if not self._array_text:
            self._array_text = self._data.decode("utf-8", errors="replace")
        if index >= len(self._starts):
            self._salvage(until=index)
        return self._starts[index] if index < len(self._starts) else None

    def _salvage(self, until: int | None = None) -> list[RawEvent]:
        """Walk the array's elements with the standard decoder, recording each one's line; stop
        after element `until` or at the first break. Returns the elements decoded."""
        text = self._array_text or ""
        decoder = json.JSONDecoder()
        pos = text.index("[") + 1
        line, counted = 1, 0
        out: list[RawEvent] = []
        self._starts = []
        while True:
            pos = _skip_space(text, pos)
            if pos >= len(text) or text[pos] == "]":
                break
            line += text.count("\n", counted, pos)
            counted = pos
            try:
                value, pos = decoder.raw_decode(text, pos)
            except json.JSONDecodeError:
                break
            self._starts.append(line)
            out.append(RawEvent(value, len(out)))
            if until is not None and len(self._starts) > until:
                break
            pos = _skip_space(text, pos)
            if pos < len(text) and text[pos] == ",":
                pos += 1
        return out


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _looks_like_lines(body: bytes) -> bool:
    """Whether one of the first three non-blank lines is a JSON object on its own (so a broken
    first line of a JSON-lines file does not turn the file into one broken document)."""
    lines = [line for line in body.split(b"\n", 8)[:8] if line.strip()][:3]
    for line in lines:
        try:
            if isinstance(orjson.loads(line), dict):
                return True
        except orjson.JSONDecodeError:
            continue
    return False


def _first_content_line(data: bytes) -> int:
    stripped = data.lstrip()
    return data[: len(data) - len(stripped)].count(b"\n") + 1


def _reason(exc: orjson.JSONDecodeError) -> str:
    return str(exc.msg).rstrip(".") + (f" at column {exc.colno}" if exc.colno else "")
