"""Constrained id types and the enums of registry format 1.

Enum values are the exact spellings the registry file uses, so a value read from YAML, shown in
the dashboard or written to a report is the same readable word everywhere.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

import pycountry
from pydantic import AfterValidator, BeforeValidator, ValidationInfo

ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9._-]*"
CATEGORY_PART_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]*"
MAX_ID_LENGTH = 200
ID_RULE = ("ids are ASCII letters, digits, '.', '_' and '-', starting with a letter or digit "
           "(e.g. speechco, eu-us-dpf)")
"""The one id pattern, for YAML files, CLI options and dashboard forms alike.

Ids are what flows, rules and mechanisms refer to, so two ids that look the same must be the
same: nothing invisible (zero-width, bidi controls), no control characters, no letters from
other scripts that look like Latin ones. Hence plain ASCII, as Fides keys are; names and
descriptions carry any script. A category id is such names joined by dots, each part without
dots (`account.contact.email`); its parent is the part before the last dot."""
_ID = re.compile(ID_PATTERN)
_CATEGORY_PART = re.compile(CATEGORY_PART_PATTERN)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Characters a reader cannot see or that reorder what they see: C0/C1 controls, DEL, zero-width
# characters and marks, bidi embeddings/overrides/isolates, line separators, byte-order mark.
_HIDDEN = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\u2028\u2029\ufeff]"
)


def _explain(value: str) -> str:
    hidden = _HIDDEN.search(value)
    if hidden:
        return (f"it contains an invisible or control character (U+{ord(hidden.group()):04X}); "
                + ID_RULE)
    if value != value.strip():
        return "it starts or ends with white space; " + ID_RULE
    offender = next((ch for ch in value if not (ch.isascii() and (ch.isalnum() or ch in "._-"))),
                    None)
    if offender is not None:
        code = "" if offender.isascii() else f" (U+{ord(offender):04X})"
        return f"{offender!r}{code} is not allowed; " + ID_RULE
    return "it must start with a letter or digit; " + ID_RULE


def _shown(value: str) -> str:
    # The rejected value as the reader should see it: hidden characters spelled out.
    return _HIDDEN.sub(lambda m: f"\\u{ord(m.group()):04x}", value)


def _lenient(value: str, info: ValidationInfo | None) -> bool:
    """Whether `value` is read as written: the content of a stored revision (context `stored`),
    or an id the registry being changed already holds (context `known_ids`)."""
    context = info.context if info is not None else None
    if not context:
        return False
    return bool(context.get("stored")) or value in context.get("known_ids", ())


def _check_stored_id(value: str) -> str:
    # Revisions stored before ids had one pattern are read as they were written (their hashes
    # say they were not changed since), and a change may keep the ids its registry holds; new
    # ids must follow the pattern.
    if not value:
        raise ValueError("an id may not be empty")
    if _CONTROL.search(value):
        raise ValueError("an id may not contain control characters")
    return value


def check_id(value: str, info: ValidationInfo | None = None) -> str:
    """`value` if it follows the id pattern (`ID_RULE`); ValueError saying why not.

    >>> check_id("speechco")
    'speechco'
    """
    if _lenient(value, info):
        return _check_stored_id(value)
    if not value:
        raise ValueError("an id may not be empty")
    if len(value) > MAX_ID_LENGTH:
        raise ValueError(f"an id may be at most {MAX_ID_LENGTH} characters long")
    if not _ID.fullmatch(value):
        raise ValueError(f"'{_shown(value)}' is not a valid id: {_explain(value)}")
    return value


def check_category_id(value: str, info: ValidationInfo | None = None) -> str:
    """`value` if it is dot-separated id parts (`account.contact`); ValueError saying why not."""
    if _lenient(value, info):
        return _check_stored_id(value)
    check_id(value)
    if not all(_CATEGORY_PART.fullmatch(part) for part in value.split(".")):
        raise ValueError(f"'{value}' is not a valid category id: a category id is names joined "
                         "by single dots, each starting with a letter or digit (e.g. "
                         "account.contact.email)")
    return value


def _check_country(value: str) -> str:
    if not isinstance(value, str) or len(value) != 2 or value.upper() != value:
        raise ValueError(f"'{value}' is not an ISO 3166-1 alpha-2 code (two capital letters)")
    if pycountry.countries.get(alpha_2=value) is None:
        raise ValueError(f"'{value}' is not an ISO 3166-1 alpha-2 country code")
    return value


def _check_location(value: str) -> str:
    if value == "EEA":
        return value
    return _check_country(value)


def _strict_date(value: Any) -> date:
    # PyYAML gives unquoted dates as `date`; quoted ones arrive as text. Numbers and timestamps
    # with a time of day are refused rather than guessed at.
    if isinstance(value, datetime):
        raise ValueError("expected a date (YYYY-MM-DD), not a date and time")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"'{value}' is not a real date ({exc})") from None
    raise ValueError(f"expected a date written YYYY-MM-DD, got {value!r}")


def _one_or_many(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def slug(text: str) -> str:
    """`text` made into an id: runs of other characters become '-' (for ids flowreg derives,
    such as a new flow's `FROM-to-ID`).

    >>> slug("Legacy System-to-acme")
    'Legacy-System-to-acme'
    """
    made = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-._")
    return made[:MAX_ID_LENGTH] or "id"


def _id_field(value: str, info: ValidationInfo) -> str:
    # Two parameters, so pydantic hands over the validation context (`stored`).
    return check_id(value, info)


def _category_field(value: str, info: ValidationInfo) -> str:
    return check_category_id(value, info)


Id = Annotated[str, AfterValidator(_id_field)]
CategoryId = Annotated[str, AfterValidator(_category_field)]
CountryCode = Annotated[str, AfterValidator(_check_country)]
Location = Annotated[str, AfterValidator(_check_location)]
IsoDate = Annotated[date, BeforeValidator(_strict_date)]
OneOrMany = BeforeValidator(_one_or_many)


def category_parent(category_id: str) -> str | None:
    """Return the parent of a dotted category id, or None for a root.

    >>> category_parent("subscriber.contact.email")
    'subscriber.contact'
    """
    head, dot, _ = category_id.rpartition(".")
    return head if dot else None


class PartyKind(StrEnum):
    AFFILIATE = "affiliate"
    SUBPROCESSOR = "subprocessor"
    SERVICE_PROVIDER = "service_provider"
    CARRIER = "carrier"
    OTT_PROVIDER = "ott_provider"
    ADDON_PARTNER = "addon_partner"
    AUTHORITY = "authority"
    DATA_SOURCE = "data_source"
    OTHER = "other"


class MechanismKind(StrEnum):
    BCR = "bcr"
    SCC = "scc"
    IDTA = "idta"
    UK_ADDENDUM = "uk-addendum"
    DEROGATION = "derogation"
    CODE_OF_CONDUCT = "code-of-conduct"
    CERTIFICATION = "certification"
    AD_HOC = "ad-hoc"


class Regime(StrEnum):
    EU = "eu"
    UK = "uk"
    CH = "ch"


class SccVersion(StrEnum):
    C2C_2001 = "2001/497"
    C2P_2002 = "2002/16"
    C2C_2004 = "2004/915"
    C2P_2010 = "2010/87"
    MODULAR_2021 = "2021/914"


class SccModule(StrEnum):
    C2C = "c2c"
    C2P = "c2p"
    P2P = "p2p"
    P2C = "p2c"


class DerogationGround(StrEnum):
    CONSENT = "49-1-a"
    CONTRACT_WITH_SUBJECT = "49-1-b"
    CONTRACT_IN_SUBJECT_INTEREST = "49-1-c"
    PUBLIC_INTEREST = "49-1-d"
    LEGAL_CLAIMS = "49-1-e"
    VITAL_INTERESTS = "49-1-f"
    PUBLIC_REGISTER = "49-1-g"
    COMPELLING_LEGITIMATE_INTERESTS = "49-1-2"


class Role(StrEnum):
    PROCESSOR = "processor"
    SUBPROCESSOR = "subprocessor"
    CONTROLLER = "controller"
    JOINT_CONTROLLER = "joint_controller"
    THIRD_PARTY = "third_party"


class Frequency(StrEnum):
    CONTINUOUS = "continuous"
    OCCASIONAL = "occasional"


class LegalBasis(StrEnum):
    CONSENT = "consent"
    CONTRACT = "contract"
    LEGAL_OBLIGATION = "legal_obligation"
    VITAL_INTEREST = "vital_interest"
    PUBLIC_INTEREST = "public_interest"
    LEGITIMATE_INTEREST = "legitimate_interest"


class Framework(StrEnum):
    """Built-in adequacy frameworks a flow may claim and a party may be certified under."""

    SAFE_HARBOR = "safe-harbor"
    EU_US_PRIVACY_SHIELD = "eu-us-privacy-shield"
    SWISS_US_PRIVACY_SHIELD = "swiss-us-privacy-shield"
    EU_US_DPF = "eu-us-dpf"
    UK_US_DATA_BRIDGE = "uk-us-data-bridge"
    SWISS_US_DPF = "swiss-us-dpf"


FRAMEWORK_IDS: frozenset[str] = frozenset(f.value for f in Framework)


# --- the complete record (Art. 9, 10, 26, 28; transfer impact assessments) ---------------------
class SpecialKind(StrEnum):
    """Data the GDPR protects more: Art. 9 special categories, Art. 10 criminal-offence data."""

    ART9 = "art9"
    ART10 = "art10"


class Art9Condition(StrEnum):
    """The Art. 9(2) ground that lifts the ban on processing special-category data."""

    EXPLICIT_CONSENT = "9-2-a"
    EMPLOYMENT_AND_SOCIAL_SECURITY = "9-2-b"
    VITAL_INTERESTS = "9-2-c"
    NOT_FOR_PROFIT_BODY = "9-2-d"
    MADE_PUBLIC_BY_SUBJECT = "9-2-e"
    LEGAL_CLAIMS = "9-2-f"
    SUBSTANTIAL_PUBLIC_INTEREST = "9-2-g"
    HEALTH_OR_SOCIAL_CARE = "9-2-h"
    PUBLIC_HEALTH = "9-2-i"
    ARCHIVING_RESEARCH_STATISTICS = "9-2-j"


class AgreementKind(StrEnum):
    DPA = "dpa"  # Art. 28(3) processor contract
    JOINT_CONTROLLER = "joint-controller"  # Art. 26 arrangement


class Authorisation(StrEnum):
    """Art. 28(2): how the controller authorised sub-processors."""

    GENERAL = "general"
    SPECIFIC = "specific"


class Outcome(StrEnum):
    """What a transfer impact assessment concluded."""

    PROCEED = "proceed"
    PROCEED_WITH_MEASURES = "proceed-with-measures"
    SUSPEND = "suspend"
