"""What the public sub-processor site says on one day about one registry revision.

`publication(fr, day)` pins a revision (the head unless `rev`) and a day and gathers what every
file of the site shows: the sub-processors and affiliates receiving data that day, since when,
and the changes announced up to it (`lineage.publish.changes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from lineage.api import Flowreg
from lineage.publish.changes import ADDED, Change, list_changes
from lineage.publish.listing import PublicEntry, SubprocessorHistory
from lineage.publish.safe import link_target
from registry.errors import FlowregError
from registry.revisions import RevisionInfo


@dataclass(frozen=True)
class Publication:
    """Everything the site shows, for one revision and one day."""

    organization: str
    day: date
    revision: RevisionInfo
    generated_at: datetime
    notice_days: int
    record_start: date
    entries: tuple[PublicEntry, ...]
    since: dict[str, date | None]
    changes: tuple[Change, ...]
    regime_names: dict[str, str]
    law_version: date
    base_url: str | None = None

    @property
    def subprocessors(self) -> tuple[PublicEntry, ...]:
        return tuple(e for e in self.entries if not e.affiliate)

    @property
    def affiliates(self) -> tuple[PublicEntry, ...]:
        return tuple(e for e in self.entries if e.affiliate)

    @property
    def in_effect(self) -> tuple[Change, ...]:
        """Changes that took effect on or before the day, newest first."""
        return tuple(sorted((c for c in self.changes if c.day <= self.day), key=_newest_first))

    @property
    def announced(self) -> tuple[Change, ...]:
        """Changes announced by the day that take effect later, soonest first."""
        return tuple(sorted((c for c in self.changes if c.day > self.day), key=lambda c: (c.day, c.name, c.party)))

    def url(self, name: str) -> str:
        """`name` on the published site: absolute under `base_url`, else relative."""
        return f"{self.base_url}{name}" if self.base_url else name


def _newest_first(change: Change) -> tuple:
    return (-change.day.toordinal(), change.name, change.party)


def _base_url(value: str | None) -> str | None:
    if value is None:
        return None
    if link_target(value) is None:
        raise FlowregError(f"--base-url: '{value}' is not an absolute http(s) address")
    return value if value.endswith("/") else value + "/"


def publication(
    fr: Flowreg, day: date, *, rev: int | None = None, generated_at: datetime | None = None,
    base_url: str | None = None,
) -> Publication:
    """What the site says on `day` about revision `rev` (default the head).

    Raises NotFoundError when the store is empty or has no such revision, and FlowregError for
    a `base_url` that is not an absolute http(s) address.
    """
    base = _base_url(base_url)
    history = SubprocessorHistory.load(fr, rev)
    entries = tuple(sorted(history.entries(day).values(), key=lambda e: (e.name.casefold(), e.party)))
    changes = tuple(list_changes(history, day))
    since: dict[str, date | None] = {}
    for entry in entries:
        added = [c.day for c in changes if c.party == entry.party and c.kind == ADDED and c.day <= day]
        since[entry.party] = max(added) if added else None
    law = history.law
    return Publication(
        organization=history.registry.organization, day=day, revision=history.revision,
        generated_at=generated_at or datetime.now(UTC), notice_days=history.notice_days,
        record_start=history.record_start, entries=entries, since=since, changes=changes,
        regime_names={r: law.regime_name(r) for r in law.regimes}, law_version=law.data.version,
        base_url=base,
    )
