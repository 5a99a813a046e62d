"""The lineage map (shared/lineage-map.md, version 1): which registry node holds each dataset
that OpenLineage events name, and which category each schema field is.

Loaded like a registry file: YAML with line numbers (`registry.yamlsource`), one pydantic model
per entry (unknown keys are errors), then references checked against a registry. Every problem
is an `Issue` with its key path and line, and all of them are reported at once.

    openlineage_map: 1
    datasets:                                   # first match wins
      - match: "postgres://eu-db:5432/shop.public.*"
        system: eu-db
      - match: "s3://partner-drop/*"
        party: adnet
        categories: [customer.contact]
    fields:                                     # first match wins; case-insensitive
      - match: "*email*"
        category: customer.contact.email

Beyond version 1: a dataset entry may say `personal: false` (an aggregate or other data that is
not personal whatever its fields are called; movements into it carry nothing), and a field entry
may match the tags producers attach (the `tags` dataset facet, on a field or the whole dataset)
instead of field names: `{tag: "pii:email", category: customer.contact.email}`.
"""

from __future__ import annotations

from pathlib import Path as FsPath
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from registry.errors import RegistryError
from registry.ids import CategoryId, Id, OneOrMany
from registry.loader import validate_element
from registry.model import Registry
from registry.yamlsource import (
    Issue,
    ParsedYaml,
    Path,
    decode_text,
    format_path,
    parse_yaml,
    read_source,
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _pattern(value: str) -> str:
    if not value.strip():
        raise ValueError("a match pattern may not be empty")
    return value


# A glob: * any text, ? one character, [abc] one of a set.
Pattern = Annotated[str, AfterValidator(_pattern)]


class DatasetEntry(_Strict):
    """Datasets whose "NAMESPACE/NAME" matches `match` are held by one registry node."""

    match: Pattern = Field(description='Glob on "NAMESPACE/NAME", e.g. "s3://partner-drop/*" (case-sensitive).')
    system: Id | None = Field(None, description="The registry system that holds these datasets.")
    party: Id | None = Field(None, description="Or: the registry party that holds them (a third party's store).")
    categories: Annotated[list[CategoryId], OneOrMany] = Field(
        default_factory=list, description="What every field of these datasets holds (optional)."
    )
    personal: bool = Field(
        True, description="false: these datasets hold no personal data, whatever their fields are called."
    )
    description: str | None = Field(None, description="Free text for readers.")

    @model_validator(mode="after")
    def _one_holder(self) -> DatasetEntry:
        if (self.system is None) == (self.party is None):
            raise ValueError("a dataset entry needs exactly one of 'system' or 'party'")
        if not self.personal and self.categories:
            raise ValueError("'categories' and 'personal: false' contradict each other")
        return self

    @property
    def node(self) -> str:
        """The registry node (system or party) that holds the matched datasets."""
        return self.system or self.party or ""


class FieldEntry(_Strict):
    """Schema fields whose name matches `match`, or datasets and fields tagged as `tag` says
    (the `tags` dataset facet), hold `category`. Both globs are case-insensitive."""

    match: Pattern | None = Field(None, description='Glob on a schema field name, e.g. "*email*".')
    tag: Pattern | None = Field(
        None, description='Or: glob on a tag written "key:value" (or "key" for a tag without value), e.g. "pii:email".'
    )
    category: CategoryId = Field(description="The registry category such fields hold.")
    description: str | None = Field(None, description="Free text for readers.")

    @model_validator(mode="after")
    def _one_pattern(self) -> FieldEntry:
        if (self.match is None) == (self.tag is None):
            raise ValueError("a field entry needs exactly one of 'match' or 'tag'")
        return self


class LineageMap(_Strict):
    """A whole map file."""

    openlineage_map: Literal[1] = Field(description="Format version of the map.")
    datasets: list[DatasetEntry] = Field(default_factory=list, description="Dataset patterns; first match wins.")
    fields: list[FieldEntry] = Field(default_factory=list, description="Field patterns; first match wins.")
    description: str | None = Field(None, description="Free text for readers.")

    def nodes(self) -> frozenset[str]:
        """Every registry node some dataset entry maps to."""
        return frozenset(entry.node for entry in self.datasets)


def load_lineage_map_file(path: str | FsPath, registry: Registry) -> LineageMap:
    """Read, parse and validate a map file against `registry`; RegistryError lists every issue.
    Read as registries are (registry.yamlsource): bounded, UTF-8, `-` for standard input."""
    try:
        text = decode_text(read_source(path))
    except RegistryError as exc:
        raise _error(exc.issues) from None
    return load_lineage_map_text(text, registry)


def load_lineage_map_bytes(raw: bytes, registry: Registry) -> LineageMap:
    """Decode UTF-8 (with or without BOM), parse and validate."""
    try:
        text = decode_text(raw)
    except RegistryError as exc:
        raise _error(exc.issues) from None
    return load_lineage_map_text(text, registry)


def load_lineage_map_text(text: str, registry: Registry) -> LineageMap:
    """Parse and validate map YAML text against `registry`.

    >>> reg = Registry.model_validate({"flowreg": 1, "organization": "x",
    ...     "categories": [{"id": "c", "name": "C"}],
    ...     "parties": [{"id": "p", "name": "P", "kind": "other"}]})
    >>> m = load_lineage_map_text('openlineage_map: 1\\ndatasets: [{match: "s3://x/*", party: p}]', reg)
    >>> m.datasets[0].node
    'p'
    """
    parsed = parse_yaml(text)
    if parsed.issues and parsed.value is None:
        raise _error(parsed.issues)
    issues = list(parsed.issues)
    doc = parsed.value
    if doc is None:
        raise _error([Issue("(file)", "the file is empty; a map needs 'openlineage_map: 1'")])
    if not isinstance(doc, dict):
        raise _error([Issue("(file)", f"a map is a mapping of keys, not {type(doc).__name__}", parsed.line_of(()))])

    lists: dict[str, list[Any]] = {}
    for section in ("datasets", "fields"):
        value = doc.get(section)
        if value is not None and not isinstance(value, list):
            issues.append(Issue(section, f"expected a list, got {type(value).__name__}", parsed.line_of((section,))))
            lists[section] = []
        else:
            lists[section] = value or []
    header = {k: v for k, v in doc.items() if k not in lists}
    header_ok = _validate(LineageMap, header, (), parsed, issues)
    datasets = [(i, _validate(DatasetEntry, item, ("datasets", i), parsed, issues)) for i, item in enumerate(lists["datasets"])]
    fields = [(i, _validate(FieldEntry, item, ("fields", i), parsed, issues)) for i, item in enumerate(lists["fields"])]
    issues += _references(parsed, registry, datasets, fields)
    if issues or header_ok is None:
        raise _error(sorted(issues, key=lambda i: (i.line or 0, i.path)))
    return LineageMap.model_validate(
        {**header, "datasets": [e for _, e in datasets], "fields": [e for _, e in fields]}
    )


def _validate(model: type, value: Any, path: Path, parsed: ParsedYaml, issues: list[Issue]) -> Any:
    if model is not LineageMap and not isinstance(value, dict):
        issues.append(Issue(format_path(path), f"expected a mapping with a 'match', got {type(value).__name__}",
                            parsed.line_of(path)))
        return None
    before = len(issues)
    result = validate_element(model, value, path, parsed, issues)
    for i in range(before, len(issues)):  # the registry's wording names its own format
        issue = issues[i]
        if issue.path == "openlineage_map" and issue.message.startswith("Input should be 1"):
            issues[i] = Issue(issue.path, f"unsupported map version {value.get('openlineage_map')!r}; "
                              "this flowreg reads version 1", issue.line)
    return result


def _references(
    parsed: ParsedYaml,
    registry: Registry,
    datasets: list[tuple[int, DatasetEntry | None]],
    fields: list[tuple[int, FieldEntry | None]],
) -> list[Issue]:
    """Ids and categories the entries name that the registry does not define (or defines as
    something else)."""
    out: list[Issue] = []

    def add(path: Path, message: str) -> None:
        out.append(Issue(format_path(path), message, parsed.line_of(path)))

    def category(path: Path, cid: str) -> None:
        if registry.kind_of(cid) != "category":
            add(path, f"unknown category '{cid}'")

    for i, entry in datasets:
        if entry is None:
            continue
        for key, wanted in (("system", entry.system), ("party", entry.party)):
            if wanted is None:
                continue
            kind = registry.kind_of(wanted)
            if kind is None:
                add(("datasets", i, key), f"unknown {key} '{wanted}'")
            elif kind != key:
                other = "party" if key == "system" else "system"
                hint = f" (write '{other}: {wanted}')" if kind == other else ""
                add(("datasets", i, key), f"'{wanted}' is a {kind}, not a {key}{hint}")
        for j, cid in enumerate(entry.categories):
            category(("datasets", i, "categories", j), cid)
    for i, entry in fields:
        if entry is not None:
            category(("fields", i, "category"), entry.category)
    return out


def _error(issues: list[Issue]) -> RegistryError:
    count = len(issues)
    return RegistryError(issues, message=f"the lineage map has {count} problem{'s' if count != 1 else ''}")
