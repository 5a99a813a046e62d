"""The fix for a transfer without a fitting tool, in words, for the date asked.

A fix names only instruments that exist on that date, read from the law file: SCC versions a
contract could be signed on then (`scc`, with the relations each covers in `scc_relations`),
tools with a start fixed by law (`instruments`: the IDTA, the UK Addendum) and the adequacy
frameworks in force (`frameworks`). On 2018-12-27 an EU controller-to-processor hop is told to
sign SCC 2010/87, not SCC 2021/914, which did not exist yet.
"""

from __future__ import annotations

import weakref
from datetime import date

from lineage.graph import RegistryGraph
from lineage.law import Law
from lineage.status import HopStatus
from registry.ids import Role
from registry.model import Flow

RELATIONS = {
    "c2c": "controller to controller",
    "c2p": "controller to processor",
    "p2p": "processor to processor",
    "p2c": "processor to controller",
}
RELATION_OF_ROLE = {
    Role.PROCESSOR: "c2p",
    Role.SUBPROCESSOR: "p2p",
    Role.CONTROLLER: "c2c",
    Role.JOINT_CONTROLLER: "c2c",
    Role.THIRD_PARTY: "c2c",
}
INSTRUMENT_NAMES = {"idta": "the IDTA", "uk-addendum": "the UK Addendum to the EU SCC"}


# Per law object (what-if copies the law), per regime and day: findings ask for every hop.
_SIGNABLE: weakref.WeakKeyDictionary[Law, dict[tuple[str, date], dict[str, tuple[str, str]]]] = weakref.WeakKeyDictionary()


def signable_scc(law: Law, regime: str, day: date) -> dict[str, tuple[str, str]]:
    """For each relation, the newest SCC version a contract could be signed on for `regime` on
    `day`, with how its part is cited: {relation: (version, part)}.

    >>> from lineage.law import load_law
    >>> signable_scc(load_law(), "eu", date(2018, 12, 27))["c2p"]
    ('2010/87', '')
    >>> signable_scc(load_law(), "eu", date(2022, 1, 1))["p2p"]
    ('2021/914', 'module 3')
    """
    memo = _SIGNABLE.setdefault(law, {})
    if (regime, day) not in memo:
        memo[(regime, day)] = _signable(law, regime, day)
    return dict(memo[(regime, day)])


def _signable(law: Law, regime: str, day: date) -> dict[str, tuple[str, str]]:
    best: dict[str, tuple[date, str, str]] = {}
    for rule in law.data.scc:
        if rule.regime != regime:
            continue
        opens = rule.new_from or date.min
        if day < opens or (rule.new_until and day >= rule.new_until) or (rule.valid_until and day >= rule.valid_until):
            continue
        for relation, part in law.scc_relations(rule.version).items():
            # The newest wins; on a tie (no start date under this regime) the later row of the
            # file, which lists versions in the order they were adopted.
            if relation not in best or best[relation][0] <= opens:
                best[relation] = (opens, rule.version, part)
    return {relation: (version, part) for relation, (_, version, part) in best.items()}


def _scc_text(version: str, part: str, relation: str) -> str:
    cited = f"SCC {version} {part}".rstrip()
    return f"{cited} ({RELATIONS[relation]})"


# Per law object: the sentence of each (exporter, recipient, relation, regime, destination, day).
# Findings ask for thousands of hops between the same few parties; bounded, as a dashboard
# serves many dates.
_FIXES: weakref.WeakKeyDictionary[Law, dict[tuple, str]] = weakref.WeakKeyDictionary()
_FIXES_KEPT = 50_000


def tool_fix(rg: RegistryGraph, law: Law, flow: Flow, regime: str, hop: HopStatus, day: date) -> str:
    """One sentence: what to sign (or rely on) so that `flow` is covered for `regime` on `day`,
    naming only instruments that exist on `day`."""
    exporter = rg.organisation(flow.from_)
    recipient = rg.organisation(flow.to)
    relation = RELATION_OF_ROLE.get(flow.role) if flow.role else None
    key = (exporter.id if exporter else flow.from_, recipient.id if recipient else flow.to, relation, regime,
           hop.target_countries[:1], day)
    memo = _FIXES.setdefault(law, {})
    found = memo.get(key)
    if found is None:
        if len(memo) >= _FIXES_KEPT:
            memo.clear()
        found = memo[key] = _tool_fix(law, *key)
    return found


def _tool_fix(law: Law, exporter: str, recipient: str, relation: str | None, regime: str,
              destination: tuple[str, ...], day: date) -> str:
    between = f"between {exporter} and {recipient}"
    signable = signable_scc(law, regime, day)
    options: list[str] = []
    if relation is not None:
        if relation in signable:
            options.append(f"sign {_scc_text(*signable[relation], relation)} {between}")
    elif signable:
        versions = {version for version, _ in signable.values()}
        if len(versions) == 1 and len(signable) > 1:
            options.append(f"sign SCC {versions.pop()} in the module that fits both ends' roles {between}")
        else:
            each = " or ".join(_scc_text(version, part, r) for r, (version, part) in signable.items())
            options.append(f"sign {each}, whichever fits both ends' roles, {between}")
    instruments = [INSTRUMENT_NAMES.get(i.kind, i.kind) for i in law.instruments_on(regime, day)]
    if instruments:
        options.append(f"sign {' or '.join(instruments)} {between}")
    if not options:
        what = f"{RELATIONS[relation]} transfers" if relation else "this transfer"
        options.append(
            f"no standard contractual clauses for {what} could be signed on {day}: put ad hoc contractual "
            f"clauses approved by the competent supervisory authority in place {between}"
        )
    for framework in law.frameworks.values():
        if framework.regime == regime and (framework.destination,) == destination and framework.valid_on(day):
            options.append(f"rely on the recipient's certification under the {framework.name}")
    options.append("stop the flow")
    return ", or ".join(options) + "."
