"""Changes to a registry as pure functions: a registry in, a new validated registry out.

Every change passes exactly the checks a YAML file with the same content does: additions go
through `registry.additions.extend_registry` (the new elements checked against the registry,
with the whole document's wording on any problem), other changes through `load_registry_data`;
nothing here re-implements validation. What is added here is the translation of issue paths: the person
typing `flowreg subprocessor add` never saw `parties[24].country`, so issues on the new elements
name the option they came from (`--country: 'XX' is not an ISO 3166-1 alpha-2 country code`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from registry.additions import extend_registry
from registry.errors import RegistryError
from registry.ids import FRAMEWORK_IDS, check_id, slug
from registry.loader import load_registry_data
from registry.model import SECTIONS, Registry
from registry.yamlsource import Issue

# Which CLI option each field of the new party and the new flow comes from.
PARTY_OPTIONS = {
    "id": "--id",
    "name": "--name",
    "country": "--country",
    "kind": "--kind",
    "certifications": "--certification",
    "public_list": "--public-list",
    "source": "--source",
}
FLOW_OPTIONS = {
    "id": "--flow-id",
    "from": "--from-system",
    "to": "--id",
    "carries": "--category",
    "purpose": "--purpose",
    "role": "--role",
    "under": "--under",
    "source": "--source",
}
# The optional processor contract (a dpa between the sending system's owner and the new party).
AGREEMENT_OPTIONS = {
    "id": "--id",
    "parties": "--from-system",
    "signed": "--dpa-signed",
    "valid_until": "--dpa-valid-until",
    "authorisation": "--dpa-authorisation",
    "document": "--dpa-document",
    "source": "--source",
}
OPTION_ORDER = (
    "--id", "--name", "--country", "--category", "--from-system", "--kind", "--purpose", "--role",
    "--under", "--certification", "--public-list", "--flow-id", "--dpa-signed", "--dpa-valid-until",
    "--dpa-authorisation", "--dpa-document", "--source",
)  # fmt: skip
_ELEMENT_PATH = re.compile(r"^(?P<section>[a-z_]+)\[(?P<index>\d+)\](?:\.(?P<field>[a-z_]+))?")


def add_subprocessor(
    registry: Registry,
    *,
    party_id: str,
    name: str,
    country: str,
    categories: Sequence[str],
    from_system: str,
    kind: str = "subprocessor",
    purpose: str | None = None,
    role: str | None = "subprocessor",
    under: Sequence[str] = (),
    certifications: Sequence[Mapping[str, Any]] = (),
    public_list: bool | None = None,
    flow_id: str | None = None,
    source: str | None = None,
    dpa: Mapping[str, Any] | None = None,
) -> Registry:
    """Return `registry` plus a new party and one flow from `from_system` to it.

    The flow carries `categories`; its id defaults to `<from_system>-to-<party_id>`, with a
    numeric suffix when that id is taken. With `dpa` (`signed`, and optionally `valid_until`,
    `authorisation`, `document`), a processor contract between the sender's organisation (the
    system's owner, or the party) and the new party is added too, as `dpa-<party_id>`. Raises
    RegistryError whose issue paths name the CLI options (`--country`, `--category`,
    `--dpa-signed`...); nothing about `registry` changes either way.
    """
    country = country.strip().upper()  # 'de' is an obvious typo for 'DE'; anything else is checked
    early = _precheck(registry, party_id, categories, from_system, flow_id, under)

    party: dict[str, Any] = {"id": party_id, "name": name, "kind": kind, "country": country}
    if certifications:
        party["certifications"] = [dict(c) for c in certifications]
    if public_list is not None:
        party["public_list"] = public_list
    if source is not None:
        party["source"] = source

    flow: dict[str, Any] = {
        "id": flow_id or free_id(registry, slug(f"{from_system}-to-{party_id}")),
        "from": from_system,
        "to": party_id,
        "carries": list(categories),
    }
    optional = {"purpose": purpose, "role": role, "under": list(under), "source": source}
    flow.update({key: value for key, value in optional.items() if value})

    party_index, flow_index = len(registry.parties), len(registry.flows)
    renamed = {("parties", party_index): PARTY_OPTIONS, ("flows", flow_index): FLOW_OPTIONS,
               ("agreements", len(registry.agreements)): AGREEMENT_OPTIONS}
    additions: dict[str, list[dict[str, Any]]] = {"parties": [party], "flows": [flow]}
    if dpa is not None:
        additions["agreements"] = [_dpa(registry, party_id, from_system, dpa, source)]
    try:
        updated = extend_registry(registry, additions)
        late: list[Issue] = []
    except RegistryError as exc:
        late = [_rename(issue, renamed) for issue in exc.issues]
    # The document checks skip references of an element that failed its own checks (one issue
    # per broken element), so the prechecks run regardless and, for the options they cover,
    # replace the document's wording; together they report every problem at once.
    covered = {issue.path for issue in early}
    if flow_id is None and any(issue.path == "--id" for issue in early):
        covered.add("--flow-id")  # the default flow id is made from --id: one problem, one issue
    # dict.fromkeys: the party id is also the flow's `to`, so one bad --id would show twice.
    issues = list(dict.fromkeys(early + [i for i in late if i.path not in covered]))
    if issues:
        raise RegistryError(sorted(issues, key=_option_rank))
    return updated


def _dpa(registry: Registry, party_id: str, from_system: str, dpa: Mapping[str, Any], source: str | None) -> dict[str, Any]:
    """The processor contract between the sender's organisation and the new party."""
    sender = registry.get(from_system)
    owner = getattr(sender, "owner", None) if sender is not None and registry.kind_of(from_system) == "system" else None
    agreement: dict[str, Any] = {"id": free_id(registry, f"dpa-{party_id}"), "kind": "dpa",
                                 "parties": [owner or from_system, party_id]}
    agreement.update({key: value for key, value in dpa.items() if value not in (None, "")})
    if source is not None:
        agreement["source"] = source
    return agreement


def apply_change(
    registry: Registry,
    add: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
    remove: Iterable[str] = (),
) -> Registry:
    """Return `registry` with the elements `remove` names taken out, then the `add` ones appended.

    `add` maps a section name (`parties`, `flows`, ...) to new elements as plain dicts, the way a
    registry file writes them. Editing an element is removing its id and adding its new version.
    Removal does not cascade: removing a party that flows still name is reported as the
    dangling references it leaves, so nothing disappears that the user did not ask to remove.
    """
    add = add or {}
    remove = list(remove)
    if not remove and set(add) <= set(SECTIONS) and all(
        isinstance(e, Mapping) for elements in add.values() for e in elements
    ):
        return extend_registry(registry, {s: [dict(e) for e in v] for s, v in add.items()})
    issues: list[Issue] = []
    for section in add:
        if section not in SECTIONS:
            issues.append(Issue(f"add.{section}", f"unknown section; one of {', '.join(SECTIONS)}"))
    index = registry.index()
    for position, element_id in enumerate(remove):
        if element_id not in index:
            issues.append(Issue(f"remove[{position}]", f"unknown id '{element_id}'"))
    if issues:
        raise RegistryError(issues)

    content = registry.content()
    doomed = set(remove)
    for section in SECTIONS:
        if section in content:
            content[section] = [e for e in content[section] if e.get("id") not in doomed]
    for section, elements in add.items():
        content.setdefault(section, []).extend(
            dict(e) if isinstance(e, Mapping) else e for e in elements
        )
    # Sections a removal emptied are dropped, as `content()` leaves out empty defaults.
    content = {k: v for k, v in content.items() if not (k in SECTIONS and v == [])}
    return load_registry_data(content, known_ids=registry.index())


def _precheck(
    registry: Registry,
    party_id: str,
    categories: Sequence[str],
    from_system: str,
    flow_id: str | None,
    under: Sequence[str],
) -> list[Issue]:
    """Problems with the references the options make, checked against `registry` directly."""
    issues: list[Issue] = []
    try:
        check_id(party_id)
    except ValueError as exc:
        issues.append(Issue("--id", str(exc)))
    if registry.get(party_id) is not None:
        issues.append(
            Issue("--id", f"'{party_id}' is already used by a {registry.kind_of(party_id)}")
        )
    if not categories:
        issues.append(Issue("--category", "give at least one category the sub-processor receives"))
    for category in categories:
        if registry.kind_of(category) != "category":
            issues.append(Issue("--category", f"unknown category '{category}'"))
    for claimed in under:
        if registry.kind_of(claimed) != "mechanism" and claimed not in FRAMEWORK_IDS:
            issues.append(
                Issue(
                    "--under",
                    f"unknown mechanism '{claimed}' (neither a mechanism id nor a built-in "
                    f"framework: {', '.join(sorted(FRAMEWORK_IDS))})",
                )
            )
    source_kind = registry.kind_of(from_system)
    if source_kind is None:
        known = [s.id for s in registry.systems]
        listed = ", ".join(known[:8]) + (", ..." if len(known) > 8 else "") or "none defined"
        issues.append(Issue("--from-system", f"unknown system '{from_system}' (systems: {listed})"))
    elif source_kind not in ("system", "party"):
        issues.append(
            Issue("--from-system", f"'{from_system}' is a {source_kind}, not a system or party")
        )
    if flow_id is not None and registry.get(flow_id) is not None:
        issues.append(
            Issue("--flow-id", f"'{flow_id}' is already used by a {registry.kind_of(flow_id)}")
        )
    return issues


def _option_rank(issue: Issue) -> int:
    """Issues in the order the options appear in `flowreg subprocessor add --help`."""
    path = issue.path
    return OPTION_ORDER.index(path) if path in OPTION_ORDER else len(OPTION_ORDER)


def free_id(registry: Registry, wanted: str) -> str:
    """`wanted`, or `wanted-2`, `wanted-3`... whichever no element uses yet."""
    candidate, n = wanted, 1
    while registry.get(candidate) is not None:
        n += 1
        candidate = f"{wanted}-{n}"
    return candidate


def _rename(issue: Any, renamed: dict[tuple[str, int], dict[str, str]]) -> Any:
    """The issue with its path replaced by the CLI option, if it is about a new element."""
    match = _ELEMENT_PATH.match(getattr(issue, "path", ""))
    if not match:
        return issue
    options = renamed.get((match["section"], int(match["index"])))
    field = match["field"] or "id"
    if options is None or field not in options:
        return issue
    return Issue(options[field], issue.message, None)
