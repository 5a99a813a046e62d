"""Readable words for the values a person reads on the dashboard: statuses, party kinds, roles,
transfer tools, regimes, countries and finding rules. Pages show these, never the raw enum
values (`not_required`, `third_party`) or internal ids.

Registry ids stay available where a reader needs a reference (the detail of a hop names its
flow id as "registry id"), but a name is always shown first.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

import pycountry

from lineage.law import Law
from registry.ids import FRAMEWORK_IDS
from registry.model import Mechanism, Registry

# Solid colours for charts, light tints for table cells; best to worst.
STATUS_COLOURS: dict[str, str] = {
    "not_required": "#98A2B3",
    "adequate": "#2F9E62",
    "covered": "#2F6FD0",
    "derogation": "#E8A317",
    "invalid": "#D64545",
    "uncovered": "#9C1C4A",
    "unknown": "#7B5CD6",
}
STATUS_TINTS: dict[str, str] = {
    "not_required": "#F2F4F7",
    "adequate": "#DCF3E5",
    "covered": "#DDE9FB",
    "derogation": "#FDF0D2",
    "invalid": "#FBDADA",
    "uncovered": "#F6D3DF",
    "unknown": "#E9E2FA",
}
STATUS_WORDS: dict[str, str] = {
    "not_required": "no transfer",
    "adequate": "adequate",
    "covered": "covered",
    "derogation": "derogation",
    "invalid": "INVALID",
    "uncovered": "UNCOVERED",
    "unknown": "unknown",
}
# What each status means, for legends and help texts.
STATUS_MEANINGS: dict[str, str] = {
    "not_required": "no transfer tool needed (not a transfer, or inside the regime's area)",
    "adequate": "the destination is adequate for the regime",
    "covered": "a claimed tool fits and is valid",
    "derogation": "covered by a derogation for specific situations (occasional transfers only)",
    "invalid": "a tool is claimed but it is not valid then or does not fit",
    "uncovered": "a tool is needed and none is claimed",
    "unknown": "a location is missing, so it cannot be judged",
}
SEVERITY_TINTS = {"high": "#FBDADA", "medium": "#FDF0D2", "low": "#F2F4F7"}
SEVERITY_WORDS = {"high": "High", "medium": "Medium", "low": "Low"}
KIND_TITLES = {
    "affiliate": "Affiliates",
    "subprocessor": "Sub-processors",
    "service_provider": "Service providers",
    "carrier": "Carriers",
    "ott_provider": "OTT providers",
    "addon_partner": "Add-on partners",
    "authority": "Authorities",
    "data_source": "Data sources",
    "other": "Other recipients",
}
KIND_SINGULAR = {
    "affiliate": "Affiliate",
    "subprocessor": "Sub-processor",
    "service_provider": "Service provider",
    "carrier": "Carrier",
    "ott_provider": "OTT provider",
    "addon_partner": "Add-on partner",
    "authority": "Authority",
    "data_source": "Data source",
    "other": "Other",
}
ROLE_WORDS = {
    "processor": "Processor",
    "subprocessor": "Sub-processor",
    "controller": "Controller",
    "joint_controller": "Joint controller",
    "third_party": "Third party",
}
MECHANISM_WORDS = {
    "bcr": "BCR",
    "scc": "SCC",
    "idta": "IDTA",
    "uk-addendum": "UK Addendum",
    "derogation": "Derogation",
    "code-of-conduct": "Code of conduct",
    "certification": "Certification",
    "ad-hoc": "Ad hoc clauses",
}
FREQUENCY_WORDS = {"continuous": "Continuous", "occasional": "Occasional"}
LEGAL_BASIS_WORDS = {
    "consent": "Consent",
    "contract": "Contract",
    "legal_obligation": "Legal obligation",
    "vital_interest": "Vital interest",
    "public_interest": "Public interest",
    "legitimate_interest": "Legitimate interest",
}
SECTION_WORDS = {"categories": "category", "subjects": "subject group", "parties": "party", "systems": "system",
                 "mechanisms": "mechanism", "flows": "flow", "rules": "rule"}
RULE_WORDS = {
    "transfer-uncovered": "Transfer without a tool",
    "transfer-invalid": "Transfer on an invalid tool",
    "derogation-routine": "Routine derogation",
    "location-unknown": "Location unknown",
    "subprocessor-unlisted": "Not on the public list",
    "subprocessor-no-notice": "No notice given",
    "subprocessor-early-start": "Started before the notice period ran",
    "processor-without-dpa": "Processor without a DPA",
    "tia-missing": "Transfer impact assessment missing",
    "tia-overdue": "Transfer impact assessment overdue",
    "tia-suspend": "Assessment says suspend",
    "special-category-transfer": "Special-category data on a weak transfer",
}


def status_word(status: object) -> str:
    value = str(getattr(status, "value", status))
    return STATUS_WORDS.get(value, value)


def kind_word(kind: str | None) -> str:
    return KIND_SINGULAR.get(kind or "", (kind or "").replace("_", " "))


def role_word(role: str | None) -> str:
    return ROLE_WORDS.get(role or "", (role or "").replace("_", " "))


def rule_word(rule: str, registry: Registry | None = None) -> str:
    """A finding rule in words: the built-in ones by title, a registry rule by its description."""
    if rule in RULE_WORDS:
        return RULE_WORDS[rule]
    if registry is not None:
        element = registry.index().get(rule)
        description = getattr(element, "description", None)
        if description:
            return str(description)
    return rule


def country_name(code: str | None) -> str:
    """'United States (US)'; 'EEA' and unknown codes as they are; None as 'location unknown'."""
    if not code:
        return "location unknown"
    country = pycountry.countries.get(alpha_2=code) if len(code) == 2 else None
    return f"{country.name} ({code})" if country else code


def regime_name(law: Law, regime: str, day: date | None = None) -> str:
    """The regime's name as its transfer rules were called on `day` ('EU Directive 95/46/EC'
    before the GDPR applied); an id the law file does not know, as it is."""
    try:
        return law.regime_name(regime, day)
    except KeyError:
        return regime


def mechanism_name(mechanism: Mechanism, names: dict[str, str]) -> str:
    """A mechanism's own name, or one made of its kind, version and the other contracting party
    ('SCC 2021/914 with Vendor 8'); derogations by their Art. 49 ground."""
    if mechanism.name:
        return mechanism.name
    kind = mechanism.kind.value
    words = MECHANISM_WORDS.get(kind, kind)
    if mechanism.version is not None:
        words += f" {mechanism.version.value}"
    if kind == "derogation" and mechanism.ground is not None:
        parts = mechanism.ground.value.split("-")
        return f"Derogation, Art. {parts[0]}({parts[1]})" + "".join(f"({p})" for p in parts[2:])
    if kind in ("scc", "idta", "uk-addendum", "ad-hoc") and len(mechanism.members) >= 2:
        return f"{words} with {names.get(mechanism.members[-1], mechanism.members[-1])}"
    if kind == "bcr":
        return f"{words} ({mechanism.regime.value.upper()})"
    return words


def tool_names(registry: Registry, law: Law, names: dict[str, str]) -> dict[str, str]:
    """Every transfer tool a hop can rely on -> its readable name: the registry's mechanisms and
    the built-in frameworks. (Adequacy decisions are relied on by their own title already.)"""
    out = {fid: fw.name for fid, fw in law.frameworks.items()}
    for fid in FRAMEWORK_IDS:
        out.setdefault(fid, fid)
    for m in registry.mechanisms:
        out[m.id] = mechanism_name(m, names)
    return out


_CELL_WORDS: dict[str, str] = {
    **STATUS_WORDS, **KIND_SINGULAR, **ROLE_WORDS, **LEGAL_BASIS_WORDS, **RULE_WORDS,
    "continuous": "Continuous", "occasional": "Occasional",
}


def cell_words(value: str) -> str:
    """A table cell that is exactly an enum value or a built-in check id, in words; any other
    text as it is (for previews of reports, whose files keep the registry format's values)."""
    return _CELL_WORDS.get(value, value)


def joined_words(values: Iterable[str], words: dict[str, str]) -> str:
    return ", ".join(words.get(v, v) for v in values)
