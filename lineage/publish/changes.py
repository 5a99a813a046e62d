"""The change history of the published list: one dated entry per addition, removal or change.

The list is a function of the day (`SubprocessorHistory.entries`) that can only change on a
boundary day (`SubprocessorHistory.boundaries`); comparing it on each boundary with the day
before gives every change, from the day the record begins (`record_start`: earlier changes of
sub-processors that were there "since before the record" are not known, so not listed).

Each change has the day it takes effect and a notice date:
- an addition: the party's `notice_given` when the registry records one (and it is not older
  than the party's previous removal), else the day of the revision that recorded the change;
- a change or a removal: the day of the revision that recorded it;
- none when the change was recorded by the first revision (which records the past and gave no
  notice) or is not a registry change at all (a change of the law, or a tool whose dated
  window began or ended: the engine's statuses change that day).
The earliest start allowed is the notice date plus the notice period (`lineage.notice`); an
addition or change that takes effect before it is `early`. A change is public from the day it
is announced: its notice date when that comes first, else the day it takes effect.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from lineage.days import add_days
from lineage.notice import earliest_start
from lineage.publish.listing import PublicEntry, SubprocessorHistory
from lineage.reports.changes import FIELD_TITLES, differences

ADDED, REMOVED, CHANGED = "added", "removed", "changed"
# Entry ids are UUIDs made from this namespace and what identifies a change, so the same change
# keeps its Atom id from one publication to the next (feed readers show it once).
NAMESPACE = uuid.UUID("5b0c6f0e-3e53-4f4e-9a51-6a3f0c1d2e7b")


@dataclass(frozen=True)
class Change:
    """One change of the published list."""

    day: date
    kind: str
    party: str
    name: str
    before: PublicEntry | None
    after: PublicEntry | None
    what: str
    revision: int | None
    notice: date | None
    earliest: date | None

    @property
    def announced(self) -> date:
        """The first day the change is public: its notice when that comes first."""
        return min(self.day, self.notice) if self.notice is not None else self.day

    @property
    def early(self) -> bool:
        """True when it takes effect before the notice period has run."""
        return self.earliest is not None and self.day < self.earliest

    @property
    def entry(self) -> PublicEntry:
        return self.after or self.before  # type: ignore[return-value]

    def uid(self, organization: str) -> uuid.UUID:
        return uuid.uuid5(NAMESPACE, "\x1f".join([organization, self.party, self.kind, self.day.isoformat()]))


def comparable(entry: PublicEntry, regimes: Iterable[str]) -> dict[str, Any]:
    """An entry's fields as `differences` compares them: one field per regime's tool ('does not
    apply' when none of the data it receives carries that regime)."""
    fields = entry.comparable()
    tools = dict(fields.pop("tools"))
    fields.update({f"tool:{r}": tools.get(r, "does not apply") for r in [*regimes, *tools]})
    return fields


def titles(regime_names: dict[str, str]) -> dict[str, str]:
    """The field titles of `comparable`'s fields, tools per regime in the law file's order."""
    return {**FIELD_TITLES, **{f"tool:{r}": f"{name} transfer tool" for r, name in regime_names.items()}}


def list_changes(history: SubprocessorHistory, until: date | None = None) -> list[Change]:
    """Every change from the day the record begins, oldest first (then by party).

    With `until`, only the changes announced on or before it (a change due later but already
    announced is included; see `Change.announced`).
    """
    fields = titles({r: history.law.regime_name(r) for r in history.law.regimes})
    start = history.record_start
    days = [d for d in history.boundaries() if d >= start]
    if until is not None:
        # Law and tool dates after `until` cannot be announced yet; registry dates can.
        registry_days = {d for v in history.versions for d in (v.start, v.end) if d is not None}
        days = [d for d in days if d <= until or d in registry_days]
    law_days = set(history.law.boundary_dates())
    due: dict[date, set[str]] = {}
    for party, party_days in history.party_days().items():
        for day in party_days:
            due.setdefault(day, set()).add(party)
    everyone = set(history.party_days())
    out: list[Change] = []
    removed_on: dict[str, date] = {}
    listed = history.entries(add_days(start, -1))
    for day in days:
        # Only the parties whose entry may change today are judged again (all on a law date).
        touched = sorted(everyone if day in law_days else due.get(day, ()), key=history.party_order)
        after = history.entries(day, touched)
        for change in _compare(history, day, listed, after, touched, fields, removed_on):
            if change.kind == REMOVED:
                removed_on[change.party] = day
            out.append(change)
        for party in touched:
            if party in after:
                listed[party] = after[party]
            else:
                listed.pop(party, None)
    if until is not None:
        out = [c for c in out if c.announced <= until]
    return out


def _compare(
    history: SubprocessorHistory, day: date, before: dict[str, PublicEntry], after: dict[str, PublicEntry],
    parties: list[str], fields: dict[str, str], removed_on: dict[str, date],
) -> list[Change]:
    """The changes of `parties` (in list order) between their entries `before` and `after`:
    those listed on `day` first, then those no longer listed."""
    out = []
    regimes = list(history.law.regimes)
    for party in [*(p for p in parties if p in after), *(p for p in parties if p in before and p not in after)]:
        old, new = before.get(party), after.get(party)
        if old is None:
            kind, what = ADDED, "new sub-processor"
        elif new is None:
            kind, what = REMOVED, "no longer a sub-processor"
        else:
            kind, what = CHANGED, differences(comparable(old, regimes), comparable(new, regimes), fields, " \u2192 ")
            if not what:
                continue
        revision = _recorded_by(history, party, day)
        notice = _notice(history, kind, new or old, revision, removed_on)  # type: ignore[arg-type]
        earliest = earliest_start(notice, history.notice_days) if notice is not None and kind != REMOVED else None
        out.append(Change(day, kind, party, (new or old).name, old, new, what, revision, notice, earliest))  # type: ignore[union-attr]
    return out


def _recorded_by(history: SubprocessorHistory, party: str, day: date) -> int | None:
    """The newest revision that dated a version of `party` starting or ending on `day`."""
    found = [v.start_revision for v in history.versions if v.party == party and v.start == day]
    found += [v.end_revision for v in history.versions
              if v.party == party and v.end == day and v.end_revision is not None]
    return max(found) if found else None


def _notice(
    history: SubprocessorHistory, kind: str, entry: PublicEntry, revision: int | None, removed_on: dict[str, date]
) -> date | None:
    given = entry.notice_given
    if kind == ADDED and given is not None and (entry.party not in removed_on or given > removed_on[entry.party]):
        return given
    if revision is None or revision == min(history.infos):
        return None
    return history.revision_day(revision)
