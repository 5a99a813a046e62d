"""The `subprocessor-early-start` finding: a sub-processor receives data before its notice ran.

Under a general authorisation (GDPR Art. 28(2)) customers must be told of a new sub-processor
and have the notice period (`notice_days`) to object before it is used. The published change
feed (`flowreg publish`) shows each addition with its notice date and the earliest start that
period allows; when the registry says data flows earlier, the two disagree.

On a date, for each sub-processor (`lineage.notice.subprocessor_of`) receiving data through a
flow active that day, with a recorded `notice_given`: if the first day one of those flows
starts (`valid_from`) is before `notice_given + notice_days`, the finding is raised (high),
with the flows that start too early as evidence. A flow without `valid_from` has no recorded
start and is not judged here; a party without `notice_given` is `subprocessor-no-notice`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from lineage.finding import Finding, Severity
from lineage.graph import RegistryGraph
from lineage.notice import earliest_start, subprocessor_flows
from registry.model import Flow, Party

EARLY_START = "subprocessor-early-start"


def early_start_findings(rg: RegistryGraph, day: date,
                         subprocessors: Mapping[str, list[Flow]] | None = None) -> list[Finding]:
    """The early-start findings on `day`, in registry order of the sub-processors
    (`subprocessors`: `lineage.notice.subprocessor_flows` of the flows active on `day`, when the
    caller has it).

    >>> from registry.loader import load_registry_text
    >>> from lineage.graph import build_graph
    >>> rg = build_graph(load_registry_text('''
    ... flowreg: 1
    ... organization: x
    ... categories: [{id: c, name: C}]
    ... parties: [{id: me, name: Me, kind: affiliate, country: NL},
    ...           {id: sub, name: Sub, kind: subprocessor, country: NL, notice_given: 2024-03-01}]
    ... systems: [{id: app, name: App, owner: me, country: NL}]
    ... flows: [{id: to-sub, from: app, to: sub, carries: [c], valid_from: 2024-03-30}]
    ... '''))
    >>> [(f.rule, f.severity.value, f.flow) for f in early_start_findings(rg, date(2024, 4, 1))]
    [('subprocessor-early-start', 'high', 'to-sub')]
    """
    if subprocessors is None:
        subprocessors = subprocessor_flows(rg, rg.active_flows(day))
    flows: dict[str, list[Flow]] = {}
    parties: dict[str, Party] = {}
    for party_id, received in subprocessors.items():
        party = rg.registry.get(party_id)
        if isinstance(party, Party) and party.notice_given is not None:
            flows[party_id] = received
            parties[party_id] = party
    out = []
    days = rg.registry.notice_days
    for party_id in sorted(flows, key=lambda p: min(rg.order[f.id] for f in flows[p])):
        party = parties[party_id]
        allowed = earliest_start(party.notice_given, days)  # type: ignore[arg-type]
        early = sorted((f for f in flows[party_id] if f.valid_from is not None and f.valid_from < allowed),
                       key=lambda f: (f.valid_from, rg.order[f.id]))
        if not early:
            continue
        first = early[0]
        out.append(Finding(
            EARLY_START, Severity.HIGH,
            f"Sub-processor '{party_id}' receives data before its notice period has run",
            f"Customers were told of {party.name} on {party.notice_given}; with a notice period of {days} days "
            f"it may receive data from {allowed}, but flow '{first.id}' starts on {first.valid_from}.",
            f"Start flow '{first.id}' on {allowed} or later (valid_from), or record the earlier notice actually "
            "given (notice_given) if customers were told in time.",
            flow=first.id, node=party_id, evidence=tuple(f.id for f in sorted(early, key=lambda f: rg.order[f.id])),
        ))
    return out
