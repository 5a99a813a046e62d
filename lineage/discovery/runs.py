"""OpenLineage run events gathered per run, as the spec's run cycle intends.

A run's inputs and outputs are the union over all its events (producers often send them on
START only); it is dated by its COMPLETE event's time in UTC, and a run that FAILs or is
ABORTed without completing moved nothing. Reading goes through every source once; a value
that is not a run event is reported with its file and line and skipped, never fatal.
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing import get_all_start_methods, get_context
from typing import Any

from openlineage.client.event_v2 import RunEvent, RunState

from lineage.discovery.event_files import EventFile, RawEvent, Source, split_lines
from lineage.discovery.event_model import EventError, ModelBuilder, NotARunEvent, Tag

# Inputs smaller than this are read in this process: starting workers costs about a second.
PARALLEL_BYTES = 24 * 2**20
PIECE_BYTES = 8 * 2**20  # the smallest piece worth a process

# A dataset's schema field names and tags in a run; None: neither facet.
Fields = tuple[str | Tag, ...] | None


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong in the events: an error (the event was skipped) or a warning (it was
    read). Warnings of one kind in one file are counted once, at their first line."""

    file: str
    line: int | None
    severity: str  # "error" | "warning"
    message: str
    count: int = 1

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        times = f" ({self.count} events)" if self.count > 1 else ""
        return f"{where}: {self.message}{times}"

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "severity": self.severity,
                "message": self.message, "count": self.count}


@dataclass(slots=True)
class RunRecord:
    """What the events of one run say, together."""

    run_id: str
    job: str  # "namespace/name"
    job_completed: bool = False  # `job` is the one the COMPLETE event names
    events: int = 0
    completed: datetime | None = None  # the latest COMPLETE event's time, in UTC
    failed: bool = False
    aborted: bool = False
    inputs: dict[str, Fields] = field(default_factory=dict)  # "namespace/name" -> fields
    outputs: dict[str, Fields] = field(default_factory=dict)

    def joined(self, other: RunRecord) -> RunRecord:
        """This run as read from one piece, plus what `other` (a later piece) says of it."""
        if other.completed is not None and (self.completed is None or other.completed > self.completed):
            self.completed = other.completed
        if other.job_completed or not self.job_completed:
            self.job, self.job_completed = other.job, other.job_completed or self.job_completed
        self.events += other.events
        self.failed |= other.failed
        self.aborted |= other.aborted
        for into, more in ((self.inputs, other.inputs), (self.outputs, other.outputs)):
            for key, names in more.items():
                into[key] = _union(into.get(key), names)
        return self

    @property
    def state(self) -> str:
        """completed | failed | aborted | not_completed (no terminal event)."""
        if self.completed is not None:
            return "completed"
        return "failed" if self.failed else "aborted" if self.aborted else "not_completed"


@dataclass
class EventLog:
    """Every run read from the sources, plus the accounting of what was not read."""

    runs: dict[str, RunRecord] = field(default_factory=dict)
    schemas: dict[str, tuple[str | Tag, ...]] = field(default_factory=dict)  # dataset -> every field and tag seen
    files: int = 0
    values: int = 0  # JSON values read (lines, array elements, documents), malformed ones included
    run_events: int = 0
    malformed: int = 0
    not_run_events: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)
    lines: int = 0  # line ends read (of one piece: to number the lines of the next)

    def problem_list(self) -> list[Problem]:
        return sorted(self.problems, key=lambda p: (p.file, p.line or 0, p.message))


def read_runs(sources: Iterable[Source], *, workers: int | None = None) -> EventLog:
    """Read every source into runs. Never raises on bad content: it becomes a `Problem`.

    Large inputs (more than `PARALLEL_BYTES`) are read by `workers` processes (default: one per
    core), JSON-lines files cut into pieces at line ends; the pieces' logs are merged in file
    order, so the answer is the one a single process gives.

    >>> log = read_runs([Source("e.jsonl", data=b'{"run": {"runId": "x"}}\\n')])
    >>> [str(p) for p in log.problems]
    ["e.jsonl:1: skipped: run.runId: 'x' is not a UUID"]
    """
    sources = list(sources)
    count = workers if workers is not None else (os.cpu_count() or 1)
    pieces = sources
    total = sum(s.size() for s in sources)
    if count > 1 and total > PARALLEL_BYTES:
        # one piece per process (each piece builds its own caches of datasets and runs)
        share = max(PIECE_BYTES, -(-total // count))
        pieces = [p for s in sources for p in split_lines(s, share)]
    if count > 1 and len(pieces) > 1 and total > PARALLEL_BYTES:
        # this process reads the first piece while the others read the rest
        with ProcessPoolExecutor(max_workers=min(count, len(pieces)) - 1, mp_context=_start_method()) as pool:
            rest = pool.map(read_piece, pieces[1:])
            first = read_piece(pieces[0])
            return merge(len(sources), pieces, [first, *rest])
    return merge(len(sources), pieces, [read_piece(p) for p in pieces])


def _start_method() -> Any:
    """fork when this process has no other thread (workers then start at once, with everything
    imported); spawn otherwise, since a forked child would inherit other threads' locks."""
    if threading.active_count() == 1 and "fork" in get_all_start_methods():
        return get_context("fork")
    return get_context("spawn")


def read_piece(source: Source) -> EventLog:
    """One source (or piece of one) read into a log of its own; problem lines count from the
    piece's first line."""
    log = EventLog()
    builder = ModelBuilder()
    warned: dict[tuple[str, str], int] = {}  # (file, message) -> index in log.problems
    events = EventFile(source)
    for raw in events:
        _read_one(log, builder, warned, events, raw)
    _file_errors(log, events)
    log.files = 1
    log.lines = events.lines
    return log


def merge(files: int, pieces: list[Source], logs: list[EventLog]) -> EventLog:
    """The logs of `pieces` (in file order) as one: runs joined, counts added, problem lines
    made file-wide, and a warning counted once per file at its first line."""
    out = EventLog(files=files)
    warned: dict[tuple[str, str], int] = {}
    shift = 0  # lines of the earlier pieces of the file being merged
    for piece, log in zip(pieces, logs, strict=True):
        if piece.start == 0:  # a new file (two files may have one name: uploads from two folders)
            shift = 0
        out.values += log.values
        out.run_events += log.run_events
        out.malformed += log.malformed
        out.not_run_events.update(log.not_run_events)
        for key, names in log.schemas.items():
            out.schemas[key] = _union(out.schemas.get(key), names) or ()
        for run_id, record in log.runs.items():
            mine = out.runs.get(run_id)
            out.runs[run_id] = record if mine is None else mine.joined(record)
        for problem in log.problems:
            line = problem.line + shift if problem.line is not None else None
            moved = Problem(problem.file, line, problem.severity, problem.message, problem.count)
            if problem.severity != "warning":
                out.problems.append(moved)
                continue
            index = warned.get((problem.file, problem.message))
            if index is None:
                warned[(problem.file, problem.message)] = len(out.problems)
                out.problems.append(moved)
            else:
                first = out.problems[index]
                out.problems[index] = Problem(first.file, first.line, first.severity, first.message,
                                              first.count + problem.count)
        shift += log.lines
    return out


def _read_one(
    log: EventLog, builder: ModelBuilder, warned: dict[tuple[str, str], int], events: EventFile, raw: RawEvent
) -> None:
    log.values += 1
    warnings: list[str] = []
    try:
        event = builder.run_event(raw.value, warnings)
    except NotARunEvent as exc:
        log.not_run_events[exc.kind] += 1
        return
    except EventError as exc:
        log.malformed += 1
        log.problems.append(Problem(events.source.name, events.line_of(raw), "error", f"skipped: {exc}"))
        return
    log.run_events += 1
    _add(log, builder, event, _utc(event.eventTime, warnings))
    for message in warnings:
        _warn(log, warned, events, raw, message)


def _add(log: EventLog, builder: ModelBuilder, event: RunEvent, when: datetime) -> None:
    run_id = event.run.runId
    job = f"{event.job.namespace}/{event.job.name}"
    record = log.runs.get(run_id)
    if record is None:
        record = log.runs[run_id] = RunRecord(run_id, job)
    record.events += 1
    state = event.eventType
    if state is RunState.COMPLETE:
        record.job, record.job_completed = job, True  # the completing event names the job that ran
        if record.completed is None or when > record.completed:
            record.completed = when
    elif state is RunState.FAIL:
        record.failed = True
    elif state is RunState.ABORT:
        record.aborted = True
    for datasets, into in ((event.inputs, record.inputs), (event.outputs, record.outputs)):
        for dataset in datasets or ():
            key, names = builder.describe(dataset)
            old = into.get(key)
            into[key] = names if old is None else _union(old, names)
            if names is not None:
                seen = log.schemas.get(key)
                if seen is not names:
                    log.schemas[key] = _union(seen, names) or ()


def _union(old: Fields, new: Fields) -> Fields:
    if old is None or old is new:
        return new if new is not None else old
    if new is None:
        return old
    return tuple(dict.fromkeys(old + new))


def _utc(text: str, warnings: list[str]) -> datetime:
    """The event time in UTC (validated by the model already; a time without zone is UTC)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:  # forms dateutil reads and the standard library does not
        from dateutil import parser

        moment = parser.isoparse(text)
    if moment.tzinfo is None:
        warnings.append("eventTime: no time zone; read as UTC")
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _warn(log: EventLog, warned: dict[tuple[str, str], int], events: EventFile, raw: RawEvent, message: str) -> None:
    key = (events.source.name, message)
    index = warned.get(key)
    if index is None:
        warned[key] = len(log.problems)
        log.problems.append(Problem(events.source.name, events.line_of(raw), "warning", f"read, but {message}"))
    else:
        old = log.problems[index]
        log.problems[index] = Problem(old.file, old.line, old.severity, old.message, old.count + 1)


def _file_errors(log: EventLog, events: EventFile) -> None:
    """JSON that could not be decoded at all: one error per broken line (or broken array)."""
    for line, message in events.errors:
        log.malformed += 1
        log.values += 1
        log.problems.append(Problem(events.source.name, line, "error", f"skipped: {message}"))
    events.errors.clear()
