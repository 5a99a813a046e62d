"""Revisions stored as deltas on their parent (`SqliteStore.append_additions`), on real files.

A delta revision must be the revision `append` would write for the whole content (same content
hash), read back the same from the object that wrote it and from a fresh object on the file
(which replays the deltas since the last snapshot), verify with full snapshots mixed in, refuse
tampering, upgrade a schema-1 store, and leave nothing behind when its write fails.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import registry.sqlite_store as sqlite_store_module
from lineage.api import Flowreg
from registry.delta_revisions import delta_text
from registry.errors import StaleHeadError, TamperError
from registry.loader import load_registry_data, load_registry_file
from registry.registration import add_subprocessor
from registry.revisions import canonical_json, chain_hash, content_hash, iso_utc, sha256_text
from registry.sqlite_schema import APPLICATION_ID
from registry.sqlite_store import SqliteStore

NORTHWIND = Path(__file__).parent / "fixtures" / "northwind.yaml"
Content = dict[str, Any]
Additions = dict[str, list[dict[str, Any]]]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "flowreg.db"


@pytest.fixture
def store(db: Path) -> Iterator[SqliteStore]:
    with SqliteStore(db) as opened:
        yield opened


def base_content(org: str = "Nordwind Café – Zürich") -> Content:
    """A revision's content; the store does not validate, so it need not be a valid registry."""
    return {
        "flowreg": 1,
        "organization": org,
        "categories": [{"id": "c", "name": "contact data"}],
        "parties": [{"id": "p0", "name": "東京 KK", "kind": "vendor", "country": "JP"}],
        "flows": [],
    }


def additions_for(i: int) -> Additions:
    """Registration `i`: a party, often a flow; sometimes a new section or an empty list."""
    add: Additions = {"parties": [{"id": f"p{i}", "name": f"party {i} ü", "kind": "vendor"}]}
    if i % 2:
        add["flows"] = [{"id": f"f{i}", "from": "p0", "to": f"p{i}", "carries": ["c"]}]
    if i == 3:
        add["rules"] = [{"id": "r3", "forbid": ["c"]}]  # a section the base does not have
    if i == 4:
        add["flows"] = []  # nothing added to it: no key, no change
        add["parties"].append({"id": "p4b", "name": "second", "kind": "other", "tags": ["x"]})
    return add


def extended(content: Content, additions: Additions) -> Content:
    out = dict(content)
    for section, elements in additions.items():
        if elements:
            out[section] = [*content.get(section, []), *elements]
    return out


def rows(db: Path) -> list[tuple[int, int | None, str]]:
    """(number, base, stored content) of every revision, read with plain sqlite3."""
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT number, base, content FROM revisions ORDER BY number").fetchall()
    finally:
        conn.close()


def bases(db: Path) -> list[int | None]:
    return [base for _, base, _ in rows(db)]


def build_chain(store: SqliteStore, count: int, start: int = 1) -> list[Content]:
    """Revision 1 written whole, then `count` registrations as additions; the expected contents
    (index 0 is revision 1)."""
    first = base_content()
    store.append(first, author="ana", message="base", expected_head=None)
    expected = [first]
    for i in range(start, start + count):
        add = additions_for(i)
        revision = store.append_additions(add, author="ana", message=f"add {i}",
                                          expected_head=len(expected))
        expected.append(extended(expected[-1], add))
        assert revision.number == len(expected)
        assert revision.content == expected[-1]
        assert revision.content_hash == content_hash(expected[-1])
    return expected


def assert_reads(db: Path, store: SqliteStore, expected: list[Content]) -> None:
    """Every revision reads as `expected` from `store`, from one fresh object (in both orders)
    and from a fresh object per revision (each one replayed from its snapshot)."""
    for number, content in enumerate(expected, 1):
        revision = store.get(number)
        assert revision.content == content, number
        assert revision.content_hash == content_hash(content), number
    with SqliteStore(db) as fresh:
        assert fresh.get().content == expected[-1]
        for number in [*range(len(expected), 0, -1), *range(1, len(expected) + 1)]:
            assert fresh.get(number).content == expected[number - 1], number
        for number in range(1, len(expected) + 1):
            # the revision in memory (1) may lie before the snapshot `number` is rebuilt from
            assert fresh.get(1).content == expected[0]
            assert fresh.get(number).content == expected[number - 1], number
        assert fresh.verify() == []
    for number, content in enumerate(expected, 1):
        with SqliteStore(db) as fresh:
            revision = fresh.get(number)
            assert revision.content == content, number
            assert revision.content_hash == content_hash(content), number


# -- deltas read back as the whole content -----------------------------------------------------


def test_chain_of_additions_reads_as_the_whole_content(store: SqliteStore, db: Path) -> None:
    expected = build_chain(store, 12)
    assert bases(db) == [None, *range(1, 13)], "every registration is stored as a delta"
    for number, base, text in rows(db)[1:]:
        # the row holds the change only, not the registry
        assert json.loads(text) == {"add": {k: v for k, v in additions_for(number - 1).items() if v}}
        assert text == delta_text(additions_for(number - 1))
        assert base == number - 1
    assert_reads(db, store, expected)
    assert store.verify() == []

    # The same contents written whole give the same content hashes, revision by revision.
    with SqliteStore(db.with_name("whole.db")) as whole:
        for content in expected:
            whole.append(content, author="ana", message="whole")
        assert [r.content_hash for r in whole.history()] == [r.content_hash for r in store.history()]
        assert [r.content_hash for r in store.history()] == [content_hash(c) for c in expected]


def test_ascii_only_and_non_ascii_bases_both_extend(tmp_path: Path) -> None:
    # ASCII text is split into views of one encoded copy, other text into encoded values.
    for org in ("plain ascii org", "Ørsted ÆØÅ"):
        db = tmp_path / f"{len(org)}.db"
        with SqliteStore(db) as store:
            first = {"flowreg": 1, "organization": org, "parties": [{"id": "a", "name": org}]}
            store.append(first, author="ana", message="m")
            add = {"parties": [{"id": "b", "name": "ß"}], "flows": [{"id": "f", "to": "b"}]}
            revision = store.append_additions(add, author="ana", message="m", expected_head=1)
            assert revision.content_hash == content_hash(extended(first, add))
            assert_reads(db, store, [first, extended(first, add)])


def test_snapshots_every_n_revisions(store: SqliteStore, db: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # The store reads the name it imported, so it is patched there.
    monkeypatch.setattr(sqlite_store_module, "SNAPSHOT_EVERY", 3)
    expected = build_chain(store, 8)
    assert bases(db) == [None, 1, 2, None, 4, 5, None, 7, 8]
    for number, base, text in rows(db):
        if base is None:  # a snapshot holds the whole canonical text
            assert text == canonical_json(expected[number - 1]), number
            assert sha256_text(text) == content_hash(expected[number - 1])
    assert_reads(db, store, expected)

    # A whole append starts a new run of deltas.
    whole = extended(expected[-1], {"parties": [{"id": "w", "name": "whole"}]})
    store.append(whole, author="ana", message="whole", expected_head=9)
    expected.append(whole)
    add = additions_for(20)
    store.append_additions(add, author="ana", message="m", expected_head=10)
    expected.append(extended(expected[-1], add))
    assert bases(db)[9:] == [None, 10]

    # A fresh object continues the run where it is (it learns the depth by replaying) ...
    with SqliteStore(db) as other:
        for i in (21, 22):
            add = additions_for(i)
            other.append_additions(add, author="bo", message="m", expected_head=len(expected))
            expected.append(extended(expected[-1], add))
    assert bases(db)[9:] == [None, 10, 11, None]

    # ... and so does this one after reading an older revision (its memory is then not the head).
    assert store.get(13).content == expected[12]
    assert store.get(2).content == expected[1]
    for i in (23, 24, 25):
        add = additions_for(i)
        store.append_additions(add, author="ana", message="m", expected_head=len(expected))
        expected.append(extended(expected[-1], add))
    assert bases(db) == [None, 1, 2, None, 4, 5, None, 7, 8, None, 10, 11, None, 13, 14, None]
    assert store.verify() == []
    assert_reads(db, store, expected)


# -- tampering -----------------------------------------------------------------------------------


def tamper_changed_element(raw: sqlite3.Connection, text: str) -> None:
    forged = json.loads(text)
    forged["add"]["parties"][0]["name"] = "EVE"
    raw.execute("UPDATE revisions SET content = ? WHERE number = 3", (canonical_json(forged),))


def tamper_not_a_delta(raw: sqlite3.Connection, text: str) -> None:
    raw.execute("UPDATE revisions SET content = ? WHERE number = 3", ('{"parties":[]}',))


def tamper_not_json(raw: sqlite3.Connection, text: str) -> None:
    raw.execute("UPDATE revisions SET content = ? WHERE number = 3", (text[:-2],))


def tamper_made_a_snapshot(raw: sqlite3.Connection, text: str) -> None:
    raw.execute("UPDATE revisions SET base = NULL WHERE number = 3")


@pytest.mark.parametrize(
    "tamper", [tamper_changed_element, tamper_not_a_delta, tamper_not_json, tamper_made_a_snapshot]
)
def test_tampered_delta_is_reported_and_refused(store: SqliteStore, db: Path, tamper: Any,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sqlite_store_module, "SNAPSHOT_EVERY", 4)
    expected = build_chain(store, 5)
    assert bases(db) == [None, 1, 2, 3, None, 5]
    assert store.verify() == []

    raw = sqlite3.connect(db, isolation_level=None)
    raw.execute("DROP TRIGGER revisions_no_update")
    tamper(raw, rows(db)[2][2])
    raw.close()

    for reader in (store, SqliteStore(db)):  # the writer (which has the head in memory) and a fresh one
        problems = reader.verify()
        assert "revision 3: content does not match its content hash" in problems
        assert any("revisions_no_update was removed" in p for p in problems)
        # revision 4 is a change of revision 3, which cannot be read any more
        assert any(p.startswith("revision 4:") for p in problems)
        assert not any(p.startswith(f"revision {n}:") for p in problems for n in (1, 2, 5, 6))
        with pytest.raises(TamperError, match="revision 3 was changed outside flowreg"):
            reader.get(3)
        with pytest.raises(TamperError, match="was changed outside flowreg"):
            reader.get(4)
        for number in (1, 2, 5, 6):  # before it, and from the next snapshot on
            assert reader.get(number).content == expected[number - 1]
            assert reader.get(number).content_hash == content_hash(expected[number - 1])
        with pytest.raises(TamperError, match="revision 3 was changed outside flowreg"):
            reader.get(3)  # a read of a later revision in between does not change that
        if reader is not store:
            reader.close()


def test_delta_without_a_snapshot_before_it_is_refused(store: SqliteStore, db: Path) -> None:
    build_chain(store, 2)
    raw = sqlite3.connect(db, isolation_level=None)
    raw.execute("DROP TRIGGER revisions_no_update")
    # revision 1 pretends to be a delta: no revision before it can be read whole
    raw.execute("UPDATE revisions SET base = 0 WHERE number = 1")
    raw.close()
    with SqliteStore(db) as fresh:
        with pytest.raises(TamperError, match="revision 3 was changed outside flowreg"):
            fresh.get(3)
        problems = fresh.verify()
        assert "revision 1: stored as a change of revision 0, which cannot be read; its content" \
            " cannot be checked" in problems
        assert any(p.startswith("revision 2:") for p in problems)


# -- writes that do not happen -------------------------------------------------------------------


def test_stale_head_writes_nothing(store: SqliteStore, db: Path) -> None:
    expected = build_chain(store, 2)
    before = rows(db)
    head = store.head()
    for stale in (1, 2, 4):
        with pytest.raises(StaleHeadError) as caught:
            store.append_additions({"parties": [{"id": "late"}]}, author="bo", message="m",
                                   expected_head=stale)
        assert (caught.value.expected, caught.value.actual) == (stale, 3)
    assert rows(db) == before
    assert store.head() == head
    assert store.get().content == expected[-1]
    with SqliteStore(db.with_name("empty.db")) as empty:
        with pytest.raises(StaleHeadError):
            empty.append_additions({"parties": [{"id": "x"}]}, author="bo", message="m",
                                   expected_head=1)
        assert empty.head() is None
    # The refused additions are in no later revision either.
    add = additions_for(9)
    revision = store.append_additions(add, author="bo", message="m", expected_head=3)
    assert revision.content == extended(expected[-1], add)
    assert "late" not in [p["id"] for p in SqliteStore(db).get(4).content["parties"]]


def test_failed_write_leaves_head_and_memory_unchanged(store: SqliteStore, db: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    expected = build_chain(store, 2)
    head = store.head()
    assert head is not None
    original = SqliteStore._insert

    def insert_then_fail(self: SqliteStore, *args: Any, **kwargs: Any) -> Any:
        original(self, *args, **kwargs)
        raise RuntimeError("the disk is on fire")

    with monkeypatch.context() as patched:
        patched.setattr(SqliteStore, "_insert", insert_then_fail)
        with pytest.raises(RuntimeError, match="on fire"):
            store.append_additions({"parties": [{"id": "ghost", "name": "never"}]},
                                   author="ana", message="m", expected_head=3)
        with pytest.raises(RuntimeError, match="on fire"):  # the snapshot path too
            store.append(extended(expected[-1], {"parties": [{"id": "ghost2"}]}),
                         author="ana", message="m", expected_head=3)

    assert store.head() == head
    assert len(rows(db)) == 3
    assert store._last is None or store._last.number <= 3, "the failed revision is not kept"
    assert store.get().content == expected[-1]

    add = additions_for(7)
    revision = store.append_additions(add, author="ana", message="m", expected_head=3)
    expected.append(extended(expected[-1], add))
    assert revision.number == 4
    assert revision.content == expected[-1]
    assert revision.content_hash == content_hash(expected[-1])
    assert "ghost" not in json.dumps(rows(db))
    assert_reads(db, store, expected)
    assert store.verify() == []


def test_non_canonical_head_makes_the_next_revision_whole(store: SqliteStore, db: Path) -> None:
    # A revision written by something other than flowreg: its own hash, but escaped characters.
    first = base_content()
    text = json.dumps(first, sort_keys=True, separators=(",", ":"))  # "Caf\u00e9"
    assert text != canonical_json(first)
    created = iso_utc(datetime(2024, 1, 1, tzinfo=UTC))
    digest = sha256_text(text)
    raw = sqlite3.connect(db, isolation_level=None)
    raw.execute(
        "INSERT INTO revisions (number, created_at, author, message, content, content_hash,"
        " parent_hash, hash) VALUES (1, ?, 'x', 'm', ?, ?, NULL, ?)",
        (created, text, digest, chain_hash(1, created, "x", "m", digest, None)),
    )
    raw.close()
    assert store.verify() == []
    add = additions_for(1)
    revision = store.append_additions(add, author="ana", message="m", expected_head=1)
    # stored whole, with the content hash every store computes for that content
    assert revision.content_hash == content_hash(extended(first, add))
    assert rows(db)[1][:2] == (2, None)
    assert rows(db)[1][2] == canonical_json(extended(first, add))
    assert store.verify() == []


# -- schema 1 ------------------------------------------------------------------------------------

# The layout flowreg wrote before revisions could be deltas (schema version 1).
SCHEMA_1 = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE revisions (number INTEGER PRIMARY KEY CHECK (number >= 1),
        created_at TEXT NOT NULL, author TEXT NOT NULL, message TEXT NOT NULL,
        content TEXT NOT NULL, content_hash TEXT NOT NULL, parent_hash TEXT,
        hash TEXT NOT NULL UNIQUE)""",
    """CREATE TRIGGER revisions_no_update BEFORE UPDATE ON revisions
        BEGIN SELECT RAISE(ABORT, 'flowreg revisions are append-only'); END""",
    """CREATE TRIGGER revisions_no_delete BEFORE DELETE ON revisions
        BEGIN SELECT RAISE(ABORT, 'flowreg revisions are append-only'); END""",
    """CREATE TRIGGER revisions_extend_head BEFORE INSERT ON revisions
        WHEN NEW.number != COALESCE((SELECT MAX(number) FROM revisions), 0) + 1
          OR NEW.parent_hash IS NOT (SELECT hash FROM revisions WHERE number = NEW.number - 1)
        BEGIN SELECT RAISE(ABORT, 'a revision must extend the head'); END""",
    """CREATE TABLE proposals (id INTEGER PRIMARY KEY AUTOINCREMENT, base_revision INTEGER,
        created_at TEXT NOT NULL, author TEXT NOT NULL, message TEXT NOT NULL,
        content TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'approved', 'rejected')), reviewer TEXT, decided_at TEXT,
        decision_note TEXT NOT NULL DEFAULT '',
        applied_revision INTEGER REFERENCES revisions(number))""",
    "CREATE INDEX proposals_by_status ON proposals (status, id)",
    """CREATE TRIGGER proposals_decide_once BEFORE UPDATE ON proposals
        WHEN OLD.status != 'pending' OR NEW.content IS NOT OLD.content
          OR NEW.author IS NOT OLD.author OR NEW.message IS NOT OLD.message
          OR NEW.base_revision IS NOT OLD.base_revision OR NEW.created_at IS NOT OLD.created_at
        BEGIN SELECT RAISE(ABORT, 'a decided proposal cannot change'); END""",
    """CREATE TRIGGER proposals_no_delete BEFORE DELETE ON proposals
        BEGIN SELECT RAISE(ABORT, 'flowreg proposals are kept'); END""",
)


def write_schema_1_store(path: Path, contents: list[Content]) -> list[str]:
    """A store as schema-1 flowreg wrote it, holding `contents`; the revisions' chain hashes."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    for statement in SCHEMA_1:
        conn.execute(statement)
    conn.executemany("INSERT INTO meta (key, value) VALUES (?, ?)",
                     [("format", "flowreg-store"), ("schema_version", "1")])
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    hashes: list[str] = []
    for number, content in enumerate(contents, 1):
        created = iso_utc(datetime(2024, 1, number, 12, tzinfo=UTC))
        text = canonical_json(content)
        parent = hashes[-1] if hashes else None
        hashes.append(chain_hash(number, created, "old", f"v1 {number}", sha256_text(text), parent))
        conn.execute(
            "INSERT INTO revisions (number, created_at, author, message, content, content_hash,"
            " parent_hash, hash) VALUES (?, ?, 'old', ?, ?, ?, ?, ?)",
            (number, created, f"v1 {number}", text, sha256_text(text), parent, hashes[-1]),
        )
    conn.close()
    return hashes


def columns(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return [row[1] for row in conn.execute("PRAGMA table_info(revisions)")]
    finally:
        conn.close()


def schema_version(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    finally:
        conn.close()


def test_schema_1_store_is_upgraded_on_open(db: Path) -> None:
    old = [base_content("A"), base_content("B"), extended(base_content("B"), additions_for(1))]
    hashes = write_schema_1_store(db, old)
    assert "base" not in columns(db)
    assert schema_version(db) == "1"

    with SqliteStore(db) as store:
        assert columns(db)[-3:] == ["base", "signature", "signer"]
        assert schema_version(db) == "3"
        assert bases(db) == [None, None, None], "every old revision is a snapshot"
        assert [r.hash for r in store.history()] == hashes
        for number, content in enumerate(old, 1):
            assert store.get(number).content == content
        assert store.verify() == []

        add = additions_for(2)
        revision = store.append_additions(add, author="ana", message="m", expected_head=3)
        assert revision.content_hash == content_hash(extended(old[-1], add))
        assert bases(db) == [None, None, None, 3]
        assert store.verify() == []

    # Opening again reads it as it is (no second upgrade), deltas included.
    with SqliteStore(db) as again:
        assert schema_version(db) == "3"
        assert again.get(4).content == extended(old[-1], add)
        assert again.verify() == []
    # The upgraded column keeps its rule: a delta is always on the revision before it.
    raw = sqlite3.connect(db, isolation_level=None)
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        raw.execute(
            "INSERT INTO revisions (number, created_at, author, message, content, content_hash,"
            " parent_hash, hash, base) VALUES (5, 'x', 'eve', 'm', '{}', 'h',"
            " (SELECT hash FROM revisions WHERE number = 4), 'fork', 2)"
        )
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        raw.execute("UPDATE revisions SET base = NULL WHERE number = 4")
    raw.close()


# -- through the registration path ---------------------------------------------------------------


def test_registration_through_flowreg_stores_a_delta(db: Path) -> None:
    fr = Flowreg(SqliteStore(db))
    try:
        first = fr.apply(load_registry_file(NORTHWIND), author="ana", message="import",
                         expected_head=None)
        updated = add_subprocessor(
            fr.registry(), party_id="speechco", name="SpeechCo Oy", country="fi",
            categories=["subscriber.content"], from_system="mailer", under=["scc-bouncer"],
        )
        second = fr.apply(updated, author="ana", message="add speechco", expected_head=first.number)
        again = add_subprocessor(
            fr.registry(), party_id="transcribe", name="Transcribe Ltd", country="GB",
            categories=["subscriber.contact.email"], from_system="mailer",
        )
        third = fr.apply(again, author="bo", message="add transcribe", expected_head=second.number)
    finally:
        fr.close()

    assert bases(db) == [None, 1, 2]
    stored = json.loads(rows(db)[1][2])
    assert [p["id"] for p in stored["add"]["parties"]] == ["speechco"]
    assert [(f["from"], f["to"]) for f in stored["add"]["flows"]] == [("mailer", "speechco")]
    assert second.content_hash == content_hash(updated.content())
    assert third.content_hash == content_hash(again.content())

    with SqliteStore(db) as store:
        assert store.verify() == []
        head = store.get()
        assert head.hash == third.hash
        revalidated = load_registry_data(head.content)
        assert revalidated.content() == again.content()
        fresh = Flowreg(store)
        assert fresh.registry().content() == revalidated.content()
        assert fresh.registry() == revalidated
        assert fresh.registry(2).content() == load_registry_data(store.get(2).content).content()
        assert fresh.registry(2).get("speechco") is not None
        assert fresh.registry(2).get("transcribe") is None
