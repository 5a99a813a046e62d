"""The format-neutral report: a title, metadata, sections of rows, and an optional flow diagram.

Every builder in `lineage.reports` returns a `Report`; every renderer takes one. A report holds
plain values only (text, numbers, booleans, None, tuples of text), so a renderer never needs the
registry, and two reports can be compared with `==` on `content()`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Cell = str | int | bool | None | tuple[str, ...]
"""A value in a report: text, a number, a flag, empty, or a list of texts."""

# The one metadata field that differs between two runs on the same revision and date.
VOLATILE_FIELDS = frozenset({"generated_at"})

# Metadata every report carries, in this order, before its own extra fields.
STANDARD_FIELDS = (
    "report",
    "title",
    "organization",
    "revision",
    "revision_hash",
    "revision_created_at",
    "as_of",
    "generated_at",
    "law_version",
)

FIELD_TITLES = {
    "report": "Report",
    "title": "Title",
    "organization": "Organization",
    "revision": "Registry revision",
    "revision_hash": "Revision hash",
    "revision_created_at": "Revision written at",
    "as_of": "As of",
    "generated_at": "Generated at",
    "law_version": "Legal knowledge version",
}


@dataclass(frozen=True)
class Column:
    """One column: a stable key (JSON, CSV scripts) and a title for people.

    `brief` columns are the ones a narrow layout (the PDF) keeps when it must drop some.
    """

    key: str
    title: str
    brief: bool = True


@dataclass(frozen=True)
class Section:
    """A table: a name (sheet name, CSV `section` value), a title, columns and rows."""

    name: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        width = len(self.columns)
        for i, row in enumerate(self.rows):
            if len(row) != width:
                raise ValueError(f"section {self.name!r}: row {i} has {len(row)} cells, not {width}")

    def records(self) -> list[dict[str, Cell]]:
        """The rows as mappings from column key to value."""
        keys = [c.key for c in self.columns]
        return [dict(zip(keys, row, strict=True)) for row in self.rows]

    def column(self, key: str) -> list[Cell]:
        """Every value of one column, top to bottom (KeyError for an unknown key)."""
        index = [c.key for c in self.columns].index(key)
        return [row[index] for row in self.rows]


@dataclass(frozen=True)
class DiagramNode:
    """A box in a flow diagram."""

    id: str
    label: str
    kind: str
    countries: str = ""


@dataclass(frozen=True)
class DiagramEdge:
    """An arrow in a flow diagram: one hop, coloured by its status."""

    flow: str
    source: str
    target: str
    status: str


@dataclass(frozen=True)
class Diagram:
    """Nodes and hops to draw; the layout is the renderer's business (`lineage.reports.diagram`)."""

    nodes: tuple[DiagramNode, ...]
    edges: tuple[DiagramEdge, ...]


@dataclass(frozen=True)
class Report:
    """A whole report. `metadata` always holds STANDARD_FIELDS (see `make_metadata`)."""

    kind: str
    title: str
    metadata: Mapping[str, Cell]
    sections: tuple[Section, ...]
    diagram: Diagram | None = None
    notes: tuple[str, ...] = field(default=())

    def section(self, name: str) -> Section:
        """The section called `name` (KeyError when there is none)."""
        for section in self.sections:
            if section.name == name:
                return section
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of the report: metadata, notes, sections with records, diagram."""
        return {
            "report": self.kind,
            "title": self.title,
            "metadata": {k: _plain(v) for k, v in self.metadata.items()},
            "notes": list(self.notes),
            "sections": [
                {
                    "name": s.name,
                    "title": s.title,
                    "note": s.note,
                    "columns": [{"key": c.key, "title": c.title} for c in s.columns],
                    "rows": [{k: _plain(v) for k, v in r.items()} for r in s.records()],
                }
                for s in self.sections
            ],
            "diagram": None
            if self.diagram is None
            else {
                "nodes": [vars(n) for n in self.diagram.nodes],
                "edges": [vars(e) for e in self.diagram.edges],
            },
        }

    def content(self) -> dict[str, Any]:
        """`to_dict()` without the fields that differ between runs (generation time).

        Two reports of the same kind, revision and as-of date have equal `content()`.
        """
        out = self.to_dict()
        out["metadata"] = {k: v for k, v in out["metadata"].items() if k not in VOLATILE_FIELDS}
        return out


def make_metadata(standard: Mapping[str, Cell], extra: Mapping[str, Cell] | None = None) -> dict[str, Cell]:
    """Metadata in the standard order, then the report's own fields; a missing standard field
    is an error, because every output must state revision, hash, as-of date and generation time."""
    missing = [k for k in STANDARD_FIELDS if k not in standard]
    if missing:
        raise ValueError(f"report metadata lacks {', '.join(missing)}")
    out = {k: standard[k] for k in STANDARD_FIELDS}
    out.update({k: v for k, v in standard.items() if k not in out})
    out.update(extra or {})
    return out


def field_title(key: str) -> str:
    """A readable title for a metadata key."""
    return FIELD_TITLES.get(key) or key.replace("_", " ").capitalize()


def cell_text(value: Cell, *, sep: str = "; ") -> str:
    """A cell as one line of text: lists joined, booleans as yes/no, None as empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple | list):
        return sep.join(cell_text(v) for v in value)
    return str(value)


def texts(values: Iterable[Any]) -> tuple[str, ...]:
    """Distinct non-empty values as text, first occurrence first (report lists keep the
    registry's order, not an alphabetical one, so related items stay together)."""
    out: dict[str, None] = {}
    for value in values:
        if value is not None and value != "":
            out.setdefault(str(value), None)
    return tuple(out)


def _plain(value: Cell) -> Any:
    return list(value) if isinstance(value, tuple) else value
