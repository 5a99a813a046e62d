"""The transfer tool a hop relies on for one regime, in words a customer can read.

The verdict is the engine's (`lineage.safeguards` through `Evaluation`); this module only says
it. Words never contain the date asked (the engine's reasons sometimes do), so a list taken on
two days reads the same unless the tool itself changed.
"""

from __future__ import annotations

from lineage.graph import RegistryGraph
from lineage.law import Law
from lineage.reports.tools import Tool, regime_tools
from lineage.status import HopStatus, RegimeStatus, Status
from registry.model import Mechanism

_KIND_WORDS = {
    "bcr": "binding corporate rules",
    "scc": "standard contractual clauses",
    "idta": "the UK International Data Transfer Agreement",
    "uk-addendum": "the UK Addendum to the standard contractual clauses",
    "derogation": "a derogation",
    "code-of-conduct": "a code of conduct",
    "certification": "a certification",
    "ad-hoc": "ad hoc contractual clauses",
}


def _tool_words(rg: RegistryGraph, law: Law, tool: Tool, destination: str | None) -> str:
    if tool.kind == "framework":
        return f"the {law.frameworks[tool.key].name} (adequacy for certified recipients)"
    if tool.kind == "adequacy":
        return f"an adequacy decision for {destination or 'the destination'} ({tool.key})"
    element = rg.registry.get(tool.key)
    words = _KIND_WORDS.get(tool.kind, tool.kind)
    if not isinstance(element, Mechanism):
        return f"{words} ({tool.key})"
    details = []
    if element.version is not None:
        details.append(f"Decision {element.version.value}")
    if element.ground is not None:
        details.append(f"GDPR Art. {element.ground.value.replace('-', '(', 1).replace('-', ')(')})")
    details.append(element.name or element.id)
    return f"{words} ({', '.join(details)})"


def _stable_names(law: Law, regime: str, text: str) -> str:
    """`text` with the regime named as everywhere on the site (the law file's `name`): the
    engine names it as it stood on the day (Directive 95/46/EC before 2018-05-25), and a new
    name for the same law is not a change of any sub-processor's transfer tool."""
    info = law.regimes.get(regime)
    for period in info.names if info is not None else ():
        text = text.replace(period.name, info.name)
    return text


def verdict_words(rg: RegistryGraph, law: Law, hop: HopStatus, regime: str, verdict: RegimeStatus) -> str:
    """One regime's verdict on a hop as a phrase: 'standard contractual clauses (Decision
    2021/914, scc-acme)', 'no transfer tool needed: IE is inside the EU GDPR area', ..."""
    destination = hop.target_countries[0] if hop.target_countries else None
    tools = "; ".join(dict.fromkeys(
        _tool_words(rg, law, t, destination) for t in regime_tools(rg, law, hop, regime, verdict)))
    status = verdict.status
    if status is Status.NOT_REQUIRED:
        return f"no transfer tool needed: {_stable_names(law, regime, verdict.reason)}"
    if status in (Status.ADEQUATE, Status.COVERED, Status.DEROGATION):
        return tools
    if status is Status.INVALID:
        return f"no valid transfer tool ({tools} claimed, but not valid for this transfer)"
    if status is Status.UNCOVERED:
        return "no transfer tool"
    return f"cannot be judged: {verdict.reason}"


def hop_words(rg: RegistryGraph, law: Law, hop: HopStatus) -> dict[str, str]:
    """Regime id -> the phrase for each regime the hop's data carries."""
    return {regime: verdict_words(rg, law, hop, regime, verdict) for regime, verdict in hop.regimes.items()}
