"""Whole-file checks: unique ids, references, category parents, kinds that fit, DPV terms.

`check_references` works on the elements that passed their own model checks plus the ids of
those that did not, so one broken element yields one issue, not a cascade of "unknown id"s.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from registry.dpv import personal_data_problem
from registry.ids import FRAMEWORK_IDS, MechanismKind
from registry.model import (
    Agreement,
    Assessment,
    Category,
    Element,
    Flow,
    Mechanism,
    Party,
    Rule,
    SubjectGroup,
    System,
)
from registry.yamlsource import Issue, ParsedYaml, Path, format_path

NEEDS_MEMBERS = {MechanismKind.BCR, MechanismKind.SCC, MechanismKind.IDTA, MechanismKind.UK_ADDENDUM}


class _Collector:
    def __init__(self, parsed: ParsedYaml) -> None:
        self.parsed = parsed
        self.issues: list[Issue] = []

    def add(self, path: Path, message: str) -> None:
        self.issues.append(Issue(format_path(path), message, self.parsed.line_of(path)))


def check_references(
    parsed: ParsedYaml,
    elements: dict[str, list[tuple[int, Element]]],
    raw_ids: dict[str, dict[str, Path]],
) -> list[Issue]:
    """Return the issues found across sections.

    `elements` maps a section to its valid (index, element) pairs; `raw_ids` maps a section to every
    id written in it (valid element or not) and that id's path.
    """
    out = _Collector(parsed)
    ids_of = {section: set(found) for section, found in raw_ids.items()}
    categories = ids_of.get("categories", set())
    subjects, parties = ids_of.get("subjects", set()), ids_of.get("parties", set())
    systems, mechanisms = ids_of.get("systems", set()), ids_of.get("mechanisms", set())
    party_or_system = parties | systems
    flow_sources = subjects | party_or_system  # built once: per flow it made validation quadratic
    # Only assessments reference flows; a caller that appends none may leave the flows out.
    flows = ids_of.get("flows", set())

    def refs(path: Path, values: Iterable[str], allowed: set[str], what: str) -> None:
        for i, value in enumerate(values):
            if value not in allowed:
                out.add(path + (i,), f"unknown {what} '{value}'")

    for section, index, element in _each(elements):
        path: Path = (section, index)
        if isinstance(element, Category):
            parent = element.parent
            if parent is not None and parent not in categories:
                out.add(path + ("id",), f"parent category '{parent}' of '{element.id}' is not defined")
            if element.dpv is not None:
                problem = personal_data_problem(element.dpv)
                if problem:
                    out.add(path + ("dpv",), problem)
        elif isinstance(element, System):
            if element.owner not in parties:
                out.add(path + ("owner",), f"unknown party '{element.owner}'")
        elif isinstance(element, Mechanism):
            refs(path + ("members",), element.members, parties, "party")
            if element.kind in NEEDS_MEMBERS and len(element.members) < 2:
                out.add(path + ("members",), f"a {element.kind.value} needs at least two member parties")
        elif isinstance(element, Flow):
            _check_flow(out, path, element, subjects, flow_sources, party_or_system, categories, mechanisms)
        elif isinstance(element, Rule):
            check = element.deny or element.retention
            key = "deny" if element.deny else "retention"
            refs(path + (key, "categories"), check.categories, categories, "category")
            if element.deny:
                refs(path + ("deny", "to"), element.deny.to, party_or_system, "party or system")
        elif isinstance(element, Agreement):
            refs(path + ("parties",), element.parties, parties, "party")
        elif isinstance(element, Assessment):
            refs(path + ("flows",), element.flows, flows, "flow")
        elif isinstance(element, SubjectGroup | Party):
            pass  # fully checked by their own models
    return out.issues


def _check_flow(
    out: _Collector,
    path: Path,
    flow: Flow,
    subjects: set[str],
    sources: set[str],
    party_or_system: set[str],
    categories: set[str],
    mechanisms: set[str],
) -> None:
    if flow.from_ not in sources:
        out.add(path + ("from",), f"unknown subject group, system or party '{flow.from_}'")
    if flow.to not in party_or_system:
        hint = " (a subject group cannot receive a flow)" if flow.to in subjects else ""
        out.add(path + ("to",), f"unknown system or party '{flow.to}'{hint}")
    if flow.from_ == flow.to:
        out.add(path + ("to",), "a flow cannot go from a node to itself")
    for i, category in enumerate(flow.carries):
        if category not in categories:
            out.add(path + ("carries", i), f"unknown category '{category}'")
    for i, claimed in enumerate(flow.under):
        if claimed not in mechanisms and claimed not in FRAMEWORK_IDS:
            out.add(
                path + ("under", i),
                f"unknown mechanism '{claimed}' (neither a mechanism id nor a built-in framework: "
                f"{', '.join(sorted(FRAMEWORK_IDS))})",
            )


def _each(elements: dict[str, list[tuple[int, Element]]]) -> Iterable[tuple[str, int, Element]]:
    for section, pairs in elements.items():
        for index, element in pairs:
            yield section, index, element


def collect_ids(parsed: ParsedYaml, sections: Iterable[str]) -> tuple[dict[str, dict[str, Path]], list[Issue]]:
    """Find every id written in the file and report ids used twice (across all sections)."""
    out = _Collector(parsed)
    seen: dict[str, Path] = {}
    by_section: dict[str, dict[str, Path]] = {}
    doc: Any = parsed.value if isinstance(parsed.value, dict) else {}
    for section in sections:
        items = doc.get(section)
        by_section[section] = {}
        if not isinstance(items, list):
            continue
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                continue
            element_id = item["id"]
            path: Path = (section, index, "id")
            if element_id in seen:
                first = seen[element_id]
                out.add(
                    path,
                    f"duplicate id '{element_id}' (first at {format_path(first)}, "
                    f"line {parsed.line_of(first)})",
                )
                continue
            seen[element_id] = path
            by_section[section][element_id] = path
    return by_section, out.issues
