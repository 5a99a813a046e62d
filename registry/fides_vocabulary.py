"""The fideslang side of the Fides import: which Fides values mean which flowreg values.

Kept apart from `registry.fides_import` (which walks the manifests and builds the registry) so
that a new Fides spelling is a one-line change here.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import pycountry

ROLES = {"controller": "controller", "processor": "processor", "sub-processor": "subprocessor"}
LEGAL_BASES = {
    "consent": "consent",
    "contract": "contract",
    "legal obligation": "legal_obligation",
    "legal obligations": "legal_obligation",
    "vital interest": "vital_interest",
    "vital interests": "vital_interest",
    "public interest": "public_interest",
    "legitimate interest": "legitimate_interest",
    "legitimate interests": "legitimate_interest",
}
LEGAL_BASIS_WORDS = {
    "consent": "Consent",
    "contract": "Contract",
    "legal_obligation": "Legal obligations",
    "vital_interest": "Vital interests",
    "public_interest": "Public interest",
    "legitimate_interest": "Legitimate interests",
}
# `legal_basis_for_transfers` across fideslang versions (1.x/2.0 spelt them out, 2.1+ abbreviates;
# the field is free text since 3.0) -> what flowreg makes of it.
TRANSFER_BASES = {
    "scc": "scc", "sccs": "scc", "standard contractual clauses": "scc",
    "bcr": "bcr", "bcrs": "bcr", "binding corporate rules": "bcr",
    "adequacy decision": "adequacy", "adequacy": "adequacy",
    "supplementary measures": "measures",
}
# fideslang's `special_category_legal_basis` (its SpecialCategoryLegalBasisEnum, "based upon
# article 9 of the GDPR") -> the Art. 9(2) point: the ten values are the ten grounds, in order.
SPECIAL_BASES = {
    "explicit consent": "9-2-a",
    "employment, social security and social protection": "9-2-b",
    "vital interests": "9-2-c",
    "not-for-profit bodies": "9-2-d",
    "made public by the data subject": "9-2-e",
    "legal claims or judicial acts": "9-2-f",
    "reasons of substantial public interest (with a basis in law)": "9-2-g",
    "health or social care (with a basis in law)": "9-2-h",
    "public health (with a basis in law)": "9-2-i",
    "archiving, research and statistics (with a basis in law)": "9-2-j",
}
SPECIAL_BASIS_WORDS = {
    "9-2-a": "Explicit consent",
    "9-2-b": "Employment, social security and social protection",
    "9-2-c": "Vital interests",
    "9-2-d": "Not-for-profit bodies",
    "9-2-e": "Made public by the data subject",
    "9-2-f": "Legal claims or judicial acts",
    "9-2-g": "Reasons of substantial public interest (with a basis in law)",
    "9-2-h": "Health or social care (with a basis in law)",
    "9-2-i": "Public health (with a basis in law)",
    "9-2-j": "Archiving, research and statistics (with a basis in law)",
}
# Categories of fideslang's default taxonomy (and their descendants) that are of a kind GDPR
# Art. 9(1) lists: biometric data, health data (genetic data sits under it), racial or ethnic
# origin, political opinions, religious beliefs, sexual orientation. Used only to tell which of
# a declaration's categories its `processes_special_category_data` is about.
ART9_TAXONOMY = (
    "user.biometric", "user.authorization.biometric", "user.health_and_medical",
    "user.demographic.race_ethnicity", "user.demographic.political_opinion",
    "user.demographic.religious_belief", "user.demographic.sexual_orientation",
)
VENDOR_TYPES = {"third party", "third-party", "vendor"}
# The data use flowreg's export gives a flow without a purpose; the import reads it as none.
UNSPECIFIED_USE = "flowreg_unspecified"
TAXONOMY = Path(__file__).with_name("fides_taxonomy.json")
UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
SYSTEM_KEYS = {
    "fides_key", "name", "description", "system_type", "vendor_id", "legal_name", "data_responsibility_title",
    "responsibility", "third_country_transfers", "legal_basis_for_transfers", "privacy_policy", "dpa_location",
    "ingress", "egress", "privacy_declarations", "system_dependencies", "administrating_department",
    "organization_fides_key", "tags",
}
DECLARATION_KEYS = {
    "name", "data_categories", "data_use", "data_subjects", "legal_basis_for_processing", "retention_period",
    "egress", "ingress",
}
# Fides defaults that say nothing; not worth reporting as unmapped.
SILENT = {None, "", False, "Not defined", (), "[]"}


def roles_of(s: dict[str, Any]) -> list[str]:
    """The organisation's roles for a system (data_responsibility_title, or the newer
    `responsibility` list) as flowreg roles, in the manifest's order; [] when Fides says nothing.
    Unknown titles are left out (the caller notes them)."""
    titles = as_list(s.get("responsibility")) or as_list(s.get("data_responsibility_title"))
    return list(dict.fromkeys(ROLES[t] for t in (str(x).strip().lower() for x in titles) if t in ROLES))


def transfer_basis(value: Any) -> str | None:
    """'Standard contractual clauses', 'SCCs' -> 'scc'; 'BCRs' -> 'bcr'; 'Adequacy Decision' ->
    'adequacy'; 'Supplementary Measures' -> 'measures'; anything else None."""
    return TRANSFER_BASES.get(" ".join(str(value).lower().split()))


def special_condition(value: Any) -> str | None:
    """'Explicit consent' -> '9-2-a' (fideslang's Art. 9 legal basis as the Art. 9(2) point); None if unknown."""
    return SPECIAL_BASES.get(" ".join(str(value).lower().split()))


def art9_kind(category: str) -> bool:
    """True for a fideslang default-taxonomy category of a kind GDPR Art. 9(1) lists.

    >>> art9_kind("user.health_and_medical.genetic"), art9_kind("user.contact")
    (True, False)
    """
    return any(category == k or category.startswith(k + ".") for k in ART9_TAXONOMY)


def country_in_address(address: str) -> str | None:
    """The ISO code of the country an address ends with ('..., San Francisco, CA, USA' -> 'US'),
    by name, official name or code; None when its last part is not a country."""
    last = re.split(r"[,\n]", address.strip().rstrip("."))[-1].strip()
    if not last:
        return None
    code = alpha2(last) if len(last) in (2, 3) else None
    if code:
        return code
    try:
        return pycountry.countries.lookup(last).alpha_2
    except LookupError:
        return None


@cache
def default_taxonomy() -> dict[str, dict[str, dict[str, str]]]:
    """fideslang's default taxonomy: {'data_category'|'data_use'|'data_subject': {key: {name, parent}}}."""
    data = json.loads(TAXONOMY.read_text(encoding="utf-8"))
    return {kind: data[kind] for kind in ("data_category", "data_use", "data_subject")}


def alpha2(code: str) -> str | None:
    """An ISO alpha-2 code from Fides' alpha-3 ('USA') or alpha-2 spelling; None if unknown."""
    code = code.strip().upper()
    if len(code) == 2 and pycountry.countries.get(alpha_2=code):
        return code
    found = pycountry.countries.get(alpha_3=code) if len(code) == 3 else None
    return found.alpha_2 if found else None


def days_of(text: str) -> tuple[int | None, bool]:
    """'30 days' -> (30, True); '13 months' -> (390, False); 'forever' -> (None, False)."""
    match = re.fullmatch(r"\s*(\d+)\s*(day|week|month|year)s?\s*", text.lower())
    if not match:
        return None, False
    n, unit = int(match.group(1)), match.group(2)
    return n * UNIT_DAYS[unit], unit in ("day", "week")


def humanise(key: str) -> str:
    """'bank_account' -> 'Bank account' (a readable name for a key without one)."""
    words = key.replace("_", " ").replace("-", " ").strip()
    return (words[:1].upper() + words[1:]) if words else key


def meaningful(value: Any) -> bool:
    """False for Fides defaults that say nothing (empty, False, 'Not defined')."""
    if isinstance(value, list | tuple | dict):
        return bool(value)
    return value not in SILENT


def short(value: Any, limit: int = 240) -> str:
    """A value as one short line for an import note."""
    text = value if isinstance(value, str) else ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


SYSTEM_LISTS = ("third_country_transfers", "legal_basis_for_transfers", "system_dependencies", "responsibility",
                "ingress", "egress", "privacy_declarations")
DECLARATION_LISTS = ("data_categories", "data_subjects", "egress", "ingress")


def as_list(value: Any) -> list[Any]:
    """A manifest value that should be a list: a lone value becomes a one-item list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def normalised(system: dict[str, Any]) -> dict[str, Any]:
    """A system with every list-valued field a list (hand-written manifests often give a lone
    string where Fides expects a list), including inside its declarations and data flows."""
    out = dict(system)
    for key in SYSTEM_LISTS:
        if key in out:
            out[key] = as_list(out[key])
    declarations = []
    for d in out.get("privacy_declarations", []):
        if isinstance(d, dict):
            d = {**d, **{k: [str(v) for v in as_list(d[k])] for k in DECLARATION_LISTS if k in d}}
        declarations.append(d)
    if "privacy_declarations" in out:
        out["privacy_declarations"] = declarations
    for key in ("ingress", "egress"):
        out[key] = [
            {**e, "data_categories": [str(c) for c in as_list(e.get("data_categories"))]} if isinstance(e, dict) else e
            for e in out.get(key, [])
        ]
    return out


def flat(value: Any) -> str:
    """A manifest value (mapping, list, scalar) as one line for a note."""
    if isinstance(value, dict) and value:
        return ", ".join(f"{k}: {flat(v)}" for k, v in value.items())
    if isinstance(value, list) and value:
        return ", ".join(flat(v) for v in value)
    return "(empty)" if value in (None, "", [], {}) else str(value)
