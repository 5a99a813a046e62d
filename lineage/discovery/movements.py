"""Observed movements: which registry node's data a completed run moved to which other node,
on which date, carrying which categories (shared/lineage-map.md, "What counts as an observed
movement"), and the accounting of everything read that did not become one.

For each completed run dated inside the window, each input held by node A and each output held
by node B, A != B, is a movement A -> B on the run's date. It carries the categories of the
output's schema fields plus the output entry's own; with neither, those of the input. A
dataset's fields are the ones its schema facet lists in that run, else in any other event
read (producers often describe a table only where it is written).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lineage.discovery.matching import MapMatcher
from lineage.discovery.runs import EventLog, RunRecord


@dataclass
class Movement:
    """Every observation of data going from `source` to `target` inside the window."""

    source: str
    target: str
    days: dict[date, set[str]] = field(default_factory=dict)  # categories seen each day
    jobs: dict[str, set[str]] = field(default_factory=dict)  # job -> categories it moved
    runs: int = 0
    last_run: str = field(default="", repr=False)

    @property
    def categories(self) -> list[str]:
        return sorted(set().union(*self.days.values())) if self.days else []

    def jobs_carrying(self, categories: set[str] | frozenset[str]) -> list[str]:
        """The jobs that moved one of `categories` (or a part of one), sorted."""
        return sorted(job for job, moved in self.jobs.items()
                      if any(m == c or m.startswith(c + ".") for c in categories for m in moved))

    @property
    def personal(self) -> bool:
        """Whether some run of it carried a category (only those are compared)."""
        return any(self.days.values())

    @property
    def first_seen(self) -> date:
        return min(self.days)

    @property
    def last_seen(self) -> date:
        return max(self.days)


def related(category: str, other: str) -> bool:
    """Whether two categories overlap: the same, or one a part of the other.

    >>> related("a.b", "a"), related("a", "a.b"), related("a.b", "a.bc")
    (True, True, False)
    """
    return category == other or category.startswith(other + ".") or other.startswith(category + ".")


@dataclass
class DatasetUse:
    """One dataset named by the events, and what the map makes of it."""

    dataset: str
    node: str | None
    match: str | None
    categories: list[str]
    status: str  # personal | not_personal | unmapped
    runs: int

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.dataset, "status": self.status, "node": self.node, "match": self.match,
                "categories": self.categories, "runs": self.runs}


@dataclass
class Coverage:
    """What was read and what became of it: every event, run and dataset is in one bucket."""

    files: int
    events: dict[str, int]
    runs: dict[str, int]
    datasets: list[DatasetUse]

    def summary(self) -> dict[str, int]:
        counts = Counter(d.status for d in self.datasets)
        return {"read": len(self.datasets), "personal": counts["personal"],
                "not_personal": counts["not_personal"], "unmapped": counts["unmapped"]}

    def to_dict(self) -> dict[str, Any]:
        return {"files": self.files, "events": self.events, "runs": self.runs,
                "datasets": self.summary(), "dataset_list": [d.to_dict() for d in self.datasets]}


@dataclass
class Observed:
    movements: dict[tuple[str, str], Movement]
    coverage: Coverage


def observe(log: EventLog, matcher: MapMatcher, as_of: date, since: date | None = None) -> Observed:
    """The movements of the runs completed from `since` (inclusive) to `as_of` (inclusive), and
    the coverage of everything `log` holds."""
    movements: dict[tuple[str, str], Movement] = {}
    runs: Counter[str] = Counter()
    dataset_runs: Counter[str] = Counter()
    for run in log.runs.values():
        for key in run.inputs.keys() | run.outputs.keys():
            dataset_runs[key] += 1
        state = run.state
        runs[state] += 1
        if run.completed is None:
            continue
        day = run.completed.date()
        if day > as_of:
            runs["after_as_of"] += 1
        elif since is not None and day < since:
            runs["before_since"] += 1
        else:
            runs["compared"] += 1
            _moves(run, day, log, matcher, movements)
    events = {"read": log.values, "run_events": log.run_events, "malformed": log.malformed,
              "dataset_events": log.not_run_events["dataset event"], "job_events": log.not_run_events["job event"]}
    run_counts = {"read": len(log.runs), "completed": runs["completed"], "compared": runs["compared"],
                  "before_since": runs["before_since"], "after_as_of": runs["after_as_of"],
                  "failed": runs["failed"], "aborted": runs["aborted"], "not_completed": runs["not_completed"]}
    datasets = [_use(key, n, log, matcher) for key, n in sorted(dataset_runs.items())]
    return Observed(movements, Coverage(log.files, events, run_counts, datasets))


def _moves(run: RunRecord, day: date, log: EventLog, matcher: MapMatcher,
           movements: dict[tuple[str, str], Movement]) -> None:
    schemas = log.schemas
    sources = [(key, node) for key in run.inputs if (node := matcher.node(key)) is not None]
    if not sources:
        return
    for output, fields in run.outputs.items():
        target = matcher.node(output)
        if target is None:
            continue
        carried = matcher.categories(output, fields if fields is not None else schemas.get(output))
        personal_output = matcher.is_personal(output)
        for dataset, source in sources:
            if source == target:
                continue
            categories = carried
            if not categories and personal_output:
                held = run.inputs[dataset]
                categories = matcher.categories(dataset, held if held is not None else schemas.get(dataset))
            movement = movements.get((source, target))
            if movement is None:
                movement = movements[(source, target)] = Movement(source, target)
            movement.days.setdefault(day, set()).update(categories)
            movement.jobs.setdefault(run.job, set()).update(categories)
            if movement.last_run != run.run_id:  # once per run, whatever its datasets
                movement.last_run = run.run_id
                movement.runs += 1


def _use(dataset: str, runs: int, log: EventLog, matcher: MapMatcher) -> DatasetUse:
    entry = matcher.entry(dataset)
    if entry is None:
        return DatasetUse(dataset, None, None, [], "unmapped", runs)
    categories = sorted(matcher.categories(dataset, log.schemas.get(dataset)))
    return DatasetUse(dataset, entry.node, entry.match, categories,
                      "personal" if categories else "not_personal", runs)
