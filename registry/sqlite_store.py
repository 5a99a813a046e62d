"""The embedded store: the registry's history as append-only revisions in one SQLite file.

Durability and concurrency come from SQLite itself: WAL mode with `synchronous=FULL` makes each
commit durable, and every write is one `BEGIN IMMEDIATE` transaction that reads the head, checks
the writer's expected head, hashes and inserts while holding the database's single write lock,
so writers in several processes queue instead of forking the chain or losing an update. A
process killed mid-write leaves an uncommitted WAL tail that SQLite discards on the next open.
Triggers refuse UPDATE and DELETE on revisions; someone who drops them can still edit rows, and
`verify()` reports that through the hashes.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from os import PathLike
from pathlib import Path
from types import EllipsisType
from typing import Any

from pydantic import ValidationError

from registry.delta_revisions import (
    SNAPSHOT_EVERY,
    Materialised,
    appended,
    from_snapshot,
    replay,
    verify_content,
)
from registry.errors import (
    NotFoundError,
    StaleHeadError,
    StoreError,
    TamperError,
)
from registry.revisions import (
    Revision,
    RevisionInfo,
    asked_number,
    chain_hash,
    checked,
    sha256_text,
    verify_chain,
)
from registry.signing import Signer, VerifyKeys, check_opened_head
from registry.sqlite_files import SqliteFileMixin, explain
from registry.sqlite_proposals import SqliteProposalsMixin
from registry.sqlite_schema import (
    DELTAS,
    GET_REVISION,
    INFO_FIELDS,
    INSERT_REVISION,
    LAST_SNAPSHOT,
    N_INFO,
    SELECT_INFO,
    SELECT_REVISION,
    TRIGGERS,
    encode,
    now,
    require_text,
)


class SqliteStore(SqliteFileMixin, SqliteProposalsMixin):
    """The embedded `Store`: one SQLite file, safe for several threads and processes at once."""

    def __init__(
        self,
        path: str | PathLike[str],
        *,
        timeout: float = 30.0,
        create: bool = True,
        signer: Signer | None = None,
        verify_keys: VerifyKeys | None = None,
        check_head: bool = True,
    ) -> None:
        """Open the store at `path`, creating it when `create` (MissingStoreError otherwise).

        `timeout` is how long to wait for a writer; `signer` signs every revision written;
        `check_head` checks the head's own hash (and, with `verify_keys`, its signature) on
        opening, so a store edited behind flowreg's back is refused before anything reads it
        (`history --verify` opens without the check, to report every problem instead).
        """
        self.path = Path(path)
        self.timeout = timeout
        self.create = create
        self.signer = signer
        self.verify_keys = verify_keys
        self.read_only = False
        # One connection per store object, shared by threads (Streamlit), so access is
        # serialised here; SQLite serialises processes.
        self._lock = threading.RLock()
        # The revision last read or written, in pieces: the base of the next registration.
        self._last: Materialised | None = None
        self._pending: Materialised | None = None
        self._conn: sqlite3.Connection | None = self._open()
        if check_head:
            try:
                check_opened_head(self.head(), verify_keys)
            except BaseException:
                self.close()
                raise

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise StoreError(f"the store {self.path} is closed")
            try:
                yield self._conn
            except sqlite3.Error as exc:
                raise explain(self.path, exc, "reading") from None

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: the write lock is taken before the head is read."""
        if self.read_only:
            raise StoreError(f"the store {self.path} is on a read-only file system: flowreg can "
                             "read it but not write to it (nothing was written)")
        with self._reading() as conn:
            self._retry_busy(lambda: conn.execute("BEGIN IMMEDIATE"))
            self._pending = None
            try:
                yield conn
                conn.execute("COMMIT")
                if self._pending is not None:
                    self._last, self._pending = self._pending, None
            except BaseException as exc:
                self._pending = None
                if conn.in_transaction:
                    try:
                        conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass  # SQLite rolls back itself when it cannot (a full disk)
                if isinstance(exc, sqlite3.Error):
                    raise explain(self.path, exc, "writing to") from None
                raise

    @staticmethod
    def _head_row(conn: sqlite3.Connection) -> tuple[int, str] | None:
        return conn.execute(
            "SELECT number, hash FROM revisions ORDER BY number DESC LIMIT 1"
        ).fetchone()

    @staticmethod
    def _info(row: tuple[Any, ...]) -> RevisionInfo:
        try:
            return RevisionInfo.model_validate(dict(zip(INFO_FIELDS, row, strict=True)))
        except ValidationError as exc:
            fields = ", ".join(str(error["loc"][0]) for error in exc.errors())
            raise TamperError(f"revision {row[0]}: malformed record ({fields})") from None

    def _append_locked(
        self,
        conn: sqlite3.Connection,
        text: str,
        author: str,
        message: str,
        expected_head: int | None | EllipsisType,
    ) -> Revision:
        """Append `text` (a whole registry's canonical JSON) as the next revision."""
        number = self._next_number(conn, expected_head)
        made = from_snapshot(number, sha256_text(text), text, written=True)
        return self._insert(conn, made, text, None, author, message)

    @staticmethod
    def _next_number(conn: sqlite3.Connection, expected_head: int | None | EllipsisType) -> int:
        head = SqliteStore._head_row(conn)
        head_number = head[0] if head else None
        if expected_head is not Ellipsis and expected_head != head_number:
            raise StaleHeadError(expected_head, head_number)
        return (head_number or 0) + 1

    def _insert(
        self, conn: sqlite3.Connection, made: Materialised, stored: str, base: int | None,
        author: str, message: str,
    ) -> Revision:
        """Insert revision `made` (stored as `stored`: its whole text, or a delta on `base`),
        signed when the store has a signer."""
        parent = conn.execute(
            "SELECT hash FROM revisions WHERE number = ?", (made.number - 1,)
        ).fetchone()
        parent_hash = parent[0] if parent else None
        created_at = now()
        hash_ = chain_hash(made.number, created_at, author, message, made.content_hash, parent_hash)
        signature, signer = self.signer.sign(hash_) if self.signer else (None, None)
        info = RevisionInfo(number=made.number, created_at=created_at, author=author,
                            message=message, content_hash=made.content_hash,
                            parent_hash=parent_hash, hash=hash_, signature=signature,
                            signer=signer)
        values = [info.model_dump(mode="json")[name] for name in INFO_FIELDS]
        conn.execute(INSERT_REVISION, (*values, stored, base))
        # Kept only once the transaction commits (`_writing` clears it on a rollback).
        self._pending = made
        return Revision(**info.model_dump(), content=made.content)

    def append_additions(
        self,
        additions: Mapping[str, list[dict[str, Any]]],
        *,
        author: str,
        message: str,
        expected_head: int,
    ) -> Revision:
        """Write revision `expected_head` + 1: the head with `additions` appended to its sections.

        The same revision `append` would write for the extended content (same content hash),
        stored as a delta (`registry.delta_revisions`), so the cost grows with the change, not
        the registry. `additions` must come from a validated change of that head: this only
        stores. StaleHeadError when the head is no longer `expected_head`.
        """
        author = require_text(author, "author")
        additions = {k: [dict(e) for e in v] for k, v in additions.items() if v}
        with self._writing() as conn:
            number = self._next_number(conn, expected_head)
            base = self._materialised(conn, expected_head)
            made, stored, base_number = appended(base, number, additions,
                                                 snapshot_every=SNAPSHOT_EVERY)
            return self._insert(conn, made, stored, base_number, author, message or "")

    def _materialised(self, conn: sqlite3.Connection, number: int) -> Materialised:
        """Revision `number`'s content and pieces: from memory when it is the one last read or
        written, else rebuilt from its snapshot and the deltas after it."""
        row = conn.execute(
            "SELECT content_hash, content, base FROM revisions WHERE number = ?", (number,)
        ).fetchone()
        if row is None:
            raise NotFoundError(f"revision {number} does not exist")
        content_hash, text, base = row
        last = self._last
        if last is not None and last.number == number and last.content_hash == content_hash:
            return last
        if base is None:
            made = from_snapshot(number, content_hash, text)
        else:
            start_number = conn.execute(LAST_SNAPSHOT, (number,)).fetchone()[0]
            if last is not None and (start_number or 0) <= last.number < number:
                start = last  # replay from what is in memory, not from the snapshot
            elif start_number is None:
                raise TamperError(f"revision {number} was changed outside flowreg: "
                                  "no full revision precedes it")
            else:
                snapshot = conn.execute(
                    "SELECT content_hash, content FROM revisions WHERE number = ?",
                    (start_number,),
                ).fetchone()
                start = from_snapshot(start_number, snapshot[0], snapshot[1])
            deltas = conn.execute(DELTAS, (start.number, number)).fetchall()
            made = replay(start, deltas, number, content_hash)
        self._last = made
        return made

    def head(self) -> RevisionInfo | None:
        """The newest revision (its own hash checked), or None when the store is empty."""
        with self._reading() as conn:
            row = conn.execute(SELECT_INFO + " ORDER BY number DESC LIMIT 1").fetchone()
        return checked(self._info(row)) if row else None

    def get(self, number: int | None = None) -> Revision:
        """Revision `number` (None: the head), its content checked against its hash.

        The content's lists are shared with the revision kept in memory and its neighbours
        (a revision that appends to another shares its elements): treat it as read-only. The
        revision last read or written is served from memory while its stored content hash is
        unchanged; `verify()` reads every row again.
        """
        number = asked_number(number)
        with self._reading() as conn:
            row = conn.execute(GET_REVISION, (number,)).fetchone()
            if row is None:
                head = self._head_row(conn)
            else:
                info = checked(self._info(row[:N_INFO]))
                made = self._materialised(conn, info.number)
        if row is None:
            if head is None:
                raise NotFoundError("the registry has no revisions yet")
            raise NotFoundError(f"revision {number} does not exist (the head is {head[0]})")
        return Revision(**info.model_dump(), content=made.content)

    def history(self, *, check: bool = True) -> list[RevisionInfo]:
        """All revisions, oldest first, without content; each one's own hash checked unless
        `check` is false (`verify` reports what is wrong instead)."""
        with self._reading() as conn:
            rows = conn.execute(SELECT_INFO + " ORDER BY number").fetchall()
        infos = [self._info(row) for row in rows]
        return [checked(info) for info in infos] if check else infos

    def append(
        self,
        content: dict[str, Any],
        *,
        author: str,
        message: str,
        expected_head: int | None | EllipsisType = ...,
    ) -> Revision:
        """Write `content` as the next revision in one transaction (see `Store.append`)."""
        text = encode(content)  # outside the transaction: the write lock is held briefly
        author = require_text(author, "author")
        with self._writing() as conn:
            return self._append_locked(conn, text, author, message or "", expected_head)

    def verify(self) -> list[str]:
        """Every integrity problem in words: storage, removed triggers, hashes, numbering."""
        problems: list[str] = []
        infos: list[RevisionInfo] = []
        with self._reading() as conn:
            checks = [r[0] for r in conn.execute("PRAGMA quick_check").fetchmany(20)]
            if checks != ["ok"]:
                problems.extend(f"storage: {check}" for check in checks)
            present = {
                r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            }
            problems.extend(
                f"the protection trigger {name} was removed (the store was edited outside flowreg)"
                for name in sorted(TRIGGERS - present)
            )
            # Streamed row by row: one revision's content (and, for deltas, the one before it)
            # is in memory at a time.
            previous: Materialised | None = None
            for row in conn.execute(SELECT_REVISION + " ORDER BY number"):
                number, content_hash, text, base = row[0], row[4], row[-2], row[-1]
                previous = verify_content(number, content_hash, text, base, previous, problems)
                try:
                    infos.append(self._info(row[:N_INFO]))
                except TamperError as exc:
                    problems.append(exc.message)
        return problems + verify_chain(infos)

    def adopt(self, revision: Revision) -> bool:
        """Append `revision` exactly as it is (number, time, author, hashes): how `flowreg neo4j
        pull` moves a history. False when this store already holds it; StoreError when the
        revision is damaged, does not extend the head, or the histories diverge."""
        text = encode(revision.content)
        if sha256_text(text) != revision.content_hash or revision.hash != revision.expected_hash():
            raise StoreError(f"revision {revision.number} does not match its hashes; not copied")
        info = revision.info().model_dump(mode="json")
        with self._writing() as conn:
            same = conn.execute(
                "SELECT hash FROM revisions WHERE number = ?", (revision.number,)
            ).fetchone()
            if same is not None:
                if same[0] != revision.hash:
                    raise StoreError(f"the histories diverge at revision {revision.number}")
                return False
            head = self._head_row(conn)
            if (head or (0, None)) != (revision.number - 1, revision.parent_hash):
                raise StoreError(f"revision {revision.number} does not extend the head")
            conn.execute(INSERT_REVISION, (*(info[name] for name in INFO_FIELDS), text, None))
        return True

    def close(self) -> None:
        """Close the connection; further calls raise StoreError."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
