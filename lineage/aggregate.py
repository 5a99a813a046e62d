"""Aggregated views of a set of hops: what a chart can draw legibly at 10k or 100k flows.

A root category of a large registry has thousands of hops; drawn one by one they are a smear.
These pure functions group them the way a privacy officer reads a data map:

- every node belongs to a **unit**, the organisation that holds the data there (a system to its
  owner, a party to itself; a subject group is its own unit). A hop inside one unit moves data
  within one organisation and is not a transfer (EDPB Guidelines 05/2021), so it is not drawn
  between units; it is counted with its unit;
- a unit's **step** is how many hops between units the data takes from where it enters (subject
  groups, or units nothing flows into) to reach it, by breadth-first search;
- a chart node is a (step, group): units at one step grouped by recipient organisation, party
  kind, country or status (`group_keys`); per step only the `top` groups with the most problem
  hops, then the most hops, are kept and the rest fold into one "other" node; hops that leave
  units past the `depth` limit fold into one "further on" node;
- a link is (node, node, status), so each band of a Sankey has one status colour.

Every node and link keeps the flow ids it stands for, so a page can drill down from a group to
its individual hops. `problems_first` and `filter_hops` order and filter hop lists for tables.
"""

from __future__ import annotations

from collections import Counter, defaultdict, deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from lineage.graph import RegistryGraph
from lineage.status import HopStatus, Status

GroupBy = Literal["organisation", "kind", "country", "status"]
GROUP_BYS: tuple[GroupBy, ...] = ("organisation", "kind", "country", "status")

# The order a reader wants: definite problems first, then gaps, then what holds.
PROBLEM_ORDER: tuple[Status, ...] = (
    Status.INVALID, Status.UNCOVERED, Status.UNKNOWN, Status.DEROGATION,
    Status.COVERED, Status.ADEQUATE, Status.NOT_REQUIRED,
)
_RANK = {s: i for i, s in enumerate(PROBLEM_ORDER)}

# Group keys of units that are not organisations (see `group_keys`).
SUBJECTS = "subjects"
ENTRY = "entry"
UNKNOWN = "unknown"


def severity_rank(status: Status | str) -> int:
    """0 for the most urgent status (invalid), 6 for the least (not_required).

    >>> [severity_rank(s) for s in ("invalid", "uncovered", "unknown", "not_required")]
    [0, 1, 2, 6]
    """
    return _RANK[Status(status)]


def problems_first(hops: Iterable[HopStatus]) -> list[HopStatus]:
    """The hops sorted by `severity_rank` of their status; equal ones keep their order.

    >>> hops = [_hop("a", "x", "y", "adequate"), _hop("b", "y", "z", "invalid")]
    >>> [h.flow for h in problems_first(hops)]
    ['b', 'a']
    """
    return sorted(hops, key=lambda h: _RANK[h.status])


def filter_hops(
    hops: Iterable[HopStatus],
    *,
    statuses: Collection[str] = (),
    regimes: Collection[str] = (),
    kinds: Collection[str] = (),
    tools: Collection[str] = (),
) -> list[HopStatus]:
    """The hops that pass every filter given (an empty filter passes everything).

    - `statuses`: the hop's overall status is one of them; with `regimes` too, its status for
      one of those regimes is;
    - `regimes`: its data carries one of these regimes (e.g. "eu");
    - `kinds`: the recipient organisation is of one of these party kinds;
    - `tools`: it relies on one of these mechanisms, frameworks or decisions.

    >>> hops = [_hop("a", "x", "y", "invalid", kind="carrier"), _hop("b", "y", "z", "covered")]
    >>> [h.flow for h in filter_hops(hops, statuses={"invalid"})]
    ['a']
    >>> [h.flow for h in filter_hops(hops, kinds={"subprocessor"})]
    ['b']
    """
    wanted_status, wanted_regimes = set(statuses), set(regimes)
    wanted_kinds, wanted_tools = set(kinds), set(tools)
    out = []
    for h in hops:
        if wanted_regimes and not wanted_regimes & h.regimes.keys():
            continue
        if wanted_status:
            if wanted_regimes:
                judged = [v.status.value for r, v in h.regimes.items() if r in wanted_regimes]
            else:
                judged = [h.status.value]
            if not wanted_status.intersection(judged):
                continue
        if wanted_kinds and h.recipient_kind not in wanted_kinds:
            continue
        if wanted_tools and not wanted_tools.intersection(h.basis):
            continue
        out.append(h)
    return out


# --- units and groups ------------------------------------------------------------------------
def units(rg: RegistryGraph, hops: Iterable[HopStatus]) -> dict[str, str]:
    """Node id -> unit id for every end of `hops`: the organisation behind a system or party,
    the node itself for a subject group (or a node without an organisation)."""
    out: dict[str, str] = {}
    for h in hops:
        for node in (h.source, h.target):
            if node not in out:
                org = rg.organisation(node) if rg.node_kind(node) is not None else None
                out[node] = org.id if org is not None else node
    return out


def group_keys(
    rg: RegistryGraph, hops: Sequence[HopStatus], unit_of: Mapping[str, str], by: GroupBy
) -> dict[str, str]:
    """Unit id -> group key, for grouping units `by`:

    - "organisation": the unit itself (a party id, or a subject group id);
    - "kind": the party's kind ("subprocessor", ...), `SUBJECTS` for subject groups;
    - "country": the party's seat, or the subject group's locations joined by ", ";
      `UNKNOWN` when missing;
    - "status": the most urgent status (`PROBLEM_ORDER`) of the hops that bring the data to
      it at its step (from units one step earlier); `ENTRY` for units at step 0. (`aggregate`
      then places each hop's target by the hop's own status: `hop_status_key`.)
    """
    out: dict[str, str] = {}
    if by == "status":
        step = steps(hops, unit_of)
        worst: dict[str, Status] = {}
        for h in hops:
            source, target = unit_of[h.source], unit_of[h.target]
            if step[source] + 1 == step[target] and (target not in worst or _RANK[h.status] < _RANK[worst[target]]):
                worst[target] = h.status
        for unit in dict.fromkeys(unit_of.values()):
            out[unit] = worst[unit].value if unit in worst else ENTRY
        return out
    for unit in dict.fromkeys(unit_of.values()):
        kind = rg.node_kind(unit)
        if kind == "party":
            party = rg.element(unit)
            key = {"organisation": unit, "kind": party.kind.value, "country": party.country or UNKNOWN}[by]
        elif kind == "subject":
            key = {"organisation": unit, "kind": SUBJECTS,
                   "country": ", ".join(rg.countries(unit)) or UNKNOWN}[by]
        else:
            key = unit if by == "organisation" else UNKNOWN
        out[unit] = key
    return out


def steps(hops: Sequence[HopStatus], unit_of: Mapping[str, str]) -> dict[str, int]:
    """Unit id -> the fewest hops between units from where the data enters.

    Data enters at units no hop from another unit reaches (subject groups, data sources). A
    unit that only a cycle reaches starts a search of its own at step 0, in the order of `hops`.

    >>> hops = [_hop("1", "s", "a", "not_required"), _hop("2", "a", "b", "covered"),
    ...         _hop("3", "b", "a", "covered")]
    >>> steps(hops, {n: n for n in "sab"})
    {'s': 0, 'a': 1, 'b': 2}
    """
    out_of: dict[str, list[str]] = defaultdict(list)
    reached: set[str] = set()
    order = list(dict.fromkeys(unit_of[n] for h in hops for n in (h.source, h.target)))
    for h in hops:
        source, target = unit_of[h.source], unit_of[h.target]
        if source != target:
            out_of[source].append(target)
            reached.add(target)
    depth: dict[str, int] = {}
    for roots in ([u for u in order if u not in reached], order):
        for root in roots:
            if root in depth:
                continue
            depth[root] = 0
            queue = deque([root])
            while queue:
                unit = queue.popleft()
                for nxt in out_of[unit]:
                    if nxt not in depth:
                        depth[nxt] = depth[unit] + 1
                        queue.append(nxt)
    return {u: depth[u] for u in order}


# --- the aggregate -------------------------------------------------------------------------
Bucket = Literal["group", "other", "further"]


@dataclass(frozen=True)
class Node:
    """One chart node: a group of units at one step (or an "other" / "further on" bucket).

    `flows` are the hops it stands for: those drawn into it (out of it, at step 0) and those
    inside its units; `groups` the group keys it holds (several for "other")."""

    column: int
    bucket: Bucket
    key: str | None
    groups: tuple[str, ...]
    units: tuple[str, ...]
    flows: tuple[str, ...]
    statuses: Mapping[str, int]
    returning: bool = False  # every unit in it was reached at an earlier step (data coming back)

    @property
    def problems(self) -> int:
        return sum(n for s, n in self.statuses.items() if Status(s).is_problem)


@dataclass(frozen=True)
class Link:
    """Hops of one status from one node to another."""

    source: int
    target: int
    status: Status
    flows: tuple[str, ...]

    @property
    def value(self) -> int:
        return len(self.flows)


@dataclass(frozen=True)
class Aggregate:
    """Nodes (by column, then rank) and links of an aggregated view; `folded` groups went into
    "other" nodes, `internal` hops stayed inside one unit."""

    nodes: tuple[Node, ...]
    links: tuple[Link, ...]
    folded: int = 0
    internal: int = 0
    hops: int = 0
    units_by_column: Mapping[int, int] = field(default_factory=dict)

    def link_flows(self, source: int, target: int) -> tuple[str, ...]:
        """Every hop from node `source` to node `target`, whatever its status."""
        return tuple(f for link in self.links if (link.source, link.target) == (source, target) for f in link.flows)


def aggregate(
    hops: Sequence[HopStatus],
    unit_of: Mapping[str, str],
    group_of: Mapping[str, str],
    *,
    top: int = 8,
    depth: int = 3,
    target_key: Callable[[HopStatus], str] | None = None,
) -> Aggregate:
    """Group `hops` into at most `top` + 1 nodes per step for steps 0..`depth`, plus one node
    for the hops that leave units past step `depth`.

    `unit_of` maps every hop end to its unit (`units`), `group_of` every unit to its group key
    (`group_keys`); `target_key`, when given, groups the target end of each hop between units
    instead (grouping by status places a hop by its own status). A hop between units at steps s and anything is drawn from (s, its source's
    group) to (s + 1, its target's group): a target reached earlier appears again, marked
    `returning`, so the chart has no cycles. Groups are ranked per step by problem hops, then
    hops, then key; a group whose hops are all problems is never less visible than one with
    fewer problems.

    >>> hops = [_hop("1", "s", "a", "not_required"), _hop("2", "a", "b", "invalid"),
    ...         _hop("3", "a", "c", "covered"), _hop("4", "a", "e", "covered"),
    ...         _hop("5", "c", "d", "covered")]
    >>> same = {n: n for n in "sabcde"}
    >>> agg = aggregate(hops, same, same, top=1, depth=2)
    >>> [(n.column, n.bucket, n.groups, n.flows) for n in agg.nodes]  # doctest: +NORMALIZE_WHITESPACE
    [(0, 'group', ('s',), ('1',)), (1, 'group', ('a',), ('1',)), (2, 'group', ('b',), ('2',)),
     (2, 'other', ('c', 'e'), ('3', '4')), (3, 'further', (), ('5',))]
    >>> [(l.source, l.target, l.status.value, l.flows) for l in agg.links]  # doctest: +NORMALIZE_WHITESPACE
    [(0, 1, 'not_required', ('1',)), (1, 2, 'invalid', ('2',)), (1, 3, 'covered', ('3', '4')),
     (3, 4, 'covered', ('5',))]
    """
    step = steps(hops, unit_of)
    further = depth + 1
    # (column, group) -> what it holds, before ranking
    flows_at: dict[tuple[int, str], list[str]] = defaultdict(list)
    units_at: dict[tuple[int, str], dict[str, None]] = defaultdict(dict)
    status_at: dict[tuple[int, str], Counter[str]] = defaultdict(Counter)
    drawn: list[tuple[tuple[int, str], tuple[int, str] | None, HopStatus]] = []
    beyond: list[HopStatus] = []
    internal = 0

    def hold(place: tuple[int, str], unit: str, hop: HopStatus) -> None:
        flows_at[place].append(hop.flow)
        units_at[place][unit] = None
        status_at[place][hop.status.value] += 1

    for h in hops:
        su, tu = unit_of[h.source], unit_of[h.target]
        s_col = step[su]
        if su == tu:
            internal += 1
            if s_col > depth:
                beyond.append(h)
            else:
                hold((s_col, group_of[su]), su, h)
            continue
        if s_col > depth:
            beyond.append(h)
            continue
        source = (s_col, group_of[su])
        units_at[source].setdefault(su, None)
        if s_col == 0:
            hold(source, su, h)
        if s_col == depth:
            beyond.append(h)
            drawn.append((source, None, h))
            continue
        target = (s_col + 1, target_key(h) if target_key else group_of[tu])
        hold(target, tu, h)
        drawn.append((source, target, h))

    # rank per column; fold the rest into "other"
    columns: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for place in units_at:
        columns[place[0]].append(place)
    nodes: list[Node] = []
    index: dict[tuple[int, str], int] = {}
    folded = 0
    for column in sorted(columns):
        places = sorted(columns[column], key=lambda p: (
            -sum(n for s, n in status_at[p].items() if Status(s).is_problem), -len(flows_at[p]), p[1]))
        keep, rest = (places, []) if len(places) <= top + 1 else (places[:top], places[top:])
        for place in keep:
            index[place] = len(nodes)
            nodes.append(Node(column, "group", place[1], (place[1],), tuple(units_at[place]),
                              tuple(flows_at[place]), dict(status_at[place]),
                              returning=column > 0 and all(step[u] < column for u in units_at[place])))
        if rest:
            folded += len(rest)
            other = len(nodes)
            statuses: Counter[str] = Counter()
            for place in rest:
                index[place] = other
                statuses.update(status_at[place])
            nodes.append(Node(column, "other", None, tuple(p[1] for p in rest),
                              tuple(u for p in rest for u in units_at[p]),
                              tuple(f for p in rest for f in flows_at[p]), dict(statuses)))
    if beyond:
        index[(further, "")] = len(nodes)
        nodes.append(Node(further, "further", None, (), tuple(dict.fromkeys(unit_of[h.target] for h in beyond)),
                          tuple(h.flow for h in beyond), dict(Counter(h.status.value for h in beyond))))

    bands: dict[tuple[int, int, Status], list[str]] = defaultdict(list)
    for source, target, h in drawn:
        end = index[target] if target is not None else index[(further, "")]
        bands[(index[source], end, h.status)].append(h.flow)
    links = tuple(Link(s, t, status, tuple(flows))
                  for (s, t, status), flows in sorted(bands.items(), key=lambda x: (x[0][0], x[0][1], _RANK[x[0][2]])))
    per_column = Counter(place[0] for place in units_at)
    return Aggregate(tuple(nodes), links, folded, internal, len(hops), dict(per_column))


def hop_status_key(hop: HopStatus) -> str:
    """The `target_key` of grouping by status: the hop's own status."""
    return hop.status.value


def aggregate_by(
    rg: RegistryGraph, hops: Sequence[HopStatus], by: GroupBy, *, top: int = 8, depth: int = 3
) -> Aggregate:
    """`aggregate` with units and groups read from the registry graph (`units`, `group_keys`)."""
    unit_of = units(rg, hops)
    group_of = group_keys(rg, hops, unit_of, by)
    return aggregate(hops, unit_of, group_of, top=top, depth=depth,
                     target_key=hop_status_key if by == "status" else None)


def _hop(flow: str, source: str, target: str, status: str, kind: str = "subprocessor") -> HopStatus:
    """A hop for the examples above."""
    return HopStatus(flow, source, target, (), (), (), Status(status), "", recipient_kind=kind)
