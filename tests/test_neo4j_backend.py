"""The Neo4j backend on a real Neo4j 5.26 server: the Store contract, credentials, hostile ids,
identical answers to the embedded engine (seeds on several dates, random registries), and
`flowreg neo4j push` / `pull`.

Nothing is mocked: the session's server comes from tests/conftest.py (skipped without Java,
failed under CI). The embedded answers are the pure engine functions on the whole registry,
which is exactly what the embedded `Flowreg` computes.
"""

from __future__ import annotations

import logging
import socket
import threading
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from clirun import NORTHWIND, SEED, flowreg
from conftest import server_settings, wipe_neo4j
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neo4j import GraphDatabase
from neo4j_parity import CATEGORY_EVIL, EVIL, answers, assert_same, evil_doc, questions
from pydantic import SecretStr
from registry_builders import graph_of
from test_data_at_rest import AT_REST
from test_engine_properties import days, registries

from lineage.api import Flowreg
from lineage.law import load_law
from registry.config import Settings, settings_from_env
from registry.errors import FlowregError, NotFoundError, StaleHeadError, StoreError, TamperError
from registry.loader import load_registry_data, load_registry_file
from registry.neo4j.store import Neo4jStore
from registry.revisions import canonical_json, chain_hash, content_hash
from registry.sqlite_store import SqliteStore
from registry.store import Store, open_store

pytestmark = pytest.mark.neo4j
DAYS = [date(2018, 12, 27), date(2020, 7, 16), date(2026, 11, 29)]
LAW = load_law()


def doc(org: str = "Northwind", **sections: Any) -> dict[str, Any]:
    return {"flowreg": 1, "organization": org, **sections}


@pytest.fixture
def store(neo4j_settings: Settings):
    with Neo4jStore(neo4j_settings) as opened:
        yield opened


def cypher(settings: Settings, query: str, **params: Any) -> list[Any]:
    """Run Cypher directly on the server, as someone editing the database by hand would."""
    auth = (settings.neo4j_user, settings.neo4j_password.get_secret_value())
    with GraphDatabase.driver(settings.neo4j_uri, auth=auth) as driver:
        return driver.execute_query(query, params, database_="neo4j").records


# --- the Store contract ----------------------------------------------------------------------
def test_append_get_history_and_stale_head(store: Neo4jStore) -> None:
    assert isinstance(store, Store)
    assert store.head() is None and store.history() == []
    with pytest.raises(NotFoundError, match="no revisions yet"):
        store.get()
    first = store.append(doc("A"), author="ana", message="first", expected_head=None)
    second = store.append(doc("B", flows=[{"id": "f1", "valid_from": date(2020, 1, 2)}]),
                          author="ben", message="add f1", expected_head=1)
    assert (first.number, second.number, second.parent_hash) == (1, 2, first.hash)
    assert second.content["flows"][0]["valid_from"] == "2020-01-02"
    assert store.get() == second and store.get(1) == first and store.head() == second.info()
    assert [(r.number, r.author, r.message) for r in store.history()] == [(1, "ana", "first"), (2, "ben", "add f1")]
    with pytest.raises(NotFoundError, match="revision 7 does not exist \\(the head is 2\\)"):
        store.get(7)
    with pytest.raises(StaleHeadError, match="since revision 1 \\(now 2\\)"):
        store.append(doc("C"), author="ben", message="m", expected_head=1)
    with pytest.raises(StaleHeadError, match="since it was empty \\(now 2\\)"):
        store.append(doc("C"), author="ben", message="m", expected_head=None)
    with pytest.raises(FlowregError, match="author must not be empty"):
        store.append(doc(), author=" ", message="m")
    with pytest.raises(FlowregError, match="cannot be stored as JSON"):
        store.append({"x": float("nan")}, author="ana", message="m")
    assert store.append(doc("D"), author="ben", message="no check").number == 3
    assert store.verify() == []
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.head()


def test_concurrent_writers_never_fork(neo4j_settings: Settings) -> None:
    stores = [Neo4jStore(neo4j_settings) for _ in range(4)]
    outcomes: list[str] = []

    def write(store: Neo4jStore, i: int) -> None:
        for k in range(4):
            store.append(doc(f"t{i}-{k}"), author=f"w{i}", message="m")
            head = store.head()
            try:  # races on purpose: some lose with StaleHeadError, none may fork
                store.append(doc(f"x{i}-{k}"), author=f"w{i}", message="m", expected_head=head.number)
                outcomes.append("ok")
            except StaleHeadError:
                outcomes.append("stale")

    threads = [threading.Thread(target=write, args=(s, i)) for i, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    history = stores[0].history()
    assert [r.number for r in history] == list(range(1, 17 + outcomes.count("ok")))
    assert stores[0].verify() == []
    for s in stores:
        s.close()


def test_proposals(store: Neo4jStore) -> None:
    store.append(doc("A"), author="ana", message="base")
    first = store.propose(doc("B"), author="eng", message="rename", base_revision=1)
    second = store.propose(doc("C"), author="eng", message="other", base_revision=1)
    assert [p.id for p in store.proposals("pending")] == [first.id, second.id]
    approved = store.decide(first.id, approve=True, reviewer="dpo", note="ok")
    assert (approved.status, approved.reviewer, approved.applied_revision) == ("approved", "dpo", 2)
    assert store.get().content == doc("B") and "approved by dpo" in store.get().message
    with pytest.raises(StaleHeadError):
        store.decide(second.id, approve=True, reviewer="dpo")
    assert store.get_proposal(second.id).status == "pending" and store.head().number == 2
    assert store.decide(second.id, approve=False, reviewer="dpo").status == "rejected"
    with pytest.raises(FlowregError, match="already rejected"):
        store.decide(second.id, approve=True, reviewer="dpo")
    with pytest.raises(StaleHeadError):
        store.propose(doc("D"), author="eng", message="late", base_revision=1)
    with pytest.raises(NotFoundError):
        store.get_proposal(99)
    assert [p.status for p in store.proposals()] == ["approved", "rejected"] and store.verify() == []


def test_tampering_is_detected(store: Neo4jStore, neo4j_settings: Settings) -> None:
    northwind = load_registry_file(NORTHWIND).content()
    for org in ("A", "B", "C"):
        store.append({**northwind, "organization": org}, author="ana", message="m")
    cypher(neo4j_settings, "MATCH (r:Revision {number: 2}) SET r.content = $c", c=canonical_json(doc("EVE")))
    assert "revision 2: content does not match its content hash" in store.verify()
    with pytest.raises(TamperError, match="revision 2 was changed outside flowreg"):
        store.get(2)
    assert store.get(3).content["organization"] == "C"
    # a careful forger recomputes revision 2's own hashes; revision 3 still points at the old one
    old = store.get(1)
    forged = content_hash(doc("EVE"))
    cypher(neo4j_settings, "MATCH (r:Revision {number: 1}) SET r.content = $c, r.content_hash = $h, r.hash = $x",
           c=canonical_json(doc("EVE")), h=forged,
           x=chain_hash(1, old.created_at, old.author, old.message, forged, None))
    assert "revision 2: parent hash does not match the hash of revision 1" in store.verify()
    cypher(neo4j_settings, "MATCH (r:Revision {number: 2}) DETACH DELETE r")
    assert "revision 2 is missing (gap between 1 and 3)" in store.verify()
    cypher(neo4j_settings, "DROP CONSTRAINT flowreg_revision_number")
    cypher(neo4j_settings, "MATCH ()-[f:FLOW {rev: 3}]->() WITH f LIMIT 1 SET f.valid_until = date('1999-01-01')")
    problems = store.verify()
    assert any("flowreg_revision_number was removed" in p for p in problems)
    assert "revision 3: its graph in Neo4j was changed outside flowreg (rebuild it with Neo4jStore.rebuild_graph)" in problems
    store.rebuild_graph(3)
    Neo4jStore(neo4j_settings).close()  # opening recreates the dropped constraint
    assert not any("graph" in p or "constraint" in p for p in store.verify())


def test_graphs_are_materialised_idempotently_and_on_demand(store: Neo4jStore, neo4j_settings: Settings) -> None:
    registry = load_registry_file(NORTHWIND)
    fr = Flowreg(store)
    fr.apply(registry, author="ana", message="m")
    expected = [h.to_dict() for h in fr.flows("subscriber", DAYS[1])]
    # a crash between the revision's commit and its graph: the first query finishes the job
    cypher(neo4j_settings, "MATCH (n:Element {rev: 1}) DETACH DELETE n")
    cypher(neo4j_settings, "MATCH (r:Revision {number: 1}) SET r.graph = 'pending'")
    assert [h.to_dict() for h in fr.flows("subscriber", DAYS[1])] == expected
    from registry.neo4j.graph import materialise

    materialise(store, store.get(1))  # twice: MERGE on the unique keys, nothing doubles
    assert store.verify() == []
    cypher(neo4j_settings, "MATCH (n:Element {rev: 1}) DETACH DELETE n")
    errors: list[BaseException] = []

    def race() -> None:  # racing on a fresh revision: the losers re-run with MERGE
        try:
            with Neo4jStore(neo4j_settings) as own:
                materialise(own, own.get(1))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    racers = [threading.Thread(target=race) for _ in range(3)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    assert errors == [] and store.verify() == []
    counts = cypher(neo4j_settings, "MATCH ()-[f:FLOW {rev: 1}]->() RETURN count(f) AS n")[0]["n"]
    assert counts == len(registry.flows)
    store.append({"not": "a registry"}, author="ana", message="junk")
    with pytest.raises(StoreError, match="revision 2 does not hold a valid registry"):
        fr.flows("subscriber", DAYS[1])
    assert [h.to_dict() for h in fr.flows("subscriber", DAYS[1], rev=1)] == expected


def test_credentials_never_leak(neo4j_server: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The session's server has authentication on: the password reaches the driver only."""
    user, password = neo4j_server.auth
    secrets = tmp_path / "neo4j.env"
    secrets.write_text(f"NEO4J_URI={neo4j_server.uri}\nNEO4J_USER={user}\nNEO4J_PASSWORD='{password}'\n")
    settings = settings_from_env({"FLOWREG_BACKEND": "neo4j", "FLOWREG_SECRETS_FILE": str(secrets)})
    with caplog.at_level(logging.DEBUG):
        with open_store(settings) as opened:
            assert isinstance(opened, Neo4jStore)
            opened.head()
            assert password not in repr(opened) and password not in str(opened)
        wrong = settings.model_copy(update={"neo4j_password": SecretStr("wrong-" + password)})
        with pytest.raises(StoreError, match=f"refused the credentials of user '{user}'") as refused:
            Neo4jStore(wrong)
    assert password not in str(refused.value) and password not in caplog.text
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    closed = settings.model_copy(update={"neo4j_uri": f"bolt://127.0.0.1:{closed_port}"})
    with pytest.raises(StoreError, match="cannot reach the Neo4j server at bolt://127.0.0.1") as down:
        Neo4jStore(closed, connect_timeout=2)
    assert password not in str(down.value)
    with pytest.raises(StoreError, match="not a usable Neo4j address"):
        Neo4jStore(settings.model_copy(update={"neo4j_uri": "http://x:1"}))


def test_foreign_database_is_left_alone(neo4j_settings: Settings) -> None:
    cypher(neo4j_settings, "MATCH (m:FlowregMeta) DELETE m")
    cypher(neo4j_settings, "CREATE (:Revision {number: 1, owner: 'someone else'})")
    with pytest.raises(StoreError, match="did not write; left untouched"):
        Neo4jStore(neo4j_settings)
    assert cypher(neo4j_settings, "MATCH (n) RETURN count(n) AS n")[0]["n"] == 1


# --- hostile ids, on both backends -----------------------------------------------------------
def test_hostile_ids_round_trip(backend: Flowreg) -> None:
    """Ids with quotes, backticks, `})`, Cypher keywords and parameters are data, never code.

    A file cannot bring such ids any more (registry.ids), but a store written before ids had a
    pattern, or edited by hand, can hold them; they are read as stored."""
    source = evil_doc(load_registry_file(NORTHWIND).content())
    assert {"subscriber" + CATEGORY_EVIL, "northwind-inc" + EVIL} <= {e["id"] for s in ("categories", "parties") for e in source[s]}
    with pytest.raises(FlowregError):
        load_registry_data(source)
    registry = load_registry_data(source, stored=True)
    backend.apply(registry, author="ana", message="evil ids")
    assert backend.store.get().content == registry.content() and backend.store.verify() == []
    reference = graph_of(source, stored=True)
    for day in DAYS:
        assert_same(answers(backend, day), answers(reference, day, law=LAW))
    if isinstance(backend.store, Neo4jStore):  # nothing was injected: every node is still there
        found = backend.store.read(lambda tx: tx.run("MATCH (n:Element {rev: 1}) RETURN count(n) AS n").single()["n"])
        assert found == sum(len(source.get(s) or []) for s in ("categories", "subjects", "parties", "systems", "mechanisms", "rules"))


# --- identical answers: the seeds on several dates ---------------------------------------------
@pytest.fixture(scope="module")
def seeded(neo4j_server: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    embedded = Flowreg(SqliteStore(tmp_path_factory.mktemp("parity") / "flowreg.db"))
    for path in (SEED, NORTHWIND):
        embedded.apply(load_registry_file(path), author="seed", message=path.name)
    return {"embedded": embedded, "server": neo4j_server}


@pytest.fixture
def pair(seeded: dict[str, Any]):
    """(embedded, neo4j) Flowregs holding the same history: Twilio (rev 1), Northwind (rev 2).
    The Neo4j side is reloaded when another test wiped the database meanwhile."""
    embedded: Flowreg = seeded["embedded"]
    settings = server_settings(seeded["server"])
    store = Neo4jStore(settings)
    head, want = store.head(), embedded.store.head()
    if head is None or head.hash != want.hash:
        store.close()
        wipe_neo4j(seeded["server"])
        store = Neo4jStore(settings)
        for number in (1, 2):
            store.adopt(embedded.store.get(number))
    neo = Flowreg(store)
    yield embedded, neo
    neo.close()


@pytest.mark.parametrize("rev", [1, 2], ids=["twilio", "northwind"])
@pytest.mark.parametrize("day", DAYS, ids=str)
def test_seed_answers_are_identical(pair: tuple[Flowreg, Flowreg], rev: int, day: date) -> None:
    embedded, neo = pair
    assert_same(answers(neo, day, rev=rev, samples=20), answers(embedded, day, rev=rev, samples=20))


# --- identical answers: random registries (hypothesis) -----------------------------------------
@pytest.fixture(scope="module")
def random_store(neo4j_server: Any):
    wipe_neo4j(neo4j_server)
    with Neo4jStore(server_settings(neo4j_server)) as opened:
        yield Flowreg(opened)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(registries(), days, st.booleans(), st.randoms(use_true_random=False))
def test_random_registries_answer_identically(random_store: Flowreg, source: dict[str, Any], day: date,
                                              hostile: bool, rnd: Any) -> None:
    if hostile:
        source = evil_doc(source)  # as a store written before the id pattern may hold
    registry = load_registry_data(source, stored=hostile)
    number = random_store.apply(registry, author="hypothesis", message="example").number
    asked = questions(registry, rnd)
    assert_same(answers(random_store, day, rev=number, asked=asked),
                answers(graph_of(source, stored=hostile), day, law=LAW, asked=asked))


# --- identical answers: data at rest (ended flows, retention, cycles) ---------------------------
@pytest.mark.parametrize("name", list(AT_REST))
def test_data_at_rest_answers_identically(random_store: Flowreg, name: str) -> None:
    """Regimes held after the flow that brought them ended: the Neo4j selection must read every
    flow that started by the date (DESIGN.md rule 2), on each side of each retention's end."""
    source, on = AT_REST[name]
    registry = load_registry_data(source)
    number = random_store.apply(registry, author="test", message=name).number
    for day in on:
        asked = questions(registry, samples=10)
        assert_same(answers(random_store, date.fromisoformat(day), rev=number, asked=asked),
                    answers(graph_of(source), date.fromisoformat(day), law=LAW, asked=asked))


# --- push / pull -------------------------------------------------------------------------------
def test_push_and_pull_round_trip(neo4j_settings: Settings, tmp_path: Path) -> None:
    db, copy = tmp_path / "embedded.db", tmp_path / "pulled.db"
    password = neo4j_settings.neo4j_password.get_secret_value()
    creds = {"NEO4J_URI": neo4j_settings.neo4j_uri, "NEO4J_USER": neo4j_settings.neo4j_user,
             "NEO4J_PASSWORD": password}
    with SqliteStore(db) as local:
        northwind = load_registry_file(NORTHWIND).content()
        for content in (northwind, load_registry_file(SEED).content(), {**northwind, "notice_days": 60}):
            local.append(content, author="ana", message="m")
        hashes = [r.hash for r in local.history()]
    pushed = flowreg("neo4j", "push", "--format", "json", db=db, **creds)
    assert pushed.code == 0, pushed.stderr
    assert (pushed.json()["copied"], pushed.json()["head"]["hash"]) == (3, hashes[-1])
    with Neo4jStore(neo4j_settings) as remote:
        assert [r.hash for r in remote.history()] == hashes and remote.verify() == []
        neo, embedded = Flowreg(remote), Flowreg(SqliteStore(db))
        assert_same(answers(neo, DAYS[2], rev=2), answers(embedded, DAYS[2], rev=2))  # rev 2 on demand
        embedded.close()
    again = flowreg("neo4j", "push", db=db, **creds)
    assert again.code == 0 and "0 revisions copied, 3 already there" in again.stdout
    pulled = flowreg("neo4j", "pull", db=copy, **creds)
    assert pulled.code == 0, pulled.stderr
    with SqliteStore(copy) as back:
        assert [r.hash for r in back.history()] == hashes and back.verify() == []
    other = tmp_path / "other.db"
    with SqliteStore(other) as diverged:
        diverged.append(doc("someone else"), author="eve", message="m")
    refused = flowreg("neo4j", "pull", db=other, **creds)
    assert refused.code == 1 and "histories diverge at revision 1" in refused.stderr
    with SqliteStore(other) as diverged:
        assert len(diverged.history()) == 1, "nothing was written"
    assert not any(password in r.stdout + r.stderr for r in (pushed, again, pulled, refused))
    missing = flowreg("neo4j", "push", db=db)
    assert missing.code == 1 and "NEO4J_URI is not set" in missing.stderr
