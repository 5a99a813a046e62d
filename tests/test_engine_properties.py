"""Invariants of the safeguard engine over random registries (hypothesis).

The registries are random but valid: a random category tree, subject groups in and out of the
three regimes' areas, parties in random countries (sometimes unknown) with random framework
certifications, systems (some with a retention), mechanisms of every kind with random windows,
and flows between them with random windows, retentions and claimed tools. Each property is
checked on a random date.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from registry_builders import graph_of

from lineage import queries
from lineage.evaluation import evaluate
from lineage.law import load_law
from lineage.regimes import propagate
from lineage.safeguards import evaluate_hop
from lineage.status import Status, worst
from registry.ids import FRAMEWORK_IDS, PartyKind

LAW = load_law()
SUBJECT_LOCATIONS = ["EEA", "NL", "DE", "GB", "CH", "US", "BR", "JP", "IN"]
COUNTRIES = ["NL", "DE", "IE", "GB", "CH", "US", "BR", "JP", "IN", "CA", "KR"]
FRAMEWORKS = sorted(FRAMEWORK_IDS)
SCC_VERSIONS = ["2001/497", "2004/915", "2002/16", "2010/87", "2021/914", None]
MECHANISM_KINDS = ["bcr", "scc", "idta", "uk-addendum", "derogation", "certification", "code-of-conduct", "ad-hoc"]
NEEDS_TWO = {"bcr", "scc", "idta", "uk-addendum"}

# mostly the years in which the law moves, sometimes any date the file knows about
days = st.dates(min_value=date(2015, 1, 1), max_value=date(2027, 12, 31)) | st.dates(
    min_value=date(1999, 1, 1), max_value=date(2031, 12, 31))
RETENTION = st.sampled_from([0, 1, 2, 30, 365, 2555])
PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def windows(draw: st.DrawFn) -> dict[str, str]:
    """An optional [valid_from, valid_until) window."""
    out: dict[str, str] = {}
    start = draw(st.none() | days)
    end = draw(st.none() | days)
    if start is not None:
        out["valid_from"] = start.isoformat()
    if end is not None and (start is None or end > start):
        out["valid_until"] = end.isoformat()
    return out


@st.composite
def registries(draw: st.DrawFn) -> dict[str, Any]:
    categories: list[str] = []
    for i in range(draw(st.integers(1, 6))):
        parent = draw(st.sampled_from([None, *categories]))
        categories.append(f"{parent}.k{i}" if parent else f"k{i}")

    subject_groups = [
        {"id": f"s{i}", "name": f"group {i}",
         "location": draw(st.lists(st.sampled_from(SUBJECT_LOCATIONS), min_size=1, max_size=2, unique=True))}
        for i in range(draw(st.integers(1, 3)))
    ]
    parties = []
    for i in range(draw(st.integers(2, 5))):
        body: dict[str, Any] = {"id": f"p{i}", "name": f"party {i}", "kind": draw(st.sampled_from([k.value for k in PartyKind]))}
        country = draw(st.sampled_from(COUNTRIES) | st.just(None)) if draw(st.integers(0, 9)) == 0 else draw(st.sampled_from(COUNTRIES))
        if country:
            body["country"] = country
        certs = [{"framework": draw(st.sampled_from(FRAMEWORKS)), **draw(windows())}
                 for _ in range(draw(st.integers(0, 2)))]
        if certs:
            body["certifications"] = certs
        parties.append(body)
    party_ids = [p["id"] for p in parties]

    systems = []
    for i in range(draw(st.integers(1, 4))):
        body = {"id": f"y{i}", "name": f"system {i}", "owner": draw(st.sampled_from(party_ids))}
        if draw(st.integers(0, 9)) > 0:
            body["country"] = draw(st.sampled_from(COUNTRIES))
        if draw(st.booleans()):
            body["retention_days"] = draw(RETENTION)
        systems.append(body)

    sources = [g["id"] for g in subject_groups] + [s["id"] for s in systems] + party_ids
    targets = [s["id"] for s in systems] + party_ids
    n_mechanisms = draw(st.integers(0, 4))
    tools = [f"m{i}" for i in range(n_mechanisms)] + FRAMEWORKS
    flows = []
    for i in range(draw(st.integers(1, 9))):
        src = draw(st.sampled_from(sources))
        dst = draw(st.sampled_from([t for t in targets if t != src]))
        body = {
            "id": f"f{i}", "from": src, "to": dst,
            "carries": draw(st.lists(st.sampled_from(categories), min_size=1, max_size=2, unique=True)),
            "frequency": draw(st.sampled_from(["continuous", "occasional"])),
            **draw(windows()),
        }
        if draw(st.integers(0, 3)) == 0:
            body["retention_days"] = draw(RETENTION)
        mechanism_ids = tools[:n_mechanisms]
        under = draw(st.lists(st.sampled_from(mechanism_ids) if mechanism_ids and draw(st.booleans())
                              else st.sampled_from(tools), max_size=2, unique=True))
        if under:
            body["under"] = under
        flows.append(body)

    owner = {s["id"]: s["owner"] for s in systems} | {p: p for p in party_ids}
    mechanisms = []
    for i in range(n_mechanisms):
        kind = draw(st.sampled_from(MECHANISM_KINDS))
        body = {"id": f"m{i}", "kind": kind, "regime": draw(st.sampled_from(["eu", "eu", "uk", "ch"])),
                **(draw(windows()) if draw(st.booleans()) else {})}
        if kind in NEEDS_TWO or draw(st.booleans()):
            # half the time, a contract or group that fits some transfer in the registry
            hop = draw(st.sampled_from(flows))
            ends = {owner.get(hop["from"]), owner[hop["to"]]} - {None}
            if draw(st.booleans()) and len(ends) == 2:
                body["members"] = sorted(ends)
            else:
                body["members"] = draw(st.lists(st.sampled_from(party_ids), min_size=2, max_size=3, unique=True))
        if kind == "scc" and (version := draw(st.sampled_from(SCC_VERSIONS))):
            body["version"] = version
        if kind == "derogation":
            body["ground"] = draw(st.sampled_from(["49-1-a", "49-1-b", "49-1-c"]))
        mechanisms.append(body)

    return {
        "flowreg": 1, "organization": "Random Org",
        "categories": [{"id": c, "name": c} for c in categories],
        "subjects": subject_groups, "parties": parties, "systems": systems,
        "mechanisms": mechanisms, "flows": flows,
    }


def subtree_pairs(categories: list[str]) -> list[tuple[str, str]]:
    return [(a, d) for a in categories for d in categories if d != a and d.startswith(a + ".")]


# --- (a) hierarchy ------------------------------------------------------------------------------
@PROPERTY
@given(registries(), days)
def test_flows_of_an_ancestor_include_those_of_every_descendant(doc, day):
    rg = graph_of(doc)
    ids = {c["id"]: {h.flow for h in queries.flows(rg, c["id"], day)} for c in doc["categories"]}
    for ancestor, descendant in subtree_pairs(list(ids)):
        assert ids[descendant] <= ids[ancestor], (ancestor, descendant)
    # and every active flow shows up under each category it carries
    for f in rg.active_flows(day):
        for c in f.carries:
            assert f.id in ids[c]


# --- (b) a fitting tool never hurts -------------------------------------------------------------
@PROPERTY
@given(registries(), days, st.data())
def test_adding_a_fitting_bcr_never_worsens_a_hop(doc, day, data):
    rg = graph_of(doc)
    transfers = [f for f in doc["flows"] if rg.node_kind(f["from"]) != "subject"]
    if not transfers:
        return
    chosen = data.draw(st.sampled_from(transfers))
    ends = [rg.organisation(chosen["from"]).id, rg.organisation(chosen["to"]).id]
    members = list(dict.fromkeys(ends))
    if len(members) < 2:
        members.append(next(p["id"] for p in doc["parties"] if p["id"] != members[0]))
    changed = copy.deepcopy(doc)
    for regime in ("eu", "uk", "ch"):
        changed["mechanisms"].append({"id": f"added-bcr-{regime}", "kind": "bcr", "regime": regime,
                                      "valid_from": "1980-01-01", "members": members})
    target = next(f for f in changed["flows"] if f["id"] == chosen["id"])
    target["under"] = [*target.get("under", []), "added-bcr-eu", "added-bcr-uk", "added-bcr-ch"]

    before = {h.flow: h for h in evaluate(rg, day).hops()}
    after = {h.flow: h for h in evaluate(graph_of(changed), day).hops()}
    assert before.keys() == after.keys()
    for flow_id, old in before.items():
        new = after[flow_id]
        assert new.status.rank <= old.status.rank, (flow_id, old.reason, new.reason)
        for regime, verdict in old.regimes.items():
            assert new.regimes[regime].status.rank <= verdict.status.rank
    if chosen["id"] in after:
        # on the chosen hop the BCR fits, so no regime is left invalid or uncovered
        assert not {r.status for r in after[chosen["id"]].regimes.values()} & {Status.INVALID, Status.UNCOVERED}


# --- (c) no border, no transfer ------------------------------------------------------------------
@PROPERTY
@given(registries(), days)
def test_a_hop_inside_one_country_is_never_a_transfer(doc, day):
    for hop in evaluate(graph_of(doc), day).hops():
        if hop.source_countries and len(set(hop.source_countries)) == 1 and set(hop.source_countries) == set(hop.target_countries):
            assert hop.status in (Status.NOT_REQUIRED, Status.UNKNOWN), hop.reason
            assert not hop.crosses_border


# --- (d) collection -----------------------------------------------------------------------------
@PROPERTY
@given(registries(), days)
def test_collection_is_always_not_required(doc, day):
    rg = graph_of(doc)
    for hop in evaluate(rg, day).hops():
        if rg.node_kind(hop.source) == "subject":
            assert hop.collection and hop.status is Status.NOT_REQUIRED
            assert all(r.status is Status.NOT_REQUIRED for r in hop.regimes.values())
        else:
            assert not hop.collection


# --- (e) determinism and the overall status -----------------------------------------------------
@PROPERTY
@given(registries(), days)
def test_statuses_are_deterministic_and_overall_is_the_worst(doc, day):
    first = [h.to_dict() for h in evaluate(graph_of(doc), day).hops()]
    second = [h.to_dict() for h in evaluate(graph_of(copy.deepcopy(doc)), day).hops()]
    assert first == second
    rg = graph_of(doc)
    for c in doc["categories"]:
        one = [h.to_dict() for h in queries.flows(rg, c["id"], day)]
        assert one == [h.to_dict() for h in queries.flows(rg, c["id"], day)]
    for hop in evaluate(rg, day).hops():
        if hop.regimes:
            assert hop.status is worst([r.status for r in hop.regimes.values()])


# --- (f) a category query agrees with the full evaluation ---------------------------------------
@PROPERTY
@given(registries(), days)
def test_category_query_equals_full_evaluation_for_single_category_flows(doc, day):
    rg = graph_of(doc)
    full_state = propagate(rg, LAW, day)
    ev = evaluate(rg, day)
    for c in doc["categories"]:
        by_flow = {h.flow: h for h in queries.flows(rg, c["id"], day)}
        for f in rg.active_flows(day):
            if f.carries != [c["id"]]:
                continue
            direct = evaluate_hop(rg, LAW, full_state, f, day)
            assert by_flow[f.id].to_dict() == direct.to_dict() == ev.hop(f.id).to_dict()


# --- extra: regimes come only from the areas -----------------------------------------------------
@PROPERTY
@given(registries(), days)
def test_data_never_touching_a_regime_area_carries_no_regime(doc, day):
    rg = graph_of(doc)
    state = propagate(rg, LAW, day)
    touched = set()
    for node in rg.graph.nodes:
        for country in rg.countries(node):
            if country == "EEA" or LAW.regimes_at(country, day):
                touched.add(node)
    if not touched:
        assert state.masks == {} or all(m == 0 for m in state.masks.values())
        for hop in evaluate(rg, day).hops():
            assert hop.regimes == {}
            assert hop.status in (Status.NOT_REQUIRED, Status.UNKNOWN)


# --- extra: propagation agrees with a naive reading of the rule ---------------------------------
def naive_regimes(doc: dict[str, Any], day: date) -> dict[str, set[str]]:
    """The regimes each active flow's data carries, computed the slow, obvious way: every
    declared category is its own piece of data; a flow of X moves X and everything under it; a
    node's location attaches its regimes to every piece it sends or receives; repeat until
    nothing changes."""
    cats = [c["id"] for c in doc["categories"]]
    located = {g["id"]: g.get("location", []) for g in doc["subjects"]}
    located |= {p["id"]: [p["country"]] if "country" in p else [] for p in doc["parties"]}
    located |= {s["id"]: [s["country"]] if "country" in s else [] for s in doc["systems"]}

    def regimes_of(node: str) -> set[str]:
        return {r for loc in located[node] for r in ({"eu"} if loc == "EEA" else LAW.regimes_at(loc, day))}

    def active(f: dict[str, Any]) -> bool:
        start, end = f.get("valid_from"), f.get("valid_until")
        return (start is None or date.fromisoformat(start) <= day) and (end is None or day < date.fromisoformat(end))

    flows = [f for f in doc["flows"] if active(f)]
    moves = {f["id"]: {c for c in cats for x in f["carries"] if c == x or c.startswith(x + ".")} for f in flows}
    held: dict[tuple[str, str], set[str]] = {}
    for f in flows:
        for piece in moves[f["id"]]:
            held.setdefault((f["from"], piece), set()).update(regimes_of(f["from"]))
            held.setdefault((f["to"], piece), set()).update(regimes_of(f["to"]))
    changed = True
    while changed:
        changed = False
        for f in flows:
            for piece in moves[f["id"]]:
                extra = held[(f["from"], piece)] - held[(f["to"], piece)]
                if extra:
                    held[(f["to"], piece)] |= extra
                    changed = True
    return {f["id"]: set().union(*(held[(f["from"], p)] for p in moves[f["id"]])) for f in flows}


@PROPERTY
@given(registries(), days)
def test_propagation_matches_a_naive_fixpoint(doc, day):
    # The naive reading follows the flows active on the date only: it is the rule for registries
    # whose flows never end (data at rest, DESIGN.md rule 2, is tested in test_data_at_rest.py).
    for f in doc["flows"]:
        f.pop("valid_until", None)
    expected = naive_regimes(doc, day)
    got = {h.flow: set(h.regimes) for h in evaluate(graph_of(doc), day).hops()}
    assert got == expected
