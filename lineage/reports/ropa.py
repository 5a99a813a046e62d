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
"""

from __future__ import annotations

from collections import deque
from datetime import date

from lineage.reports.context import ReportContext
from lineage.reports.model import Cell, Column, Report, Section, texts
from lineage.reports.tools import regime_tools
from lineage.status import HopStatus, Status, worst
from registry.ids import PartyKind, Role
from registry.model import Flow, Party

CONTROLLER = "controller"
PROCESSOR = "processor"
NO_PURPOSE = "(purpose not recorded)"
NOT_RECORDED = "(not recorded in the registry)"
TRANSFER = frozenset({Status.ADEQUATE, Status.COVERED, Status.DEROGATION, Status.INVALID, Status.UNCOVERED, Status.UNKNOWN})

ORG_COLUMNS = (
    Column("party", "Id"),
    Column("name", "Name"),
    Column("country", "Country"),
    Column("systems", "Systems it runs"),
)
CONTROLLER_COLUMNS = (
    Column("activity", "Processing activity"),
    Column("categories_of_individuals", "Categories of individuals"),
    Column("categories_of_personal_data", "Categories of personal data"),
    Column("categories_of_recipients", "Categories of recipients"),
    Column("joint_controllers", "Joint controllers", brief=False),
    Column("third_countries", "Third countries"),
    Column("safeguards", "Safeguards (transfer tools)"),
    Column("retention", "Retention schedule"),
    Column("legal_basis", "Lawful basis (Art. 6)"),
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
    Column("subprocessors", "Sub-processors"),
    Column("other_recipients", "Other recipients"),
    Column("third_countries", "Third countries"),
    Column("safeguards", "Safeguards (transfer tools)"),
    Column("retention", "Retention schedule", brief=False),
    Column("location", "Location of personal data", brief=False),
    Column("transfer_status", "Transfer status"),
    Column("flows", "Flows", brief=False),
    Column("registry_source", "Documented in", brief=False),
)


class _Capacities:
    """The capacity (controller, processor or both) in which the group holds data, per flow.

    Inherited capacities follow the data: a flow takes the capacity of the flows into its
    origin that carry related categories (one system can hold account data as controller and
    message content as processor)."""

    def __init__(self, ctx: ReportContext) -> None:
        self.ctx = ctx
        self.rg = ctx.rg
        self.day = ctx.day
        self._node: dict[tuple[str, frozenset[str]], frozenset[str]] = {}
        self._visiting: set[tuple[str, frozenset[str]]] = set()

    def flow(self, flow: Flow) -> frozenset[str]:
        dst_in = self.ctx.in_group(flow.to)
        src_in = self.ctx.in_group(flow.from_)
        if dst_in and flow.role in (Role.CONTROLLER, Role.JOINT_CONTROLLER, Role.THIRD_PARTY):
            return frozenset({CONTROLLER})
        if dst_in and not src_in and flow.role in (Role.PROCESSOR, Role.SUBPROCESSOR):
            return frozenset({PROCESSOR})
        inherited = frozenset()
        if self.rg.node_kind(flow.from_) != "subject":
            inherited = self.node(flow.from_, frozenset(flow.carries))
        return inherited or frozenset({CONTROLLER})

    def node(self, node: str, categories: frozenset[str]) -> frozenset[str]:
        """The capacities in which data of `categories` is held at `node`."""
        key = (node, categories)
        if key in self._node:
            return self._node[key]
        if key in self._visiting:
            return frozenset()  # a cycle: the other in-flows decide
        self._visiting.add(key)
        caps: frozenset[str] = frozenset()
        for flow in sorted(self.rg.in_flows(node, self.day), key=lambda f: self.rg.order[f.id]):
            if _related(self.ctx, flow.carries, list(categories)):
                caps |= self.flow(flow)
        self._visiting.discard(key)
        self._node[key] = caps
        return caps


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

    transfers = [h.status for h in hops if not h.collection and h.regimes]
    location = texts(c for f in flows for n in (f.from_, f.to) if ctx.in_group(n) for c in rg.countries(n))
    controllers = texts(
        _party_label(p)
        for f in flows
        if ctx.in_group(f.to) and not ctx.in_group(f.from_) and f.role in (Role.PROCESSOR, Role.SUBPROCESSOR)
        for p in [rg.organisation(f.from_)]
        # Only an organisation of kind "other" can be a customer; carriers, OTT providers and
        # sub-processors that hand data back are not the controllers of it.
        if p is not None and p.kind is PartyKind.OTHER
    )
    return {
        "activity": purpose,
        "controllers": controllers or (NOT_RECORDED,),
        "categories_of_individuals": subjects,
        "categories_of_personal_data": categories,
        "categories_of_recipients": texts(recipients),
        "subprocessors": texts(subprocessors),
        "other_recipients": texts(others),
        "joint_controllers": texts(joint),
        "third_countries": texts(third),
        "safeguards": texts(safeguards) or (("none needed",) if not third else ()),
        "retention": texts(retention) or (NOT_RECORDED,),
        "legal_basis": texts(f.legal_basis.value.replace("_", " ") for f in flows if f.legal_basis)
        or ((NOT_RECORDED,) if capacity == CONTROLLER else ()),
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
        (p.id, p.name, p.country, texts(s.name for s in rg.registry.systems if s.owner == p.id))
        for p in rg.registry.parties
        if p.id in ctx.group
    )
    sections = (
        Section(
            "organisation", "Controller and group companies (Art. 30(1)(a), 30(2)(a))", ORG_COLUMNS, org_rows,
            "Contact details, representatives and the DPO are not held in the registry.",
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
            "Security measures (Art. 30(1)(g), 30(2)(d)) are not held in the registry.",
            "Capacity per flow: a flow into the organisation in the role controller makes it a controller; "
            "a flow from outside in the role processor makes it a processor; other flows keep the capacity "
            "the data had where it came from.",
        ),
    )
