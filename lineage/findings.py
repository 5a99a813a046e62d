"""Findings: what is wrong on a date, with severity, evidence and the fix in one sentence.

Built-in checks cover transfers (uncovered, invalid, derogations used routinely), missing
locations and sub-processor transparency, and the complete record's rules (processor contracts,
transfer impact assessments, special-category data in transfers: `lineage.record_findings`);
every user `rule` in the registry is checked too (its id is the finding's `rule`). Fixes that
name a transfer tool name only tools that exist on the date asked (`lineage.fixes`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import date

from lineage import record_findings
from lineage.contracts import RecordIndex
from lineage.early_start import EARLY_START, early_start_findings
from lineage.evaluation import Evaluation
from lineage.finding import SEVERITY_ORDER, Finding, Severity
from lineage.fixes import tool_fix
from lineage.graph import RegistryGraph
from lineage.law import Law
from lineage.notice import subprocessor_flows
from lineage.status import HopStatus, Status
from registry.errors import FlowregError
from registry.model import DenyRule, Flow, Party, Registry, RetentionRule, Rule, System

__all__ = ["BUILT_IN_RULES", "SEVERITY_ORDER", "Finding", "Severity", "finding_order", "findings", "rule_ids",
           "transfer_findings"]

# Built-in rule ids (user rules use their own ids).
UNCOVERED = "transfer-uncovered"
INVALID = "transfer-invalid"
ROUTINE_DEROGATION = "derogation-routine"
UNKNOWN_LOCATION = "location-unknown"
UNLISTED = "subprocessor-unlisted"
NO_NOTICE = "subprocessor-no-notice"
BUILT_IN_RULES = (UNCOVERED, INVALID, ROUTINE_DEROGATION, UNKNOWN_LOCATION, UNLISTED, NO_NOTICE,
                  EARLY_START, *record_findings.RULES)


def rule_ids(registry: Registry) -> tuple[str, ...]:
    """Every rule a finding on `registry` can name: the built-in ones, then the registry's own.

    >>> from registry.loader import load_registry_file
    >>> rule_ids(load_registry_file("tests/fixtures/northwind.yaml"))[-1]
    'no-message-content-to-ads'
    """
    return tuple(dict.fromkeys([*BUILT_IN_RULES, *(rule.id for rule in registry.rules)]))


def check_rules(rules: Iterable[str], known: Iterable[str], *, name: str = "rule") -> None:
    """FlowregError naming the first of `rules` that is not `known`, and listing the known ones."""
    known = tuple(known)
    for rule in rules:
        if rule not in known:
            raise FlowregError(f"{name}: '{rule}' is not a rule; the rules are {', '.join(known)}")


def findings(rg: RegistryGraph, day: date, *, law: Law | None = None, evaluation: Evaluation | None = None) -> list[Finding]:
    """Every finding on `day`, most severe first.

    >>> from registry.loader import load_registry_file
    >>> from lineage.graph import build_graph
    >>> rg = build_graph(load_registry_file("tests/fixtures/northwind.yaml"))
    >>> [(f.rule, f.flow) for f in findings(rg, date(2020, 8, 1)) if f.rule.startswith("transfer-")]
    [('transfer-invalid', 'mailer-to-bouncer')]
    """
    ev = evaluation or Evaluation(rg, day, law)
    return list(ev.derive(_CACHE_KEY, lambda: tuple(_all_findings(rg, ev))))


_CACHE_KEY = "findings"  # in `Evaluation.derived`: a date's findings are asked again and again


def _all_findings(rg: RegistryGraph, ev: Evaluation) -> list[Finding]:
    day = ev.day
    index = RecordIndex.of(rg.registry)
    out: list[Finding] = []
    hops = ev.hops()
    active = [rg.flows[hop.flow] for hop in hops]
    for hop in hops:
        out += transfer_findings(rg, ev, hop, index)
    out += record_findings.dpa_findings(rg, ev.law, day, index, active)
    out += _location_findings(rg, day)
    subprocessors = subprocessor_flows(rg, active)
    out += _subprocessor_findings(rg, day, subprocessors)
    out += early_start_findings(rg, day, subprocessors)
    for rule in rg.registry.rules:
        if rule.deny is not None:
            out += _deny_findings(rg, day, rule, rule.deny)
        elif rule.retention is not None:
            out += _retention_findings(rg, day, rule, rule.retention)
    out.sort(key=finding_order(rg))
    return out


def finding_order(rg: RegistryGraph) -> Callable[[Finding], tuple]:
    """The sort key of a list of findings: most severe first, then by check and registry order."""
    order = rg.order
    return lambda f: (SEVERITY_ORDER[f.severity], f.rule, order.get(f.flow or "", -1), f.node or "")


# Statuses no check of `transfer_findings` reads (from `covered` on, a hop may need an
# assessment); a hop's status is the worst of its regimes'.
_QUIET = frozenset({Status.NOT_REQUIRED, Status.ADEQUATE})


def transfer_findings(rg: RegistryGraph, ev: Evaluation, hop: HopStatus, index: RecordIndex | None = None) -> list[Finding]:
    """The findings about one hop's transfer tools, assessments and special-category data (they
    read nothing but the hop and the registry's `index`; pass it when judging many hops)."""
    index = index or RecordIndex.of(rg.registry)
    if hop.status in _QUIET and hop.flow not in index.assessed:
        return []  # most hops: no check below reads such a hop (no regime's status is worse)
    out = record_findings.hop_findings(rg, ev, hop, index)
    flow = rg.flows[hop.flow]
    for regime, verdict in hop.regimes.items():
        if verdict.status not in (Status.UNCOVERED, Status.INVALID, Status.DEROGATION):
            continue
        name = ev.law.regime_name(regime, ev.day)
        route = f"{hop.source} ({','.join(hop.source_countries)}) -> {hop.target} ({','.join(hop.target_countries)})"
        if verdict.status is Status.UNCOVERED:
            out.append(Finding(
                UNCOVERED, Severity.HIGH, f"Uncovered {name} transfer: {route}",
                f"Flow '{hop.flow}' carries {name} data to {hop.target_countries[0]} with no transfer tool: {verdict.reason}.",
                tool_fix(rg, ev.law, flow, regime, hop, ev.day), flow=hop.flow, regime=regime, evidence=(hop.flow,)))
        elif verdict.status is Status.INVALID:
            out.append(Finding(
                INVALID, Severity.HIGH, f"Invalid {name} transfer tool: {route}",
                f"Flow '{hop.flow}' relies on a tool that does not hold on {ev.day}: {verdict.reason}.",
                f"Replace {', '.join(verdict.basis)}: " + tool_fix(rg, ev.law, flow, regime, hop, ev.day),
                flow=hop.flow, regime=regime, evidence=(hop.flow, *verdict.basis)))
        elif verdict.status is Status.DEROGATION and flow.frequency.value == "continuous":
            out.append(Finding(
                ROUTINE_DEROGATION, Severity.MEDIUM, f"Derogation used for a continuous flow: {route}",
                f"Flow '{hop.flow}' is continuous but relies on {verdict.reason}; derogations are for occasional transfers, not routine ones.",
                "Put a standing tool in place: " + tool_fix(rg, ev.law, flow, regime, hop, ev.day),
                flow=hop.flow, regime=regime, evidence=(hop.flow, *verdict.basis)))
    return out


def _location_findings(rg: RegistryGraph, day: date) -> list[Finding]:
    out = []
    for node, data in rg.nodes_in_order():
        if data["countries"]:
            continue
        used = [f.id for f in rg.in_flows(node, day)] + [f.id for f in rg.out_flows(node, day)]
        if not used:
            continue
        out.append(Finding(
            UNKNOWN_LOCATION, Severity.MEDIUM, f"Location of {data['kind']} '{node}' is missing",
            f"Without a location the engine cannot tell which regimes protect data at '{node}' or whether its hops cross a border ({len(used)} active flows).",
            f"Record where '{node}' is ({'location' if data['kind'] == 'subject' else 'country'}).",
            flow=sorted(used, key=rg.order.__getitem__)[0], node=node, evidence=tuple(sorted(used, key=rg.order.__getitem__))))
    return out


def _subprocessor_findings(rg: RegistryGraph, day: date,
                           subprocessors: Mapping[str, list[Flow]] | None = None) -> list[Finding]:
    """Sub-processors (`lineage.notice.subprocessor_of`) missing from the public list or
    unannounced; `subprocessors`: `subprocessor_flows` of the flows active on `day`, when the
    caller has it."""
    firsts = subprocessor_flows(rg, rg.active_flows(day)) if subprocessors is None else subprocessors
    notice = rg.registry.notice_days
    out = []
    for party_id, flows in firsts.items():
        party: Party = rg.registry.get(party_id)  # type: ignore[assignment]
        evidence = tuple(f.id for f in sorted(flows, key=lambda f: rg.order[f.id]))
        if party.public_list is not True:
            state = "is not on" if party.public_list is False else "is not known to be on"
            out.append(Finding(
                UNLISTED, Severity.MEDIUM, f"Sub-processor '{party_id}' {state} the public list",
                f"{party.name} receives personal data as a sub-processor but {state} the public sub-processor list (Art. 28(2)).",
                f"Add {party.name} to the public sub-processor list (and set public_list: true).",
                flow=evidence[0], node=party_id, evidence=evidence))
        # A notice given too late is `subprocessor-early-start` (lineage/early_start.py).
        if party.notice_given is None:
            out.append(Finding(
                NO_NOTICE, Severity.LOW, f"No notice recorded for sub-processor '{party_id}'",
                f"No date is recorded on which customers were told about {party.name}; they must be able to object before it is used.",
                f"Record notice_given, or notify customers at least {notice} days before {party.name} receives data.",
                flow=evidence[0], node=party_id, evidence=evidence))
    return out


def _touches(rg: RegistryGraph, flow: Flow, categories: list[str]) -> bool:
    """True when the flow carries any of the categories, a part of one, or a whole containing one."""
    return any(x in rg.subtree(c) or c in rg.subtree(x) for c in categories for x in flow.carries)


def _touching(rg: RegistryGraph, day: date, categories: list[str]) -> list[Flow]:
    """The active flows `_touches` accepts, in registry order, found through the graph's category
    index instead of testing every flow (a flow carries a part of C or a whole containing C
    exactly when it carries a used category id related to C)."""
    if len(categories) == 1:  # the common case: that list is in registry order already
        return [f for f in rg.flows_carrying(categories[0]) if f.valid_on(day)]
    found: dict[str, Flow] = {}
    for category in categories:
        for flow in rg.flows_carrying(category):
            found.setdefault(flow.id, flow)
    return sorted((f for f in found.values() if f.valid_on(day)), key=lambda f: rg.order[f.id])


def _deny_findings(rg: RegistryGraph, day: date, rule: Rule, deny: DenyRule) -> list[Finding]:
    out = []
    touching = _touching(rg, day, deny.categories)
    touching_ids = {f.id for f in touching}
    # Each node's incoming touching flows, in registry order (as `touching` is), shared by the
    # evidence walks of this rule's findings: read from `touching`, not from the nodes' edges
    # (a hub receives tens of thousands of flows, few of them of these categories).
    senders: dict[str, list[Flow]] = {}
    for flow in touching:
        senders.setdefault(flow.to, []).append(flow)
    for flow in touching:
        # Every condition the rule states must hold (the cheap ones first).
        if deny.roles and flow.role not in deny.roles:
            continue
        if deny.purposes and flow.purpose not in deny.purposes:
            continue
        recipient = rg.organisation(flow.to)
        if deny.to and not (flow.to in deny.to or (recipient is not None and recipient.id in deny.to)):
            continue
        if deny.to_kinds and not (recipient is not None and recipient.kind in deny.to_kinds):
            continue
        chain = _upstream_chain(rg, flow, deny.categories, day, touching_ids, senders)
        out.append(Finding(
            rule.id, Severity.HIGH, f"Promise broken: {rule.description or rule.id}",
            f"Flow '{flow.id}' sends {', '.join(flow.carries)} to '{flow.to}', which rule '{rule.id}' forbids.",
            f"Stop flow '{flow.id}' (or narrow what it carries), or change the promise '{rule.id}' and the policy that states it.",
            flow=flow.id, node=flow.to, evidence=(*chain, flow.id)))
    return out


def _upstream_chain(
    rg: RegistryGraph, flow: Flow, categories: list[str], day: date, touching: set[str] | None = None,
    senders: dict[str, list[Flow]] | None = None,
) -> list[str]:
    """The shortest chain of flows carrying the data that leads to `flow` (the path as evidence).

    `touching`: the ids of the active flows that touch `categories`, when the caller has them;
    `senders`: with `touching`, each node's incoming touching flows in registry order (a node
    missing has none)."""
    senders_complete = senders is not None and touching is not None
    senders = {} if senders is None else senders
    came: dict[str, Flow | None] = {flow.from_: None}
    queue = deque([flow.from_])
    start = flow.from_
    while queue:
        node = queue.popleft()
        start = node
        # In registry order, not adjacency order: the graph lists a node's senders in the order
        # their first flow (active or not) was declared, so an expired flow would pick the chain.
        incoming = senders.get(node, () if senders_complete else None)
        if incoming is None:
            incoming = senders[node] = sorted(
                (f for f in rg.in_flows(node, day)
                 if (f.id in touching if touching is not None else _touches(rg, f, categories))),
                key=lambda f: rg.order[f.id])
        if not incoming:
            break
        for f in incoming:
            if f.from_ not in came:
                came[f.from_] = f
                queue.append(f.from_)
    chain, node = [], start
    while (step := came.get(node)) is not None:
        chain.append(step.id)
        node = step.to
    return chain


def _retention_findings(rg: RegistryGraph, day: date, rule: Rule, limit: RetentionRule) -> list[Finding]:
    out = []
    systems_seen = set()
    for flow in _touching(rg, day, limit.categories):
        if flow.retention_days is not None and flow.retention_days > limit.max_days:
            out.append(Finding(
                rule.id, Severity.MEDIUM, f"Retention beyond limit: flow '{flow.id}'",
                f"'{flow.to}' keeps data from flow '{flow.id}' {flow.retention_days} days; rule '{rule.id}' allows {limit.max_days}.",
                f"Cut the retention of flow '{flow.id}' to at most {limit.max_days} days.",
                flow=flow.id, node=flow.to, evidence=(flow.id,)))
        element = rg.element(flow.to)
        # Only systems keep records; asking a party model for a field it lacks is slow (pydantic).
        days = element.retention_days if isinstance(element, System) else None
        if days is not None and days > limit.max_days and flow.to not in systems_seen:
            systems_seen.add(flow.to)
            out.append(Finding(
                rule.id, Severity.MEDIUM, f"Retention beyond limit: system '{flow.to}'",
                f"System '{flow.to}' keeps records {days} days; rule '{rule.id}' allows {limit.max_days} for {', '.join(limit.categories)}.",
                f"Cut the retention of '{flow.to}' to at most {limit.max_days} days for this data, or delete it sooner.",
                flow=flow.id, node=flow.to, evidence=(flow.id,)))
    return out
