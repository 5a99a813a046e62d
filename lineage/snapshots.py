"""Built graphs, holdings and evaluations kept on disk between runs, by revision hash.

Opening a store of a million flows rebuilds a million models and a graph (about a minute on
one core), and the first evaluation of a date computes what every category's data holds
where (minutes); a command-line call paid both every time. A snapshot keeps what one run
built for the next: the graph of a revision, its holdings (shared by every date) and a date's
hop statuses, each loaded in a fraction of the time it took to build
(`bench/results/NOTES.md`).

A snapshot is served only for the very revision it was built from (its chain hash, which
covers the content hash), by the same flowreg code (a digest of the `registry` and `lineage`
sources and of the library versions) and, for holdings and evaluations, the same law data.
Anything else, and any file that fails its check, is ignored and built again: a snapshot can
be stale or deleted at any time without changing an answer. Only what took at least
`min_seconds` to build is kept (small registries write nothing), and only the newest `keep`
files of each kind.

Files are pickles, and unpickling runs code: each file ends with a keyed BLAKE2b digest of
its content, under a random key kept in the directory (readable by its owner only), and a file
whose digest does not match is never unpickled. Writes go to a temporary file renamed into
place, so a crash mid-write leaves no partial snapshot and concurrent writers cannot mix.
"""

from __future__ import annotations

import hashlib
import io
import logging
import mmap
import os
import pickle
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

from lineage.evaluation import Evaluation, Keeper
from lineage.graph import RegistryGraph
from lineage.holdings import Holdings, Labels, holdings_of
from lineage.law import Law
from registry.config import Settings
from registry.gcpause import paused_gc

log = logging.getLogger("flowreg.snapshots")

MAGIC = b"flowreg-snapshot 1\n"
DIGEST_BYTES = 32
KEY_FILE = "key"
KINDS = ("graph", "holdings", "evaluation", "findings")
# What an evaluation keeps (`Evaluation.keeper`), by its key: the kind of file it goes in.
EVALUATION_KINDS = {"hops": "evaluation", "findings": "findings"}


@cache
def code_version() -> str:
    """A digest of this flowreg's `registry` and `lineage` sources and the versions of Python,
    pydantic and networkx: a snapshot made by other code is never read."""
    import networkx
    import pydantic

    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256(f"{sys.version}|{pydantic.VERSION}|{networkx.__version__}".encode())
    for package in ("registry", "lineage"):
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def law_version(law: Law) -> str:
    """A digest of a law's data: holdings and verdicts depend on it."""
    found = law.__dict__.get("_snapshot_version")
    if found is None:
        found = hashlib.sha256(law.data.model_dump_json().encode()).hexdigest()[:16]
        law.__dict__["_snapshot_version"] = found
    return found


class Snapshots:
    """A directory of snapshots (created on the first write).

    >>> import tempfile
    >>> from registry.loader import load_registry_file
    >>> from lineage.graph import build_graph
    >>> snaps = Snapshots(Path(tempfile.mkdtemp()) / "snaps", min_seconds=0)
    >>> rg = build_graph(load_registry_file("tests/fixtures/northwind.yaml"))
    >>> snaps.save_graph("rev-hash", rg, seconds=1.0)
    True
    >>> sorted(snaps.load_graph("rev-hash").flows) == sorted(rg.flows)
    True
    >>> snaps.load_graph("another-revision") is None
    True
    """

    def __init__(self, directory: Path, *, min_seconds: float = 2.0, keep: int = 4) -> None:
        self.directory = Path(directory)
        self.min_seconds = min_seconds
        self.keep = keep
        self.loaded: dict[str, int] = dict.fromkeys(KINDS, 0)  # what was served, for tests and notes
        self.saved: dict[str, int] = dict.fromkeys(KINDS, 0)

    def __repr__(self) -> str:
        return f"Snapshots({self.directory.name!r}, min_seconds={self.min_seconds})"

    # --- the graph of a revision --------------------------------------------------------------
    def load_graph(self, revision: str) -> RegistryGraph | None:
        """The graph built from `revision`, or None."""
        found = self._load("graph", revision)
        return found if isinstance(found, RegistryGraph) else None

    def save_graph(self, revision: str, rg: RegistryGraph, *, seconds: float) -> bool:
        """Keep `rg` when building it took `seconds` >= `min_seconds`; whether it was written.
        Its holdings go in their own snapshot (`save_holdings`)."""
        if seconds < self.min_seconds:
            return False
        return self._save("graph", revision, replace(rg, holdings={}, holdings_from=None))

    # --- holdings, shared by every date of a revision -----------------------------------------
    def holdings_reader(self, revision: str) -> Callable[[RegistryGraph, Labels, Law], Holdings | None]:
        """What `RegistryGraph.holdings_from` calls for the graph of `revision`: the holdings
        kept for it under a law, or None."""

        def read(rg: RegistryGraph, labels: Labels, law: Law) -> Holdings | None:
            found = self._load("holdings", revision, law_version(law))
            return Holdings.restored(rg, labels, found) if isinstance(found, dict) else None

        return read

    def save_holdings(self, revision: str, rg: RegistryGraph, law: Law) -> bool:
        """Keep what `rg`'s holdings under `law` have computed so far, once per revision."""
        name = self._name("holdings", revision, law_version(law))
        if (self.directory / name).exists():
            return False
        return self._save("holdings", revision, holdings_of(rg, law).exported(), law_version(law))

    # --- files --------------------------------------------------------------------------------
    def _name(self, kind: str, revision: str, *parts: str) -> str:
        key = hashlib.sha256("|".join((revision, code_version(), *parts)).encode()).hexdigest()[:32]
        return f"{kind}-{key}.pickle"

    def _key(self, *, create: bool) -> bytes | None:
        path = self.directory / KEY_FILE
        try:
            key = path.read_bytes()
            return key if len(key) == 32 else None
        except FileNotFoundError:
            if not create:
                return None
        self.directory.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=".key-")
        with os.fdopen(fd, "wb") as out:  # mkstemp makes it readable by its owner only
            out.write(key)
        try:
            os.link(tmp, path)  # first writer wins; a concurrent one reads the winner's key
        except FileExistsError:
            key = path.read_bytes()
        finally:
            os.unlink(tmp)
        return key

    def _load(self, kind: str, revision: str, *parts: str) -> Any:
        path = self.directory / self._name(kind, revision, *parts)
        try:
            key = self._key(create=False)
            if key is None or not path.exists():
                return None
            with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as view:
                body = len(view) - DIGEST_BYTES
                if body <= len(MAGIC) or view[:len(MAGIC)] != MAGIC:
                    raise ValueError("not a flowreg snapshot")
                with memoryview(view) as whole:
                    digest = hashlib.blake2b(whole[:body], key=key, digest_size=DIGEST_BYTES).digest()
                    if not secrets.compare_digest(digest, whole[body:]):
                        raise ValueError("its digest does not match its content")
                    with paused_gc():  # everything loaded stays cached (registry/gcpause.py)
                        found = pickle.loads(whole[len(MAGIC):body])
        except Exception as exc:  # noqa: BLE001 - a bad snapshot is rebuilt, never fatal
            log.warning("ignoring snapshot %s (%s): it will be built again", path.name, exc)
            _remove(path)
            return None
        self.loaded[kind] += 1
        return found

    def _save(self, kind: str, revision: str, value: Any, *parts: str) -> bool:
        path = self.directory / self._name(kind, revision, *parts)
        tmp = None
        try:
            key = self._key(create=True)
            assert key is not None
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{kind}-", suffix=".tmp")
            with os.fdopen(fd, "wb") as file:
                out = _Digesting(file, key)
                out.write(MAGIC)
                with paused_gc():
                    pickle.dump(value, out, protocol=pickle.HIGHEST_PROTOCOL)
                file.write(out.digest.digest())
                file.flush()
                os.fsync(file.fileno())
            os.replace(tmp, path)
            tmp = None
        except Exception as exc:  # noqa: BLE001 - a snapshot is an optimisation: never fatal
            log.warning("could not keep a %s snapshot (%s)", kind, exc)
            return False
        finally:
            if tmp is not None:
                _remove(Path(tmp))
        self.saved[kind] += 1
        self._prune(kind)
        return True

    def _prune(self, kind: str) -> None:
        """Keep the newest `keep` snapshots of a kind, and no temporary file older than a day
        (one a crashed writer left)."""
        try:
            files = sorted(self.directory.glob(f"{kind}-*.pickle"), key=lambda p: p.stat().st_mtime)
            for path in files[:-self.keep] if self.keep > 0 else files:
                _remove(path)
            for path in self.directory.glob(".*.tmp"):
                if time.time() - path.stat().st_mtime > 86_400:
                    _remove(path)
        except OSError as exc:
            log.warning("could not prune snapshots (%s)", exc)


class _Digesting(io.RawIOBase):
    """A file that also digests what is written to it (pickle writes in frames)."""

    def __init__(self, file: io.BufferedWriter, key: bytes) -> None:
        self.file = file
        self.digest = hashlib.blake2b(key=key, digest_size=DIGEST_BYTES)

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.digest.update(data)
        return self.file.write(data)


class Kept(Keeper):
    """An evaluation's keeper (`Evaluation.keeper`) for one revision: its hop statuses and
    findings in `snapshots`, and the holdings of its graph (saved with the first hops kept).

    >>> import tempfile
    >>> from datetime import date
    >>> from registry.loader import load_registry_file
    >>> from lineage.graph import build_graph
    >>> snaps = Snapshots(Path(tempfile.mkdtemp()), min_seconds=0)
    >>> rg = build_graph(load_registry_file("tests/fixtures/northwind.yaml"))
    >>> ev = Evaluation(rg, date(2021, 1, 1)); ev.keeper = Kept(snaps, "rev-hash")
    >>> first = ev.hops()  # computed, then kept
    >>> again = Evaluation(rg, date(2021, 1, 1)); again.keeper = Kept(snaps, "rev-hash")
    >>> again.hops() == first, snaps.loaded["evaluation"]  # read back, not computed
    (True, 1)
    """

    def __init__(self, snapshots: Snapshots, revision: str) -> None:
        self.snapshots = snapshots
        self.revision = revision

    def kept(self, evaluation: Evaluation, key: str) -> Any:
        kind = EVALUATION_KINDS.get(key)
        if kind is None:
            return None
        return self.snapshots._load(kind, self.revision, law_version(evaluation.law), evaluation.day.isoformat())

    def keep(self, evaluation: Evaluation, key: str, value: Any, seconds: float) -> None:
        kind = EVALUATION_KINDS.get(key)
        if kind is None or seconds < self.snapshots.min_seconds:
            return
        law = law_version(evaluation.law)
        if key == "hops":
            self.snapshots.save_holdings(self.revision, evaluation.rg, evaluation.law)
        self.snapshots._save(kind, self.revision, value, law, evaluation.day.isoformat())


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def snapshots_for(settings: Settings) -> Snapshots | None:
    """The snapshots of the embedded store `settings` name (`FLOWREG_SNAPSHOTS`), or None for
    a Neo4j store (its graph stays on the server) or when they are turned off."""
    if settings.backend != "sqlite" or not settings.snapshots:
        return None
    directory = settings.snapshot_dir or settings.db_path.with_name(settings.db_path.name + ".snapshots")
    return Snapshots(directory)

