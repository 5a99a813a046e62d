"""What the registry would need to say for the observed movements to be declared: the change
a lineage check proposes, as registry flows.

- A movement with no registry flow on some of its dates becomes a new flow from its source to
  its target, carrying what it was seen carrying, valid from the first such date (and until an
  existing flow between the same nodes takes over, if one starts later).
- A registered flow seen carrying categories it does not declare is changed to carry them too
  (its tools, role and window stay as they are).

The same document serves to judge the new hops with the engine (`Flowreg.what_if_add`) and, once
proposed, is stored through the review that every registry change goes through
(`Store.propose`; a privacy officer approves it on the dashboard's review page).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from registry.model import Flow, Registry
from registry.registration import apply_change, free_id
from registry.revisions import Proposal

SOURCE = "OpenLineage run events (flowreg lineage-check)"
MAX_JOBS_NAMED = 5


@dataclass(frozen=True)
class Gap:
    """One thing the registry does not declare: a hop (`flow` None) or categories of a flow."""

    source: str
    target: str
    categories: tuple[str, ...]
    first_seen: date
    last_seen: date
    jobs: tuple[str, ...]
    flow: str | None = None  # the registered flow whose categories fall short


@dataclass
class Plan:
    """The proposed flows (a registry document with only `flows`), and which flow answers which
    gap: `new_flows` by (source, target), `changed_flows` by flow id."""

    document: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {"flows": []})
    new_flows: dict[tuple[str, str], str] = field(default_factory=dict)
    changed_flows: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.document["flows"]


def reduce_categories(categories: Iterable[str]) -> list[str]:
    """The categories without those an ancestor in the list already carries, sorted.

    >>> reduce_categories(["a.b.c", "a.b", "d", "a.bx"])
    ['a.b', 'a.bx', 'd']
    """
    wanted = set(categories)
    return sorted(c for c in wanted if not any(c.startswith(other + ".") for other in wanted if other != c))


def plan(registry: Registry, gaps: Sequence[Gap]) -> Plan:
    """The flows that close `gaps` in `registry`."""
    out = Plan()
    taken: set[str] = set()
    between: dict[tuple[str, str], list[Flow]] = {}
    for flow in registry.flows:
        between.setdefault((flow.from_, flow.to), []).append(flow)
    extra: dict[str, set[str]] = {}
    for gap in gaps:
        if gap.flow is not None:
            extra.setdefault(gap.flow, set()).update(gap.categories)
            continue
        flow_id = free_id(registry, f"{gap.source}-to-{gap.target}")
        n = 1
        while flow_id in taken:
            n += 1
            flow_id = free_id(registry, f"{gap.source}-to-{gap.target}-{n}")
        taken.add(flow_id)
        new: dict[str, Any] = {
            "id": flow_id, "from": gap.source, "to": gap.target,
            "carries": reduce_categories(gap.categories),
            "valid_from": gap.first_seen.isoformat(),
        }
        later = [f.valid_from for f in between.get((gap.source, gap.target), [])
                 if f.valid_from is not None and f.valid_from > gap.last_seen]
        if later:
            new["valid_until"] = min(later).isoformat()
        new["description"] = _seen(gap)
        new["source"] = SOURCE
        out.document["flows"].append(new)
        out.new_flows[(gap.source, gap.target)] = flow_id
    for flow_id, categories in extra.items():
        flow = registry.get(flow_id)
        assert isinstance(flow, Flow)
        content = flow.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        content["carries"] = list(flow.carries) + [c for c in reduce_categories(categories) if c not in flow.carries]
        out.document["flows"].append(content)
        out.changed_flows.append(flow_id)
    return out


def proposed_registry(registry: Registry, the_plan: Plan) -> Registry:
    """`registry` with the plan's flows added and the changed ones replaced (validated)."""
    changed = set(the_plan.changed_flows)
    return apply_change(registry, add={"flows": the_plan.document["flows"]}, remove=sorted(changed))


def propose(store: Any, registry: Registry, revision: int, the_plan: Plan, *, author: str,
            message: str = "") -> Proposal:
    """Record the plan as a proposal on `revision` (which must still be the head:
    StaleHeadError otherwise) for a privacy officer to approve or reject."""
    updated = proposed_registry(registry, the_plan)
    text = message.strip() or describe(the_plan)
    return store.propose(updated.content(), author=author, message=text, base_revision=revision)


def describe(the_plan: Plan) -> str:
    """A one-line summary, used as the proposal's default message."""
    parts = []
    if the_plan.new_flows:
        parts.append(f"add {len(the_plan.new_flows)} observed flow{'s' if len(the_plan.new_flows) != 1 else ''} "
                     f"({', '.join(the_plan.new_flows.values())})")
    if the_plan.changed_flows:
        parts.append(f"declare observed categories on {', '.join(the_plan.changed_flows)}")
    return "lineage-check: " + "; ".join(parts) if parts else "lineage-check: nothing to declare"


def _seen(gap: Gap) -> str:
    jobs = list(gap.jobs[:MAX_JOBS_NAMED])
    more = len(gap.jobs) - len(jobs)
    named = ", ".join(jobs) + (f" and {more} more" if more > 0 else "")
    span = (f"on {gap.first_seen}" if gap.first_seen == gap.last_seen
            else f"from {gap.first_seen} to {gap.last_seen}")
    return f"Observed in OpenLineage run events {span} (jobs: {named})."
