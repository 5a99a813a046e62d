"""OpenLineage run events gathered per run, as the spec's run cycle intends.

A run's inputs and outputs are the union over all its events (producers often send them on
START only); it is dated by its COMPLETE event's time in UTC, and a run that FAILs or is
ABORTed without completing moved nothing. Reading goes through every source once; a value
that is not a run event is reported with its file and line and skipped, never fatal.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from openlineage.client.event_v2 import RunEvent, RunState

from lineage.discovery.event_files import EventFile, RawEvent, Source
from lineage.discovery.event_model import EventError, ModelBuilder, NotARunEvent, schema_field_names

Fields = tuple[str, ...] | None  # a dataset's schema field names in a run; None: no schema facet


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
    events: int = 0
    completed: datetime | None = None  # the latest COMPLETE event's time, in UTC
    failed: bool = False
    aborted: bool = False
    inputs: dict[str, Fields] = field(default_factory=dict)  # "namespace/name" -> fields
    outputs: dict[str, Fields] = field(default_factory=dict)

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
    schemas: dict[str, tuple[str, ...]] = field(default_factory=dict)  # dataset -> every field seen
    files: int = 0
    values: int = 0  # JSON values read (lines, array elements, documents), malformed ones included
    run_events: int = 0
    malformed: int = 0
    not_run_events: Counter[str] = field(default_factory=Counter)
    problems: list[Problem] = field(default_factory=list)

    def problem_list(self) -> list[Problem]:
        return sorted(self.problems, key=lambda p: (p.file, p.line or 0, p.message))


def read_runs(sources: Iterable[Source]) -> EventLog:
    """Read every source into runs. Never raises on bad content: it becomes a `Problem`.

    >>> log = read_runs([Source("e.jsonl", data=b'{"run": {"runId": "x"}}\\n')])
    >>> [str(p) for p in log.problems]
    ["e.jsonl:1: run.runId: 'x' is not a UUID"]
    """
    log = EventLog()
    builder = ModelBuilder()
    warned: dict[tuple[str, str], int] = {}  # (file, message) -> index in log.problems
    for source in sources:
        events = EventFile(source)
        log.files += 1
        for raw in events:
            _read_one(log, builder, warned, events, raw)
        _file_errors(log, events)
    return log


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
    _add(log, event, _utc(event.eventTime, warnings))
    for message in warnings:
        _warn(log, warned, events, raw, message)


def _add(log: EventLog, event: RunEvent, when: datetime) -> None:
    run_id = event.run.runId
    job = f"{event.job.namespace}/{event.job.name}"
    record = log.runs.get(run_id)
    if record is None:
        record = log.runs[run_id] = RunRecord(run_id, job)
    record.events += 1
    state = event.eventType
    if state is RunState.COMPLETE:
        record.job = job  # the completing event names the job that ran
        if record.completed is None or when > record.completed:
            record.completed = when
    elif state is RunState.FAIL:
        record.failed = True
    elif state is RunState.ABORT:
        record.aborted = True
    for datasets, into in ((event.inputs, record.inputs), (event.outputs, record.outputs)):
        for dataset in datasets or ():
            key = f"{dataset.namespace}/{dataset.name}"
            names = schema_field_names(dataset)
            into[key] = _union(into.get(key), names)
            if names is not None:
                log.schemas[key] = _union(log.schemas.get(key), names) or ()


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
