"""Typed access to `transfer_law.yaml`: regime areas, adequacy, frameworks and SCC rules by date.

Every fact carries its `source` id; `Law.source(id)` gives its title and address, so a reason
shown to a user can cite where the rule comes from.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from registry.ids import IsoDate

LAW_FILE = Path(__file__).with_name("transfer_law.yaml")


def _listify(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class _Fact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    valid_from: IsoDate | None = Field(None, description="First day it applies (inclusive).")
    valid_until: IsoDate | None = Field(None, description="First day it no longer applies.")
    source: str = Field(description="Id of an entry in `sources`.")
    verify: Literal["P", "S", "S1", "U"] = Field(description="How well the fact is verified.")
    note: str | None = Field(None, description="A caveat for readers.")

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day < self.valid_until
        )


class AreaEntry(_Fact):
    countries: Annotated[list[str], BeforeValidator(_listify)]


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    title: str
    url: str


class RegimeName(_Fact):
    """What the regime's transfer rules were called in one period (e.g. Directive 95/46/EC)."""

    name: str = Field(description="Readable name on the dates of this period.")


class RegimeInfo(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(description="Readable name, e.g. 'EU GDPR' (used where no date is given).")
    names: list[RegimeName] = Field(default_factory=list, description="The name by period, when it changed.")
    area: list[AreaEntry] = Field(description="Countries inside the regime's area, over time.")


class DerogationCite(_Fact):
    """How each derogation ground (the GDPR Art. 49 letter a registry gives) is cited under one
    regime in one period; a ground without an entry has no counterpart there."""

    regime: str
    cite: dict[str, str] = Field(description="Ground (e.g. '49-1-a') -> the provision as users read it.")


class Recognition(_Fact):
    """A tool approved for one regime that another regime accepts (e.g. an EEA-approved BCR under
    the revised Swiss FADP)."""

    kind: str = Field(description="The mechanism kind, e.g. 'bcr'.")
    approved: str = Field(description="The regime the tool was approved for.")
    serves: str = Field(description="The regime that accepts it.")
    cite: str = Field(description="The provision, as users read it.")


class Adequacy(_Fact):
    """An adequacy decision (or a framework's adequacy) for one regime and destination(s)."""

    regime: str
    destination: Annotated[list[str], BeforeValidator(_listify)]
    instrument: str = Field(description="The decision, as users cite it.")
    scope: Literal["full", "commercial", "certified"]
    framework: str | None = Field(None, description="For scope 'certified': the framework id.")


class FrameworkInfo(_Fact):
    """A framework of certified recipients (Safe Harbor, Privacy Shield, DPF...)."""

    id: str
    name: str
    regime: str
    destination: str
    ended_by: str | None = Field(None, description="What ended it, e.g. 'CJEU C-311/18'.")


class SccRule(_Fact):
    """How long contracts on one SCC version are recognised under one regime."""

    regime: str
    version: str
    new_from: IsoDate | None = Field(None, description="First day new contracts may use it.")
    new_until: IsoDate | None = Field(None, description="First day new contracts may no longer use it.")


class Instrument(_Fact):
    kind: str
    regime: str


class SccRelations(_Fact):
    """Which relations (c2c, c2p, p2p, p2c) an SCC decision's sets or modules cover, and how
    each part is cited ("module 2", "set II", "" for a decision with one set)."""

    version: str
    relations: dict[Literal["c2c", "c2p", "p2p", "p2c"], str]


class Obligation(_Fact):
    """A duty that starts on a date, e.g. transfer impact assessments for transfers on `tools`."""

    id: str
    tools: list[str] = Field(default_factory=list, description="Mechanism kinds it applies to.")
    duty: str | None = Field(None, description="The duty it states, when several periods state it (`Law.cite`).")
    cite: str | None = Field(None, description="How the duty is cited in this period, e.g. 'GDPR Art. 28(3)'.")


class LawFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    version: IsoDate
    sources: dict[str, Source]
    groups: dict[str, list[str]]
    regimes: dict[str, RegimeInfo]
    adequacy: list[Adequacy]
    frameworks: list[FrameworkInfo]
    scc: list[SccRule]
    instruments: list[Instrument]
    # The complete record's block (read by findings and fixes, not by the engine).
    scc_relations: list[SccRelations] = Field(default_factory=list)
    obligations: list[Obligation] = Field(default_factory=list)
    derogations: list[DerogationCite] = Field(default_factory=list)
    recognitions: list[Recognition] = Field(default_factory=list)


class Law:
    """The legal knowledge, indexed for the engine's questions."""

    def __init__(self, data: LawFile) -> None:
        self.data = data
        self._check_sources()
        self.regimes: dict[str, RegimeInfo] = data.regimes
        self.frameworks: dict[str, FrameworkInfo] = {f.id: f for f in data.frameworks}
        self._area: dict[str, list[tuple[str, AreaEntry]]] = defaultdict(list)
        for regime, info in data.regimes.items():
            for entry in info.area:
                for country in self._expand(entry.countries):
                    self._area[country].append((regime, entry))
        self._adequacy: dict[tuple[str, str], list[Adequacy]] = defaultdict(list)
        for decision in data.adequacy:
            for country in self._expand(decision.destination):
                self._adequacy[(decision.regime, country)].append(decision)
        self._scc = {(rule.regime, rule.version): rule for rule in data.scc}
        self._instruments = {(i.kind, i.regime): i for i in data.instruments}
        self._scc_relations = {r.version: r for r in data.scc_relations}
        self._obligations = {o.id: o for o in data.obligations}
        # Every reason and finding names its regimes: asked hundreds of thousands of times a date.
        self._names: dict[tuple[str, date | None], str] = {}
        self._areas_key = tuple(
            (regime, tuple(self._expand(e.countries)), e.valid_from, e.valid_until)
            for regime, info in data.regimes.items() for e in info.area)

    def _expand(self, names: list[str]) -> list[str]:
        out: list[str] = []
        for name in names:
            out += self.data.groups[name[1:]] if name.startswith("@") else [name]
        return out

    def facts(self) -> list[Any]:
        """Every dated fact of the file (areas, names, adequacy, frameworks, SCC rules,
        instruments, derogation citations, recognitions, SCC relations, record obligations)."""
        facts: list[Any] = [e for r in self.data.regimes.values() for e in (*r.area, *r.names)]
        return facts + [*self.data.adequacy, *self.data.frameworks, *self.data.scc, *self.data.instruments,
                        *self.data.derogations, *self.data.recognitions, *self.data.scc_relations,
                        *self.data.obligations]

    def _check_sources(self) -> None:
        facts: list[_Fact] = self.facts()
        missing = {f.source for f in facts} - set(self.data.sources)
        if missing:
            raise ValueError(f"transfer law file cites unknown sources: {sorted(missing)}")

    def regime_name(self, regime: str, day: date | None = None) -> str:
        """The regime's name, as its transfer rules were called on `day` when given.

        >>> law = load_law()
        >>> law.regime_name("eu", date(2018, 5, 24)), law.regime_name("eu", date(2018, 5, 25))
        ('EU Directive 95/46/EC', 'EU GDPR')
        """
        found = self._names.get((regime, day))
        if found is None:
            found = self._names[(regime, day)] = self._regime_name(regime, day)
        return found

    def _regime_name(self, regime: str, day: date | None) -> str:
        info = self.regimes[regime]
        if day is not None:
            for period in info.names:
                if period.valid_on(day):
                    return period.name
        return info.name

    def derogation(self, regime: str, ground: str, day: date) -> tuple[bool, str | None]:
        """(whether the law of `regime` on `day` has a counterpart of the GDPR Art. 49 `ground`,
        how it is cited). Without a citation table for the regime and date, (True, None).

        >>> load_law().derogation("eu", "49-1-e", date(2017, 1, 1))
        (True, 'Art. 26(1)(d) of Directive 95/46/EC')
        """
        for entry in self.data.derogations:
            if entry.regime == regime and entry.valid_on(day):
                cite = entry.cite.get(ground)
                return cite is not None, cite
        return True, None

    def recognition(self, kind: str, approved: str, serves: str, day: date) -> Recognition | None:
        """The recognition, in force on `day`, of a `kind` tool approved for `approved` by the
        regime `serves` (None when there is none)."""
        for entry in self.data.recognitions:
            if (entry.kind, entry.approved, entry.serves) == (kind, approved, serves) and entry.valid_on(day):
                return entry
        return None

    @property
    def areas_key(self) -> tuple:
        """What the regimes' areas are made of: two laws with equal keys place every country in
        the same regimes on every date (so what follows from the areas can be shared)."""
        return self._areas_key

    def regimes_at(self, country: str | None, day: date) -> frozenset[str]:
        """The regimes whose area holds `country` on `day`.

        >>> law = load_law()
        >>> sorted(law.regimes_at("GB", date(2020, 6, 1))), sorted(law.regimes_at("GB", date(2021, 6, 1)))
        (['eu'], ['uk'])
        """
        if country is None:
            return frozenset()
        return frozenset(r for r, entry in self._area.get(country, ()) if entry.valid_on(day))

    def in_area(self, regime: str, country: str, day: date) -> bool:
        return regime in self.regimes_at(country, day)

    def places(self) -> list[str]:
        """Every country some regime's area holds at some time, sorted ('EEA' aside)."""
        return sorted(self._area)

    def area_periods(self, place: str) -> dict[str, list[tuple[date | None, date | None]]]:
        """Per regime, the periods [from, until) in which `place` (a country, or 'EEA' for the EEA
        as a whole) lies inside the regime's area; None is an open end.

        >>> load_law().area_periods("GB")
        {'eu': [(None, datetime.date(2021, 1, 1))], 'uk': [(datetime.date(2021, 1, 1), None)]}
        """
        if place == "EEA":
            return {"eu": [(None, None)]}
        out: dict[str, list[tuple[date | None, date | None]]] = defaultdict(list)
        for regime, entry in self._area.get(place, ()):
            out[regime].append((entry.valid_from, entry.valid_until))
        return dict(out)

    def adequacy(self, regime: str, country: str, day: date) -> list[Adequacy]:
        """Adequacy decisions for `regime` towards `country` in force on `day` (frameworks included
        only while the framework itself is in force)."""
        out = []
        for decision in self._adequacy.get((regime, country), ()):
            if not decision.valid_on(day):
                continue
            if decision.framework and not self.frameworks[decision.framework].valid_on(day):
                continue
            out.append(decision)
        return out

    def scc_rule(self, regime: str, version: str) -> SccRule | None:
        return self._scc.get((regime, version))

    def instrument(self, kind: str, regime: str) -> Instrument | None:
        return self._instruments.get((kind, regime))

    def scc_relations(self, version: str) -> dict[str, str]:
        """The relations an SCC version covers, each with how its part is cited ({} if unknown)."""
        found = self._scc_relations.get(version)
        return dict(found.relations) if found else {}

    def obligation(self, obligation_id: str) -> Obligation:
        """A dated obligation by id (KeyError when the file lacks it: findings need the date)."""
        return self._obligations[obligation_id]

    def cite(self, duty: str, day: date) -> str:
        """How `duty` was cited on `day` (KeyError when no period of the file covers the day).

        >>> law = load_law()
        >>> law.cite("processor-contract", date(2018, 5, 24)), law.cite("processor-contract", date(2018, 5, 25))
        ('Directive 95/46/EC Art. 17(3)', 'GDPR Art. 28(3)')
        """
        for entry in self.data.obligations:
            if entry.duty == duty and entry.cite is not None and entry.valid_on(day):
                return entry.cite
        raise KeyError(f"the law file does not cite '{duty}' on {day}")

    def instruments_on(self, regime: str, day: date) -> list[Instrument]:
        """Tools with a start fixed by law (IDTA, UK Addendum) available for `regime` on `day`."""
        return [i for i in self.data.instruments if i.regime == regime and i.valid_on(day)]

    def source(self, source_id: str) -> Source:
        return self.data.sources[source_id]

    def boundary_dates(self) -> list[date]:
        """Every date in the file where something starts or ends (for boundary tests)."""
        days = set()
        for fact in self.facts():
            for name in ("valid_from", "valid_until", "new_from", "new_until"):
                value = getattr(fact, name, None)
                if value is not None:
                    days.add(value)
        return sorted(days)

    def with_framework_ended(self, framework_id: str, day: date, reason: str) -> Law:
        """A copy of the law in which a framework stops on `day` (what-if analysis)."""
        frameworks = [
            f.model_copy(update={"valid_until": min(day, f.valid_until or day), "ended_by": reason})
            if f.id == framework_id
            else f
            for f in self.data.frameworks
        ]
        return Law(self.data.model_copy(update={"frameworks": frameworks}))


@lru_cache(maxsize=4)
def load_law(path: str | None = None) -> Law:
    """Read and check the knowledge file (the packaged one by default); cached."""
    text = Path(path or LAW_FILE).read_text(encoding="utf-8")
    return Law(LawFile.model_validate(yaml.safe_load(text)))
