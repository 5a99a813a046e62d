"""The embedded store and revisions: history, hash chain, tamper evidence, concurrency, crashes.

Everything runs against real SQLite files and real processes; nothing is mocked.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.config import Settings, settings_from_env
from registry.errors import (
    FlowregError,
    NotFoundError,
    RegistryError,
    StaleHeadError,
    StoreError,
    TamperError,
)
from registry.revisions import (
    Change,
    Revision,
    canonical_json,
    chain_hash,
    content_hash,
    diff_contents,
    verify_chain,
)
from registry.sqlite_store import SqliteStore
from registry.store import Store, open_store

ROOT = Path(__file__).resolve().parents[1]


def registry(org: str = "Northwind", **sections: Any) -> dict[str, Any]:
    return {"flowreg": 1, "organization": org, **sections}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "nested" / "dir" / "flowreg.db"


@pytest.fixture
def store(db: Path):
    with SqliteStore(db) as opened:
        yield opened


def run_child(script: str, *args: str) -> subprocess.Popen[str]:
    """A separate Python process running `script` with the project importable."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(predicate: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)


# -- basic history ---------------------------------------------------------------------------


def test_append_get_history(store: SqliteStore, db: Path) -> None:
    assert isinstance(store, Store)
    assert db.exists(), "parent directories are created"
    assert store.head() is None
    assert store.history() == []
    with pytest.raises(NotFoundError, match="no revisions yet"):
        store.get()

    first = store.append(registry(), author="ana", message="first")
    second = store.append(
        registry(flows=[{"id": "f1", "valid_from": date(2020, 1, 2)}]),
        author="ben",
        message="add f1",
        expected_head=1,
    )
    assert (first.number, second.number) == (1, 2)
    assert second.content["flows"][0]["valid_from"] == "2020-01-02", "dates become ISO strings"
    assert store.get() == second
    assert store.get(1) == first
    assert store.get(1).content == registry()
    assert store.head() == second.info()
    history = store.history()
    assert [(r.number, r.author, r.message) for r in history] == [
        (1, "ana", "first"),
        (2, "ben", "add f1"),
    ]
    assert all(
        r.created_at.tzinfo is not None and r.created_at.utcoffset().total_seconds() == 0
        for r in history
    )
    assert history[0].created_at <= history[1].created_at
    assert second.parent_hash == first.hash
    with pytest.raises(NotFoundError, match="revision 7 does not exist \\(the head is 2\\)"):
        store.get(7)
    raw = sqlite3.connect(db).execute("SELECT created_at, content FROM revisions").fetchone()
    assert raw[0].endswith("+00:00") and len(raw[0].split(".")[1]) == len("123456+00:00")
    assert raw[1] == canonical_json(registry())


def test_reopen_keeps_history_and_rejects_bad_input(store: SqliteStore, db: Path) -> None:
    store.append(registry(), author="ana", message="m")
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.head()
    with SqliteStore(db) as again:
        assert again.get().content == registry()
        assert again.verify() == []
        with pytest.raises(FlowregError, match="author must not be empty"):
            again.append(registry(), author="  ", message="m")
        with pytest.raises(FlowregError, match="cannot be stored as JSON"):
            again.append({"x": float("nan")}, author="ana", message="m")
        with pytest.raises(FlowregError, match="must be a mapping"):
            again.append([1, 2], author="ana", message="m")  # type: ignore[arg-type]
        assert again.head().number == 1


def test_stale_head(store: SqliteStore) -> None:
    store.append(registry("A"), author="ana", message="m", expected_head=None)
    store.append(registry("B"), author="ana", message="m", expected_head=1)
    with pytest.raises(StaleHeadError) as caught:
        store.append(registry("C"), author="ben", message="m", expected_head=1)
    assert (
        str(caught.value) == "the registry changed since revision 1 (now 2); reload and try again"
    )
    assert (caught.value.expected, caught.value.actual) == (1, 2)
    with pytest.raises(StaleHeadError, match="since it was empty \\(now 2\\)"):
        store.append(registry("C"), author="ben", message="m", expected_head=None)
    assert store.head().number == 2
    assert store.append(registry("D"), author="ben", message="no check").number == 3


def test_threads_sharing_one_store(store: SqliteStore) -> None:
    def write(i: int) -> None:
        for k in range(5):
            store.append(registry(f"t{i}-{k}"), author=f"thread-{i}", message="m")

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [r.number for r in store.history()] == list(range(1, 21))
    assert store.verify() == []


# -- tamper evidence -------------------------------------------------------------------------


def test_chain_verifies(store: SqliteStore) -> None:
    for i in range(4):
        store.append(registry(f"org {i}"), author="ana", message=f"change {i}")
    assert store.verify() == []
    revisions = [store.get(n) for n in range(1, 5)]
    assert verify_chain(revisions) == []
    for rev in revisions:
        assert rev.content_hash == content_hash(rev.content)
        assert rev.hash == chain_hash(
            rev.number, rev.created_at, rev.author, rev.message, rev.content_hash, rev.parent_hash
        )


def test_triggers_forbid_update_and_delete(store: SqliteStore, db: Path) -> None:
    store.append(registry(), author="ana", message="m")
    raw = sqlite3.connect(db)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("UPDATE revisions SET author = 'eve'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("DELETE FROM revisions")
    with pytest.raises(sqlite3.IntegrityError, match="must extend the head"):
        raw.execute("INSERT INTO revisions VALUES (5, 'x', 'eve', 'm', '{}', 'h', NULL, 'fork', NULL, NULL, NULL)")
    raw.close()
    assert store.verify() == []


def test_hand_edit_is_reported(store: SqliteStore, db: Path) -> None:
    for org in ("A", "B", "C"):
        store.append(registry(org), author="ana", message="m")
    raw = sqlite3.connect(db, isolation_level=None)
    raw.execute("DROP TRIGGER revisions_no_update")
    raw.execute(
        "UPDATE revisions SET content = ? WHERE number = 2", (canonical_json(registry("EVE")),)
    )
    raw.close()
    problems = store.verify()
    assert "revision 2: content does not match its content hash" in problems
    assert any("revisions_no_update was removed" in p for p in problems)
    with pytest.raises(TamperError, match="revision 2 was changed outside flowreg"):
        store.get(2)
    assert store.get(3).content == registry("C"), "untouched revisions still load"


def test_consistent_rewrite_breaks_the_next_link(store: SqliteStore, db: Path) -> None:
    for org in ("A", "B", "C"):
        store.append(registry(org), author="ana", message="m")
    # A careful forger recomputes revision 2's own hashes; revision 3 still points at the old one.
    old = store.get(2)
    forged = canonical_json(registry("EVE"))
    forged_hash = content_hash(registry("EVE"))
    new_hash = chain_hash(2, old.created_at, "eve", "m", forged_hash, old.parent_hash)
    raw = sqlite3.connect(db, isolation_level=None)
    raw.execute("DROP TRIGGER revisions_no_update")
    raw.execute(
        "UPDATE revisions SET content = ?, content_hash = ?, author = 'eve', hash = ?"
        " WHERE number = 2",
        (forged, forged_hash, new_hash),
    )
    raw.close()
    problems = store.verify()
    assert "revision 3: parent hash does not match the hash of revision 2" in problems
    assert not any(p.startswith("revision 2:") for p in problems)


def test_deleted_revision_is_a_gap(store: SqliteStore, db: Path) -> None:
    for org in ("A", "B", "C"):
        store.append(registry(org), author="ana", message="m")
    raw = sqlite3.connect(db, isolation_level=None)
    raw.execute("DROP TRIGGER revisions_no_delete")
    raw.execute("DELETE FROM revisions WHERE number = 2")
    raw.close()
    problems = store.verify()
    assert "revision 2 is missing (gap between 1 and 3)" in problems
    assert "revision 3: parent hash does not match the hash of revision 1" in problems


def test_verify_chain_on_records() -> None:
    def rev(number: int, parent: str | None, content: dict[str, Any]) -> Revision:
        created = datetime(2024, 1, number, tzinfo=UTC)
        digest = content_hash(content)
        return Revision(
            number=number,
            created_at=created,
            author="ana",
            message="m",
            content=content,
            content_hash=digest,
            parent_hash=parent,
            hash=chain_hash(number, created, "ana", "m", digest, parent),
        )

    one = rev(1, None, {"a": 1})
    two = rev(2, one.hash, {"a": 2})
    assert verify_chain([one, two]) == []
    assert verify_chain([two]) == ["history starts at revision 2, not 1"]
    tampered = two.model_copy(update={"content": {"a": 3}})
    assert verify_chain([one, tampered]) == ["revision 2: content does not match its content hash"]
    renamed = two.model_copy(update={"author": "eve"})
    assert verify_chain([one, renamed]) == [
        "revision 2: chain hash is wrong (its fields or hash were edited)"
    ]
    assert "revision 2 appears more than once" in verify_chain([one, two, two])


# -- concurrency and crashes -----------------------------------------------------------------

APPEND_ONE = """
import os, sys, time
from registry.sqlite_store import SqliteStore
db, i, go = sys.argv[1], int(sys.argv[2]), sys.argv[3]
open(go + f".ready{i}", "w").close()
while not os.path.exists(go):
    time.sleep(0.001)
store = SqliteStore(db)  # opened at once by all: the fresh file is initialised concurrently
rev = store.append({"writer": i, "rows": list(range(2000))}, author=f"writer-{i}", message="go")
print(rev.number)
"""


def test_eight_processes_append_at_once(tmp_path: Path) -> None:
    db, go = tmp_path / "store" / "flowreg.db", str(tmp_path / "go")
    children = [run_child(APPEND_ONE, str(db), str(i), go) for i in range(8)]
    wait_for(lambda: all(os.path.exists(f"{go}.ready{i}") for i in range(8)))
    Path(go).touch()
    outputs = [child.communicate(timeout=120) for child in children]
    assert [child.returncode for child in children] == [0] * 8, outputs
    assert sorted(int(out) for out, _ in outputs) == list(range(1, 9))
    with SqliteStore(db) as store:
        history = store.history()
        assert [r.number for r in history] == list(range(1, 9))
        assert sorted(store.get(n).content["writer"] for n in range(1, 9)) == list(range(8))
        assert store.verify() == []


INCREMENT = """
import os, sys, time
from registry.errors import StaleHeadError
from registry.sqlite_store import SqliteStore
db, i, go, rounds = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
store = SqliteStore(db)
open(go + f".ready{i}", "w").close()
while not os.path.exists(go):
    time.sleep(0.001)
for _ in range(rounds):
    while True:  # optimistic read-modify-write: reload and retry when someone wrote first
        head = store.get()
        content = dict(head.content, counter=head.content["counter"] + 1)
        try:
            store.append(content, author=f"w{i}", message="+1", expected_head=head.number)
            break
        except StaleHeadError:
            pass
"""


def test_eight_processes_lose_no_update(tmp_path: Path) -> None:
    db, go, rounds = tmp_path / "flowreg.db", str(tmp_path / "go"), 5
    with SqliteStore(db) as store:
        store.append({"counter": 0}, author="setup", message="start")
    children = [run_child(INCREMENT, str(db), str(i), go, str(rounds)) for i in range(8)]
    wait_for(lambda: all(os.path.exists(f"{go}.ready{i}") for i in range(8)))
    Path(go).touch()
    for child in children:
        _, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
    with SqliteStore(db) as store:
        assert store.get().content["counter"] == 8 * rounds
        assert store.head().number == 8 * rounds + 1
        assert store.verify() == []


HANG_BEFORE_COMMIT = """
import pathlib, sys, time
from registry.sqlite_store import SqliteStore
store = SqliteStore(sys.argv[1])
def trace(sql):
    # Runs as COMMIT starts: the huge INSERT is done (spilled into the WAL) but not committed.
    if sql.strip().upper() == "COMMIT":
        pathlib.Path(sys.argv[2]).touch()
        time.sleep(600)
store._conn.set_trace_callback(trace)
store.append({"blob": ["x" * 1000 for _ in range(30000)]}, author="big", message="huge")
"""


def test_sigkill_mid_append_keeps_last_revision(store: SqliteStore, db: Path) -> None:
    first = store.append(registry(), author="ana", message="small")
    marker = db.parent / "in-commit"
    child = run_child(HANG_BEFORE_COMMIT, str(db), str(marker))
    wait_for(lambda: marker.exists() or child.poll() is not None)
    assert child.poll() is None, child.communicate()
    wal = Path(f"{db}-wal")
    assert wal.stat().st_size > 10_000_000, "the big content was being written when killed"
    os.kill(child.pid, signal.SIGKILL)
    child.communicate()
    store.close()
    with SqliteStore(db) as reopened:
        assert reopened.head() == first.info()
        assert reopened.get() == first
        assert reopened.verify() == []
        assert reopened.append(registry("after"), author="ana", message="m").number == 2


APPEND_FOREVER = """
import sys
from registry.sqlite_store import SqliteStore
store = SqliteStore(sys.argv[1])
n = 0
while True:
    n += 1
    store.append({"n": n, "blob": ["y" * 500] * 20000}, author="loop", message=str(n))
"""


def test_sigkill_at_random_moments(tmp_path: Path) -> None:
    db = tmp_path / "flowreg.db"
    rng = random.Random(7)
    last = 0
    for _ in range(3):
        child = run_child(APPEND_FOREVER, str(db))
        with SqliteStore(db) as watcher:
            target = last + 2
            wait_for(lambda w=watcher, t=target: (w.head().number if w.head() else 0) >= t)
        time.sleep(rng.uniform(0, 0.2))
        os.kill(child.pid, signal.SIGKILL)
        child.communicate()
        with SqliteStore(db) as reopened:
            assert reopened.verify() == []
            head = reopened.get()
            assert head.content["n"] >= 2 and head.number >= last + 2
            last = head.number


# -- proposals -------------------------------------------------------------------------------


def test_proposals_approve_reject_and_stale(store: SqliteStore) -> None:
    store.append(registry("A"), author="ana", message="base")
    first = store.propose(registry("B"), author="eng", message="rename", base_revision=1)
    second = store.propose(registry("C"), author="eng", message="other", base_revision=1)
    assert (first.status, first.base_revision, first.content) == ("pending", 1, registry("B"))
    assert [p.id for p in store.proposals("pending")] == [first.id, second.id]

    approved = store.decide(first.id, approve=True, reviewer="dpo", note="ok")
    assert (approved.status, approved.reviewer, approved.applied_revision) == ("approved", "dpo", 2)
    assert approved.decided_at is not None and approved.decision_note == "ok"
    head = store.get()
    assert (head.number, head.author, head.content) == (2, "eng", registry("B"))
    assert "approved by dpo" in head.message

    with pytest.raises(StaleHeadError, match="since revision 1 \\(now 2\\)"):
        store.decide(second.id, approve=True, reviewer="dpo")
    assert store.get_proposal(second.id).status == "pending"
    assert store.head().number == 2
    rejected = store.decide(second.id, approve=False, reviewer="dpo", note="stale")
    assert (rejected.status, rejected.applied_revision) == ("rejected", None)
    with pytest.raises(FlowregError, match="already rejected"):
        store.decide(second.id, approve=True, reviewer="dpo")

    with pytest.raises(StaleHeadError):
        store.propose(registry("D"), author="eng", message="late", base_revision=1)
    with pytest.raises(NotFoundError):
        store.get_proposal(99)
    assert [p.status for p in store.proposals()] == ["approved", "rejected"]
    assert store.proposals("pending") == []
    assert store.verify() == []


# -- opening ---------------------------------------------------------------------------------


def test_garbage_file_is_refused_and_left_alone(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    data = os.urandom(4096)
    garbage.write_bytes(data)
    with pytest.raises(StoreError, match="not a flowreg store"):
        SqliteStore(garbage)
    assert garbage.read_bytes() == data

    text = tmp_path / "notes.txt"
    text.write_text("flowreg: 1\n")
    with pytest.raises(StoreError, match="not an SQLite database"):
        SqliteStore(text)
    assert text.read_text() == "flowreg: 1\n"

    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE customers (name TEXT)")
    conn.commit()
    conn.close()
    before = other.read_bytes()
    with pytest.raises(StoreError, match="SQLite database but not a flowreg store"):
        SqliteStore(other)
    assert other.read_bytes() == before

    with pytest.raises(StoreError, match="is a directory"):
        SqliteStore(tmp_path)


def test_newer_schema_is_refused(db: Path) -> None:
    SqliteStore(db).close()
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer flowreg"):
        SqliteStore(db)


def test_settings_and_open_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    defaults = settings_from_env({})
    assert defaults.backend == "sqlite"
    assert defaults.db_path == tmp_path / ".flowreg" / "flowreg.db"
    assert settings_from_env({"FLOWREG_DB": "x/y.db"}).db_path == tmp_path / "x" / "y.db"
    with pytest.raises(FlowregError, match="FLOWREG_BACKEND must be one of sqlite, neo4j"):
        settings_from_env({"FLOWREG_BACKEND": "oracle"})

    secrets = tmp_path / "neo4j.env"
    secrets.write_text(
        "# credentials\nexport NEO4J_URI=bolt://db:7687\nNEO4J_PASSWORD='s3cret'\nOTHER=1\n"
    )
    env = {"FLOWREG_BACKEND": "neo4j", "FLOWREG_SECRETS_FILE": str(secrets), "NEO4J_USER": "u"}
    neo = settings_from_env(env)
    assert (neo.neo4j_uri, neo.neo4j_user, neo.neo4j_database) == ("bolt://db:7687", "u", "neo4j")
    assert neo.neo4j_password is not None and neo.neo4j_password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(neo) and "s3cret" not in str(neo)
    assert settings_from_env({**env, "NEO4J_URI": "bolt://env:1"}).neo4j_uri == "bolt://env:1"
    secrets.write_text("NEO4J_PASSWORD hunter2\n")
    with pytest.raises(FlowregError, match="line 1: expected KEY=VALUE") as caught:
        settings_from_env(env)
    assert "hunter2" not in str(caught.value)

    with open_store(Settings(db_path=tmp_path / "s.db"), create=True) as opened:
        assert isinstance(opened, SqliteStore) and opened.head() is None
    with pytest.raises(FlowregError, match="NEO4J_URI is not set"):
        open_store(Settings(backend="neo4j"))
    # Simulates an installation without the Neo4j backend module.
    monkeypatch.setitem(sys.modules, "registry.neo4j.store", None)
    with pytest.raises(FlowregError, match="Neo4j backend is not available"):
        open_store(Settings(backend="neo4j", neo4j_uri="bolt://localhost:7687"))


def test_registry_error_lists_issues() -> None:
    error = RegistryError(["flows[0].to: unknown id 'x'", "parties[1].country: not a country"])
    assert str(error).splitlines() == [
        "the registry has 2 problems:",
        "  flows[0].to: unknown id 'x'",
        "  parties[1].country: not a country",
    ]
    assert isinstance(error, FlowregError)


# -- canonical JSON and diffs ----------------------------------------------------------------

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=25,
)


def reorder(value: Any, rng: random.Random) -> Any:
    """The same value with every dict's keys inserted in a shuffled order."""
    if isinstance(value, dict):
        keys = list(value)
        rng.shuffle(keys)
        return {key: reorder(value[key], rng) for key in keys}
    if isinstance(value, list):
        return [reorder(item, rng) for item in value]
    return value


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=6), st.integers())
def test_canonical_json_ignores_key_order(content: dict[str, Any], seed: int) -> None:
    shuffled = reorder(content, random.Random(seed))
    assert canonical_json(shuffled) == canonical_json(content)
    assert content_hash(shuffled) == content_hash(content)
    assert json.loads(canonical_json(content)) == content


def test_canonical_json_form() -> None:
    value = {"b": [1, {"z": 1, "a": date(2020, 7, 16)}], "a": "Zürich"}
    assert canonical_json(value) == '{"a":"Zürich","b":[1,{"a":"2020-07-16","z":1}]}'
    stamp = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert canonical_json({"t": stamp}) == '{"t":"2024-05-01T12:00:00.000000+00:00"}'
    with pytest.raises(ValueError):
        canonical_json({"x": float("inf")})
    with pytest.raises(TypeError):
        canonical_json({"x": object()})


def test_diff_contents() -> None:
    before = registry(
        parties=[{"id": "twilio-inc", "country": "US"}, {"id": "sift", "country": "US"}],
        flows=[{"id": "f1", "to": "sift", "carries": ["a"]}],
    )
    after = registry(
        "Twilio",
        parties=[{"id": "twilio-inc", "country": "US"}, {"id": "viber", "country": "LU"}],
        flows=[{"id": "f1", "to": "viber", "carries": ["a", "b"], "purpose": None}],
        notice_days=30,
    )
    changes = diff_contents(before, after)
    assert changes == [
        Change(section="organization", id=None, kind="changed"),
        Change(section="parties", id="viber", kind="added"),
        Change(section="parties", id="sift", kind="removed"),
        Change(section="flows", id="f1", kind="changed", fields=["carries", "to"]),
        Change(section="notice_days", id=None, kind="added"),
    ]
    assert str(changes[3]) == "flows/f1: changed (carries, to)"
    assert diff_contents(after, after) == []
    assert [str(c) for c in diff_contents(None, registry(categories=[{"id": "a"}]))] == [
        "flowreg: added",
        "organization: added",
        "categories/a: added",
    ]
