"""Who counts as a sub-processor, and when a new one may start (GDPR Art. 28(2)).

A processor with a general authorisation must tell its customers of every new or replaced
sub-processor and give them time to object before it is used. The registry records the period
(`notice_days`, 30 by default) and, per party, the day notice was given (`notice_given`).
The sub-processor list, the change notice, the published site and the findings all read these
two rules from here, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from lineage.days import add_days
from lineage.graph import RegistryGraph
from registry.ids import PartyKind, Role
from registry.model import Flow, Party


def subprocessor_of(rg: RegistryGraph, flow: Flow) -> Party | None:
    """The party `flow` makes a sub-processor, or None.

    A flow's recipient organisation is a sub-processor when it is a party of kind
    `subprocessor`, or when the flow hands it data in the role `subprocessor` (a group company
    acting as one counts too).

    >>> from registry.loader import load_registry_file
    >>> from lineage.graph import build_graph
    >>> rg = build_graph(load_registry_file("tests/fixtures/northwind.yaml"))
    >>> [(f.id, subprocessor_of(rg, f).id) for f in rg.flows.values() if subprocessor_of(rg, f)]
    [('mailer-to-bouncer', 'bouncer')]
    """
    party = rg.organisation(flow.to)
    if party is not None and (party.kind is PartyKind.SUBPROCESSOR or flow.role is Role.SUBPROCESSOR):
        return party
    return None


def subprocessor_flows(rg: RegistryGraph, flows: Iterable[Flow]) -> dict[str, list[Flow]]:
    """Each sub-processor's flows among `flows` (`subprocessor_of`), keyed by party id in the
    order of each party's first flow, every list in the order given.

    >>> from registry.loader import load_registry_file
    >>> from lineage.graph import build_graph
    >>> rg = build_graph(load_registry_file("tests/fixtures/northwind.yaml"))
    >>> {p: [f.id for f in fs] for p, fs in subprocessor_flows(rg, rg.flows.values()).items()}
    {'bouncer': ['mailer-to-bouncer']}
    """
    out: dict[str, list[Flow]] = {}
    for flow in flows:
        party = subprocessor_of(rg, flow)
        if party is not None:
            out.setdefault(party.id, []).append(flow)
    return out


def earliest_start(notice: date, notice_days: int) -> date:
    """The first day a sub-processor announced on `notice` may receive data.

    The customers have `notice_days` full days to object, so the day after they end is the
    first allowed: notice on 1 March with 30 days allows a start on 31 March.

    >>> earliest_start(date(2023, 3, 1), 30)
    datetime.date(2023, 3, 31)
    """
    return add_days(notice, notice_days)
