"""The public sub-processor list: who processes data on the organisation's behalf, where, for what.

A sub-processor is a party of kind `subprocessor`, or any party that receives a flow in the role
`subprocessor` (a group company acting as one counts, as the findings count it). The list shows
current and announced sub-processors: every flow not yet ended on the date counts, including
flows that start later, because a public list must name a sub-processor before it is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from lineage.graph import RegistryGraph
from lineage.notice import subprocessor_of
from lineage.reports.context import ReportContext
from lineage.reports.model import Column, Report, Section, texts
from registry.model import Flow, Party


@dataclass(frozen=True)
class SubprocessorEntry:
    """One sub-processor as a public list shows it."""

    party: str
    name: str
    kind: str
    country: str | None
    processing_countries: tuple[str, ...]
    purposes: tuple[str, ...]
    categories: tuple[str, ...]
    since: date | None
    public_list: bool | None
    notice_given: date | None
    url: str | None
    certifications: tuple[str, ...]
    flows: tuple[str, ...]

    def comparable(self) -> dict[str, object]:
        """The fields a change notice compares (what a customer may object to)."""
        return {
            "name": self.name,
            "country": self.country,
            "processing_countries": self.processing_countries,
            "purposes": tuple(sorted(self.purposes)),
            "categories": tuple(sorted(self.categories)),
            "kind": self.kind,
        }


def _current_or_upcoming(flow: Flow, day: date) -> bool:
    return flow.valid_until is None or flow.valid_until > day


def subprocessor_entries(rg: RegistryGraph, day: date) -> list[SubprocessorEntry]:
    """Every current or announced sub-processor on `day`, in registry order of the parties."""
    flows: dict[str, list[Flow]] = {}
    for flow in rg.flows.values():
        if not _current_or_upcoming(flow, day):
            continue
        party = subprocessor_of(rg, flow)
        if party is not None:
            flows.setdefault(party.id, []).append(flow)
    out = []
    for party in rg.registry.parties:
        if party.id not in flows:
            continue
        mine = sorted(flows[party.id], key=lambda f: rg.order[f.id])
        out.append(_entry(rg, party, mine))
    return out


def _entry(rg: RegistryGraph, party: Party, flows: list[Flow]) -> SubprocessorEntry:
    where = texts(c for f in flows for c in rg.countries(f.to))
    categories = texts(c for f in flows for c in f.carries)
    starts = [f.valid_from for f in flows if f.valid_from]
    certs = texts(
        f"{c.framework.value}" + (f" from {c.valid_from}" if c.valid_from else "")
        + (f" until {c.valid_until}" if c.valid_until else "")
        for c in party.certifications
    )
    return SubprocessorEntry(
        party=party.id,
        name=party.name,
        kind=party.kind.value,
        country=party.country,
        processing_countries=where,
        purposes=texts(f.purpose for f in flows),
        categories=categories,
        since=min(starts) if starts else None,
        public_list=party.public_list,
        notice_given=party.notice_given,
        url=party.url,
        certifications=certs,
        flows=tuple(f.id for f in flows),
    )


COLUMNS = (
    Column("party", "Id"),
    Column("name", "Sub-processor"),
    Column("country", "Country"),
    Column("processing_countries", "Processing locations"),
    Column("purpose", "Purpose"),
    Column("categories", "Categories of personal data"),
    Column("since", "Since"),
    Column("public_list", "On public list"),
    Column("notice_given", "Notice given", brief=False),
    Column("kind", "Kind", brief=False),
    Column("certifications", "Certifications", brief=False),
    Column("url", "URL", brief=False),
    Column("flows", "Flows", brief=False),
)


def subprocessor_report(ctx: ReportContext) -> Report:
    """The sub-processor list on the context's date: Report with section `subprocessors`."""
    entries = subprocessor_entries(ctx.rg, ctx.day)
    rows = tuple(
        (
            e.party, e.name, e.country, e.processing_countries, e.purposes, ctx.category_names(e.categories),
            e.since.isoformat() if e.since else None, e.public_list,
            e.notice_given.isoformat() if e.notice_given else None, e.kind, e.certifications, e.url, e.flows,
        )
        for e in entries
    )
    title = f"Sub-processors of {ctx.rg.registry.organization}"
    unlisted = sum(1 for e in entries if e.public_list is not True)
    note = "Current and announced sub-processors (flows not ended on the date); 'Since' is the first flow's start."
    if unlisted:
        note += f" Not marked as on the public list: {unlisted}."
    return Report(
        "subprocessors",
        title,
        ctx.metadata("subprocessors", title, {"subprocessors": len(entries), "notice_days": ctx.rg.registry.notice_days}),
        (Section("subprocessors", "Sub-processors", COLUMNS, rows, note),),
    )
