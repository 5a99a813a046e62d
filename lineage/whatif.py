"""What-if: compare hop statuses and findings before and after a hypothetical change.

Scenarios: a mechanism or framework invalidated from a date, a party removed (with its systems
and every flow that touches them), or a proposed registry file merged in (same id replaces).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date
from typing import Any, ClassVar

from lineage.contracts import RecordIndex
from lineage.evaluation import Evaluation
from lineage.findings import Finding, finding_order, findings, transfer_findings
from lineage.graph import RegistryGraph, build_graph
from lineage.law import Law, load_law
from lineage.safeguards import evaluate_hop, regime_verdict, verdict_key
from registry.errors import NotFoundError, RegistryError
from registry.ids import FRAMEWORK_IDS
from registry.loader import load_registry_data
from registry.model import SECTIONS, Registry
from registry.yamlsource import Issue


@dataclass(frozen=True)
class HopChange:
    flow: str
    before: str | None
    after: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class WhatIf:
    """The outcome of one scenario on one date."""

    scenario: str
    day: date
    changed_hops: list[HopChange] = field(default_factory=list)
    new_findings: list[Finding] = field(default_factory=list)
    resolved_findings: list[Finding] = field(default_factory=list)
    # What a page runs through, in order (`lineage.paging.page_sections`).
    PAGED: ClassVar[tuple[str, ...]] = ("changed_hops", "new_findings", "resolved_findings")

    def to_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario, "as_of": self.day.isoformat(),
            "changed_hops": [c.to_dict() for c in self.changed_hops],
            "new_findings": [f.to_dict() for f in self.new_findings],
            "resolved_findings": [f.to_dict() for f in self.resolved_findings],
        }


def invalidate(
    rg: RegistryGraph, tool: str, from_day: date, day: date, *, law: Law | None = None,
    evaluation: Evaluation | None = None,
) -> WhatIf:
    """What changes on `day` if mechanism or framework `tool` stops applying on `from_day`.
    `evaluation`: `rg`'s evaluation on `day` when the caller keeps one (the "before" side).

    >>> from registry.loader import load_registry_file
    >>> rg = build_graph(load_registry_file("tests/fixtures/northwind.yaml"))
    >>> w = invalidate(rg, "northwind-bcr", date(2020, 8, 1), date(2021, 1, 1))
    >>> [(c.flow, c.before, c.after) for c in w.changed_hops]
    [('web-to-mailer', 'covered', 'invalid')]
    """
    law = law or load_law()
    label = f"invalidate {tool} from {from_day}"
    if tool in FRAMEWORK_IDS:
        after, law_after = rg, law.with_framework_ended(tool, from_day, f"what-if: invalidated from {from_day}")
    else:
        mechanisms = rg.registry.mechanisms
        if tool not in {m.id for m in mechanisms}:
            raise NotFoundError(f"unknown mechanism or framework '{tool}'")
        changed = [
            m.model_copy(update={"valid_until": min(from_day, m.valid_until or from_day)}) if m.id == tool else m
            for m in mechanisms
        ]
        after = dataclasses.replace(rg, registry=_replaced(rg.registry, mechanisms=changed))
        law_after = law
    reuse = evaluation is not None and evaluation.rg is rg and evaluation.day == day and evaluation.law is law
    return rejudge(evaluation if reuse else Evaluation(rg, day, law), after, law_after, label)


def rejudge(before: Evaluation, after: RegistryGraph, law_after: Law, label: str) -> WhatIf:
    """`compare` for a change that leaves the flows and the regimes' areas as they were (a tool
    invalidated: only verdicts can change), in time that grows with what changes.

    Regimes do not depend on transfer tools, so `before`'s regime state holds for `after`; a
    hop is judged again only where one of its per-regime verdicts, judged once per verdict key,
    differs; and only such hops can gain or lose findings (the other checks read nothing a tool
    changes). The answer is the one `compare` gives (tests/test_whatif_incremental.py).
    """
    day, law_before = before.day, before.law
    # Built once: the assessments and contracts do not change with a transfer tool.
    index = RecordIndex.of(after.registry)
    if before.rg.flows is not after.flows or not _same_areas(law_before, law_after):
        return compare(before.rg, after, day, label, law_before, law_after, before_evaluation=before)
    state = before.state.judged_afresh()
    after_ev = Evaluation(after, day, law_after)
    after_ev.__dict__["state"] = state
    changes: list[HopChange] = []
    old_findings: list[Finding] = []
    new_findings: list[Finding] = []
    for hop in before.hops():
        if hop.collection or not hop.regimes or not (hop.source_countries and hop.target_countries):
            continue  # judged without any transfer tool, so the same after
        flow = after.flows[hop.flow]
        shared = verdict_key(after, flow)
        # Compared as judged (memoised per key on both sides): a hop's own reason may add what
        # only it says (data kept from earlier deliveries), which no tool changes.
        if all(regime_verdict(after, law_after, state, flow, day, regime, shared)
               == regime_verdict(before.rg, law_before, before.state, flow, day, regime, shared)
               for regime in hop.regimes):
            continue
        new = evaluate_hop(after, law_after, state, flow, day)
        if new.status != hop.status:
            changes.append(HopChange(hop.flow, hop.status.value, new.status.value, new.reason))
        old_findings += transfer_findings(before.rg, before, hop, index)
        new_findings += transfer_findings(after, after_ev, new, index)
    old_ids = {f.id for f in old_findings}
    new_ids = {f.id for f in new_findings}
    order = finding_order(after)
    return WhatIf(
        label, day, changes,
        sorted((f for f in new_findings if f.id not in old_ids), key=order),
        sorted((f for f in old_findings if f.id not in new_ids), key=order),
    )


def _same_areas(a: Law, b: Law) -> bool:
    """Whether two laws place every country in the same regimes on every date."""
    return a is b or (a.data.regimes == b.data.regimes and a.data.groups == b.data.groups)


def remove_party(rg: RegistryGraph, party: str, day: date, *, law: Law | None = None) -> WhatIf:
    """What changes on `day` if `party`, its systems and all their flows go away."""
    reg = rg.registry
    if reg.kind_of(party) != "party":
        raise NotFoundError(f"unknown party '{party}'")
    gone = {party} | {s.id for s in reg.systems if s.owner == party}
    after = _replaced(
        reg,
        parties=[p for p in reg.parties if p.id != party],
        systems=[s for s in reg.systems if s.id not in gone],
        flows=[f for f in reg.flows if f.from_ not in gone and f.to not in gone],
        mechanisms=[m.model_copy(update={"members": [x for x in m.members if x != party]}) for m in reg.mechanisms],
    )
    law = law or load_law()
    return compare(rg, build_graph(after), day, f"remove party {party}", law, law)


def _replaced(registry: Registry, **sections: Any) -> Registry:
    """A copy of `registry` with some sections replaced (not validated again: a scenario may end a
    mechanism before it began).

    Not `model_copy(update=...)`: that copies the private id index the original may already have
    built, so `get(id)` on the copy would still return the original elements (an invalidated
    mechanism would look valid again).
    """
    return Registry.model_construct(**{**dict(registry), **sections})


def add_proposal(rg: RegistryGraph, proposal: dict[str, Any], day: date, *, law: Law | None = None) -> WhatIf:
    """What changes on `day` if the elements of a proposed registry document are merged in.

    Raises RegistryError when the merged registry does not validate.
    """
    law = law or load_law()
    merged = merge(rg.registry, proposal)
    return compare(rg, build_graph(merged), day, "add proposed registry", law, law)


def merge(registry: Registry, proposal: Any) -> Registry:
    """The registry with the proposal's elements added (an element with the same id replaces).

    A proposal is a mapping of sections (a whole registry file is one too); RegistryError names
    what is not (`parties: expected a list of elements, got int`)."""
    check_proposal(proposal)
    content = registry.content()
    for section in SECTIONS:
        incoming = proposal.get(section) or []
        ids = {item.get("id") for item in incoming if isinstance(item, dict)}
        content[section] = [e for e in content.get(section, []) if e["id"] not in ids] + list(incoming)
    return load_registry_data(content, known_ids=registry.index())


def check_proposal(proposal: Any) -> None:
    """RegistryError unless `proposal` is a mapping of known keys whose sections are lists."""
    if not isinstance(proposal, dict):
        raise RegistryError([Issue("(file)", "a proposal is a mapping of sections (flows:, "
                                   f"parties:, ...), not {type(proposal).__name__}")])
    header = set(Registry.model_fields) - set(SECTIONS)
    issues = []
    for key, value in proposal.items():
        if key not in SECTIONS and key not in header:
            issues.append(Issue(str(key), f"unknown section; one of {', '.join(SECTIONS)}"))
        elif key in SECTIONS and value is not None and not isinstance(value, list):
            issues.append(Issue(str(key), f"expected a list of elements, got {type(value).__name__}"))
    if issues:
        raise RegistryError(issues)


def between_dates(rg: RegistryGraph, before: date, after: date, *, law: Law | None = None) -> WhatIf:
    """What changed from one date to another with the registry as it is (e.g. the day before
    and the day of Schrems II): hops whose status differs, findings that appear or go.

    >>> from registry.loader import load_registry_file
    >>> rg = build_graph(load_registry_file("tests/fixtures/northwind.yaml"))
    >>> [(c.flow, c.before, c.after) for c in between_dates(rg, date(2020, 7, 15), date(2020, 7, 16)).changed_hops]
    [('web-to-mailer', 'adequate', 'covered')]
    """
    law = law or load_law()
    return compare(rg, rg, after, f"from {before} to {after}", law, law, day_before=before)


def compare(
    before: RegistryGraph, after: RegistryGraph, day: date, label: str, law_before: Law, law_after: Law,
    *, day_before: date | None = None, before_evaluation: Evaluation | None = None,
) -> WhatIf:
    """Hops whose status differs and findings that appear or go, between two graphs on `day`
    (the first graph on `day_before` when given). `before_evaluation` is reused when it is the
    first graph's on that date under `law_before`."""
    first = day_before or day
    reuse = before_evaluation is not None and before_evaluation.rg is before \
        and before_evaluation.day == first and before_evaluation.law is law_before
    ev_before = before_evaluation if reuse else Evaluation(before, first, law_before)
    ev_after = Evaluation(after, day, law_after)
    old = {h.flow: h for h in ev_before.hops()}
    new = {h.flow: h for h in ev_after.hops()}
    changes = []
    for flow_id in list(old) + [f for f in new if f not in old]:
        a, b = old.get(flow_id), new.get(flow_id)
        if a is None or b is None or a.status != b.status:
            reason = b.reason if b else "the flow no longer exists"
            changes.append(HopChange(flow_id, a.status.value if a else None, b.status.value if b else None, reason))
    f_old = {f.id: f for f in findings(before, first, evaluation=ev_before)}
    f_new = {f.id: f for f in findings(after, day, evaluation=ev_after)}
    return WhatIf(
        label, day, changes,
        [f for i, f in f_new.items() if i not in f_old],
        [f for i, f in f_old.items() if i not in f_new],
    )
