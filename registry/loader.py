"""Registry text or file in, a validated `Registry` or a `RegistryError` listing every issue out."""

from __future__ import annotations

from collections.abc import Container
from pathlib import Path as FsPath
from typing import Any

from pydantic import ValidationError

from registry.errors import RegistryError
from registry.gcpause import paused_gc
from registry.model import SECTIONS, Element, Registry
from registry.validation import check_references, collect_ids
from registry.yamlsource import (
    Issue,
    ParsedYaml,
    Path,
    decode_text,
    format_path,
    parse_yaml,
    read_source,
)


def load_registry_file(path: str | FsPath) -> Registry:
    """Read, parse and validate a registry file (`-`: standard input), reading at most
    MAX_FILE_BYTES.

    Raises RegistryError with every issue found (never only the first).
    """
    return load_registry_bytes(read_source(path))


def load_registry_bytes(raw: bytes) -> Registry:
    """Decode UTF-8 (with or without BOM) and validate."""
    return load_registry_text(decode_text(raw))


def load_registry_text(text: str) -> Registry:
    """Parse and validate registry YAML text."""
    parsed = parse_yaml(text)
    if parsed.issues and parsed.value is None:
        raise RegistryError(parsed.issues)
    return validate_document(parsed)


def load_registry_data(
    data: dict[str, Any], *, stored: bool = False, known_ids: Container[str] = ()
) -> Registry:
    """Validate an already-parsed document (from a form, a generator or JSON).

    `stored`: the content of a stored revision, whose ids are read as they were written;
    `known_ids`: the ids of the registry this document changes, kept as they are even if they
    predate the id pattern (`registry.ids`).
    """
    return validate_document(ParsedYaml(value=data), stored=stored, known_ids=known_ids)


def validate_document(
    parsed: ParsedYaml, *, stored: bool = False, known_ids: Container[str] = ()
) -> Registry:
    """Check a parsed document element by element, then across elements; raise on any issue."""
    context = {"stored": True} if stored else {"known_ids": known_ids} if known_ids else None
    with paused_gc():  # every element built here stays alive (registry/gcpause.py)
        return _validate_document(parsed, context)


def _validate_document(parsed: ParsedYaml, context: dict[str, Any] | None) -> Registry:
    issues = list(parsed.issues)
    doc = parsed.value
    if doc is None:
        raise RegistryError([Issue("(file)", "the file is empty; a registry needs 'flowreg: 1' and 'organization'")])
    if not isinstance(doc, dict):
        raise RegistryError(
            [Issue("(file)", f"a registry is a mapping of keys, not {type(doc).__name__}", parsed.line_of(()))]
        )

    header = {k: v for k, v in doc.items() if k not in SECTIONS}
    header_ok = validate_element(Registry, header, (), parsed, issues, context)

    elements: dict[str, list[tuple[int, Element]]] = {}
    for section, model in SECTIONS.items():
        items = doc.get(section)
        elements[section] = []
        if items is None:
            continue
        if not isinstance(items, list):
            issues.append(Issue(section, f"expected a list, got {type(items).__name__}", parsed.line_of((section,))))
            continue
        for index, item in enumerate(items):
            element = validate_element(model, item, (section, index), parsed, issues, context)
            if element is not None:
                elements[section].append((index, element))

    raw_ids, id_issues = collect_ids(parsed, SECTIONS)
    issues += id_issues
    issues += check_references(parsed, elements, raw_ids)
    if issues or header_ok is None:
        raise RegistryError(_sorted(issues))
    return Registry.model_validate(
        {**header, **{s: [e for _, e in pairs] for s, pairs in elements.items()}}
    )


def validate_element(
    model: type, value: Any, path: Path, parsed: ParsedYaml, issues: list[Issue],
    context: dict[str, Any] | None = None,
) -> Any:
    """`value` as a `model`, or None with its problems added to `issues` (paths under `path`)."""
    if model is not Registry and not isinstance(value, dict):
        issues.append(
            Issue(format_path(path), f"expected a mapping with an 'id', got {type(value).__name__}", parsed.line_of(path))
        )
        return None
    try:
        return model.model_validate(value, context=context)
    except ValidationError as exc:
        for error in exc.errors():
            loc: Path = path + tuple(error["loc"])
            issues.append(Issue(format_path(loc), _message(error), parsed.line_of(loc)))
        return None


def _message(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key '{error['loc'][-1]}'"
    if kind == "missing":
        return "required key is missing"
    if kind == "literal_error" and error["loc"] == ("flowreg",):
        return f"unsupported format version {error.get('input')!r}; this flowreg reads version 1"
    if kind == "enum":
        expected = error.get("ctx", {}).get("expected", "")
        return f"{error.get('input')!r} is not one of {expected}"
    message = error["msg"].removeprefix("Value error, ")
    if isinstance(error.get("input"), bool):
        # YAML 1.1 reads NO, YES, ON, OFF as booleans: a classic trap for Norway's country code.
        message += f" (YAML read this as {error['input']}; quote the value, e.g. \"NO\")"
    return message


def _sorted(issues: list[Issue]) -> list[Issue]:
    return sorted(issues, key=lambda i: (i.line or 0, i.path))
