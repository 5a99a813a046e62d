"""The record of processing activities: GDPR Art. 30(1) controller view and Art. 30(2) processor view.

Columns follow the ICO template where the registry holds the data; the "third countries" and
"safeguards" columns, which Fides-style tools leave empty, are filled from the safeguard engine.

An activity is a purpose, in one capacity. The capacity (controller or processor) in which the
organisation holds data on a hop is decided per flow, because one system can hold the same
organisation's data in both capacities (Twilio is its customers' processor for message content
and a controller for the billing records it derives from it):
- a flow into the organisation whose role is controller, joint controller or third party makes
  it a controller of that data;
- a flow from outside (data subjects or another organisation) into the organisation in the role
  processor or sub-processor makes it a processor;
- every other flow (intra-group hops, flows to recipients) keeps the capacity in which the
  organisation held the data at the flow's origin; data it collects itself is held as controller.
"The organisation" is its group: parties of kind affiliate (or, without any, the systems' owners).

Besides the activities, the record carries the controller block, the categories (special kind,
condition, retention), the security measures, the processor contracts, the controllers served
and a checklist of the Art. 30 items (`lineage.reports.ropa_record`); an item the registry lacks
is named as missing in its row.
"""

from __future__ import annotations

from collections import deque
from datetime import date
from typing import Any

from lineage.contracts import dpa_check
from lineage.reports import ropa_record as record
from lineage.reports.context import ReportContext
from lineage.reports.model import Cell, Column, Report, Section, texts
from lineage.reports.ropa_record import NO_PURPOSE, NOT_RECORDED
from lineage.reports.tools import regime_tools
from lineage.status import HopStatus, Status, worst
from registry.ids import PartyKind, Role
from registry.model import Category, Flow, Party

CONTROLLER = "controller"
PROCESSOR = "processor"
TRANSFER = frozenset({Status.ADEQUATE, Status.COVERED, Status.DEROGATION, Status.INVALID, Status.UNCOVERED, Status.UNKNOWN})

ORG_COLUMNS = (
    Column("party", "Id"),
    Column("name", "Name"),
    Column("country", "Country"),
    Column("contact", "Contact"),
    Column("systems", "Systems it runs"),
)
CONTROLLER_COLUMNS = (
    Column("activity", "Processing activity"),
    Column("categories_of_individuals", "Categories of individuals"),
    Column("categories_of_personal_data", "Categories of personal data"),
    Column("special_categories", "Special categories (Art. 9, 10)"),
    Column("categories_of_recipients", "Categories of recipients"),
    Column("joint_controllers", "Joint controllers", brief=False),
    Column("third_countries", "Third countries"),
    Column("safeguards", "Safeguards (transfer tools)"),
    Column("retention", "Retention schedule"),
    Column("legal_basis", "Lawful basis (Art. 6)"),
    Column("processor_contracts", "Processor contracts (Art. 28)", brief=False),
    Column("security_measures", "Security measures", brief=False),
    Column("source", "Source of personal data", brief=False),
    Column("location", "Location of personal data", brief=False),
    Column("transfer_status", "Transfer status"),
    Column("flows", "Flows", brief=False),
    Column("registry_source", "Documented in", brief=False),
)
PROCESSOR_COLUMNS = (
    Column("activity", "Categories of processing"),
    Column("controllers", "On behalf of (controllers)"),
    Column("categories_of_individuals", "Categories of individuals"),
    Column("categories_of_personal_data", "Categories of personal data"),
    Column("special_categories", "Special categories (Art. 9, 10)"),
    Column("subprocessors", "Sub-processors"),
    Column("other_recipients", "Other recipients"),
    Column("third_countries", "Third countries"),
    Column("safeguards", "Safeguards (transfer tools)"),
    Column("retention", "Retention schedule", brief=False),
    Column("processor_contracts", "Processor contracts (Art. 28)", brief=False),
    Column("security_measures", "Security measures", brief=False),
    Column("location", "Location of personal data", brief=False),
    Column("transfer_status", "Transfer status"),
    Column("flows", "Flows", brief=False),
    Column("registry_source", "Documented in", brief=False),
)


class _Capacities:
    """The capacity (controller, processor or both) in which the group holds data, per flow.

    Inherited capacities follow the data: a flow takes the capacity of the flows into its
    origin that carry related categories (one system can hold account data as controller and
    message content as processor).

    The walk upstream is depth-first with an explicit stack rather than recursion, so a chain of
    any length (or a ring of a thousand systems) cannot exhaust Python's call stack; it visits
    nodes in the same order a recursive walk would, so the answers are the same.
    """

    def __init__(self, ctx: ReportContext) -> None:
        self.ctx = ctx
        self.rg = ctx.rg
        self.day = ctx.day
        self._node: dict[tuple[str, frozenset[str]], frozenset[str]] = {}
        self._visiting: set[tuple[str, frozenset[str]]] = set()

    def flow(self, flow: Flow) -> frozenset[str]:
        """The capacities in which the group holds what `flow` delivers."""
        decided, upstream = self._own(flow)
        if upstream is None:
            return decided
        return self.node(*upstream) or frozenset({CONTROLLER})

    def _own(self, flow: Flow) -> tuple[frozenset[str], tuple[str, frozenset[str]] | None]:
        """(capacity decided by the flow itself, None) or (_, the upstream node to inherit from)."""
        dst_in = self.ctx.in_group(flow.to)
        src_in = self.ctx.in_group(flow.from_)
        if dst_in and flow.role in (Role.CONTROLLER, Role.JOINT_CONTROLLER, Role.THIRD_PARTY):
            return frozenset({CONTROLLER}), None
        if dst_in and not src_in and flow.role in (Role.PROCESSOR, Role.SUBPROCESSOR):
            return frozenset({PROCESSOR}), None
        if self.rg.node_kind(flow.from_) == "subject":
            return frozenset({CONTROLLER}), None
        return frozenset(), (flow.from_, frozenset(flow.carries))

    def node(self, node: str, categories: frozenset[str]) -> frozenset[str]:
        """The capacities in which data of `categories` is held at `node`."""
        key = (node, categories)
        if key in self._node:
            return self._node[key]
        if key in self._visiting:
            return frozenset()
        # Each frame: the key, its related in-flows still to look at, the capacities so far, and
        # the flow whose upstream answer it waits for.
        stack: list[list[Any]] = [self._frame(key)]
        answer: frozenset[str] = frozenset()
        while stack:
            frame = stack[-1]
            waiting: Flow | None = frame[3]
            if waiting is not None:
                frame[2] |= answer or frozenset({CONTROLLER})
                frame[3] = None
            pending = frame[1]
            pushed = False
            while pending:
                flow = pending.pop()
                decided, upstream = self._own(flow)
                if upstream is None:
                    frame[2] |= decided
                elif upstream in self._node:
                    frame[2] |= self._node[upstream] or frozenset({CONTROLLER})
                elif upstream in self._visiting:
                    frame[2] |= frozenset({CONTROLLER})  # a cycle: the other in-flows decide
                else:
                    frame[3] = flow
                    stack.append(self._frame(upstream))
                    pushed = True
                    break
            if pushed:
                continue
            stack.pop()
            self._visiting.discard(frame[0])
            answer = self._node[frame[0]] = frame[2]
        return answer

    def _frame(self, key: tuple[str, frozenset[str]]) -> list[Any]:
        node, categories = key
        self._visiting.add(key)
        related = [flow for flow in sorted(self.rg.in_flows(node, self.day), key=lambda f: self.rg.order[f.id])
                   if _related(self.ctx, flow.carries, list(categories))]
        related.reverse()  # popped from the end: oldest flow first, as the recursive walk did
        return [key, related, frozenset(), None]


def _related(ctx: ReportContext, a: list[str], b: list[str]) -> bool:
    """True when some category of `a` is part of, or contains, some category of `b`."""
    rg = ctx.rg
    return any(x in rg.subtree(y) or y in rg.subtree(x) for x in a for y in b)


def _origins(ctx: ReportContext, flow: Flow, day: date) -> list[str]:
    """Where the flow's data comes from: nodes upstream with no relevant in-flow (subject groups,
    data sources), found by walking back along active flows that carry related data."""
    seen = {flow.from_}
    queue = deque([flow.from_])
    origins: list[str] = []
    while queue:
        node = queue.popleft()
        incoming = [f for f in ctx.rg.in_flows(node, day) if _related(ctx, f.carries, flow.carries)]
        if not incoming or ctx.rg.node_kind(node) == "subject":
            origins.append(node)
        for f in sorted(incoming, key=lambda f: ctx.rg.order[f.id]):
            if f.from_ not in seen:
                seen.add(f.from_)
                queue.append(f.from_)
    return origins


def _party_label(party: Party) -> str:
    return f"{party.name} ({party.country or 'country unknown'})"


def _activity(ctx: ReportContext, capacity: str, purpose: str, hops: list[HopStatus]) -> dict[str, Cell]:
    rg = ctx.rg
    flows = [ctx.flow(h.flow) for h in hops]
    origins = texts(o for f in flows for o in _origins(ctx, f, ctx.day))
    subjects = texts(ctx.name(o) for o in origins if rg.node_kind(o) == "subject")
    sources = texts(
        f"data subjects: {ctx.name(o)}" if rg.node_kind(o) == "subject" else f"{ctx.name(o)} ({ctx.node_kind(o)})"
        for o in origins
    )
    categories = ctx.category_names(texts(c for f in flows for c in f.carries))

    recipients, subprocessors, others, joint = [], [], [], []
    for hop, flow in zip(hops, flows, strict=True):
        party = rg.organisation(flow.to)
        if party is None or hop.collection:
            continue
        sender = rg.organisation(flow.from_)
        if party.id in ctx.group:
            if sender is not None and sender.id != party.id:
                recipients.append(f"group company: {_party_label(party)}")
            continue
        label = f"{party.kind.value.replace('_', ' ')}: {_party_label(party)}"
        recipients.append(label)
        if flow.role is Role.SUBPROCESSOR or party.kind is PartyKind.SUBPROCESSOR:
            subprocessors.append(_party_label(party))
        else:
            others.append(label)
        if flow.role is Role.JOINT_CONTROLLER:
            joint.append(_party_label(party))

    third, safeguards = [], []
    for hop in hops:
        if hop.collection:
            continue
        dest = ",".join(hop.target_countries) or "location unknown"
        for regime, verdict in hop.regimes.items():
            if verdict.status not in TRANSFER:
                continue
            third.append(dest)
            labels = [t.label for t in regime_tools(rg, ctx.law, hop, regime, verdict, ctx.day)]
            tail = f" ({', '.join(labels)})" if labels else ""
            safeguards.append(f"{dest}, {ctx.regime_name(regime)}: {verdict.status.value}{tail}")

    retention = []
    for flow in flows:
        if flow.retention_days is not None:
            retention.append(f"{ctx.name(flow.to)}: {flow.retention_days} days")
        days = getattr(rg.element(flow.to), "retention_days", None) if flow.to in rg.graph else None
        if days is not None and rg.node_kind(flow.to) == "system":
            retention.append(f"{ctx.name(flow.to)}: {days} days")
    for rule in rg.registry.rules:
        if rule.retention is not None and any(_related(ctx, f.carries, rule.retention.categories) for f in flows):
            retention.append(f"limit '{rule.id}': at most {rule.retention.max_days} days")
    carried = texts(c for f in flows for c in f.carries)
    for category_id in carried:
        element = rg.registry.get(category_id)
        kept = record.category_retention(ctx, element) if isinstance(element, Category) else None
        if kept is not None:
            retention.append(f"category {ctx.name(category_id)}: {kept[0]} days")
    special = texts(
        f"{c.name} ({c.id}): {record.SPECIAL_WORDS[c.special]}"
        + (f", condition Art. 9(2)({c.condition.value.rsplit('-', 1)[-1]})" if c.condition else "")
        for f in flows for c in ctx.record.special_carried(rg, f) if c.special is not None
    )
    checks = [c for f in flows if (c := dpa_check(rg, ctx.record, f, ctx.day)) is not None]

    transfers = [h.status for h in hops if not h.collection and h.regimes]
    location = texts(c for f in flows for n in (f.from_, f.to) if ctx.in_group(n) for c in rg.countries(n))
    controllers = texts(
        record.party_contact(ctx, p.id)
        for f in flows
        if ctx.in_group(f.to) and not ctx.in_group(f.from_) and f.role in (Role.PROCESSOR, Role.SUBPROCESSOR)
        for p in [rg.organisation(f.from_)]
        # Only an organisation of kind "other" can be a customer; carriers, OTT providers and
        # sub-processors that hand data back are not the controllers of it.
        if p is not None and p.kind is PartyKind.OTHER
    )
    served = texts(
        record.party_contact(ctx, pid)
        for c in checks if c.outside for a in c.in_force for pid in a.parties if pid not in ctx.group
    )
    return {
        "activity": purpose,
        "controllers": texts((*controllers, *served)) or (NOT_RECORDED,),
        "categories_of_individuals": subjects,
        "categories_of_personal_data": categories,
        "special_categories": special or ("none",),
        "categories_of_recipients": texts(recipients),
        "subprocessors": texts(subprocessors),
        "other_recipients": texts(others),
        "joint_controllers": texts(joint),
        "third_countries": texts(third),
        "safeguards": texts(safeguards) or (("none needed",) if not third else ()),
        "retention": texts(retention) or (NOT_RECORDED,),
        "legal_basis": texts(f.legal_basis.value.replace("_", " ") for f in flows if f.legal_basis)
        or ((NOT_RECORDED,) if capacity == CONTROLLER else ()),
        "processor_contracts": texts(record.dpa_line(ctx, c) for c in checks) or ("none needed",),
        "security_measures": record.security_of(ctx, [n for f in flows for n in (f.from_, f.to)]) or (NOT_RECORDED,),
        "source": sources,
        "location": location,
        "transfer_status": worst(transfers).value if transfers else "no transfer",
        "flows": tuple(f.id for f in flows),
        "registry_source": texts(f.source for f in flows),
    }


def activities(ctx: ReportContext) -> dict[str, list[dict[str, Cell]]]:
    """Activities per capacity ('controller', 'processor'), each a mapping of column key to value."""
    caps = _Capacities(ctx)
    grouped: dict[tuple[str, str], list[HopStatus]] = {}
    for hop in ctx.hops():
        flow = ctx.flow(hop.flow)
        for capacity in (CONTROLLER, PROCESSOR):
            if capacity in caps.flow(flow):
                grouped.setdefault((capacity, flow.purpose or NO_PURPOSE), []).append(hop)
    out: dict[str, list[dict[str, Cell]]] = {CONTROLLER: [], PROCESSOR: []}
    for (capacity, purpose), hops in grouped.items():
        out[capacity].append(_activity(ctx, capacity, purpose, hops))
    return out


def ropa_report(ctx: ReportContext) -> Report:
    """The Art. 30 record on the context's date.

    Returns a Report with sections `organisation` (Art. 30(1)(a)), `controller` (Art. 30(1))
    and `processor` (Art. 30(2)).
    """
    found = activities(ctx)
    rg = ctx.rg
    org_rows = tuple(
        (p.id, p.name, p.country, p.contact or NOT_RECORDED,
         texts(s.name for s in rg.registry.systems if s.owner == p.id))
        for p in rg.registry.parties
        if p.id in ctx.group
    )
    checks = record.dpa_checks(ctx)
    held = {
        "controller_details": record.controller_section(ctx),
        "categories": record.categories_section(ctx),
        "security": record.security_section(ctx),
        "processor_contracts": record.contracts_section(ctx, checks),
        "controllers_served": record.served_section(ctx, checks, bool(found[PROCESSOR])),
    }
    sections = (
        held["controller_details"],
        Section(
            "organisation", "Controller and group companies (Art. 30(1)(a), 30(2)(a))", ORG_COLUMNS, org_rows,
            "The organisation's own parties (its affiliates, or the owners of its systems) and their contacts.",
        ),
        Section(
            "controller", "Activities as controller (Art. 30(1))", CONTROLLER_COLUMNS,
            tuple(tuple(a[c.key] for c in CONTROLLER_COLUMNS) for a in found[CONTROLLER]),
            "One row per purpose; third countries and safeguards come from the safeguard engine on the as-of date.",
        ),
        Section(
            "processor", "Activities as processor (Art. 30(2))", PROCESSOR_COLUMNS,
            tuple(tuple(a[c.key] for c in PROCESSOR_COLUMNS) for a in found[PROCESSOR]),
            "Processing carried out on behalf of controllers (the organisation's customers).",
        ),
        held["categories"],
        held["security"],
        held["processor_contracts"],
        held["controllers_served"],
        record.checklist_section(ctx, found, checks, held),
    )
    title = f"Record of processing activities of {rg.registry.organization}"
    return Report(
        "ropa",
        title,
        ctx.metadata(
            "ropa", title,
            {"controller_activities": len(found[CONTROLLER]), "processor_activities": len(found[PROCESSOR])},
        ),
        sections,
        notes=(
            "An item the registry does not hold is marked as not recorded in its row; the checklist "
            "at the end names every Art. 30 item that is missing.",
            "Capacity per flow: a flow into the organisation in the role controller makes it a controller; "
            "a flow from outside in the role processor makes it a processor; other flows keep the capacity "
            "the data had where it came from.",
        ),
    )
