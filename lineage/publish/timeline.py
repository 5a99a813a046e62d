"""When each sub-processor flow ran, from the registry's windows and from its revisions.

The published list and its change feed need, for every day, the sub-processor flows that run
on it. Two sources say when a flow runs, and they combine like this:

1. A date written in the registry is trusted as the newest revision that has the flow writes
   it: `valid_from` is the first day, `valid_until` the first day no longer (a correction of
   a window in a later revision moves the window in the past too).
2. What the registry leaves undated is dated by the revision that recorded it: a flow without
   `valid_from` starts on the day of the revision that first has it, and a flow that a later
   revision drops (or no longer sends to a sub-processor) ends on that revision's day. The
   first revision is the exception: it records a state that already existed, so an undated
   flow in it has run "since before the record" (start None).
3. An undated edit of what the list shows of a flow (its recipient, the recipient's name,
   kind or country, the system's country, the categories, the purpose, the tools it claims)
   takes effect on the day of the revision that made it: the old version of the flow runs
   until that day, the new one from it. To date such a change otherwise, end the old flow
   with `valid_until` and start a new one with `valid_from`.

Each resulting `Version` keeps the revision whose registry describes it, so the engine judges
it on the registry that said so. Days are UTC dates; revisions written on the same day
collapse (a version that would run zero days is dropped).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from lineage.graph import RegistryGraph
from lineage.notice import subprocessor_of
from registry.model import Flow, Party
from registry.revisions import RevisionInfo, as_utc


@dataclass(frozen=True)
class Version:
    """One stretch of a sub-processor flow over which the registry said the same about it.

    `start` is the first day it runs (None: since before the record began), `end` the first
    day it no longer runs (None: it still runs). `start_revision` and `end_revision` are the
    revisions that gave those dates (None for an open end): a notice is dated by them.
    """

    flow: str
    party: str
    revision: int
    start: date | None
    end: date | None
    start_revision: int
    end_revision: int | None

    def runs_on(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day < self.end)


def revision_day(info: RevisionInfo) -> date:
    """The UTC day a revision was written."""
    return as_utc(info.created_at).date()


def _signature(rg: RegistryGraph, flow: Flow, party: Party) -> tuple:
    """What the published list shows of one flow, apart from dated facts (see the module doc)."""
    return (
        party.id, party.name, party.kind, party.country, party.url, flow.to, rg.countries(flow.to),
        tuple(sorted(flow.carries)), flow.purpose, flow.role, tuple(flow.under),
    )


@dataclass
class _Window:
    """A flow's window as the newest revision writes it, and since which revision it does."""

    valid_from: date | None
    from_since: int
    valid_until: date | None
    until_since: int

    def update(self, flow: Flow, number: int) -> None:
        if flow.valid_from != self.valid_from:
            self.valid_from, self.from_since = flow.valid_from, number
        if flow.valid_until != self.valid_until:
            self.valid_until, self.until_since = flow.valid_until, number


@dataclass
class _Segment:
    """Revisions `appeared`..`latest` said the same about the flow (one future `Version`)."""

    party: str
    signature: tuple
    appeared: int
    appeared_day: date
    latest: int


@dataclass
class _Run:
    """A flow from the revision it appeared in while every following revision has it."""

    flow: str
    window: _Window
    segments: list[_Segment] = field(default_factory=list)

    def versions(self, first_revision: int, cut: tuple[int, date] | None) -> list[Version]:
        """The run's versions, each ended by the next one's first revision and the last by
        `cut` (the revision that dropped the flow, and its day) when there is one. Dated
        facts come from the run's final window (rule 1 of the module doc)."""
        w = self.window
        out = []
        for i, seg in enumerate(self.segments):
            if i == 0 and w.valid_from is not None:
                start, start_rev = w.valid_from, w.from_since
            elif i == 0:
                start = None if seg.appeared == first_revision else seg.appeared_day
                start_rev = seg.appeared
            elif w.valid_from is not None and w.valid_from > seg.appeared_day:
                start, start_rev = w.valid_from, w.from_since
            else:
                start, start_rev = seg.appeared_day, seg.appeared
            end, end_rev = w.valid_until, (w.until_since if w.valid_until is not None else None)
            following = self.segments[i + 1] if i + 1 < len(self.segments) else None
            stop = (following.appeared, following.appeared_day) if following else cut
            if stop is not None and (end is None or stop[1] < end):
                end_rev, end = stop
            if start is not None and end is not None and end <= start:
                continue  # edited or dropped before it ever ran
            out.append(Version(self.flow, seg.party, seg.latest, start, end, start_rev, end_rev))
        return out


def flow_versions(history: Iterable[tuple[RevisionInfo, RegistryGraph]]) -> list[Version]:
    """Every version of every sub-processor flow over `history` (revisions oldest first, each
    with its graph), flow by flow in the order their runs end.

    >>> from registry.loader import load_registry_file
    >>> from lineage.graph import build_graph
    >>> from datetime import datetime, UTC
    >>> rg = build_graph(load_registry_file("tests/fixtures/northwind.yaml"))
    >>> info = RevisionInfo(number=1, created_at=datetime(2024, 5, 1, tzinfo=UTC), author="a",
    ...                     message="m", content_hash="0", parent_hash=None, hash="0")
    >>> [(v.flow, v.party, v.start, v.end) for v in flow_versions([(info, rg)])]
    [('mailer-to-bouncer', 'bouncer', None, None)]
    """
    out: list[Version] = []
    runs: dict[str, _Run] = {}
    first_revision: int | None = None
    for info, rg in history:
        number, day = info.number, revision_day(info)
        first_revision = number if first_revision is None else first_revision
        seen: set[str] = set()
        for flow in rg.flows.values():
            party = subprocessor_of(rg, flow)
            if party is None:
                continue
            seen.add(flow.id)
            signature = _signature(rg, flow, party)
            run = runs.get(flow.id)
            if run is None:
                run = runs[flow.id] = _Run(flow.id, _Window(flow.valid_from, number, flow.valid_until, number))
            else:
                run.window.update(flow, number)
            last = run.segments[-1] if run.segments else None
            if last is None or last.signature != signature:
                run.segments.append(_Segment(party.id, signature, number, day, number))
            else:
                last.latest = number
        for flow_id in [f for f in runs if f not in seen]:
            out += runs.pop(flow_id).versions(first_revision, (number, day))
    for run in runs.values():
        out += run.versions(first_revision or 1, None)
    return out
