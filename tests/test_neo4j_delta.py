"""Registrations on the Neo4j backend cost what they add: delta revisions and delta graphs, on a
real Neo4j 5.26 server (tests/conftest.py).

A registration made with `add_subprocessor` from `Flowreg.registry()` and applied with
`Flowreg.apply` must be stored as a delta on its parent (`base`), materialise only its new
elements (`rev` = its number) on its parent's graph (`graph_revs`), read back from a fresh store
object as the whole content with the same hash, and answer every query exactly as the embedded
engine does on the same history. Whole materialisation stays the fallback (a category no flow
carried before), snapshots cut the runs of deltas, tampering is reported and refused, dropping
and rebuilding a base graph leaves later graphs right, and push / pull copy such histories.
"""

from __future__ import annotations

import json
import random
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from clirun import flowreg
from conftest import server_settings
from neo4j import GraphDatabase
from neo4j_parity import answers, assert_same, questions

import registry.neo4j.revisions as neo4j_revisions_module
from bench.generator import build
from lineage.api import Flowreg
from lineage.law import load_law
from registry.additions import extend_registry
from registry.config import Settings
from registry.errors import StoreError, TamperError
from registry.loader import load_registry_data
from registry.model import Registry
from registry.neo4j.store import Neo4jStore
from registry.registration import add_subprocessor
from registry.revisions import canonical_json, content_hash
from registry.sqlite_store import SqliteStore

pytestmark = pytest.mark.neo4j
LAW = load_law()
DAYS = [date(2019, 3, 1), date(2026, 11, 29)]
GRAPH_KINDS = ("categories", "subjects", "parties", "systems", "mechanisms", "rules")


@pytest.fixture(scope="module")
def synthetic() -> tuple[Registry, dict[str, Any]]:
    """The benchmark's synthetic registry at 400 flows, with a registration category that some
    flow from the registering system carries (so a registration keeps the used categories)."""
    made = build(400, seed=11)
    registry = load_registry_data(made.registry)
    probes = dict(made.probes)
    carried = {c for f in registry.flows if f.from_ == probes["register_from"] for c in f.carries}
    probes["register_categories"] = [sorted(carried)[0]]
    used = {c for f in registry.flows for c in f.carries}
    probes["unused"] = next(c.id for c in registry.categories if c.id not in used)
    return registry, probes


def cypher(settings: Settings, query: str, **params: Any) -> list[Any]:
    """Run Cypher directly on the server, as someone editing the database by hand would."""
    auth = (settings.neo4j_user, settings.neo4j_password.get_secret_value())
    with GraphDatabase.driver(settings.neo4j_uri, auth=auth) as driver:
        return driver.execute_query(query, params, database_="neo4j").records


def register(fr: Flowreg, probes: dict[str, Any], n: int, categories: list[str] | None = None) -> int:
    """What `flowreg subprocessor add` does through the library: returns the new revision."""
    head = fr.store.head()
    updated = add_subprocessor(
        fr.registry(), party_id=f"new-sub-{n}", name=f"New sub {n}", country=["US", "IN", "CH"][n % 3],
        categories=categories or probes["register_categories"], from_system=probes["register_from"],
        under=["eu-us-dpf"] if n % 2 else [],
        certifications=[{"framework": "eu-us-dpf", "valid_from": "2024-01-02"}],
    )
    return fr.apply(updated, author="t", message=f"reg {n}", expected_head=head.number).number


def stored(settings: Settings) -> list[tuple[int, int | None, list[int] | None, str | None]]:
    """(number, base, graph_revs, graph) of every revision node."""
    return [(r["n"], r["b"], r["g"], r["s"]) for r in cypher(
        settings, "MATCH (r:Revision) RETURN r.number AS n, r.base AS b, r.graph_revs AS g,"
        " r.graph AS s ORDER BY n")]


def own_size(settings: Settings, rev: int) -> tuple[int, int]:
    """(nodes, relationships) revision `rev` wrote of its graph."""
    nodes = cypher(settings, "MATCH (n:Element {rev: $rev}) RETURN count(n) AS n", rev=rev)[0]["n"]
    rels = cypher(settings, "MATCH ()-[r]->() WHERE r.rev = $rev RETURN count(r) AS n", rev=rev)[0]["n"]
    return nodes, rels


def whole_size(registry: Registry) -> int:
    return sum(len(getattr(registry, section)) for section in GRAPH_KINDS)


def assert_parity(neo: Flowreg, embedded: Flowreg, rev: int, probes: dict[str, Any], *, n: int) -> None:
    """Every kind of query on revision `rev` answers as the embedded engine: a sample of the
    generic questions plus the ones about what the registration `n` added."""
    registry = embedded.registry(rev)
    rnd = random.Random(rev)
    generic = questions(registry, rnd, samples=4)
    asked = generic[:4] + rnd.sample(generic[4:], min(len(generic) - 4, 30))
    category, party = probes["register_categories"][0], f"new-sub-{n}"
    asked += [("flows", category), ("recipients", category), ("impact", party),
              ("impact", probes["register_from"]), ("impact", "eu-us-dpf"),
              ("path", probes["register_from"], party, category), ("path", probes["register_from"], party, None),
              ("flows_from", category, probes["register_from"]), ("invalidate", "eu-us-dpf"), ("remove", party)]
    kinds = {q[0] for q in asked}
    assert {"flows", "recipients", "path", "impact", "findings", "hops", "invalidate", "remove"} <= kinds
    for day in DAYS:
        assert_same(answers(neo, day, rev=rev, asked=asked), answers(embedded, day, rev=rev, asked=asked))


@pytest.fixture
def pair(neo4j_settings: Settings, tmp_path: Path, synthetic: tuple[Registry, dict[str, Any]]):
    """(neo4j, embedded) Flowregs, each holding the synthetic registry as revision 1."""
    registry, _ = synthetic
    neo = Flowreg(Neo4jStore(neo4j_settings), law=LAW)
    embedded = Flowreg(SqliteStore(tmp_path / "embedded.db"), law=LAW)
    for fr in (neo, embedded):
        fr.apply(registry, author="t", message="base", expected_head=None)
    yield neo, embedded
    neo.close()
    embedded.close()


def test_registrations_store_deltas_and_small_graphs(pair, synthetic, neo4j_settings: Settings) -> None:
    neo, embedded = pair
    registry, probes = synthetic
    for n in range(4):
        assert register(neo, probes, n) == register(embedded, probes, n) == n + 2
    assert stored(neo4j_settings) == [(1, None, [1], "ready"), (2, 1, [1, 2], "ready"),
                                      (3, 2, [1, 2, 3], "ready"), (4, 3, [1, 2, 3, 4], "ready"),
                                      (5, 4, [1, 2, 3, 4, 5], "ready")]
    assert own_size(neo4j_settings, 1)[0] == whole_size(registry)
    for number in range(2, 6):  # one party; one FLOW and one CARRIES per used category it carries
        nodes, rels = own_size(neo4j_settings, number)
        assert nodes == 1 and 2 <= rels <= 5, (number, nodes, rels)
        text = cypher(neo4j_settings, "MATCH (r:Revision {number: $n}) RETURN r.content AS c", n=number)[0]["c"]
        assert set(json.loads(text)["add"]) == {"parties", "flows"}
    with Neo4jStore(neo4j_settings) as fresh:
        for number in range(1, 6):
            want = embedded.store.get(number)
            got = fresh.get(number)
            assert (got.content, got.content_hash) == (want.content, want.content_hash)
            assert content_hash(got.content) == got.content_hash
            assert got == neo.store.get(number)  # the writer's own object, from memory or not
        assert fresh.verify() == []
    for number in (2, 5):
        assert_parity(neo, embedded, number, probes, n=number - 2)
    assert_parity(neo, embedded, 1, probes, n=0)  # the base's graph does not see what came later


def test_a_flow_between_existing_nodes_is_a_delta_of_relationships_only(pair, synthetic,
                                                                        neo4j_settings: Settings) -> None:
    neo, embedded = pair
    registry, probes = synthetic
    source = probes["register_from"]
    target = next(p.id for p in registry.parties if not any(f.from_ == source and f.to == p.id for f in registry.flows))
    flow = {"id": "extra-hop", "from": source, "to": target, "carries": probes["register_categories"]}
    for fr in (neo, embedded):
        fr.apply(extend_registry(fr.registry(), {"flows": [flow]}), author="t", message="hop", expected_head=1)
    assert stored(neo4j_settings) == [(1, None, [1], "ready"), (2, 1, [1, 2], "ready")]
    nodes, rels = own_size(neo4j_settings, 2)
    assert nodes == 0 and rels >= 2
    asked = [("path", source, target, None), ("impact", target), ("impact", source), ("findings",), ("hops",),
             ("flows_from", probes["register_categories"][0], source), ("remove", target)]
    for rev in (1, 2):  # revision 1's graph must not walk the hop revision 2 added between its nodes
        for day in DAYS:
            assert_same(answers(neo, day, rev=rev, asked=asked), answers(embedded, day, rev=rev, asked=asked))


def test_a_category_no_flow_carried_before_materialises_whole(pair, synthetic, neo4j_settings: Settings) -> None:
    neo, embedded = pair
    registry, probes = synthetic
    for fr in (neo, embedded):
        register(fr, probes, 0)
        register(fr, probes, 1, categories=[probes["unused"]])
        register(fr, probes, 2)
    # Revision 3 is still stored as a delta, but its graph is whole (every flow's `used` list
    # changed), and revision 4 builds on it.
    assert stored(neo4j_settings) == [(1, None, [1], "ready"), (2, 1, [1, 2], "ready"),
                                      (3, 2, [3], "ready"), (4, 3, [3, 4], "ready")]
    assert own_size(neo4j_settings, 3)[0] == whole_size(registry) + 2
    assert own_size(neo4j_settings, 4)[0] == 1
    for number in (3, 4):
        assert_parity(neo, embedded, number, probes, n=number - 2)


def test_snapshots_cut_the_runs_of_deltas(pair, synthetic, neo4j_settings: Settings,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    # The store reads the name it imported, so it is patched there.
    monkeypatch.setattr(neo4j_revisions_module, "SNAPSHOT_EVERY", 3)
    neo, embedded = pair
    _, probes = synthetic
    for n in range(5):
        register(neo, probes, n)
        register(embedded, probes, n)
    assert [(n, b, g) for n, b, g, _ in stored(neo4j_settings)] == [
        (1, None, [1]), (2, 1, [1, 2]), (3, 2, [1, 2, 3]), (4, None, [4]), (5, 4, [4, 5]), (6, 5, [4, 5, 6])]
    snapshot = cypher(neo4j_settings, "MATCH (r:Revision {number: 4}) RETURN r.content AS c")[0]["c"]
    assert snapshot == canonical_json(embedded.store.get(4).content)
    with Neo4jStore(neo4j_settings) as fresh:
        # From the snapshot, from the whole first revision, and the head last.
        for number in (5, 3, 6, 2):
            assert fresh.get(number).content == embedded.store.get(number).content
        assert fresh.verify() == []
        fresh_fr = Flowreg(fresh, law=LAW)
        register(fresh_fr, probes, 9)  # continues the run from what it read
    assert stored(neo4j_settings)[-1][:3] == (7, None, [7])
    assert_parity(neo, embedded, 6, probes, n=4)


def test_a_tampered_delta_is_reported_and_refused(pair, synthetic, neo4j_settings: Settings) -> None:
    neo, _ = pair
    _, probes = synthetic
    for n in range(3):
        register(neo, probes, n)
    assert neo.store.verify() == []
    text = cypher(neo4j_settings, "MATCH (r:Revision {number: 3}) RETURN r.content AS c")[0]["c"]
    forged = json.loads(text)
    forged["add"]["parties"][0]["name"] = "EVE"
    cypher(neo4j_settings, "MATCH (r:Revision {number: 3}) SET r.content = $c", c=canonical_json(forged))
    assert "revision 3: content does not match its content hash" in neo.store.verify()
    with Neo4jStore(neo4j_settings) as fresh:
        with pytest.raises(TamperError, match="revision 3 was changed outside flowreg"):
            fresh.get(3)
        with pytest.raises(TamperError, match="revision 4 was changed outside flowreg"):
            fresh.get(4)  # rebuilt through revision 3's change
        assert fresh.get(2).content["parties"][-1]["id"] == "new-sub-0"
    # Not a delta's shape at all.
    cypher(neo4j_settings, "MATCH (r:Revision {number: 3}) SET r.content = $c", c='{"parties":[]}')
    problems = neo.store.verify()
    assert "revision 3: content does not match its content hash" in problems
    assert any(p.startswith("revision 4: stored as a change of revision 3") for p in problems)
    with Neo4jStore(neo4j_settings) as fresh, pytest.raises(TamperError, match="revision 3"):
        fresh.get(3)


def test_dropping_and_rebuilding_a_base_graph_leaves_later_graphs_right(pair, synthetic,
                                                                        neo4j_settings: Settings) -> None:
    neo, embedded = pair
    _, probes = synthetic
    for n in range(3):
        register(neo, probes, n)
        register(embedded, probes, n)
    store: Neo4jStore = neo.store  # type: ignore[assignment]
    sizes = {number: own_size(neo4j_settings, number) for number in range(1, 5)}

    store.rebuild_graph(2)
    assert [s for *_, s in stored(neo4j_settings)] == ["ready", "ready", "pending", "pending"]
    assert store.ensure_graph_state(4).revs == [1, 2, 3, 4]  # builds 3 on 2 first
    assert [s for *_, s in stored(neo4j_settings)] == ["ready"] * 4
    assert {number: own_size(neo4j_settings, number) for number in range(1, 5)} == sizes
    assert store.verify() == []
    assert_parity(neo, embedded, 4, probes, n=2)

    # Dropping the first graph cuts every later revision's relationships into it.
    from registry.neo4j.graph import drop_graph

    drop_graph(store, 1)
    assert [s for *_, s in stored(neo4j_settings)] == ["pending"] * 4
    assert_parity(neo, embedded, 3, probes, n=1)  # materialises 1 and 2, then 3, on demand
    assert [s for *_, s in stored(neo4j_settings)] == ["ready", "ready", "ready", "pending"]
    assert_parity(neo, embedded, 4, probes, n=2)
    assert {number: own_size(neo4j_settings, number) for number in range(1, 5)} == sizes
    assert store.verify() == []


def test_pruning_keeps_the_newest_graphs_and_rebuilds_pruned_ones_when_asked(
        pair, synthetic, neo4j_settings: Settings, tmp_path: Path) -> None:
    neo, embedded = pair
    _, probes = synthetic
    for n in range(2):  # revisions 2 and 3: deltas on 1
        register(neo, probes, n)
        register(embedded, probes, n)
    renamed = neo.registry().content()
    renamed["parties"][0]["name"] += " (renamed)"  # revision 4: written whole
    for fr in (neo, embedded):
        fr.apply(load_registry_data(renamed), author="t", message="rename", expected_head=3)
    register(neo, probes, 2)  # revision 5: a delta on 4
    register(embedded, probes, 2)
    assert [(n, b, s) for n, b, _, s in stored(neo4j_settings)] == [
        (1, None, "ready"), (2, 1, "ready"), (3, 2, "ready"), (4, None, "ready"), (5, 4, "ready")]
    sizes = {number: own_size(neo4j_settings, number) for number in range(1, 6)}
    creds = {"NEO4J_URI": neo4j_settings.neo4j_uri, "NEO4J_USER": neo4j_settings.neo4j_user,
             "NEO4J_PASSWORD": neo4j_settings.neo4j_password.get_secret_value()}

    dry = flowreg("neo4j", "prune", "--keep", "1", "--dry-run", "--format", "json", db=tmp_path / "unused.db", **creds)
    assert dry.code == 0, dry.stderr
    assert dry.json() == {"kept": [4, 5], "dropped": [1, 2, 3], "keep": 1, "dry_run": True}
    assert {number: own_size(neo4j_settings, number) for number in range(1, 6)} == sizes

    done = flowreg("neo4j", "prune", "--keep", "1", db=tmp_path / "unused.db", **creds)
    assert done.code == 0, done.stderr
    assert "dropped the graphs of 3 revisions (1, 2, 3); kept those of revisions 4, 5" in done.stdout
    assert [s for *_, s in stored(neo4j_settings)] == ["pruned"] * 3 + ["ready"] * 2
    assert [own_size(neo4j_settings, number) for number in (1, 2, 3)] == [(0, 0)] * 3
    assert neo.store.verify() == []  # type: ignore[attr-defined]
    assert_parity(neo, embedded, 5, probes, n=2)  # the head's graph was never touched

    # An old revision is still answered exactly: its graph is built again on first use.
    assert_parity(neo, embedded, 3, probes, n=1)
    assert [s for *_, s in stored(neo4j_settings)] == ["ready"] * 5
    assert {number: own_size(neo4j_settings, number) for number in range(1, 6)} == sizes
    again = flowreg("neo4j", "prune", "--keep", "5", db=tmp_path / "unused.db", **creds)
    assert again.code == 0 and "nothing to prune" in again.stdout, again.stdout


def test_push_and_pull_copy_histories_with_deltas(neo4j_settings: Settings, tmp_path: Path,
                                                 synthetic, neo4j_server: Any) -> None:
    registry, probes = synthetic
    creds = {"NEO4J_URI": neo4j_settings.neo4j_uri, "NEO4J_USER": neo4j_settings.neo4j_user,
             "NEO4J_PASSWORD": neo4j_settings.neo4j_password.get_secret_value()}
    # Deltas on the embedded side, pushed: the Neo4j copy holds them whole, same hashes.
    db = tmp_path / "embedded.db"
    embedded = Flowreg(SqliteStore(db), law=LAW)
    embedded.apply(registry, author="t", message="base", expected_head=None)
    for n in range(3):
        register(embedded, probes, n)
    hashes = [r.hash for r in embedded.store.history()]
    pushed = flowreg("neo4j", "push", "--format", "json", db=db, **creds)
    assert pushed.code == 0, pushed.stderr
    assert (pushed.json()["copied"], pushed.json()["head"]["hash"]) == (4, hashes[-1])
    assert [b for _, b, _, _ in stored(neo4j_settings)] == [None] * 4
    embedded.close()
    with Neo4jStore(server_settings(neo4j_server)) as remote:
        neo = Flowreg(remote, law=LAW)
        assert [r.hash for r in remote.history()] == hashes and remote.verify() == []
        # Registrations on the copy are deltas on whole revisions that came from elsewhere.
        for n in range(3, 5):
            register(neo, probes, n)
        assert [b for _, b, _, _ in stored(neo4j_settings)][4:] == [4, 5]
        hashes = [r.hash for r in remote.history()]
    # Deltas on the Neo4j side, pulled into the file they came from and into a fresh one.
    again = flowreg("neo4j", "pull", db=db, **creds)
    assert again.code == 0 and "2 revisions copied, 4 already there" in again.stdout, again.stdout
    copy = tmp_path / "pulled.db"
    pulled = flowreg("neo4j", "pull", db=copy, **creds)
    assert pulled.code == 0, pulled.stderr
    with SqliteStore(copy) as back, Neo4jStore(server_settings(neo4j_server)) as remote:
        assert [r.hash for r in back.history()] == hashes and back.verify() == []
        for number in (5, 6):
            assert back.get(number).content == remote.get(number).content
    embedded = Flowreg(SqliteStore(db), law=LAW)
    neo = Flowreg(Neo4jStore(server_settings(neo4j_server)), law=LAW)
    try:
        assert [r.hash for r in embedded.store.history()] == hashes
        assert_parity(neo, embedded, 6, probes, n=4)
    finally:
        embedded.close()
        neo.close()


def test_a_store_of_schema_1_is_upgraded_and_extended(neo4j_settings: Settings, synthetic) -> None:
    registry, probes = synthetic
    with Neo4jStore(neo4j_settings) as store:
        store.append(registry.content(), author="t", message="base", expected_head=None)
    # As flowreg wrote it before delta revisions: no `base`, no `graph_revs`, schema 1.
    cypher(neo4j_settings, "MATCH (r:Revision {number: 1}) REMOVE r.base, r.graph_revs")
    cypher(neo4j_settings, "MATCH (m:FlowregMeta) SET m.schema_version = 1")
    fr = Flowreg(Neo4jStore(neo4j_settings), law=LAW)
    try:
        assert cypher(neo4j_settings, "MATCH (m:FlowregMeta) RETURN m.schema_version AS v")[0]["v"] == 2
        register(fr, probes, 0)
        assert stored(neo4j_settings) == [(1, None, None, "ready"), (2, 1, [1, 2], "ready")]
        assert fr.store.verify() == []
    finally:
        fr.close()
    cypher(neo4j_settings, "MATCH (m:FlowregMeta) SET m.schema_version = 3")
    with pytest.raises(StoreError, match="written by a newer flowreg \\(store schema 3"):
        Neo4jStore(neo4j_settings)
