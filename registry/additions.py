"""Elements appended to a validated registry, checked on their own against it.

Validating a whole registry of 100k flows takes over a second; a registration adds one party
and one flow. `extend_registry` checks only the new elements — each against its model, its id
against every id in use, its references against the registry's ids — which is every check the
whole-document validation (`registry.loader`) would make that can involve a new element, since
appending cannot break an element that was valid. When any check fails, the whole appended
document is validated instead, so the issues a user sees are word for word those a file with
the same content gets (tests/test_additions.py compares both on valid and broken additions).

The result remembers its base and additions (`extension_of`), so `Flowreg.apply` can store
the change as a delta and extend the base's graph instead of rebuilding everything.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from registry.errors import RegistryError
from registry.loader import load_registry_data, validate_element
from registry.model import SECTIONS, Element, Registry
from registry.validation import check_references
from registry.yamlsource import Issue, ParsedYaml

# The sections whose ids other elements reference (rules, agreements and assessments are
# referenced by none; flows only by assessments, so their ids are gathered only when an
# assessment is appended: a registration must not cost O(flows)).
REFERENCED = ("categories", "subjects", "parties", "systems", "mechanisms", "flows")


@dataclass(frozen=True)
class Extension:
    """How a registry was made from another: `base` plus `additions`.

    `additions` are in content form (as `Registry.content()` writes them), per section, in
    order; `elements` are the same as validated models.
    """

    base: Registry
    additions: dict[str, list[dict[str, Any]]]
    elements: dict[str, list[Element]]


def extend_registry(registry: Registry, additions: Mapping[str, Sequence[Any]]) -> Registry:
    """Return `registry` with the elements of `additions` (plain dicts, as a registry file
    writes them, per section) appended to their sections.

    Raises RegistryError exactly as `load_registry_data` does for the appended document.

    >>> base = load_registry_data({"flowreg": 1, "organization": "x",
    ...     "parties": [{"id": "p", "name": "P", "kind": "subprocessor", "country": "DE"}]})
    >>> bigger = extend_registry(base, {"parties": [{"id": "q", "name": "Q", "kind": "subprocessor",
    ...     "country": "FR"}]})
    >>> [p.id for p in bigger.parties], extension_of(bigger).base is base
    (['p', 'q'], True)
    """
    for section, items in additions.items():
        if not isinstance(items, list | tuple):
            raise RegistryError([Issue(section, f"expected a list, got {type(items).__name__}")])
    elements = _checked(registry, additions)
    if elements is None:  # a problem: let the whole document say it in its own words
        content = registry.content()
        for section, items in additions.items():
            content.setdefault(section, []).extend(items)
        return load_registry_data(content, known_ids=registry.index())

    update = {s: [*getattr(registry, s), *found] for s, found in elements.items() if found}
    extended = registry.model_copy(update=update)
    index = dict(registry.index())
    index.update((e.id, e) for found in elements.values() for e in found)
    extended._index = index
    as_content = {
        s: [e.model_dump(mode="json", by_alias=True, exclude_defaults=True) for e in found]
        for s, found in elements.items() if found
    }
    extended._extension = Extension(registry, as_content, {s: f for s, f in elements.items() if f})
    return extended


def extension_of(registry: Registry) -> Extension | None:
    """The base and additions `registry` was made from by `extend_registry`, if it was."""
    return registry._extension


def append_registry(store: Any, registry: Registry, *, author: str, message: str, expected_head: int) -> Any:
    """Write `registry` as the revision after `expected_head`, whose content its base must be
    (the caller read it from that revision): as its additions alone where the store can
    (`append_additions`), else whole. Returns the new revision."""
    extension = extension_of(registry)
    append_additions = getattr(store, "append_additions", None)
    if extension is not None and append_additions is not None:
        return append_additions(extension.additions, author=author, message=message,
                                expected_head=expected_head)
    return store.append(registry.content(), author=author, message=message, expected_head=expected_head)


def _checked(registry: Registry, additions: Mapping[str, Sequence[Any]]) -> dict[str, list[Element]] | None:
    """The validated new elements per section, or None when anything is wrong with them."""
    parsed = ParsedYaml(value={})
    issues: list[Issue] = []
    found: dict[str, list[tuple[int, Element]]] = {}
    for section, items in additions.items():
        model = SECTIONS.get(section)
        if model is None:
            return None
        offset = len(getattr(registry, section))
        found[section] = []
        for i, item in enumerate(items):
            element = validate_element(model, item, (section, offset + i), parsed, issues,
                                       {"known_ids": registry.index()})
            if element is None:
                return None
            found[section].append((offset + i, element))

    elements = {section: [e for _, e in pairs] for section, pairs in found.items()}
    known = {section: [e.id for e in getattr(registry, section)] for section in REFERENCED
             if section != "flows" or "assessments" in elements}
    return elements if additions_fit(elements, registry.index(), known) else None


def additions_fit(
    elements: Mapping[str, Sequence[Element]], in_use: Container[str], known: Mapping[str, Iterable[str]]
) -> bool:
    """Whether validated new elements fit a registry: their ids are new (`in_use` holds the
    registry's ids) and every id they reference exists, counting each other (`known`: the ids
    of the registry's `REFERENCED` sections)."""
    new_ids: set[str] = set()
    for found in elements.values():
        for element in found:
            if element.id in in_use or element.id in new_ids:
                return False
            new_ids.add(element.id)
    raw_ids = {section: dict.fromkeys(known.get(section, ())) for section in REFERENCED}
    for section, found in elements.items():
        if section in raw_ids:
            raw_ids[section].update(dict.fromkeys(e.id for e in found))
    indexed = {section: list(enumerate(found)) for section, found in elements.items()}
    return not check_references(ParsedYaml(value={}), indexed, raw_ids)
