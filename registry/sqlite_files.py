"""The embedded store's file on disk: what it is, whether it can be written, and what went wrong
in words a user can act on.

SQLite reports a full disk as "disk I/O error" or "database or disk is full", a read-only file
system as "unable to open database file" or "attempt to write a readonly database"; none of
them means the store is damaged, and saying so would send a user to restore a backup of a
healthy store. `storage_problem` looks at the file system itself to tell them apart.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from registry.errors import MissingStoreError, StoreError
from registry.sqlite_schema import APPLICATION_ID, SCHEMA, SCHEMA_VERSION, SQLITE_MAGIC


def check_file(path: Path) -> None:
    """Refuse anything at `path` that is not an SQLite file, before SQLite may write to it."""
    if path.is_dir():
        raise StoreError(f"{path} is a directory, not a flowreg store")
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"cannot read the store {path}: {exc.strerror or exc}") from None
    if header and header != SQLITE_MAGIC:
        raise StoreError(f"{path} is not a flowreg store (not an SQLite database); left untouched")


def _existing_dir(path: Path) -> Path:
    directory = path.parent
    while not directory.exists() and directory != directory.parent:
        directory = directory.parent
    return directory


def read_only_fs(path: Path) -> bool:
    """True when the file system that holds (or would hold) `path` is mounted read-only."""
    try:
        return bool(os.statvfs(_existing_dir(path)).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def disk_full(path: Path) -> bool:
    """True when the file system that holds `path` has no space left for ordinary users."""
    try:
        stats = os.statvfs(_existing_dir(path))
    except OSError:
        return False
    return stats.f_bavail == 0 or stats.f_favail == 0


def storage_problem(path: Path, exc: BaseException) -> str | None:
    """What is wrong with where the store lives, when that explains `exc`; None otherwise."""
    if read_only_fs(path):
        return (f"the store {path} is on a read-only file system: flowreg can read it but not "
                "write to it")
    text = str(exc).lower()
    if "full" in text or disk_full(path):
        return (f"the disk holding the store {path} is full ({exc}); free some space and try "
                "again")
    directory = _existing_dir(path)
    if "readonly" in text or not os.access(directory, os.W_OK):
        return (f"no permission to write the store {path} or its directory {directory} ({exc}); "
                "flowreg needs to write there, even to read a store (SQLite's shared-memory file)")
    return None


def explain(path: Path, exc: sqlite3.Error, doing: str) -> StoreError:
    """The error to raise for `exc`: the storage problem when there is one, else `doing` it."""
    problem = storage_problem(path, exc)
    return StoreError(problem or f"{doing} the store {path} failed: {exc}")


def connect(path: Path, *, timeout: float, read_only: bool) -> sqlite3.Connection:
    """An SQLite connection to `path`; on a read-only file system, opened immutable (nobody
    can change the file there, and SQLite could not create its shared-memory file). An
    immutable reader does not read a write-ahead log left beside the file, so a copy for such a
    mount is taken of a closed store (flowreg checkpoints it when the last writer closes)."""
    if read_only:
        uri = f"file:{quote(str(path))}?immutable=1"
        return sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None,
                               check_same_thread=False)
    return sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)


class SqliteFileMixin:
    """Opening the store's file: refusing what is not a flowreg store, creating the schema in
    a new file, upgrading an older one, and a read-only opening on a read-only file system.
    A mixin of `SqliteStore`, which sets `path`, `timeout`, `create` and `read_only`."""

    path: Path
    timeout: float
    create: bool
    read_only: bool

    def _open(self) -> sqlite3.Connection:
        check_file(self.path)
        exists = self.path.exists() and self.path.stat().st_size > 0
        if not self.create and not exists:
            raise MissingStoreError(
                f"no flowreg store at {self.path} (FLOWREG_DB): check the path, or create the "
                "store with `flowreg apply FILE`"
            )
        # On a read-only file system the store can still be read (an auditor's mounted copy).
        self.read_only = read_only_fs(self.path)
        if self.read_only and not exists:
            raise StoreError(f"cannot create the store {self.path}: it would be on a read-only "
                             "file system")
        try:
            if not self.read_only:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = connect(self.path, timeout=self.timeout, read_only=self.read_only)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(storage_problem(self.path, exc)
                             or f"cannot open the store {self.path}: {exc}") from None
        try:
            self._prepare(conn)
        except sqlite3.DatabaseError as exc:
            conn.close()
            raise StoreError(storage_problem(self.path, exc)
                             or f"{self.path} is damaged or not a flowreg store ({exc})") from None
        except BaseException:
            conn.close()
            raise
        return conn

    def _prepare(self, conn: sqlite3.Connection) -> None:
        if self.read_only:
            if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
                raise StoreError(f"{self.path} is not a flowreg store; left untouched")
            version = self._schema_version(conn)
            if version != SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} has store schema {version} and this flowreg reads "
                    f"{SCHEMA_VERSION}; it cannot be upgraded on a read-only file system"
                )
            return
        if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            self._initialise(conn)
        # Persistent in the file once set; synchronous is per connection.
        self._retry_busy(lambda: conn.execute("PRAGMA journal_mode=WAL").fetchone())
        conn.execute("PRAGMA synchronous=FULL")
        version = self._schema_version(conn)
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer flowreg (store schema {version}, "
                f"this version reads {SCHEMA_VERSION}); upgrade flowreg"
            )
        if version < SCHEMA_VERSION:
            self._upgrade(conn)

    def _schema_version(self, conn: sqlite3.Connection) -> int:
        row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            raise StoreError(f"{self.path} is a damaged flowreg store (no schema version)")
        try:
            return int(row[0])
        except (TypeError, ValueError):
            raise StoreError(f"{self.path} is a damaged flowreg store: its schema version "
                             f"{str(row[0])[:40]!r} is not a number") from None

    def _upgrade(self, conn: sqlite3.Connection) -> None:
        """Bring an older store to the current schema: 1 -> 2 adds `revisions.base` (every old
        row is a snapshot), 2 -> 3 adds `revisions.signature` and `.signer` (old rows unsigned)."""
        self._retry_busy(lambda: conn.execute("BEGIN IMMEDIATE"))
        try:
            # Re-read under the lock: another process may have upgraded meanwhile.
            version = self._schema_version(conn)
            if version == 1:
                conn.execute(
                    "ALTER TABLE revisions ADD COLUMN base INTEGER"
                    " CHECK (base IS NULL OR base = number - 1)"
                )
                version = 2
            if version == 2:
                conn.execute("ALTER TABLE revisions ADD COLUMN signature TEXT")
                conn.execute("ALTER TABLE revisions ADD COLUMN signer TEXT")
                version = 3
            conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _initialise(self, conn: sqlite3.Connection) -> None:
        """Create the schema in an empty database; refuse a database that holds anything else."""
        foreign = StoreError(
            f"{self.path} is an SQLite database but not a flowreg store; left untouched"
        )
        # Checked before switching to WAL, which would already modify someone else's database.
        if conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
            if conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID:
                return  # another process initialised it since we looked
            raise foreign
        self._retry_busy(lambda: conn.execute("PRAGMA journal_mode=WAL").fetchone())
        self._retry_busy(lambda: conn.execute("BEGIN IMMEDIATE"))
        try:
            # Re-checked under the write lock: another process may have initialised it meanwhile.
            if conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID:
                conn.execute("COMMIT")
                return
            if conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0]:
                raise foreign
            for statement in SCHEMA:
                conn.execute(statement)
            conn.executemany(
                "INSERT INTO meta (key, value) VALUES (?, ?)",
                [("format", "flowreg-store"), ("schema_version", str(SCHEMA_VERSION))],
            )
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    def _retry_busy(self, action: Any) -> Any:
        # Switching to WAL takes an exclusive lock and may fail with "locked" without waiting
        # on the busy timeout when several processes open a fresh file at once.
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                return action()
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc):
                    raise
                if time.monotonic() > deadline:
                    raise StoreError(
                        f"the store {self.path} is busy; another process held it for more "
                        f"than {self.timeout:g}s"
                    ) from None
                time.sleep(0.01)

