"""The fideslang side of the Fides import: which Fides values mean which flowreg values.

Kept apart from `registry.fides_import` (which walks the manifests and builds the registry) so
that a new Fides spelling is a one-line change here.
"""

from __future__ import annotations

import re
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
VENDOR_TYPES = {"third party", "third-party", "vendor"}
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


def role_of(s: dict[str, Any]) -> str:
    """The organisation's role for a system (data_responsibility_title, or the newer
    `responsibility` list) as a flowreg role; controller when Fides says nothing."""
    title = s.get("data_responsibility_title")
    if not title and s.get("responsibility"):
        title = s["responsibility"][0]
    return ROLES.get(str(title or "controller").strip().lower(), "controller")


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


def short(value: Any, limit: int = 80) -> str:
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
