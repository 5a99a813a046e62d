"""The registry model: pydantic models of registry format 1 and flowreg's optional extensions.

Each model checks what one element can check on its own (types, enums, codes, dates, windows);
whatever needs the whole file (references, unique ids, category parents) is checked in
`registry.validation`. `Registry.content()` is the canonical form the stores keep and hash.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from registry.errors import StoreError
from registry.ids import (
    AgreementKind,
    Art9Condition,
    Authorisation,
    CategoryId,
    CountryCode,
    DerogationGround,
    Framework,
    Frequency,
    Id,
    IsoDate,
    LegalBasis,
    Location,
    MechanismKind,
    OneOrMany,
    Outcome,
    PartyKind,
    Regime,
    Role,
    SccModule,
    SccVersion,
    SpecialKind,
    category_parent,
)

# A piece of text that must say something when given (a contact, a measure, a document).
Text = Annotated[str, Field(min_length=1)]

MAX_NOTICE_DAYS = 3650  # ten years: longer is a typo, and dates past 9999-12-31 do not exist


class _Strict(BaseModel):
    # Unknown keys are an error (registry-format.md), and a loaded registry is never mutated:
    # changes are new revisions.
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class _Windowed(_Strict):
    """A mixin for anything with a validity window [valid_from, valid_until)."""

    valid_from: IsoDate | None = Field(None, description="First day it applies (inclusive).")
    valid_until: IsoDate | None = Field(None, description="First day it no longer applies (exclusive).")

    @model_validator(mode="after")
    def _window_is_ordered(self) -> _Windowed:
        if self.valid_from and self.valid_until and self.valid_until <= self.valid_from:
            raise ValueError(
                f"valid_until ({self.valid_until}) must be after valid_from ({self.valid_from})"
            )
        return self

    def valid_on(self, day: date) -> bool:
        """True when `day` falls inside the window."""
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day < self.valid_until
        )


class Element(_Strict):
    id: Id = Field(description="Unique across the whole registry file.")
    source: str | None = Field(None, description="Where the fact comes from, e.g. a policy section.")
    description: str | None = Field(None, description="Free text for readers.")


class Category(Element):
    """A personal-data category; a dotted id's parent is the id before its last dot."""

    id: CategoryId = Field(description="Dotted id: 'account.contact' is a child of 'account'.")
    name: str = Field(min_length=1, description="Readable name.")
    dpv: str | None = Field(None, description="A W3C DPV personal-data term, e.g. pd:EmailAddress.")
    special: SpecialKind | None = Field(
        None, description="art9 (special categories, GDPR Art. 9) or art10 (criminal convictions, Art. 10)."
    )
    # validate_default: an art9 category without a condition is an error on this key.
    condition: Art9Condition | None = Field(
        None, validate_default=True, description="The Art. 9(2) ground (9-2-a ... 9-2-j); required for art9."
    )
    retention_days: int | None = Field(
        None, ge=0, description="How long this category is kept, wherever it is (days)."
    )

    @property
    def parent(self) -> str | None:
        return category_parent(self.id)

    @field_validator("condition")
    @classmethod
    def _condition_fits_special(cls, value: Art9Condition | None, info: ValidationInfo) -> Art9Condition | None:
        if "special" not in info.data:
            return value  # `special` is wrong itself; one issue is enough
        special = info.data["special"]
        if special is SpecialKind.ART9 and value is None:
            raise ValueError("an art9 category needs its Art. 9(2) condition (9-2-a ... 9-2-j)")
        if value is not None and special is not SpecialKind.ART9:
            raise ValueError("a condition is the Art. 9(2) ground of an art9 category; set special: art9 or remove it")
        return value


class SubjectGroup(Element):
    """A group of data subjects and where they are."""

    name: str = Field(min_length=1, description="Readable name.")
    location: Annotated[list[Location], OneOrMany] = Field(
        default_factory=list,
        description="ISO 3166-1 alpha-2 codes or 'EEA' (one or a list); empty when unknown.",
    )


class Certification(_Windowed):
    """A party's self-certification under a built-in adequacy framework."""

    framework: Framework = Field(description="The framework certified under.")


class Party(Element):
    """An organisation: an affiliate, a sub-processor, a carrier, an authority..."""

    name: str = Field(min_length=1, description="Legal or trading name.")
    kind: PartyKind = Field(description="What the party is to the organisation.")
    country: CountryCode | None = Field(None, description="ISO 3166-1 alpha-2 of its seat; unknown when absent.")
    certifications: list[Certification] = Field(
        default_factory=list, description="Certifications under adequacy frameworks (DPF, Privacy Shield)."
    )
    public_list: bool | None = Field(
        None, description="True when it appears on the organisation's public sub-processor list."
    )
    notice_given: IsoDate | None = Field(
        None, description="When customers were notified that this recipient would be used."
    )
    url: str | None = Field(None, description="Where to read more about the party.")
    contact: Text | None = Field(
        None, description="Who answers for the party (Art. 30(2)(a) for the controllers a processor serves)."
    )


class System(Element):
    """A system that holds personal data: owned by a party, hosted in a country."""

    name: str = Field(min_length=1, description="Readable name.")
    owner: Id = Field(description="The party that runs it.")
    country: CountryCode | None = Field(None, description="Where it is hosted; unknown when absent.")
    retention_days: int | None = Field(None, ge=0, description="How long records stay in it.")
    security_measures: list[Text] = Field(
        default_factory=list, description="Technical and organisational measures (Art. 32, Art. 30(1)(g))."
    )


class Mechanism(_Windowed, Element):
    """One of the organisation's own transfer tools (BCR, SCC, IDTA, a derogation...)."""

    kind: MechanismKind = Field(description="The kind of transfer tool.")
    regime: Regime = Field(Regime.EU, description="The regime whose transfers it covers.")
    name: str | None = Field(None, description="Readable name.")
    version: SccVersion | None = Field(None, description="For SCC: the Commission decision.")
    module: SccModule | None = Field(None, description="For SCC 2021/914: the module.")
    members: list[Id] = Field(
        default_factory=list, description="BCR: group members; SCC, IDTA: contracting parties."
    )
    ground: DerogationGround | None = Field(None, description="For a derogation: the GDPR Art. 49 ground.")

    @model_validator(mode="after")
    def _fields_fit_kind(self) -> Mechanism:
        if self.version is not None and self.kind is not MechanismKind.SCC:
            raise ValueError(f"'version' applies to SCC only, not to {self.kind.value}")
        if self.ground is not None and self.kind is not MechanismKind.DEROGATION:
            raise ValueError(f"'ground' applies to a derogation only, not to {self.kind.value}")
        return self


class Flow(_Windowed, Element):
    """A hop of personal data from a subject group, system or party to a system or party."""

    from_: Id = Field(alias="from", description="A subject group, system or party id.")
    to: Id = Field(description="A system or party id.")
    carries: Annotated[list[CategoryId], OneOrMany] = Field(
        min_length=1, description="Category ids; a category carries its descendants."
    )
    purpose: str | None = Field(None, description="Why the data moves.")
    role: Role | None = Field(None, description="The recipient's role.")
    under: Annotated[list[Id], OneOrMany] = Field(
        default_factory=list, description="Claimed mechanisms: own ids or built-in frameworks."
    )
    frequency: Frequency = Field(Frequency.CONTINUOUS, description="continuous or occasional.")
    legal_basis: LegalBasis | None = Field(None, description="GDPR Art. 6 basis.")
    retention_days: int | None = Field(None, ge=0, description="How long the recipient keeps it.")


class DenyRule(_Strict):
    """No flow may carry these categories to these recipients."""

    categories: Annotated[list[CategoryId], OneOrMany] = Field(
        min_length=1, description="The categories (and their descendants)."
    )
    to: Annotated[list[Id], OneOrMany] = Field(default_factory=list, description="Party or system ids.")
    to_kinds: list[PartyKind] = Field(default_factory=list, description="Recipient party kinds.")
    roles: list[Role] = Field(default_factory=list, description="Recipient roles.")
    purposes: list[str] = Field(default_factory=list, description="Flow purposes (exact words).")

    @model_validator(mode="after")
    def _has_a_target(self) -> DenyRule:
        if not (self.to or self.to_kinds or self.roles or self.purposes):
            raise ValueError("a deny rule needs at least one of to, to_kinds, roles, purposes")
        return self


class RetentionRule(_Strict):
    """No system or flow may keep these categories longer than max_days."""

    categories: Annotated[list[CategoryId], OneOrMany] = Field(min_length=1, description="The categories.")
    max_days: int = Field(ge=0, description="The longest permitted retention, in days.")


class Rule(Element):
    """A promise as a check: exactly one of `deny` or `retention`."""

    deny: DenyRule | None = Field(None, description="Flows that must not exist.")
    retention: RetentionRule | None = Field(None, description="A retention limit.")

    @model_validator(mode="after")
    def _one_check(self) -> Rule:
        if (self.deny is None) == (self.retention is None):
            raise ValueError("a rule needs exactly one of 'deny' or 'retention'")
        return self


def _after(value: date | None, info: ValidationInfo, start: str) -> date | None:
    """`value` (an exclusive end) when it is after the field `start`, else a ValueError."""
    begins = info.data.get(start)
    if value is not None and begins is not None and value <= begins:
        raise ValueError(f"{info.field_name} ({value}) must be after {start} ({begins})")
    return value


class Agreement(Element):
    """A contract that makes a hop lawful besides a transfer tool: an Art. 28 processor
    contract (dpa) or an Art. 26 joint-controller arrangement, in force [signed, valid_until)."""

    kind: AgreementKind = Field(description="dpa (Art. 28 processor contract) or joint-controller (Art. 26).")
    parties: list[Id] = Field(description="The parties to it (party ids, at least two).")
    signed: IsoDate = Field(description="In force from this date (inclusive).")
    valid_until: IsoDate | None = Field(None, description="First day it no longer applies (exclusive).")
    authorisation: Authorisation | None = Field(
        None, description="For a dpa: general or specific authorisation of sub-processors (Art. 28(2))."
    )
    objection_days: int | None = Field(
        None, ge=0, description="For a dpa: how long a controller may object to a new sub-processor."
    )
    document: Text | None = Field(None, description="Where the signed copy is.")

    @field_validator("parties")
    @classmethod
    def _two_parties(cls, value: list[str]) -> list[str]:
        if len(set(value)) < 2:
            raise ValueError("an agreement needs at least two different parties")
        return value

    @field_validator("valid_until")
    @classmethod
    def _ends_after_signature(cls, value: date | None, info: ValidationInfo) -> date | None:
        return _after(value, info, "signed")

    @field_validator("authorisation", "objection_days")
    @classmethod
    def _dpa_only(cls, value: Any, info: ValidationInfo) -> Any:
        kind = info.data.get("kind")
        if value is not None and kind is not None and kind is not AgreementKind.DPA:
            raise ValueError(f"'{info.field_name}' applies to a dpa only, not to {kind.value}")
        return value

    def in_force(self, day: date) -> bool:
        """True when `day` falls inside [signed, valid_until)."""
        return self.signed <= day and (self.valid_until is None or day < self.valid_until)


class Assessment(Element):
    """A transfer impact assessment of some hops for one regime (after CJEU C-311/18): it counts
    from `assessed` (inclusive) until `review_by` (exclusive)."""

    flows: list[Id] = Field(min_length=1, description="The flow ids (hops) it assesses.")
    regime: Regime = Field(description="The regime whose transfers it assesses: eu, uk or ch.")
    assessed: IsoDate = Field(description="Date of the assessment; it counts from this day.")
    review_by: IsoDate | None = Field(None, description="First day it no longer counts (exclusive).")
    outcome: Outcome = Field(description="proceed, proceed-with-measures or suspend.")
    # validate_default: proceed-with-measures without any measure is an error on this key.
    measures: list[Text] = Field(
        default_factory=list, validate_default=True, description="Supplementary measures, when any."
    )
    document: Text | None = Field(None, description="Where the assessment is written down.")

    @field_validator("review_by")
    @classmethod
    def _review_after_assessment(cls, value: date | None, info: ValidationInfo) -> date | None:
        return _after(value, info, "assessed")

    @field_validator("measures")
    @classmethod
    def _measures_named(cls, value: list[str], info: ValidationInfo) -> list[str]:
        if info.data.get("outcome") is Outcome.PROCEED_WITH_MEASURES and not value:
            raise ValueError("an outcome of proceed-with-measures names its supplementary measures")
        return value

    def in_force(self, day: date) -> bool:
        """True when `day` falls inside [assessed, review_by)."""
        return self.assessed <= day and (self.review_by is None or day < self.review_by)


class DataProtectionOfficer(_Strict):
    """The DPO (Art. 37): a name, a contact, or both."""

    name: Text | None = Field(None, description="The DPO's name, or the office as the organisation names it.")
    contact: Text | None = Field(None, description="How to reach the DPO.")
    source: str | None = Field(None, description="Where the fact comes from.")

    @model_validator(mode="after")
    def _says_something(self) -> DataProtectionOfficer:
        if self.name is None and self.contact is None:
            raise ValueError("a dpo needs a name or a contact")
        return self


class Representative(_Strict):
    """The Art. 27 representative in the EEA of a controller established outside it."""

    name: Text = Field(description="The representative's name.")
    contact: Text | None = Field(None, description="How to reach the representative.")
    country: CountryCode | None = Field(None, description="ISO 3166-1 alpha-2 of its seat.")
    source: str | None = Field(None, description="Where the fact comes from.")


class Controller(_Strict):
    """The organisation's own details for the Art. 30 record (30(1)(a), 30(2)(a))."""

    name: Text = Field(description="Legal name.")
    address: Text | None = Field(None, description="Postal address.")
    contact: Text | None = Field(None, description="Contact for data protection matters.")
    dpo: DataProtectionOfficer | None = Field(None, description="The data protection officer (Art. 37).")
    representative: Representative | None = Field(None, description="The Art. 27 representative.")
    source: str | None = Field(None, description="Where the facts come from.")


SECTIONS: dict[str, type[Element]] = {
    "categories": Category,
    "subjects": SubjectGroup,
    "parties": Party,
    "systems": System,
    "mechanisms": Mechanism,
    "flows": Flow,
    "rules": Rule,
    "agreements": Agreement,
    "assessments": Assessment,
}


class Registry(_Strict):
    """One whole registry file."""

    flowreg: Literal[1] = Field(description="Format version.")
    organization: str = Field(min_length=1, description="Whose registry this is.")
    source: str | None = Field(None, description="The document the registry models.")
    notice_days: int = Field(
        30, ge=0, le=MAX_NOTICE_DAYS, description="Sub-processor notice period, in days."
    )
    controller: Controller | None = Field(None, description="The organisation's details for the Art. 30 record.")
    categories: list[Category] = Field(default_factory=list)
    subjects: list[SubjectGroup] = Field(default_factory=list)
    parties: list[Party] = Field(default_factory=list)
    systems: list[System] = Field(default_factory=list)
    mechanisms: list[Mechanism] = Field(default_factory=list)
    flows: list[Flow] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    agreements: list[Agreement] = Field(default_factory=list)
    assessments: list[Assessment] = Field(default_factory=list)

    _index: dict[str, Element] | None = PrivateAttr(default=None)
    # Set by `registry.additions.extend_registry`: the registry this one appends to, and what
    # it appends, so a store can write the change alone (`registry.additions.Extension`).
    _extension: Any = PrivateAttr(default=None)

    def content(self) -> dict[str, Any]:
        """Return the canonical, JSON-able form the stores keep (defaults left out)."""
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=True)

    @classmethod
    def from_content(cls, content: dict[str, Any]) -> Registry:
        """Rebuild a registry from `content()` output (already validated when it was stored;
        ids written before the id pattern are read as they were: `registry.ids`)."""
        try:
            return cls.model_validate(content, context={"stored": True})
        except ValidationError as exc:
            # Stored content was valid when written; a rule made stricter since (a bound on
            # notice_days, say) must say so rather than crash.
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "(top level)"
            raise StoreError(f"a stored revision no longer passes this flowreg's checks: {where}: "
                             f"{first['msg']} ({exc.error_count()} problem(s)); export it with an "
                             "older flowreg, fix the file and apply it") from None

    def index(self) -> dict[str, Element]:
        """Every element by id."""
        # Read through `__pydantic_private__` (pydantic's documented store of private
        # attributes): `self._index` goes through `BaseModel.__getattr__`, and the engine asks
        # this for every mechanism claim it judges.
        index = self.__pydantic_private__["_index"]
        if index is None:
            index = self._index = {
                element.id: element for name in SECTIONS for element in getattr(self, name)
            }
        return index

    def get(self, element_id: str) -> Element | None:
        return self.index().get(element_id)

    def kind_of(self, element_id: str) -> str | None:
        """'category', 'subject', 'party', 'system', 'mechanism', 'flow', 'rule', 'agreement',
        'assessment' or None."""
        element = self.get(element_id)
        return None if element is None else _KIND_NAMES[type(element)]


_KIND_NAMES: dict[type, str] = {
    Category: "category",
    SubjectGroup: "subject",
    Party: "party",
    System: "system",
    Mechanism: "mechanism",
    Flow: "flow",
    Rule: "rule",
    Agreement: "agreement",
    Assessment: "assessment",
}
