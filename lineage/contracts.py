"""Which processor contract (DPA) and which transfer impact assessment a hop has on a date.

Pure look-ups over one registry, shared by the findings, the Art. 30 record, the transfer
register and the dashboard, so all of them give the same answer.

Who "the organisation" is: the registry's `organization` is a name, not a party id, and the
`controller` block describes it without naming a party. Wherever a party is needed, the
organisation is its group: the parties of kind affiliate or, without any, the owners of its
systems (the same rule as the Art. 30 record's "organisation" section), because those are the
parties that sign contracts for it.

Who sends a flow's data (the other side of its DPA): the organisation of the flow's source node,
a system's owner or the party itself. A hop inside one organisation needs no contract with
itself. A collection flow (from data subjects) has no sending organisation in the graph, so:
- into a party outside the organisation in the role processor or sub-processor (a payment
  processor collecting card details for the organisation): the organisation is the controller
  it works for; a dpa between that party and any party of the organisation counts;
- into the organisation itself in such a role (it collects for its customers as their
  processor): the controllers it serves are outside it; a dpa between the recipient and any
  party outside the organisation counts (the customers, when the registry models them).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from lineage.graph import RegistryGraph
from lineage.law import Law
from lineage.status import HopStatus, Status
from registry.ids import AgreementKind, PartyKind, Role, category_parent
from registry.model import Agreement, Assessment, Category, Flow, Mechanism, Registry

PROCESSOR_ROLES = (Role.PROCESSOR, Role.SUBPROCESSOR)
TIA = "transfer-impact-assessment"  # the obligation's id in the law file


def own_parties(registry: Registry) -> frozenset[str]:
    """The organisation's own parties: its affiliates, or (without any) its systems' owners.

    >>> from registry.loader import load_registry_file
    >>> sorted(own_parties(load_registry_file("tests/fixtures/northwind.yaml")))
    ['northwind-inc', 'northwind-nl']
    """
    affiliates = {p.id for p in registry.parties if p.kind is PartyKind.AFFILIATE}
    return frozenset(affiliates or {s.owner for s in registry.systems})


@dataclass(frozen=True)
class RecordIndex:
    """One registry's agreements, assessments and special categories, indexed for look-ups per
    hop. Build it once per registry (`RecordIndex.of`) and pass it along."""

    group: frozenset[str]
    dpas: dict[str, list[Agreement]] = field(default_factory=dict)
    assessments: dict[tuple[str, str], list[Assessment]] = field(default_factory=dict)
    special: dict[str, Category] = field(default_factory=dict)
    assessed: dict[str, list[str]] = field(default_factory=dict)  # flow -> regimes it has assessments for
    group_sorted: tuple[str, ...] = ()  # `group` in id order (the counterparts of a collection's DPA)

    @classmethod
    def of(cls, registry: Registry) -> RecordIndex:
        dpas: dict[str, list[Agreement]] = {}
        for agreement in registry.agreements:
            if agreement.kind is AgreementKind.DPA:
                for party in dict.fromkeys(agreement.parties):
                    dpas.setdefault(party, []).append(agreement)
        assessments: dict[tuple[str, str], list[Assessment]] = {}
        for assessment in registry.assessments:
            for flow in dict.fromkeys(assessment.flows):
                assessments.setdefault((flow, assessment.regime.value), []).append(assessment)
        special = {c.id: c for c in registry.categories if c.special is not None}
        assessed: dict[str, list[str]] = {}
        for flow, regime in assessments:
            assessed.setdefault(flow, []).append(regime)
        group = own_parties(registry)
        return cls(group, dpas, assessments, special, assessed, tuple(sorted(group)))

    def special_carried(self, rg: RegistryGraph, flow: Flow) -> list[Category]:
        """The art9/art10 categories whose data the flow carries: a special category it carries
        or contains (a flow of a category carries its descendants), or one it carries part of."""
        if not self.special:
            return []
        found: dict[str, Category] = {}
        for carried in flow.carries:
            for category_id in sorted(rg.subtree(carried) & self.special.keys()):
                found.setdefault(category_id, self.special[category_id])
            parent = category_parent(carried)
            while parent is not None:
                if parent in self.special:
                    found.setdefault(parent, self.special[parent])
                parent = category_parent(parent)
        return list(found.values())


# --- processor contracts (Art. 28) --------------------------------------------------------------
@dataclass(frozen=True)
class DpaCheck:
    """The Art. 28 contract a processor hop needs on a date, and what the registry holds.

    `counterparts` are the parties one of which must sign with `processor`; for a collection
    into the organisation it is empty and `outside` is True (any party outside the organisation
    counts: the controllers it serves)."""

    flow: str
    processor: str
    counterparts: tuple[str, ...]
    outside: bool
    in_force: tuple[Agreement, ...]
    not_in_force: tuple[Agreement, ...]

    @property
    def agreement(self) -> Agreement | None:
        """The DPA relied on: the most recently signed one in force."""
        return self.in_force[0] if self.in_force else None

    def gap(self, day: date) -> tuple[Literal["later", "ended", "none"], Agreement | None]:
        """Why no DPA is in force on `day`: one between the same parties starts later (the first
        such), one ended (the last), or there is none at all."""
        later = [a for a in self.not_in_force if a.signed > day]
        if later:
            return "later", min(later, key=lambda a: a.signed)
        ended = [a for a in self.not_in_force if a.valid_until is not None and a.valid_until <= day]
        if ended:
            return "ended", max(ended, key=lambda a: a.valid_until or day)
        return "none", None

    def counterpart_text(self) -> str:
        if self.outside:
            return "a controller it serves (a party outside the organisation)"
        if len(self.counterparts) == 1:
            return self.counterparts[0]
        return "the organisation (" + ", ".join(self.counterparts) + ")"


def dpa_check(rg: RegistryGraph, index: RecordIndex, flow: Flow, day: date) -> DpaCheck | None:
    """The DPA check of one flow on `day`, or None when the flow needs none (its role is not
    processor or sub-processor, or it stays inside one organisation)."""
    if flow.role not in PROCESSOR_ROLES:
        return None
    processor = rg.organisation(flow.to)
    if processor is None:
        return None
    outside = False
    if rg.node_kind(flow.from_) == "subject":
        if processor.id in index.group:
            outside, counterparts = True, ()
        else:
            counterparts = index.group_sorted
    else:
        sender = rg.organisation(flow.from_)
        if sender is None or sender.id == processor.id:
            return None
        counterparts = (sender.id,)
    signed = index.dpas.get(processor.id)
    if not signed:  # the common case at scale, kept cheap: findings ask this of every flow
        return DpaCheck(flow.id, processor.id, counterparts, outside, (), ())
    wanted = set(counterparts)

    def fits(agreement: Agreement) -> bool:
        others = [p for p in agreement.parties if p != processor.id]
        if outside:
            return any(p not in index.group for p in others)
        return any(p in wanted for p in others)

    candidates = sorted((a for a in signed if fits(a)), key=lambda a: (a.signed, a.id), reverse=True)
    return DpaCheck(
        flow.id, processor.id, counterparts, outside,
        tuple(a for a in candidates if a.in_force(day)),
        tuple(a for a in candidates if not a.in_force(day)),
    )


def describe_dpa(agreement: Agreement) -> str:
    """One line for reports: id, dates, authorisation, objection period, document."""
    until = f" until {agreement.valid_until}" if agreement.valid_until else ""
    parts = [f"{agreement.id} (signed {agreement.signed}{until})"]
    if agreement.authorisation:
        parts.append(f"{agreement.authorisation.value} authorisation of sub-processors")
    if agreement.objection_days is not None:
        parts.append(f"{agreement.objection_days} days to object")
    parts.append(f"document: {agreement.document}" if agreement.document else "document not recorded")
    return "; ".join(parts)


# --- transfer impact assessments ------------------------------------------------------------------
TiaState = Literal["in_force", "overdue", "missing"]


@dataclass(frozen=True)
class TiaCheck:
    """The assessment of one hop for one regime on a date.

    `required`: the law asks for one (the hop is covered by a tool the obligation lists, on or
    after its start). `state` says what the registry holds either way: an assessment in force
    (`assessment`), one whose review date has passed with none later in force (`overdue`,
    `assessment` is the latest of those), or none dated on or before the day (`missing`;
    `later` lists those dated after it)."""

    flow: str
    regime: str
    required: bool
    tool: Mechanism | None
    state: TiaState
    assessment: Assessment | None
    later: tuple[Assessment, ...] = ()


def tia_tool(rg: RegistryGraph, law: Law, hop: HopStatus, regime: str, day: date) -> Mechanism | None:
    """The mechanism that makes `hop` need an assessment for `regime` on `day`, or None: the hop
    is `covered` by one of the kinds the law file's obligation lists, on or after its start."""
    obligation = law.obligation(TIA)
    verdict = hop.regimes.get(regime)
    if verdict is None or verdict.status is not Status.COVERED or not obligation.valid_on(day):
        return None
    for basis in verdict.basis:
        mechanism = rg.registry.get(basis)
        if isinstance(mechanism, Mechanism) and mechanism.kind.value in obligation.tools:
            return mechanism
    return None


def tia_check(rg: RegistryGraph, law: Law, index: RecordIndex, hop: HopStatus, regime: str, day: date) -> TiaCheck:
    """What the registry holds about `hop`'s assessment for `regime` on `day` (see TiaCheck)."""
    tool = tia_tool(rg, law, hop, regime, day)
    known = index.assessments.get((hop.flow, regime))
    if not known:  # the common case, kept cheap: findings ask this of every hop
        return TiaCheck(hop.flow, regime, tool is not None, tool, "missing", None)
    dated = [a for a in known if a.assessed <= day]
    later = tuple(sorted((a for a in known if a.assessed > day), key=lambda a: (a.assessed, a.id)))
    in_force = [a for a in dated if a.in_force(day)]
    if in_force:
        current = max(in_force, key=lambda a: (a.assessed, a.id))
        return TiaCheck(hop.flow, regime, tool is not None, tool, "in_force", current, later)
    if dated:
        lapsed = max(dated, key=lambda a: (a.review_by or a.assessed, a.id))
        return TiaCheck(hop.flow, regime, tool is not None, tool, "overdue", lapsed, later)
    return TiaCheck(hop.flow, regime, tool is not None, tool, "missing", None, later)


def describe_assessment(assessment: Assessment) -> str:
    """One line for reports: id, date, outcome, measures, review date, document."""
    parts = [f"{assessment.id} (assessed {assessment.assessed})", f"outcome {assessment.outcome.value}"]
    if assessment.measures:
        parts.append("measures: " + ", ".join(assessment.measures))
    parts.append(f"review by {assessment.review_by}" if assessment.review_by else "no review date")
    parts.append(f"document: {assessment.document}" if assessment.document else "document not recorded")
    return "; ".join(parts)


def tia_text(law: Law, check: TiaCheck | None, day: date) -> str:
    """The assessment of a hop for a regime in one line, as the transfer register and the
    dashboard show it: the one in force, or what is missing and why none is needed."""
    if check is None:
        return "not needed (no regime)"
    if check.state == "in_force" and check.assessment is not None:
        return describe_assessment(check.assessment)
    if not check.required:
        duty = law.obligation(TIA)
        why = f"before {duty.valid_from}" if day < duty.valid_from else f"not covered by a tool of kind {', '.join(duty.tools)}"
        held = f"; {describe_assessment(check.assessment)} (review overdue)" if check.assessment else ""
        return f"not needed ({why}){held}"
    if check.state == "overdue" and check.assessment is not None:
        return f"missing: {check.assessment.id} was due for review on {check.assessment.review_by}"
    return f"missing: no assessment in force on {day}"
