"""Findings about the complete record: processor contracts, transfer impact assessments and
special-category data in transfers, with exactly the meanings of registry-format.md.

- `processor-without-dpa` (high): an active flow whose role is processor or sub-processor
  reaches a party (or a system it owns) with no `dpa` in force on the date between that party
  and the organisation that sends the data (`lineage.contracts` says who that is, also for
  collection flows).
- `tia-missing` (high): from the law file's start of the assessment duty (2020-07-16, CJEU
  C-311/18), a hop `covered` for a regime by an SCC, IDTA, UK Addendum, BCR or ad hoc clauses
  has no assessment of that flow and regime in force (assessed on or before the date, review_by
  after it or absent).
- `tia-overdue` (medium): instead of `tia-missing` when such an assessment exists but its
  review_by has passed and no later one is in force.
- `tia-suspend` (high): the assessment in force for a hop says `suspend` and the flow still runs.
- `special-category-transfer` (medium): a hop carrying art9 or art10 data is `derogation`,
  `invalid` or `uncovered` for some regime (one finding per regime).
Every finding names the hop and the agreement or assessment relied on or missing as evidence.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from lineage.contracts import TIA, DpaCheck, RecordIndex, dpa_check, tia_check
from lineage.evaluation import Evaluation
from lineage.finding import Finding, Severity
from lineage.fixes import tool_fix
from lineage.graph import RegistryGraph
from lineage.law import Law
from lineage.status import HopStatus, Status
from registry.ids import Outcome, SpecialKind
from registry.model import Flow

NO_DPA = "processor-without-dpa"
TIA_MISSING = "tia-missing"
TIA_OVERDUE = "tia-overdue"
TIA_SUSPEND = "tia-suspend"
SPECIAL_TRANSFER = "special-category-transfer"
RULES = (NO_DPA, TIA_MISSING, TIA_OVERDUE, TIA_SUSPEND, SPECIAL_TRANSFER)

_WEAK = (Status.DEROGATION, Status.INVALID, Status.UNCOVERED)
_SPECIAL_WORDS = {SpecialKind.ART9: "special-category (Art. 9)", SpecialKind.ART10: "criminal-offence (Art. 10)"}


def dpa_findings(rg: RegistryGraph, law: Law, day: date, index: RecordIndex,
                 flows: Iterable[Flow] | None = None) -> list[Finding]:
    """`processor-without-dpa` for every flow active on `day` (registry order), citing the
    processor-contract duty as the law stood on the day; `flows`: those flows, when the caller
    has them already."""
    cite = law.cite("processor-contract", day)
    out = []
    for flow in rg.active_flows(day) if flows is None else flows:
        check = dpa_check(rg, index, flow, day)
        if check is None or check.agreement is not None:
            continue
        out.append(_no_dpa(rg, check, flow.role.value if flow.role else "", day, cite))
    return out


def _no_dpa(rg: RegistryGraph, check: DpaCheck, role: str, day: date, cite: str) -> Finding:
    processor = rg.registry.get(check.processor)
    name = getattr(processor, "name", check.processor)
    other = check.counterpart_text()
    detail, fix = "", (f"Sign a data processing agreement ({cite}) between {check.processor} and {other} "
                       "and record it under agreements (kind: dpa), or stop the flow.")
    why, agreement = check.gap(day)
    if why == "later" and agreement is not None:
        detail = f"; dpa '{agreement.id}' is in force only from {agreement.signed}"
        fix = (f"Send no data to {check.processor} before dpa '{agreement.id}' is signed on {agreement.signed} "
               "(set the flow's valid_from), or record the agreement that covered it before.")
    elif why == "ended" and agreement is not None:
        detail = f"; dpa '{agreement.id}' ended on {agreement.valid_until}"
        fix = f"Renew the data processing agreement with {check.processor} (dpa '{agreement.id}' ended), or stop the flow."
    return Finding(
        NO_DPA, Severity.HIGH, f"No processor contract (DPA) for '{check.processor}': flow '{check.flow}'",
        f"Flow '{check.flow}' gives data to {name} as {role}, but no dpa between {check.processor} and {other} "
        f"is in force on {day} ({cite}){detail}.",
        fix, flow=check.flow, node=check.processor, evidence=(check.flow, *(a.id for a in check.not_in_force)),
    )


def hop_findings(rg: RegistryGraph, ev: Evaluation, hop: HopStatus, index: RecordIndex) -> list[Finding]:
    """The findings about one hop's assessments and special-category data (they read nothing
    but the hop, its verdicts and the index, so the what-if comparisons can judge hops alone)."""
    out: list[Finding] = []
    day, law = ev.day, ev.law
    if law.obligation(TIA).valid_on(day):
        # Only a covered hop can need an assessment, and only an assessed one can say suspend.
        regimes = [r for r, v in hop.regimes.items() if v.status is Status.COVERED]
        regimes += [r for r in index.assessed.get(hop.flow, ()) if r not in regimes]
        for regime in regimes:
            out += _tia_findings(rg, ev, hop, regime, index)
    special = index.special_carried(rg, rg.flows[hop.flow]) if index.special else []
    if special:
        for regime, verdict in hop.regimes.items():
            if verdict.status in _WEAK:
                out.append(_special_transfer(rg, ev, hop, regime, special))
    return out


def _tia_findings(rg: RegistryGraph, ev: Evaluation, hop: HopStatus, regime: str, index: RecordIndex) -> list[Finding]:
    law, day = ev.law, ev.day
    check = tia_check(rg, law, index, hop, regime, day)
    name = law.regime_name(regime, day)
    if check.state == "in_force" and check.assessment is not None:
        a = check.assessment
        if a.outcome is Outcome.SUSPEND:
            return [Finding(
                TIA_SUSPEND, Severity.HIGH, f"Assessment says suspend, flow still runs: '{hop.flow}' ({name})",
                f"Assessment '{a.id}' of {a.assessed} concludes that the {name} transfer of flow '{hop.flow}' "
                f"must be suspended, yet the flow is active on {day}.",
                f"Stop flow '{hop.flow}' (set its valid_until), as assessment '{a.id}' concludes, or record a new "
                "assessment if supplementary measures now allow the transfer.",
                flow=hop.flow, regime=regime, evidence=(hop.flow, a.id))]
        return []
    if not check.required or check.tool is None:
        return []
    tool = check.tool
    destination = ",".join(hop.target_countries) or "its destination"
    if check.state == "overdue" and check.assessment is not None:
        a = check.assessment
        return [Finding(
            TIA_OVERDUE, Severity.MEDIUM, f"Transfer impact assessment overdue: '{hop.flow}' ({name})",
            f"Flow '{hop.flow}' relies on {tool.kind.value} '{tool.id}' for {name} transfers to {destination}; "
            f"its assessment '{a.id}' of {a.assessed} was due for review on {a.review_by} and no later one is "
            f"in force on {day}.",
            f"Review assessment '{a.id}' and record the new one (assessed, outcome, review_by), or stop the flow.",
            flow=hop.flow, regime=regime, evidence=(hop.flow, a.id, tool.id))]
    obligation = law.obligation(TIA)
    since = f"since {obligation.valid_from} ({law.source(obligation.source).title.split(',')[0]})"
    later = ""
    if check.later:
        later = f"; assessment '{check.later[0].id}' is dated {check.later[0].assessed}, after {day}"
    return [Finding(
        TIA_MISSING, Severity.HIGH, f"No transfer impact assessment: '{hop.flow}' ({name})",
        f"Flow '{hop.flow}' relies on {tool.kind.value} '{tool.id}' for {name} transfers to {destination}; "
        f"{since} such a transfer needs a transfer impact assessment, and none of this flow for {name} is in "
        f"force on {day}{later}.",
        f"Assess the transfer to {destination} under '{tool.id}' (the destination's law and practice, with "
        f"supplementary measures where needed) and record it under assessments (flows: [{hop.flow}], regime: "
        f"{regime}), or stop the flow.",
        flow=hop.flow, regime=regime, evidence=(hop.flow, tool.id, *(a.id for a in check.later)))]


def _special_transfer(rg: RegistryGraph, ev: Evaluation, hop: HopStatus, regime: str, special: list) -> Finding:
    verdict = hop.regimes[regime]
    name = ev.law.regime_name(regime, ev.day)
    kinds = sorted({_SPECIAL_WORDS[c.special] for c in special})
    ids = [c.id for c in special]
    return Finding(
        SPECIAL_TRANSFER, Severity.MEDIUM, f"{' and '.join(kinds).capitalize()} data on a weak footing: '{hop.flow}' ({name})",
        f"Flow '{hop.flow}' carries {' and '.join(kinds)} data ({', '.join(ids)}) and its {name} transfer is "
        f"{verdict.status.value}: {verdict.reason}.",
        f"Stop sending {', '.join(ids)} on this hop, or give it a standing tool with supplementary measures fit "
        f"for such data: {tool_fix(rg, ev.law, rg.flows[hop.flow], regime, hop, ev.day)}",
        flow=hop.flow, regime=regime, evidence=(hop.flow, *ids, *verdict.basis))
