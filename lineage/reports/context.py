"""What every report builder needs from one revision on one date: graph, hop statuses, names, metadata.

A `ReportContext` pins a report to a registry revision (number and hash) and an as-of date, and
records when it was generated; builders take one and stay pure functions of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cached_property

from lineage.api import Flowreg
from lineage.contracts import RecordIndex
from lineage.graph import RegistryGraph
from lineage.law import Law
from lineage.reports.model import Cell, make_metadata
from lineage.status import HopStatus
from registry.model import Flow, Party
from registry.revisions import Revision, iso_utc

NODE_KIND_TITLES = {"subject": "data subjects", "system": "system", "party": "organisation"}


@dataclass
class ReportContext:
    """One revision, one date, one generation time."""

    fr: Flowreg
    revision: Revision
    day: date
    generated_at: datetime

    @classmethod
    def open(
        cls, fr: Flowreg, day: date, *, rev: int | None = None, generated_at: datetime | None = None
    ) -> ReportContext:
        """Pin `rev` (default the head) and `day`; `generated_at` defaults to now (UTC)."""
        revision = fr.revision(rev)
        return cls(fr, revision, day, generated_at or datetime.now(UTC))

    # --- engine -----------------------------------------------------------------------------
    @cached_property
    def rg(self) -> RegistryGraph:
        return self.fr.graph(self.revision.number)

    @property
    def law(self) -> Law:
        return self.fr.law

    def hops(self) -> list[HopStatus]:
        """Every flow active on the date, with its status (registry order)."""
        return self.fr.hops(self.day, rev=self.revision.number)

    def category_hops(self, category: str) -> list[HopStatus]:
        """Hops carrying a category, with the status of that category's data."""
        return self.fr.flows(category, self.day, rev=self.revision.number)

    def flow(self, flow_id: str) -> Flow:
        return self.rg.flows[flow_id]

    # --- names ------------------------------------------------------------------------------
    def name(self, node: str) -> str:
        """A node's or element's readable name (its id when it has none)."""
        element = self.rg.registry.get(node)
        return getattr(element, "name", None) or node

    def category_names(self, ids: tuple[str, ...] | list[str]) -> tuple[str, ...]:
        """'Name (id)' for each category id."""
        return tuple(f"{self.name(c)} ({c})" for c in ids)

    def countries(self, node: str) -> str:
        return ",".join(self.rg.countries(node)) if node in self.rg.graph else ""

    def node_kind(self, node: str) -> str:
        kind = self.rg.node_kind(node)
        if kind == "party":
            party = self.rg.registry.get(node)
            return f"organisation ({party.kind.value})" if isinstance(party, Party) else "organisation"
        return NODE_KIND_TITLES.get(kind or "", kind or "")

    @cached_property
    def group(self) -> frozenset[str]:
        """The organisation's own parties: its affiliates, or (without any) the owners of its
        systems. Their nodes are 'inside' the organisation for the Art. 30 record."""
        return self.record.group

    @cached_property
    def record(self) -> RecordIndex:
        """The registry's agreements, assessments and special categories, indexed."""
        return RecordIndex.of(self.rg.registry)

    def in_group(self, node: str) -> bool:
        org = self.rg.organisation(node) if node in self.rg.graph else None
        return org is not None and org.id in self.group

    def regime_name(self, regime: str) -> str:
        """The regime's name as its law stood on the as-of date (e.g. Directive 95/46/EC before
        2018-05-25)."""
        return self.law.regime_name(regime, self.day) if regime in self.law.regimes else regime

    # --- metadata ---------------------------------------------------------------------------
    def metadata(self, kind: str, title: str, extra: dict[str, Cell] | None = None) -> dict[str, Cell]:
        """The standard metadata (revision, hash, as-of date, generation time...) plus `extra`."""
        return make_metadata(
            {
                "report": kind,
                "title": title,
                "organization": self.rg.registry.organization,
                "revision": self.revision.number,
                "revision_hash": self.revision.hash,
                "revision_created_at": iso_utc(self.revision.created_at),
                "as_of": self.day.isoformat(),
                "generated_at": iso_utc(self.generated_at),
                "law_version": self.law.data.version.isoformat(),
            },
            extra,
        )
