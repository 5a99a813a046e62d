"""The lineage check: observed movements held against the registry (shared/lineage-map.md).

Findings, on movements dated up to `as_of` (and from `since` when given):
- `flow-undeclared`: on some date of a movement A -> B no registry flow from A to B is active.
  The hop is judged by the engine as if it were registered (the what-if "add" of the proposal
  that would declare it, `Flowreg.what_if_add`, on `as_of`): severity high unless that status
  is not_required, then medium.
- `category-undeclared` (medium): a flow A -> B is active, but an observed category is neither
  one it carries nor an ancestor or descendant of one.
- `flow-unobserved` (low): a flow active on `as_of` whose two ends the map knows (some dataset
  entry names each), with no movement between them in the window.
A movement that carries no category is not personal data and is not compared.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lineage.discovery.event_files import Source
from lineage.discovery.matching import MapMatcher
from lineage.discovery.movements import Coverage, Movement, observe, related
from lineage.discovery.proposal import Gap, Plan, plan
from lineage.discovery.runs import Problem, read_runs
from lineage.whatif import WhatIf
from registry.lineage_map import LineageMap
from registry.model import Flow, Registry

Judge = Callable[[dict[str, Any], date], WhatIf]
RULE_ORDER = {"flow-undeclared": 0, "category-undeclared": 1, "flow-unobserved": 2}
SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True)
class DiscoveryFinding:
    """One difference between the events and the registry."""

    rule: str
    severity: str
    source: str
    target: str
    flow: str | None
    categories: list[str]
    message: str
    first_seen: date | None = None
    last_seen: date | None = None
    jobs: list[str] = field(default_factory=list)
    status: str | None = None  # flow-undeclared: the engine's status for the hop
    reason: str | None = None
    judged_on: date | None = None  # the date the engine judged the hop on

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule, "severity": self.severity, "from": self.source, "to": self.target,
            "flow": self.flow, "categories": self.categories, "message": self.message,
            "first_seen": _iso(self.first_seen), "last_seen": _iso(self.last_seen), "jobs": self.jobs,
            "status": self.status, "reason": self.reason, "judged_on": _iso(self.judged_on),
        }


@dataclass(frozen=True)
class ObservedMovement:
    """One distinct (from, to) of the window, as the output lists it."""

    source: str
    target: str
    categories: list[str]
    jobs: list[str]
    first_seen: date
    last_seen: date
    flow: str | None
    runs: int
    compared: bool  # False: it carried no category (not personal data)

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.source, "to": self.target, "categories": self.categories, "jobs": self.jobs,
                "first_seen": self.first_seen.isoformat(), "last_seen": self.last_seen.isoformat(),
                "flow": self.flow, "runs": self.runs, "compared": self.compared}


@dataclass
class LineageCheck:
    """The whole answer: movements, findings, coverage, problems, and the proposal that would
    declare what was found undeclared."""

    as_of: date
    since: date | None
    revision: int | None
    movements: list[ObservedMovement]
    findings: list[DiscoveryFinding]
    coverage: Coverage
    problems: list[Problem]
    plan: Plan

    def to_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(), "since": _iso(self.since), "revision": self.revision,
            "movements": [m.to_dict() for m in self.movements],
            "findings": [f.to_dict() for f in self.findings],
            "coverage": self.coverage.to_dict(),
            "problems": [p.to_dict() for p in self.problems],
            "proposal": self.plan.document["flows"],
        }


def lineage_check(
    registry: Registry,
    lineage_map: LineageMap,
    sources: Iterable[Source],
    as_of: date,
    since: date | None = None,
    *,
    judge: Judge,
    revision: int | None = None,
    workers: int | None = None,
) -> LineageCheck:
    """Read `sources`, find the movements, compare them with `registry`; `judge(document,
    day)` answers what adding the proposed flows changes on `day` (`Flowreg.what_if_add`).
    `workers`: processes that read large inputs (`read_runs`; default one per core)."""
    log = read_runs(sources, workers=workers)
    observed = observe(log, MapMatcher(lineage_map), as_of, since)
    flows_between: dict[tuple[str, str], list[Flow]] = {}
    for flow in registry.flows:
        flows_between.setdefault((flow.from_, flow.to), []).append(flow)

    rows: list[ObservedMovement] = []
    gaps: list[Gap] = []
    for (source, target), movement in sorted(observed.movements.items()):
        matched = _compare(movement, flows_between.get((source, target), []), gaps)
        rows.append(ObservedMovement(source, target, movement.categories, sorted(movement.jobs),
                                     movement.first_seen, movement.last_seen, matched, movement.runs,
                                     movement.personal))
    the_plan = plan(registry, gaps)
    found = _judged(gaps, the_plan, judge, as_of)
    found += _unobserved(registry, lineage_map, observed.movements, as_of)
    found.sort(key=lambda f: (SEVERITY_ORDER[f.severity], RULE_ORDER[f.rule], f.source, f.target))
    return LineageCheck(as_of, since, revision, rows, found, observed.coverage, log.problem_list(), the_plan)


def check_revision(
    fr: Any, lineage_map: LineageMap, sources: Iterable[Source], as_of: date, since: date | None = None,
    *, rev: int | None = None, workers: int | None = None,
) -> LineageCheck:
    """`lineage_check` against a revision of a `lineage.api.Flowreg`'s store (the head by
    default), judged by its engine; the revision is pinned first, so a concurrent write cannot
    mix two revisions into one answer."""
    number = fr.revision(rev).number
    return lineage_check(
        fr.registry(number), lineage_map, sources, as_of, since, revision=number, workers=workers,
        judge=lambda document, day: fr.what_if_add(document, day, rev=number),
    )


def _compare(movement: Movement, flows: list[Flow], gaps: list[Gap]) -> str | None:
    """Add the movement's gaps; return the registry flow it matched (on its latest matched date)."""
    undeclared_days: list[date] = []
    undeclared: set[str] = set()
    short: dict[str, set[str]] = {}  # flow id -> categories it does not declare
    short_days: list[date] = []
    matched: tuple[date, str] | None = None
    for day, categories in sorted(movement.days.items()):
        if not categories:
            continue  # not personal data that day: not compared
        active = [f for f in flows if f.valid_on(day)]
        if not active:
            undeclared_days.append(day)
            undeclared |= categories
            continue
        matched = (day, active[0].id)
        missing = {c for c in categories if not any(related(c, carried) for f in active for carried in f.carries)}
        if missing:
            short.setdefault(active[0].id, set()).update(missing)
            short_days.append(day)
    if undeclared_days:
        gaps.append(Gap(movement.source, movement.target, tuple(sorted(undeclared)),
                        undeclared_days[0], undeclared_days[-1], tuple(movement.jobs_carrying(undeclared))))
    for flow_id, missing in short.items():
        gaps.append(Gap(movement.source, movement.target, tuple(sorted(missing)),
                        short_days[0], short_days[-1], tuple(movement.jobs_carrying(missing)), flow=flow_id))
    return matched[1] if matched is not None else None


def _judged(gaps: list[Gap], the_plan: Plan, judge: Judge, as_of: date) -> list[DiscoveryFinding]:
    """The findings of the gaps; undeclared hops judged by the engine with the plan applied.

    A proposed flow runs from its first undeclared date on, so it is judged on `as_of`, as
    `flowreg findings --as-of` would judge it once approved: one what-if for every hop. One
    that ends before `as_of` (an existing flow takes over) is judged on the last date it was
    seen undeclared.
    """
    by_flow = {flow["id"]: flow for flow in the_plan.document["flows"]}
    when: dict[tuple[str, str], date] = {}
    for gap in gaps:
        if gap.flow is None:
            ends = by_flow[the_plan.new_flows[(gap.source, gap.target)]].get("valid_until")
            when[(gap.source, gap.target)] = as_of if ends is None or date.fromisoformat(ends) > as_of else gap.last_seen
    verdicts: dict[tuple[str, date], tuple[str, str]] = {}
    for day in sorted(set(when.values())):
        for change in judge(the_plan.document, day).changed_hops:
            if change.after is not None:
                verdicts[(change.flow, day)] = (change.after, change.reason)
    out = []
    for gap in gaps:
        categories = list(gap.categories)
        if gap.flow is None:
            flow_id = the_plan.new_flows[(gap.source, gap.target)]
            day = when[(gap.source, gap.target)]
            status, reason = verdicts.get((flow_id, day), ("unknown", "the engine did not judge the hop"))
            severity = "medium" if status == "not_required" else "high"
            message = (f"data moves from {gap.source} to {gap.target} with no registry flow "
                       f"({_span(gap)}); registered, the hop would be {status} on {day}: {reason}")
            out.append(DiscoveryFinding("flow-undeclared", severity, gap.source, gap.target, None, categories,
                                        message, gap.first_seen, gap.last_seen, list(gap.jobs), status, reason,
                                        day))
        else:
            message = (f"flow {gap.flow} ({gap.source} -> {gap.target}) was seen carrying "
                       f"{', '.join(categories)}, which it does not declare ({_span(gap)})")
            out.append(DiscoveryFinding("category-undeclared", "medium", gap.source, gap.target, gap.flow,
                                        categories, message, gap.first_seen, gap.last_seen, list(gap.jobs)))
    return out


def _unobserved(registry: Registry, lineage_map: LineageMap, movements: dict[tuple[str, str], Movement],
                as_of: date) -> list[DiscoveryFinding]:
    known = lineage_map.nodes()
    seen = {pair for pair, m in movements.items() if m.personal}
    out = []
    for flow in registry.flows:
        if not flow.valid_on(as_of) or flow.from_ not in known or flow.to not in known:
            continue
        if (flow.from_, flow.to) in seen:
            continue
        message = (f"flow {flow.id} ({flow.from_} -> {flow.to}) is registered, and the map knows both ends, "
                   "but no event shows data moving between them")
        out.append(DiscoveryFinding("flow-unobserved", "low", flow.from_, flow.to, flow.id,
                                    sorted(flow.carries), message))
    return out


def _span(gap: Gap) -> str:
    return f"seen on {gap.first_seen}" if gap.first_seen == gap.last_seen else f"seen {gap.first_seen} to {gap.last_seen}"


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None
