"""The parts of the Art. 30 record that are about the organisation rather than one activity:
the controller block (30(1)(a), 30(2)(a)), the categories with their special kind and retention
(30(1)(c), (f); Art. 9, 10), each system's security measures (30(1)(g), 30(2)(d)), each processor
relation's contract (Art. 28(3)), the controllers served (30(2)(a)), and a checklist of the
Art. 30 items saying where the record holds each and naming every one the registry lacks.

Every row states a missing item as missing (`NOT_RECORDED`, or the checklist's "missing: ..."),
never as an empty cell. Each section has at most nine columns, so the PDF shows all of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lineage.contracts import DpaCheck, describe_dpa, dpa_check
from lineage.reports.context import ReportContext
from lineage.reports.model import Cell, Column, Section, texts
from registry.ids import AgreementKind, Regime, Role, SpecialKind
from registry.model import Category, Party, System

NOT_RECORDED = "(not recorded in the registry)"
NO_PURPOSE = "(purpose not recorded)"
SPECIAL_WORDS = {SpecialKind.ART9: "Art. 9 special category", SpecialKind.ART10: "Art. 10 criminal-offence data"}

DETAIL_COLUMNS = (Column("item", "Item"), Column("value", "Value"), Column("source", "Documented in"))
CATEGORY_COLUMNS = (
    Column("category", "Id"),
    Column("name", "Category of personal data"),
    Column("special", "Special kind (Art. 9, 10)"),
    Column("condition", "Art. 9(2) condition"),
    Column("retention", "Retention (time limit for erasure)"),
    Column("source", "Documented in"),
)
SECURITY_COLUMNS = (
    Column("system", "System"),
    Column("name", "Name"),
    Column("owner", "Run by"),
    Column("country", "Country"),
    Column("measures", "Technical and organisational measures"),
    Column("source", "Documented in"),
)
CONTRACT_COLUMNS = (
    Column("counterpart", "Controller or processor it works for"),
    Column("processor", "Processor"),
    Column("role", "Role"),
    Column("flows", "Flows"),
    Column("agreement", "Contract (Art. 28(3))"),
    Column("term", "In force"),
    Column("authorisation", "Sub-processor authorisation (Art. 28(2))"),
    Column("document", "Signed copy"),
    Column("state", "State on the date"),
)
SERVED_COLUMNS = (
    Column("party", "Id"),
    Column("name", "Controller served"),
    Column("country", "Country"),
    Column("contact", "Contact"),
    Column("agreement", "Contract"),
)
CHECKLIST_COLUMNS = (
    Column("item", "Item"),
    Column("requirement", "What it asks for"),
    Column("where", "Where this record holds it"),
    Column("state", "State"),
)
# GDPR Art. 30(1) and 30(2), item by item, and where this record answers each (section names,
# then `section: column`); 28(3) is asked for with them by every template (ICO: "link to the
# processor contract").
CHECKLIST = (
    ("30(1)(a)", "name and contact details of the controller, joint controller, representative and DPO",
     "controller_details; organisation"),
    ("30(1)(b)", "the purposes of the processing", "controller: activity"),
    ("30(1)(c)", "categories of data subjects and of personal data",
     "controller: categories_of_individuals, categories_of_personal_data; categories"),
    ("30(1)(d)", "categories of recipients, including in third countries", "controller: categories_of_recipients"),
    ("30(1)(e)", "transfers to third countries and the documentation of suitable safeguards",
     "controller: third_countries, safeguards (and the transfer register)"),
    ("30(1)(f)", "envisaged time limits for erasure of the categories of data", "categories: retention; controller: retention"),
    ("30(1)(g)", "general description of the technical and organisational security measures (Art. 32(1))", "security"),
    ("30(2)(a)", "name and contact details of the processor, each controller served, representative and DPO",
     "controller_details; controllers_served"),
    ("30(2)(b)", "categories of processing carried out on behalf of each controller", "processor: activity, controllers"),
    ("30(2)(c)", "transfers to third countries and the documentation of suitable safeguards",
     "processor: third_countries, safeguards (and the transfer register)"),
    ("30(2)(d)", "general description of the technical and organisational security measures", "security"),
    ("28(3)", "a contract with each processor (asked for with the record)", "processor_contracts"),
)


def _or_missing(value: Any) -> Any:
    return value if value else NOT_RECORDED


def _more(items: list[str], limit: int = 6) -> str:
    head = ", ".join(items[:limit])
    return head + (f" and {len(items) - limit} more" if len(items) > limit else "")


# --- the controller block -------------------------------------------------------------------------
def established_in_eea(ctx: ReportContext) -> list[str]:
    """The organisation's parties inside the EU GDPR area on the date (Art. 27 asks for a
    representative only of a controller without one)."""
    eu = Regime.EU.value
    return [p.id for p in ctx.rg.registry.parties
            if p.id in ctx.group and p.country and eu in ctx.law.regimes and ctx.law.in_area(eu, p.country, ctx.day)]


def controller_section(ctx: ReportContext) -> Section:
    reg = ctx.rg.registry
    c = reg.controller
    dpo = c.dpo if c else None
    rep = c.representative if c else None
    established = established_in_eea(ctx)
    if rep is None and established:
        rep_name = f"not required: established in the EEA ({', '.join(established)})"
    else:
        rep_name = rep.name if rep else NOT_RECORDED
    rows: list[tuple[Cell, ...]] = [
        ("Controller (legal name)", c.name if c else f"{NOT_RECORDED}; the registry's organization is "
         f"'{reg.organization}'", c.source if c else None),
        ("Address", _or_missing(c and c.address), c.source if c else None),
        ("Contact", _or_missing(c and c.contact), c.source if c else None),
        ("Data protection officer (Art. 37)", _or_missing(dpo and dpo.name), dpo.source if dpo else None),
        ("DPO contact", _or_missing(dpo and dpo.contact), dpo.source if dpo else None),
        ("Representative in the EEA (Art. 27)", rep_name, rep.source if rep else None),
    ]
    if rep is not None:
        rows += [("Representative contact", _or_missing(rep.contact), rep.source),
                 ("Representative country", _or_missing(rep.country), rep.source)]
    joint = joint_controllers(ctx)
    rows.append(("Joint controllers (Art. 26)", joint or "none recorded", None))
    return Section(
        "controller_details", "Controller, DPO and representative (Art. 30(1)(a), 30(2)(a))", DETAIL_COLUMNS,
        tuple(rows), "From the registry's controller block; an item it lacks is marked as not recorded.",
    )


def joint_controllers(ctx: ReportContext) -> tuple[str, ...]:
    """Parties outside the organisation in a joint-controller arrangement in force on the date,
    or receiving data as joint controller on an active flow."""
    rg = ctx.rg
    out = []
    for agreement in rg.registry.agreements:
        if agreement.kind is AgreementKind.JOINT_CONTROLLER and agreement.in_force(ctx.day):
            for pid in agreement.parties:
                if pid not in ctx.group:
                    out.append(f"{party_contact(ctx, pid)} ({agreement.id})")
    for flow in rg.active_flows(ctx.day):
        party = rg.organisation(flow.to)
        if flow.role is Role.JOINT_CONTROLLER and party is not None and party.id not in ctx.group:
            out.append(f"{party_contact(ctx, party.id)} (flow {flow.id})")
    return texts(out)


def party_contact(ctx: ReportContext, party_id: str) -> str:
    party = ctx.rg.registry.get(party_id)
    if not isinstance(party, Party):
        return party_id
    return f"{party.name} ({party.country or 'country unknown'}), contact: {party.contact or 'not recorded'}"


# --- categories, security -------------------------------------------------------------------------
def category_retention(ctx: ReportContext, category: Category) -> tuple[int, str] | None:
    """The category's retention, or its nearest ancestor's (the data is part of it)."""
    node: str | None = category.id
    while node is not None:
        element = ctx.rg.registry.get(node)
        if isinstance(element, Category) and element.retention_days is not None:
            return element.retention_days, element.id
        node = element.parent if isinstance(element, Category) else None
    return None


def _condition(category: Category) -> str:
    if category.condition is not None:
        letter = category.condition.value.rsplit("-", 1)[-1]
        return f"Art. 9(2)({letter})"
    return "not applicable" if category.special is SpecialKind.ART10 else ""


def categories_section(ctx: ReportContext) -> Section:
    rows = []
    for category in ctx.rg.registry.categories:
        kept = category_retention(ctx, category)
        if kept is None:
            retention: Cell = NOT_RECORDED
        else:
            days, holder = kept
            retention = f"{days} days" + ("" if holder == category.id else f" (as {holder})")
        rows.append((category.id, category.name, SPECIAL_WORDS.get(category.special, "no") if category.special else "no",
                     _condition(category), retention, category.source))
    return Section(
        "categories", "Categories of personal data (Art. 30(1)(c), (f); Art. 9, 10)", CATEGORY_COLUMNS, tuple(rows),
        "Every category in the registry; a category without its own retention takes its nearest ancestor's.",
    )


def group_systems(ctx: ReportContext) -> list[System]:
    return [s for s in ctx.rg.registry.systems if s.owner in ctx.group]


def security_section(ctx: ReportContext) -> Section:
    rows = tuple(
        (s.id, s.name, ctx.name(s.owner), s.country, tuple(s.security_measures) or NOT_RECORDED, s.source)
        for s in group_systems(ctx)
    )
    return Section(
        "security", "Security measures (Art. 30(1)(g), 30(2)(d); Art. 32)", SECURITY_COLUMNS, rows,
        "The organisation's systems and the measures recorded for each.",
    )


def security_of(ctx: ReportContext, nodes: Iterable[str]) -> tuple[str, ...]:
    """'system: measure, measure' for each of the organisation's systems among `nodes`."""
    out = []
    for node in nodes:
        element = ctx.rg.registry.get(node)
        if isinstance(element, System) and element.owner in ctx.group:
            measures = ", ".join(element.security_measures) or NOT_RECORDED
            out.append(f"{element.name}: {measures}")
    return texts(out)


# --- processor contracts, controllers served ------------------------------------------------------
def dpa_checks(ctx: ReportContext) -> list[DpaCheck]:
    """The DPA check of every active flow that needs one, in registry order."""
    rg = ctx.rg
    found = (dpa_check(rg, ctx.record, flow, ctx.day) for flow in rg.active_flows(ctx.day))
    return [check for check in found if check is not None]


def dpa_state(ctx: ReportContext, check: DpaCheck) -> str:
    """'in force', or why not: missing, ended on D, signed only on D."""
    if check.agreement is not None:
        return "in force"
    why, agreement = check.gap(ctx.day)
    if why == "later" and agreement is not None:
        return f"missing: {agreement.id} is in force only from {agreement.signed}"
    if why == "ended" and agreement is not None:
        return f"missing: {agreement.id} ended on {agreement.valid_until}"
    return f"missing: no dpa in force on {ctx.day}"


def dpa_line(ctx: ReportContext, check: DpaCheck) -> str:
    """One line per relation for the activity tables."""
    who = ctx.name(check.processor)
    if check.agreement is None:
        return f"{who}: ({dpa_state(ctx, check)})"
    return f"{who}: {describe_dpa(check.agreement)}"


def contracts_section(ctx: ReportContext, checks: list[DpaCheck]) -> Section:
    grouped: dict[tuple[str, tuple[str, ...], bool], list[DpaCheck]] = {}
    roles: dict[tuple[str, tuple[str, ...], bool], list[str]] = {}
    for check in checks:
        key = (check.processor, check.counterparts, check.outside)
        grouped.setdefault(key, []).append(check)
        role = ctx.flow(check.flow).role
        roles.setdefault(key, []).append(role.value if role else "")
    rows = []
    for key, found in grouped.items():
        first = found[0]
        agreement = first.agreement
        rows.append((
            first.counterpart_text(),
            f"{ctx.name(first.processor)} ({first.processor})",
            texts(roles[key]),
            tuple(c.flow for c in found),
            agreement.id if agreement else "(none in force)",
            (f"{agreement.signed} to {agreement.valid_until or 'open'}") if agreement else "",
            (agreement.authorisation.value if agreement.authorisation else NOT_RECORDED) if agreement else "",
            (agreement.document or NOT_RECORDED) if agreement else "",
            dpa_state(ctx, first),
        ))
    return Section(
        "processor_contracts", "Processor contracts (Art. 28(3))", CONTRACT_COLUMNS, tuple(rows),
        f"Every processor relation with a flow active on {ctx.day}; a relation is a processor and the "
        "organisation that sends it the data.",
    )


def controllers_served(ctx: ReportContext, checks: list[DpaCheck]) -> dict[str, str | None]:
    """The controllers the organisation processes for, each with the contract in force (None
    when unknown): parties of kind other sending data into it as its processor, and the parties
    outside it in the DPAs of collections it makes as processor."""
    rg = ctx.rg
    out: dict[str, str | None] = {}
    for flow in rg.active_flows(ctx.day):
        sender = rg.organisation(flow.from_) if rg.node_kind(flow.from_) != "subject" else None
        if (ctx.in_group(flow.to) and not ctx.in_group(flow.from_) and flow.role in (Role.PROCESSOR, Role.SUBPROCESSOR)
                and sender is not None and sender.kind.value == "other"):
            out.setdefault(sender.id, None)
    for check in checks:
        if check.outside:
            for agreement in check.in_force:
                for pid in agreement.parties:
                    if pid not in ctx.group:
                        out[pid] = agreement.id
    return out


def served_section(ctx: ReportContext, checks: list[DpaCheck], acts_as_processor: bool) -> Section:
    served = controllers_served(ctx, checks)
    rows: list[tuple[Cell, ...]] = []
    for pid, agreement in served.items():
        party = ctx.rg.registry.get(pid)
        if isinstance(party, Party):
            rows.append((pid, party.name, party.country or "country unknown", party.contact or NOT_RECORDED,
                         agreement or "(no dpa in force recorded)"))
    if not rows and acts_as_processor:
        rows.append((NOT_RECORDED, "the controllers the organisation processes for are not in the registry",
                     None, NOT_RECORDED, NOT_RECORDED))
    return Section(
        "controllers_served", "Controllers served as processor (Art. 30(2)(a))", SERVED_COLUMNS, tuple(rows),
        "Parties on whose behalf the organisation processes data, with their contact for Art. 30(2)(a).",
    )


# --- the checklist --------------------------------------------------------------------------------
def checklist_section(ctx: ReportContext, found: dict[str, list[dict[str, Cell]]], checks: list[DpaCheck],
                      sections: dict[str, Section]) -> Section:
    """One row per Art. 30 item: where this record holds it and, from the record's own rows,
    'held' or 'missing: ...' naming each item the registry lacks on the date."""
    def missing_in(section: str, column: str) -> list[str]:
        table = sections[section]
        keys = [c.key for c in table.columns]
        first = keys[0]
        return [f"{r[first]}" for r in table.records() if _is_missing(r[column])]

    details = {r["item"]: r["value"] for r in sections["controller_details"].records()}
    controller_gaps = [item for item, value in details.items() if _is_missing(value)]
    purposes = texts(f for acts in found.values() for a in acts if a["activity"] == NO_PURPOSE
                     for f in a["flows"] or ())  # type: ignore[union-attr]
    used = ctx.rg.used
    retention_gaps = [r["category"] for r in sections["categories"].records()
                      if r["category"] in used and _is_missing(r["retention"])]
    security_gaps = missing_in("security", "measures")
    no_dpa = [c.flow for c in checks if c.agreement is None]
    unknown = texts(h.flow for h in ctx.hops() if h.status.value == "unknown")
    served = sections["controllers_served"].records()
    served_gaps = [f"{r['party']}" for r in served if _is_missing(r["contact"]) or _is_missing(r["party"])]
    processing = bool(found["processor"])

    def state(*parts: tuple[list[str] | tuple[str, ...], str]) -> str:
        named = [f"{what}{_more(list(gaps))}" for gaps, what in parts if gaps]
        return "missing: " + "; ".join(named) if named else "held"

    transfers = state((unknown, "the location of the ends of flows "))
    states = {
        "30(1)(a)": state((controller_gaps, "")),
        "30(1)(b)": state((purposes, "the purpose of flows ")),
        "30(1)(c)": "held",
        "30(1)(d)": "held",
        "30(1)(e)": transfers,
        "30(1)(f)": state((retention_gaps, "the retention of categories ")),
        "30(1)(g)": state((security_gaps, "the security measures of systems ")),
        "30(2)(a)": state((controller_gaps, ""), (served_gaps, "the contact of controllers served "))
        if processing else "not applicable: no processing as processor on this date",
        "30(2)(b)": "held" if processing else "not applicable: no processing as processor on this date",
        "30(2)(c)": transfers if processing else "not applicable: no processing as processor on this date",
        "30(2)(d)": state((security_gaps, "the security measures of systems "))
        if processing else "not applicable: no processing as processor on this date",
        "28(3)": state((no_dpa, "a dpa in force for flows ")),
    }
    rows = tuple((item, requirement, where, states[item]) for item, requirement, where in CHECKLIST)
    return Section(
        "checklist", "Art. 30 items and where this record holds them", CHECKLIST_COLUMNS, rows,
        "Each item of Art. 30(1) and 30(2): 'held' when the registry holds it, else what is missing.",
    )


def _is_missing(value: Cell) -> bool:
    if isinstance(value, tuple):
        return any(_is_missing(v) for v in value)
    return isinstance(value, str) and value.startswith(NOT_RECORDED)
