"""What a hop relies on, named and classified: a mechanism, a framework or an adequacy decision.

The engine reports a hop's basis as the key it judged (a mechanism id, a framework id, or the
instrument of an adequacy decision). Reports and exports need more: a readable label, the kind
of tool, and the W3C DPV 2.3 term for it. DPV has terms for EU GDPR tools and for 13 EU adequacy
decisions only; everything else (Korea, the US frameworks, UK and Swiss instruments) gets a
project IRI in the `flowreg:` namespace (https://w3id.org/flowreg#).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from lineage.graph import RegistryGraph
from lineage.law import Law
from lineage.status import HopStatus, RegimeStatus, Status
from registry.ids import MechanismKind
from registry.model import Mechanism

FLOWREG_NS = "https://w3id.org/flowreg#"

# legal-eu:Adequacy-EU-XX exists in DPV 2.3 for exactly these destinations.
DPV_EU_ADEQUACY = frozenset({"AD", "AR", "CA", "CH", "FO", "GB", "GG", "IL", "IM", "JE", "JP", "NZ", "UY"})

FRAMEWORK_TERMS = {
    "safe-harbor": "flowreg:SafeHarbor",
    "eu-us-privacy-shield": "flowreg:EUUSPrivacyShield",
    "swiss-us-privacy-shield": "flowreg:SwissUSPrivacyShield",
    "eu-us-dpf": "flowreg:EUUSDataPrivacyFramework",
    "uk-us-data-bridge": "flowreg:UKUSDataBridge",
    "swiss-us-dpf": "flowreg:SwissUSDataPrivacyFramework",
}

# EU GDPR terms (DPV's GDPR extension); the UK and Swiss regimes have no DPV extension, so the
# same kinds of tool under them get flowreg terms named after the regime.
_EU_MEASURES = {
    MechanismKind.BCR: ("eu-gdpr:BindingCorporateRules", "eu-gdpr:A46-2-b"),
    MechanismKind.SCC: ("eu-gdpr:SCCByCommission", "eu-gdpr:A46-2-c"),
    MechanismKind.CODE_OF_CONDUCT: ("eu-gdpr:CodesOfConductForDataTransfers", "eu-gdpr:A46-2-e"),
    MechanismKind.CERTIFICATION: ("eu-gdpr:CertificationMechanismsForDataTransfers", "eu-gdpr:A46-2-f"),
    MechanismKind.AD_HOC: ("eu-gdpr:AdHocContractualClauses", "eu-gdpr:A46-3-a"),
}
_OTHER_MEASURES = {
    MechanismKind.BCR: "BindingCorporateRules",
    MechanismKind.SCC: "StandardContractualClauses",
    MechanismKind.CODE_OF_CONDUCT: "CodeOfConduct",
    MechanismKind.CERTIFICATION: "Certification",
    MechanismKind.AD_HOC: "AdHocContractualClauses",
    MechanismKind.IDTA: "IDTA",
    MechanismKind.UK_ADDENDUM: "UKAddendum",
    MechanismKind.DEROGATION: "Derogation",
}
_KIND_LABELS = {
    MechanismKind.BCR: "BCR",
    MechanismKind.SCC: "SCC",
    MechanismKind.IDTA: "IDTA",
    MechanismKind.UK_ADDENDUM: "UK Addendum",
    MechanismKind.DEROGATION: "derogation",
    MechanismKind.CODE_OF_CONDUCT: "code of conduct",
    MechanismKind.CERTIFICATION: "certification",
    MechanismKind.AD_HOC: "ad hoc clauses",
}


@dataclass(frozen=True)
class Tool:
    """One transfer tool as a report shows it.

    `kind` is `adequacy`, `framework` (an adequacy limited to certified recipients) or a
    mechanism kind (bcr, scc, idta, uk-addendum, derogation, ...). `term` is a CURIE in the
    dpv:, eu-gdpr:, legal-eu: or flowreg: namespace; `article` is the GDPR legal basis term for
    EU tools (e.g. eu-gdpr:A46-2-c), else None.
    """

    key: str
    kind: str
    label: str
    regime: str
    term: str
    article: str | None = None


def regime_suffix(regime: str) -> str:
    return regime.upper()


def tool_for(rg: RegistryGraph, law: Law, regime: str, basis: str, status: Status, destination: str | None,
             day: date | None = None) -> Tool:
    """Describe one basis the engine reported for `regime` on a hop to `destination` (on `day`:
    a derogation is cited by the law then in force)."""
    if basis in law.frameworks:
        fw = law.frameworks[basis]
        return Tool(basis, "framework", fw.name, regime, FRAMEWORK_TERMS.get(basis, f"flowreg:{_camel(basis)}"),
                    "eu-gdpr:A45-3" if fw.regime == "eu" else None)
    element = rg.registry.get(basis)
    if isinstance(element, Mechanism):
        return _mechanism_tool(element, regime, law, day)
    # Otherwise the engine named an adequacy decision by its instrument.
    country = destination or "XX"
    if regime == "eu" and country in DPV_EU_ADEQUACY:
        term = f"legal-eu:Adequacy-EU-{country}"
    else:
        term = f"flowreg:Adequacy-{regime_suffix(regime)}-{country}"
    label = f"adequacy of {country} ({basis})" if status is Status.ADEQUATE else basis
    return Tool(basis, "adequacy", label, regime, term, "eu-gdpr:A45-3" if regime == "eu" else None)


def _mechanism_tool(m: Mechanism, regime: str, law: Law, day: date | None) -> Tool:
    kind = m.kind
    detail = ""
    if kind is MechanismKind.SCC and m.version:
        detail = f" {m.version.value}"
    if kind is MechanismKind.DEROGATION and m.ground:
        cite = law.derogation(m.regime.value, m.ground.value, day)[1] if day is not None else None
        detail = f" {cite}" if cite else f" Art. {_article(m.ground.value)}"
    label = f"{_KIND_LABELS[kind]}{detail} '{m.id}'"
    if m.name:
        label += f" ({m.name})"
    tool_regime = m.regime.value
    if tool_regime == "eu" and kind in _EU_MEASURES:
        term, article = _EU_MEASURES[kind]
        return Tool(m.id, kind.value, label, regime, term, article)
    if tool_regime == "eu" and kind is MechanismKind.DEROGATION:
        term = _derogation_term(m.ground.value if m.ground else None)
        return Tool(m.id, kind.value, label, regime, term, term)
    name = _OTHER_MEASURES.get(kind, _camel(kind.value))
    ground = f"-A{m.ground.value}" if kind is MechanismKind.DEROGATION and m.ground else ""
    return Tool(m.id, kind.value, label, regime, f"flowreg:{name}-{regime_suffix(tool_regime)}{ground}")


def _derogation_term(ground: str | None) -> str:
    if ground is None:
        return "flowreg:Derogation-EU"
    if ground == "49-1-2":
        # Art. 49(1) second subparagraph (compelling legitimate interests): DPV names it A49-2.
        return "eu-gdpr:A49-2"
    return f"eu-gdpr:A{ground}"


def _article(ground: str) -> str:
    """'49-1-a' -> '49(1)(a)'; '49-1-2' -> '49(1) second subparagraph'."""
    if ground == "49-1-2":
        return "49(1) second subparagraph"
    art, para, point = ground.split("-")
    return f"{art}({para})({point})"


def _camel(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", text) if part)


def regime_tools(rg: RegistryGraph, law: Law, hop: HopStatus, regime: str, verdict: RegimeStatus,
                 day: date | None = None) -> list[Tool]:
    """The tools one regime's verdict on a hop relies on (or, when invalid, the ones claimed)."""
    destination = hop.target_countries[0] if hop.target_countries else None
    return [tool_for(rg, law, regime, b, verdict.status, destination, day) for b in verdict.basis]


def hop_tools(rg: RegistryGraph, law: Law, hop: HopStatus, day: date | None = None) -> list[Tool]:
    """Every tool any regime's verdict on the hop names, regime by regime."""
    out: list[Tool] = []
    for regime, verdict in hop.regimes.items():
        out += regime_tools(rg, law, hop, regime, verdict, day)
    return out


def tool_labels(tools: list[Tool]) -> tuple[str, ...]:
    """Distinct labels, in order."""
    return tuple(dict.fromkeys(t.label for t in tools))
