"""Signed revisions and pinned heads, on both stores: what a forger who can write the store can
and cannot get past `flowreg history --verify`; and the check every opening makes on the head.

Nothing is mocked: real SQLite files and a real Neo4j server (tests/conftest.py), edited the way
an attacker would (SQL with the triggers dropped and restored, Cypher), every hash recomputed
with flowreg's own functions.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from clirun import NORTHWIND, flowreg, invoke
from pydantic import SecretStr

from registry.config import Settings
from registry.errors import FlowregError, TamperError
from registry.revisions import canonical_json, chain_hash, sha256_text
from registry.signing import (
    load_verify_keys,
    new_signer,
    public_text,
    read_private_key,
    read_public_keys,
)
from registry.sqlite_schema import SCHEMA
from registry.store import Store, open_store
from registry.verification import verify_history

SIGNER = new_signer()
SEED_B64 = base64.b64encode(SIGNER.private.private_bytes_raw()).decode("ascii")
PUBLIC = public_text(SIGNER.public)
KEYS = load_verify_keys(PUBLIC, None)


def doc(org: str, *parties: str) -> dict[str, Any]:
    return {"flowreg": 1, "organization": org, "categories": [{"id": "c", "name": "C"}],
            "parties": [{"id": p, "name": p.title(), "kind": "subprocessor", "country": "DE"}
                        for p in parties]}


# --- the two stores, and how an attacker edits each ---------------------------------------------
@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def settings(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    if kind == "embedded":
        return Settings(db_path=tmp_path / "flowreg.db")
    return request.getfixturevalue("neo4j_settings")


def opened(settings: Settings, *, sign: bool = False, verify: bool = False, **kw: Any) -> Store:
    extra: dict[str, Any] = {}
    if sign:
        extra["signing_key"] = SecretStr(SEED_B64)
    if verify:
        extra["verify_key"] = PUBLIC
    return open_store(settings.model_copy(update=extra), create=True, **kw)


def write_history(settings: Settings, *, sign: bool = True) -> list[str]:
    """Three revisions (the last one a delta, as a registration writes); their hashes."""
    with opened(settings, sign=sign) as store:
        store.append(doc("Acme", "alpha"), author="ana", message="one")
        store.append(doc("Acme", "alpha", "beta"), author="ana", message="two")
        store.append_additions({"parties": [{"id": "gamma", "name": "Gamma", "kind": "subprocessor"}]},
                               author="ben", message="three", expected_head=2)
        return [info.hash for info in store.history()]


def _sqlite_rows(db: Path) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    rows = [dict(r) for r in conn.execute("SELECT * FROM revisions ORDER BY number")]
    conn.close()
    return rows


def _contents(store_rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each revision's whole content, as the attacker rebuilds it (deltas applied)."""
    out: list[dict[str, Any]] = []
    for row in store_rows:
        stored = json.loads(row["content"])
        if row.get("base") is None:
            out.append(stored)
        else:
            whole = json.loads(canonical_json(out[-1]))
            for section, elements in stored["add"].items():
                whole.setdefault(section, []).extend(elements)
            out.append(whole)
    return out


def _forge(content: dict[str, Any]) -> None:
    content["organization"] += " (rewritten)"
    for party in content.get("parties") or []:
        if party["id"] == "alpha":
            party["name"] = "Alpha (rewritten)"


def rewrite(settings: Settings, kind: str, *, keep_signatures: bool = False) -> None:
    """Edit every revision (`_forge`), store each whole, and recompute every content and chain
    hash: a history that passes the chain check."""
    if kind == "embedded":
        db = settings.db_path
        rows = _sqlite_rows(db)
        contents = _contents(rows)
        conn = sqlite3.connect(db)
        for name in ("revisions_no_update", "revisions_no_delete", "revisions_extend_head"):
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("DELETE FROM revisions")
        parent = None
        for row, content in zip(rows, contents, strict=True):
            _forge(content)
            text = canonical_json(content)
            digest = sha256_text(text)
            new_hash = chain_hash(row["number"], row["created_at"], row["author"], row["message"], digest, parent)
            signature = (row["signature"], row["signer"]) if keep_signatures else (None, None)
            conn.execute("INSERT INTO revisions (number, created_at, author, message, content, content_hash,"
                         " parent_hash, hash, base, signature, signer) VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?)",
                         (row["number"], row["created_at"], row["author"], row["message"], text, digest, parent,
                          new_hash, *signature))
            parent = new_hash
        for statement in SCHEMA:
            if statement.startswith("CREATE TRIGGER revisions_"):
                conn.execute(statement)
        conn.commit()
        conn.close()
        return
    from test_neo4j_backend import cypher

    records = cypher(settings, "MATCH (r:Revision) RETURN r {.*} AS r ORDER BY r.number")
    contents = _contents([dict(rec["r"]) for rec in records])
    parent = None
    for record, content in zip(records, contents, strict=True):
        r = record["r"]
        _forge(content)
        text = canonical_json(content)
        digest = sha256_text(text)
        new_hash = chain_hash(r["number"], r["created_at"], r["author"], r["message"], digest, parent)
        strip = "" if keep_signatures else " REMOVE r.signature, r.signer"
        cypher(settings, "MATCH (r:Revision {number: $n}) SET r.content = $c, r.content_hash = $d,"
               " r.hash = $h, r.parent_hash = $p, r.base = null, r.graph = 'pending'" + strip,
               n=r["number"], c=text, d=digest, h=new_hash, p=parent)
        parent = new_hash


def delete_head(settings: Settings, kind: str) -> None:
    if kind == "embedded":
        conn = sqlite3.connect(settings.db_path)
        conn.execute("DROP TRIGGER revisions_no_delete")
        conn.execute("DELETE FROM revisions WHERE number = (SELECT MAX(number) FROM revisions)")
        conn.execute(next(s for s in SCHEMA if "revisions_no_delete" in s))
        conn.commit()
        conn.close()
        return
    from test_neo4j_backend import cypher

    cypher(settings, "MATCH (r:Revision) WITH max(r.number) AS n MATCH (h:Revision {number: n}) DETACH DELETE h")


def check(settings: Settings, *, keys: Any = None, pin: str | None = None) -> Any:
    with open_store(settings, check_head=False) as store:
        return verify_history(store, keys=keys, pin=pin)


# --- signatures -----------------------------------------------------------------------------------
def test_a_signed_history_verifies_with_the_public_key_alone(settings: Settings) -> None:
    hashes = write_history(settings)
    with open_store(settings) as store:
        infos = store.history()
    assert [i.signer for i in infos] == [SIGNER.key_id] * 3 and all(i.signature for i in infos)
    result = check(settings, keys=KEYS, pin=hashes[-1])
    assert result.ok, result.problems
    assert any("signatures verify: 3 revisions" in n for n in result.notes)
    with opened(settings, verify=True) as store:  # a reader who demands signatures
        assert store.head().hash == hashes[-1]


def test_a_rewritten_and_rehashed_history_fails_when_signed_or_pinned(settings: Settings, kind: str) -> None:
    hashes = write_history(settings)
    rewrite(settings, kind)
    assert check(settings).ok, "the chain alone cannot tell (whoever writes the store can re-hash it)"
    with open_store(settings) as store:
        assert store.get(1).content["parties"][0]["name"] == "Alpha (rewritten)"
    signed = check(settings, keys=KEYS)
    assert not signed.ok and "no revision is signed" in signed.problems[0]
    pinned = check(settings, pin=hashes[-1])
    assert not pinned.ok and "is not in this history" in pinned.problems[0]
    with pytest.raises(TamperError, match="not signed"):
        opened(settings, verify=True)


def test_old_signatures_on_a_rewritten_history_do_not_verify(settings: Settings, kind: str) -> None:
    write_history(settings)
    rewrite(settings, kind, keep_signatures=True)
    result = check(settings, keys=KEYS)
    assert len(result.problems) == 3
    assert all("signature does not verify" in p for p in result.problems)
    with pytest.raises(TamperError, match="signature does not verify"):
        opened(settings, verify=True)


def test_deleting_the_head_fails_when_pinned(settings: Settings, kind: str) -> None:
    hashes = write_history(settings)
    delete_head(settings, kind)
    assert check(settings, keys=KEYS).ok, "a signed, shorter history: only a pinned head shows the cut"
    for pin in (hashes[-1], hashes[-1][:12]):
        result = check(settings, pin=pin)
        assert not result.ok and "rewritten or cut short" in result.problems[0]
    assert check(settings, pin=hashes[1]).ok


def test_an_unsigned_revision_after_signed_ones_fails(settings: Settings) -> None:
    write_history(settings)
    with opened(settings) as unsigned_writer:
        unsigned_writer.append(doc("Acme", "delta"), author="eve", message="no key")
    result = check(settings, keys=KEYS)
    assert result.problems == ["revision 4 is not signed, though revision 1 and later ones must be"]


def test_signing_can_start_on_an_existing_history(settings: Settings) -> None:
    with opened(settings) as store:
        store.append(doc("Acme", "alpha"), author="ana", message="before signing")
    with opened(settings, sign=True) as store:
        store.append(doc("Acme", "alpha", "beta"), author="ana", message="signed")
    result = check(settings, keys=KEYS)
    assert result.ok, result.problems
    assert any("revisions 1-1 predate signing" in n for n in result.notes)


def test_a_signature_by_another_key_is_named() -> None:
    other = load_verify_keys(public_text(new_signer().public), None)
    assert other is not None and KEYS is not None
    assert "not a verify key given here" in (other.problem(_signed_info()) or "")
    assert KEYS.problem(_signed_info()) is None


def _signed_info() -> Any:
    from registry.revisions import RevisionInfo

    fields = dict(number=1, created_at="2024-01-01T00:00:00+00:00", author="a", message="m",
                  content_hash="0" * 64, parent_hash=None)
    digest = chain_hash(**fields)
    signature, signer = SIGNER.sign(digest)
    return RevisionInfo(**fields, hash=digest, signature=signature, signer=signer)


def test_key_formats_and_errors(tmp_path: Path) -> None:
    from registry.signing import private_pem

    pem = private_pem(SIGNER).decode("ascii")
    assert read_private_key(pem, "x").key_id == SIGNER.key_id
    assert read_private_key(SEED_B64, "x").key_id == SIGNER.key_id
    raw_public = PUBLIC.removeprefix("ed25519:")
    assert len(read_public_keys(f"{PUBLIC}, {raw_public}", "x")) == 2
    for bad in ("not a key", "ed25519:AAAA", "-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----"):
        with pytest.raises(FlowregError, match="FLOWREG_SIGNING_KEY"):
            read_private_key(bad, "FLOWREG_SIGNING_KEY")
    with pytest.raises(FlowregError, match="FLOWREG_VERIFY_KEY"):
        read_public_keys("ed25519:@@@", "FLOWREG_VERIFY_KEY")


# --- the head checked on opening (item 7) ---------------------------------------------------------
def edit_author(settings: Settings, kind: str, number: int) -> None:
    if kind == "embedded":
        conn = sqlite3.connect(settings.db_path)
        conn.execute("DROP TRIGGER revisions_no_update")
        conn.execute("UPDATE revisions SET author = 'mallory' WHERE number = ?", (number,))
        conn.commit()
        conn.close()
        return
    from test_neo4j_backend import cypher

    cypher(settings, "MATCH (r:Revision {number: $n}) SET r.author = 'mallory'", n=number)


def test_opening_refuses_a_store_whose_head_was_edited(settings: Settings, kind: str) -> None:
    write_history(settings, sign=False)
    edit_author(settings, kind, 3)
    with pytest.raises(TamperError, match="revision 3 was changed outside flowreg"):
        open_store(settings)
    result = check(settings)
    assert not result.ok and any("revision 3: chain hash is wrong" in p for p in result.problems)


def test_reads_refuse_an_edited_older_revision(settings: Settings, kind: str) -> None:
    write_history(settings, sign=False)
    edit_author(settings, kind, 1)
    with open_store(settings) as store:  # the head is intact: the store opens
        assert store.get().number == 3
        with pytest.raises(TamperError, match="revision 1 was changed outside flowreg"):
            store.get(1)
        with pytest.raises(TamperError, match="revision 1 was changed outside flowreg"):
            store.history()


# --- the command line ---------------------------------------------------------------------------
def test_cli_keygen_sign_and_verify(tmp_path: Path) -> None:
    db = tmp_path / "flowreg.db"
    key = tmp_path / "signing.pem"
    made = invoke("keygen", "-o", key, db=db)
    assert made.code == 0, made.stderr
    public = made.stdout.strip()
    assert public.startswith("ed25519:") and key.stat().st_mode & 0o777 == 0o600
    assert invoke("keygen", "-o", key, db=db).code == 1, "an existing key is never overwritten silently"
    sign = {"FLOWREG_SIGNING_KEY_FILE": str(key)}
    assert invoke("apply", NORTHWIND, "-m", "first", db=db, **sign).code == 0
    added = invoke("subprocessor", "add", "--id", "acme", "--name", "Acme", "--country", "FI",
                   "-c", "subscriber", "--from-system", "mailer", db=db, **sign)
    assert added.code == 0, added.stderr
    listed = invoke("history", db=db)
    assert "signed by" in listed.stdout
    head = invoke("history", "--format", "json", db=db).json()[-1]["hash"]
    ok = invoke("history", "--verify", "--head", head[:12], db=db, FLOWREG_VERIFY_KEY=public)
    assert ok.code == 0, ok.stderr
    assert "signatures verify: 2 revisions" in ok.stdout and "verified: 2 revisions" in ok.stdout

    rewrite(Settings(db_path=db), "embedded")
    failed = flowreg("history", "--verify", db=db, FLOWREG_VERIFY_KEY=public)
    assert failed.code == 1 and "no revision is signed" in failed.stderr
    pinned = flowreg("history", "--verify", "--head", head, db=db)
    assert pinned.code == 1 and "is not in this history" in pinned.stderr
    as_json = invoke("history", "--head", head, "--format", "json", db=db)
    assert as_json.code == 1 and as_json.json()["verified"] is False
    refused = invoke("show", db=db, FLOWREG_VERIFY_KEY=public)
    assert refused.code == 1 and "not signed" in refused.stderr


@pytest.mark.parametrize(("args", "message"), [
    (("history", "--head", "abc"), "at least 12 hex digits"),
    (("history", "--head", "not-a-hash-at-all"), "is not a revision hash"),
])
def test_cli_pin_errors(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    db = tmp_path / "flowreg.db"
    assert invoke("apply", NORTHWIND, "-m", "first", db=db).code == 0
    result = invoke(*args, db=db)
    assert result.code == 1 and message in result.stderr, result.stderr


def test_cli_bad_key_names_the_variable(tmp_path: Path) -> None:
    db = tmp_path / "flowreg.db"
    result = invoke("apply", NORTHWIND, db=db, FLOWREG_SIGNING_KEY="nonsense")
    assert result.code == 1 and "FLOWREG_SIGNING_KEY" in result.stderr
    assert not db.exists()
    missing = invoke("apply", NORTHWIND, db=db, FLOWREG_SIGNING_KEY_FILE=str(tmp_path / "nope.pem"))
    assert missing.code == 1 and "nope.pem" in missing.stderr


def test_cli_edited_author_stops_every_reader(tmp_path: Path) -> None:
    """The issue's reproduction: an edited head passed unnoticed through show, export, report, apply."""
    db = tmp_path / "flowreg.db"
    assert invoke("apply", NORTHWIND, "-m", "first", db=db).code == 0
    edit_author(Settings(db_path=db), "embedded", 1)
    for args in (("show",), ("export",), ("report", "ropa", "--as-of", "2020-08-01"),
                 ("apply", NORTHWIND), ("findings",)):
        result = invoke(*args, db=db)
        assert result.code == 1 and "changed outside flowreg" in result.stderr, (args, result.stderr)
    verified = invoke("history", "--verify", db=db)
    assert verified.code == 1 and "revision 1: chain hash is wrong" in verified.stderr


@pytest.mark.neo4j
def test_push_and_pull_keep_signatures(tmp_path: Path, neo4j_settings: Settings) -> None:
    from registry.history_copy import copy_history

    embedded = Settings(db_path=tmp_path / "flowreg.db")
    hashes = write_history(embedded)
    with open_store(embedded) as source, opened(neo4j_settings) as target:
        assert copy_history(source, target, KEYS).copied == 3
    assert check(neo4j_settings, keys=KEYS, pin=hashes[-1]).ok
    with open_store(neo4j_settings) as server:
        assert [i.signature for i in server.history()] == [i.signature for i in _history(embedded)]
    back = Settings(db_path=tmp_path / "back.db")
    with open_store(neo4j_settings) as source, opened(back) as target:
        copy_history(source, target, KEYS)
    assert check(back, keys=KEYS, pin=hashes[-1]).ok


def _history(settings: Settings) -> list[Any]:
    with open_store(settings) as store:
        return store.history()
