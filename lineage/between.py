"""What changed between two dates, from the answers already computed for each date.

`flowreg between` (`lineage.whatif.between_dates`) evaluates both dates afresh. A dashboard
asks about dates it has usually answered already (the as-of date, a key date of the law), and
`lineage.api.Flowreg` keeps those answers per revision and date; `compare_dates` only compares
them, so a comparison costs what is new, and every session shares the work. For the whole
registry the answer is the same as `between_dates`' (tests/test_compare_dates.py).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import date

from lineage.aggregate import severity_rank
from lineage.findings import Finding
from lineage.status import HopStatus


@dataclass(frozen=True)
class StatusChange:
    """One hop whose status differs between the dates; None where it was not active."""

    flow: str
    before: HopStatus | None
    after: HopStatus | None

    @property
    def hop(self) -> HopStatus:
        """The hop as it is on the later date (or the earlier one, if it ended)."""
        return self.after or self.before  # type: ignore[return-value]


@dataclass(frozen=True)
class DateComparison:
    """Hops whose status changed from `before_day` to `after_day`, and findings that appeared
    or went away."""

    before_day: date
    after_day: date
    changed: list[StatusChange] = field(default_factory=list)
    new_findings: list[Finding] = field(default_factory=list)
    resolved_findings: list[Finding] = field(default_factory=list)


def compare_dates(
    before_day: date,
    after_day: date,
    before_hops: Sequence[HopStatus],
    after_hops: Sequence[HopStatus],
    before_findings: Sequence[Finding],
    after_findings: Sequence[Finding],
    *,
    flows: Collection[str] | None = None,
) -> DateComparison:
    """Compare two dates' hops and findings. With `flows`, only those hops, and only findings
    about them, count (e.g. the hops of one category).

    Changed hops come problems first (by the later status, then the earlier); a hop that starts
    or ends between the dates is a change from or to None.

    >>> from lineage.status import Status
    >>> a = HopStatus("f1", "x", "y", ("DE",), ("US",), (), Status.ADEQUATE, "Privacy Shield")
    >>> b = HopStatus("f1", "x", "y", ("DE",), ("US",), (), Status.INVALID, "Privacy Shield ended")
    >>> diff = compare_dates(date(2020, 7, 15), date(2020, 7, 16), [a], [b], [], [])
    >>> [(c.flow, c.before.status.value, c.after.status.value) for c in diff.changed]
    [('f1', 'adequate', 'invalid')]
    """
    scope = set(flows) if flows is not None else None
    old = {h.flow: h for h in before_hops if scope is None or h.flow in scope}
    new = {h.flow: h for h in after_hops if scope is None or h.flow in scope}
    changed = []
    for flow_id in list(old) + [f for f in new if f not in old]:
        a, b = old.get(flow_id), new.get(flow_id)
        if a is None or b is None or a.status != b.status:
            changed.append(StatusChange(flow_id, a, b))
    changed.sort(key=lambda ch: (_rank(ch.after), _rank(ch.before)))

    def kept(fs: Sequence[Finding]) -> dict[str, Finding]:
        return {f.id: f for f in fs if scope is None or (f.flow is not None and f.flow in scope)}

    f_old, f_new = kept(before_findings), kept(after_findings)
    return DateComparison(
        before_day, after_day, changed,
        [f for i, f in f_new.items() if i not in f_old],
        [f for i, f in f_old.items() if i not in f_new],
    )


def _rank(hop: HopStatus | None) -> int:
    return severity_rank(hop.status) if hop is not None else 7  # "not active" sorts after every status
