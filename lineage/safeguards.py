"""The core rule: which safeguard covers a hop, per regime, on a date (DESIGN.md "The core rule").

For one regime the first that applies wins: not required, adequate, covered by a fitting tool,
derogation, invalid (something was claimed, nothing claimed fits), uncovered (nothing claimed).
The overall status is the worst of the regimes the hop's data carries: those its source holds on
the date, including data it received earlier and still keeps (`lineage.holdings`).

Words follow the law as it stood on the date, from the law file: the EU regime is Directive
95/46/EC until 2018-05-24 and the GDPR from 2018-05-25, the Swiss one the FADP of 1992 until
2023-08-31 and the revised FADP from 2023-09-01; a derogation cites the provision of the law in
force (e.g. Directive Art. 26(1)(a) or GDPR Art. 49(1)(a)).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from lineage.graph import RegistryGraph
from lineage.law import Law
from lineage.regimes import RegimeState
from lineage.status import HopStatus, RegimeStatus, Status, worst
from registry.ids import FRAMEWORK_IDS, MechanismKind, PartyKind
from registry.model import Flow, Mechanism, Party


@dataclass(frozen=True)
class _Claim:
    """The verdict on one claimed tool for one regime."""

    fits: bool
    status: Status
    reason: str
    basis: str


def evaluate_hop(
    rg: RegistryGraph,
    law: Law,
    state: RegimeState,
    flow: Flow,
    day: date,
    categories: Iterable[str] | None = None,
) -> HopStatus:
    """The status of `flow` on `day`, per regime and overall.

    `categories` limits the data considered to those used category ids (a category query asks
    about its own data only); by default all the data the flow carries counts.
    """
    carried = rg.carried_used[flow.id]
    if categories is not None:
        wanted = set(categories)
        carried = tuple(c for c in carried if c in wanted)
    source, target = flow.from_, flow.to
    src_countries, dst_countries = rg.countries(source), rg.countries(target)
    recipient = rg.organisation(target)
    collection = rg.node_kind(source) == "subject"
    mask = state.mask(source, carried)
    regimes = state.names(mask)
    crosses = bool(src_countries and dst_countries and set(src_countries) != set(dst_countries))
    common = dict(
        flow=flow.id, source=source, target=target, source_countries=src_countries,
        target_countries=dst_countries, carries=tuple(flow.carries), purpose=flow.purpose,
        role=flow.role.value if flow.role else None, frequency=flow.frequency.value,
        recipient=recipient.id if recipient else None,
        recipient_kind=recipient.kind.value if recipient else None,
    )

    if collection:
        reason = "collection from data subjects is not a transfer"
        per = {r: RegimeStatus(r, Status.NOT_REQUIRED, reason) for r in regimes}
        return HopStatus(**common, status=Status.NOT_REQUIRED, reason=reason, regimes=per,
                         collection=True, crosses_border=False)

    missing = [n for n, c in ((source, src_countries), (target, dst_countries)) if not c]
    if missing:
        where = " and ".join(f"'{n}'" for n in missing)
        reason = f"the location of {where} is missing"
        if regimes:
            per = _at_rest(state, source, carried, mask, {r: RegimeStatus(r, Status.UNKNOWN, reason) for r in regimes})
            reason = "; ".join(f"{law.regime_name(r, day)}: {s.reason}" for r, s in per.items())
            return HopStatus(**common, status=Status.UNKNOWN, reason=reason, regimes=per)
        if not src_countries:
            return HopStatus(**common, status=Status.UNKNOWN,
                             reason=f"{reason}: cannot tell which regimes protect the data")
        return HopStatus(**common, status=Status.NOT_REQUIRED,
                         reason="the data carries no transfer regime")

    if not regimes:
        return HopStatus(**common, status=Status.NOT_REQUIRED, crosses_border=crosses,
                         reason="the data carries no transfer regime (not collected or held in the EEA, UK or Switzerland)")

    # A regime's verdict depends on nothing else of the hop (see _regime_status), so hops that
    # share these are judged once per state (one registry, law and date).
    shared = verdict_key(rg, flow)
    per = {regime: regime_verdict(rg, law, state, flow, day, regime, shared) for regime in regimes}
    per = _at_rest(state, source, carried, mask, per)
    overall = worst([r.status for r in per.values()])
    reason = "; ".join(f"{law.regime_name(r, day)}: {s.reason}" for r, s in per.items())
    return HopStatus(**common, status=overall, reason=reason, regimes=per, crosses_border=crosses)


def _at_rest(state: RegimeState, source: str, carried: tuple[str, ...], mask: int,
             per: dict[str, RegimeStatus]) -> dict[str, RegimeStatus]:
    """Say so where a regime protects the hop's data only because the source keeps what was
    delivered before (DESIGN.md rule 2): nothing brings such data to it on the date."""
    resting = mask & ~state.arriving(source, carried, mask)
    if not resting:
        return per
    out = dict(per)
    for regime in state.names(resting):
        last = state.kept_until(source, carried, regime)
        kept = f"kept through {last}" if last else "with no retention limit"
        verdict = per[regime]
        out[regime] = RegimeStatus(regime, verdict.status,
                                   f"{verdict.reason} (data held at '{source}' from earlier deliveries, {kept})",
                                   verdict.basis)
    return out


def verdict_key(rg: RegistryGraph, flow: Flow) -> tuple:
    """What a hop's per-regime verdict depends on besides the regime: its ends' countries and
    organisations and its claims (`evaluate_hop` judges hops that share them once). Only for
    hops whose ends both have a location."""
    exporter, recipient = rg.organisation(flow.from_), rg.organisation(flow.to)
    return (rg.countries(flow.from_)[0], rg.countries(flow.to)[0], exporter.id if exporter else None,
            recipient.id if recipient else None, tuple(flow.under))


def regime_verdict(
    rg: RegistryGraph, law: Law, state: RegimeState, flow: Flow, day: date, regime: str, shared: tuple
) -> RegimeStatus:
    """The verdict on `flow` for `regime` (`shared` is its `verdict_key`), judged once per key
    and state."""
    key = (regime, *shared)
    verdict = state.verdicts.get(key)
    if verdict is None:
        src, dst = shared[0], shared[1]
        verdict = state.verdicts[key] = _regime_status(
            law, regime, flow, day, src, dst, rg.organisation(flow.from_), rg.organisation(flow.to), rg)
    return verdict


def _regime_status(
    law: Law,
    regime: str,
    flow: Flow,
    day: date,
    src: str,
    dst: str,
    exporter: Party | None,
    recipient: Party | None,
    rg: RegistryGraph,
) -> RegimeStatus:
    # Of the flow, only its claims (`under`) count: `evaluate_hop` memoises on that.
    name = law.regime_name(regime, day)
    if src == dst:
        return RegimeStatus(regime, Status.NOT_REQUIRED, f"stays inside {dst}")
    if law.in_area(regime, dst, day):
        return RegimeStatus(regime, Status.NOT_REQUIRED, f"{dst} is inside the {name} area")
    if exporter is not None and recipient is not None and exporter.id == recipient.id:
        # EDPB Guidelines 05/2021 (version 2.0), criterion 2: a transfer needs another controller
        # or processor as importer; moving data inside one legal entity is not a Chapter V
        # transfer.
        return RegimeStatus(
            regime, Status.NOT_REQUIRED,
            f"stays within {exporter.id} (one organisation; not a transfer, EDPB Guidelines 05/2021, criterion 2)",
        )

    for decision in law.adequacy(regime, dst, day):
        fits, why = _adequacy_fits(decision.scope, decision.framework, recipient, day)
        if fits:
            basis = decision.framework or decision.instrument
            return RegimeStatus(regime, Status.ADEQUATE, f"{dst} adequate ({decision.instrument}){why}", (basis,))

    claims = [_judge(law, regime, claim, flow, day, dst, exporter, recipient, rg) for claim in flow.under]
    for wanted in (Status.COVERED, Status.DEROGATION):
        for claim in claims:
            if claim.fits and claim.status is wanted:
                return RegimeStatus(regime, wanted, claim.reason, (claim.basis,))
    if claims:
        reasons = "; ".join(c.reason for c in claims)
        return RegimeStatus(regime, Status.INVALID, reasons, tuple(c.basis for c in claims))
    return RegimeStatus(
        regime, Status.UNCOVERED,
        f"no transfer tool claimed; {dst} is not adequate for {name} on {day}",
    )


def _adequacy_fits(scope: str, framework: str | None, recipient: Party | None, day: date) -> tuple[bool, str]:
    if scope == "full":
        return True, ""
    if recipient is None:
        return False, ""
    if scope == "commercial":
        return recipient.kind is not PartyKind.AUTHORITY, ", commercial recipient"
    certified = any(c.framework.value == framework and c.valid_on(day) for c in recipient.certifications)
    return certified, f", {recipient.id} certified under {framework}"


def _judge(
    law: Law,
    regime: str,
    claim: str,
    flow: Flow,
    day: date,
    dst: str,
    exporter: Party | None,
    recipient: Party | None,
    rg: RegistryGraph,
) -> _Claim:
    if claim in FRAMEWORK_IDS:
        return _judge_framework(law, regime, claim, day, dst, recipient)
    mechanism = rg.registry.get(claim)
    assert isinstance(mechanism, Mechanism)  # guaranteed by validation
    return _judge_mechanism(law, regime, mechanism, day, exporter, recipient)


def _judge_framework(law: Law, regime: str, fid: str, day: date, dst: str, recipient: Party | None) -> _Claim:
    fw = law.frameworks[fid]

    def bad(reason: str) -> _Claim:
        return _Claim(False, Status.INVALID, reason, fid)

    if fw.valid_until and day >= fw.valid_until:
        ended = f" ({fw.ended_by})" if fw.ended_by else ""
        return bad(f"{fw.name} invalid since {fw.valid_until}{ended}")
    if fw.valid_from and day < fw.valid_from:
        return bad(f"{fw.name} not in force before {fw.valid_from}")
    if fw.regime != regime:
        return bad(f"{fw.name} covers {law.regime_name(fw.regime, day)} transfers, not {law.regime_name(regime, day)}")
    if dst != fw.destination:
        return bad(f"{fw.name} covers recipients in {fw.destination} only, not {dst}")
    who = recipient.id if recipient else "the recipient"
    return bad(f"{who} is not certified under {fw.name} on {day}")


def _judge_mechanism(
    law: Law, regime: str, m: Mechanism, day: date, exporter: Party | None, recipient: Party | None
) -> _Claim:
    label = f"{m.kind.value.upper() if m.kind in (MechanismKind.BCR, MechanismKind.SCC, MechanismKind.IDTA) else m.kind.value} '{m.id}'"

    def bad(reason: str) -> _Claim:
        return _Claim(False, Status.INVALID, f"{label}: {reason}", m.id)

    accepted = ""
    if m.regime.value != regime:
        recognised = law.recognition(m.kind.value, m.regime.value, regime, day)
        if recognised is None:
            return bad(f"a {law.regime_name(m.regime.value, day)} tool; it does not cover {law.regime_name(regime, day)}")
        # e.g. revised FADP Art. 16(2)(e): a BCR an EEA authority approved serves Swiss transfers
        accepted = (f" (approved under {law.regime_name(m.regime.value, day)}, accepted under "
                    f"{law.regime_name(regime, day)} since {recognised.valid_from}: {recognised.cite})")
    if m.valid_from and day < m.valid_from:
        return bad(f"not in effect before {m.valid_from}")
    if m.valid_until and day >= m.valid_until:
        return bad(f"ended on {m.valid_until}")
    fixed = law.instrument(m.kind.value, regime)
    if m.kind in (MechanismKind.IDTA, MechanismKind.UK_ADDENDUM) and fixed is None:
        return bad(f"only exists under UK GDPR, not {law.regime_name(regime, day)}")
    if fixed and not fixed.valid_on(day):
        return bad(f"not available before {fixed.valid_from}")
    ends = {p.id for p in (exporter, recipient) if p is not None}
    members = set(m.members)

    if m.kind is MechanismKind.DEROGATION:
        if m.ground is None:
            return _Claim(True, Status.DEROGATION, f"derogation '{m.id}'", m.id)
        exists, cite = law.derogation(regime, m.ground.value, day)
        if not exists:
            return _Claim(False, Status.INVALID,
                          f"derogation '{m.id}': ground {m.ground.value} (GDPR numbering) has no counterpart "
                          f"under {law.regime_name(regime, day)}", m.id)
        return _Claim(True, Status.DEROGATION, f"derogation '{m.id}' ({cite or 'ground ' + m.ground.value})", m.id)
    if m.kind is MechanismKind.BCR:
        outside = sorted(ends - members)
        if outside:
            return bad(f"{', '.join(outside)} not a member of the group")
        return _Claim(True, Status.COVERED, f"{label}: both ends are group members{accepted}", m.id)
    if m.kind in (MechanismKind.SCC, MechanismKind.IDTA, MechanismKind.UK_ADDENDUM, MechanismKind.AD_HOC):
        if not ends <= members or len(ends) < 2:
            return bad(f"not a contract between {' and '.join(sorted(ends)) or 'these ends'}")
        if m.kind is MechanismKind.SCC:
            problem = _scc_problem(law, regime, m, day)
            if problem:
                return bad(problem)
        version = f" {m.version.value}" if m.version else " (version not stated)"
        what = f"{label}{version if m.kind is MechanismKind.SCC else ''}"
        return _Claim(True, Status.COVERED, f"{what}: contract between {' and '.join(sorted(ends))}", m.id)
    # codes of conduct and certifications bind the importer
    if members and (recipient is None or recipient.id not in members):
        return bad(f"{recipient.id if recipient else 'the recipient'} has not adhered to it")
    return _Claim(True, Status.COVERED, f"{label} binds the recipient", m.id)


def _scc_problem(law: Law, regime: str, m: Mechanism, day: date) -> str | None:
    if m.version is None:
        return None
    rule = law.scc_rule(regime, m.version.value)
    if rule is None:
        extra = " (it needs the UK Addendum)" if regime == "uk" else ""
        return f"SCC {m.version.value} is not recognised under {law.regime_name(regime, day)}{extra}"
    signed = m.valid_from
    if signed and rule.new_from and signed < rule.new_from:
        return f"signed {signed}, before SCC {m.version.value} could be used ({rule.new_from})"
    if signed and rule.new_until and signed >= rule.new_until:
        last = rule.new_until - timedelta(days=1)
        return f"signed {signed}, after SCC {m.version.value} closed to new contracts ({last})"
    if rule.valid_until and day >= rule.valid_until:
        return f"SCC {m.version.value} no longer valid since {rule.valid_until}"
    return None
