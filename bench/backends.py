"""The backends the benchmark compares, and the operations it times on each.

A backend knows how to get a store (fresh for `apply`, existing for the cold open) and which
engine answers queries over it. `Engine` is the operations the benchmark times, written against
`lineage.api.Flowreg`; a backend whose queries run elsewhere (Cypher on the Neo4j server)
subclasses it and overrides the operations it answers itself.

Adding a backend: write a class with the `Backend` methods and list it in `BACKENDS`.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from lineage.api import Flowreg
from registry.model import Registry
from registry.store import Store

ROOT = Path(__file__).resolve().parents[1]


class Engine:
    """The timed operations; each returns the backend's answer (sized and hashed untimed)."""

    def __init__(self, fr: Flowreg) -> None:
        self.fr = fr

    def open(self) -> Any:
        """Load the head revision and build what queries need (the graph)."""
        return len(self.fr.graph().flows)

    def hops(self, day: date) -> Any:
        """Every hop's status on `day`: the first query of a date evaluates the whole date."""
        return self.fr.hops(day)

    def flows(self, category: str, day: date) -> Any:
        return self.fr.flows(category, day)

    def recipients(self, category: str, day: date) -> Any:
        return self.fr.recipients(category, day)

    def path(self, source: str, target: str, day: date, category: str | None) -> Any:
        return self.fr.path(source, target, day, category=category)

    def impact(self, node: str, day: date) -> Any:
        return self.fr.impact(node, day)

    def findings(self, day: date) -> Any:
        return self.fr.findings(day)

    def what_if(self, tool: str, from_day: date, day: date) -> Any:
        return self.fr.what_if_invalidate(tool, from_day, day)

    def head_registry(self) -> Registry:
        """The head revision's registry, which a change is validated against."""
        return self.fr.registry()

    def register(self, number: int, probes: dict[str, Any], day: date) -> int:
        """Register a new sub-processor as a new revision, then evaluate its new hop on `day`.

        What `flowreg subprocessor add` does, plus what the dashboard shows right after: the
        status of the hop it added (the hops from the system to the new party, for the data it
        carries, through the public query API so each backend answers it its own way).
        """
        from registry.registration import add_subprocessor  # written alongside; may be absent

        fr = self.fr
        head = fr.store.head()
        party = f"bench-sub-{number:04d}"
        category = probes["register_categories"][0]
        updated = add_subprocessor(
            self.head_registry(),
            party_id=party,
            name=f"Benchmark sub-processor {number}",
            country="US",
            categories=[category],
            from_system=probes["register_from"],
            purpose="transcription",
            under=["eu-us-dpf"],
            certifications=[{"framework": "eu-us-dpf", "valid_from": "2024-01-02"}],
            public_list=True,
        )
        fr.apply(updated, author="bench", message=f"benchmark registration {number}",
                 expected_head=head.number if head else None)
        found = fr.path(probes["register_from"], party, day, category=category)
        if not found.hops:
            raise AssertionError(f"the registered hop to {party} was not found")
        return found


class Neo4jEngine(Engine):
    """On a Neo4j store `Flowreg` sends queries to Cypher (`lineage.neo4j.queries`); opening is
    connecting and making sure the head revision's graph is materialised on the server."""

    def open(self) -> int:
        return self.fr.store.ensure_graph(None).number

    def head_registry(self) -> Registry:
        return self.fr.registry()


class Backend(Protocol):
    name: str

    def unavailable(self) -> str | None:
        """None when this backend can run here, else why not (shown in the results)."""

    def start(self, workdir: Path, label: str) -> dict[str, Any]:
        """Prepare an empty store for one size (in the parent); returns what children need."""

    def stop(self) -> dict[str, Any]:
        """Tear down what `start` made; returns figures measured outside the children."""

    def open_store(self, conf: dict[str, Any]) -> Store:
        """Open the store (in a child process)."""

    def cool(self, conf: dict[str, Any]) -> None:
        """Drop what can be dropped of caches outside the process before a cold open."""

    def engine(self, store: Store) -> Engine:
        """The engine that answers queries over `store`."""


class EmbeddedBackend:
    """SQLite store + networkx engine, in process (the default backend)."""

    name = "embedded"

    def unavailable(self) -> str | None:
        return None

    def start(self, workdir: Path, label: str) -> dict[str, Any]:
        db = workdir / f"embedded-{label}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        return {"db": str(db)}

    def stop(self) -> dict[str, Any]:
        return {}

    def open_store(self, conf: dict[str, Any]) -> Store:
        from registry.sqlite_store import SqliteStore

        # `--snapshots` runs: the engine keeps and reads snapshots there (lineage.snapshots),
        # every build kept whatever it cost, so that each size measures them.
        self.snapshots = conf.get("snapshots")
        return SqliteStore(conf["db"])

    def cool(self, conf: dict[str, Any]) -> None:
        # Evict the store's pages from the OS page cache (this file only: harmless to others),
        # so the cold open reads from disk like a first start.
        for suffix in ("", "-wal"):
            path = f"{conf['db']}{suffix}"
            with contextlib.suppress(OSError, AttributeError), open(path, "rb") as handle:
                os.posix_fadvise(handle.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)

    def engine(self, store: Store) -> Engine:
        from lineage.snapshots import Snapshots

        directory = getattr(self, "snapshots", None)
        return Engine(Flowreg(store, snapshots=Snapshots(Path(directory), min_seconds=0) if directory else None))


class Neo4jBackend:
    """A throwaway Neo4j 5.26 server (tools/neo4j) per size, `registry.neo4j.store.Neo4jStore`.

    `Flowreg` over a Neo4jStore answers queries in Cypher on the server (`lineage.neo4j.queries`);
    `Neo4jEngine` only changes what opening means. The server is a separate JVM, so its peak
    memory is read from /proc (VmHWM) when the size is done, beside the client's.
    """

    name = "neo4j"
    STORE_MODULE = "registry.neo4j.store"

    def __init__(self) -> None:
        self.server: Any = None

    @staticmethod
    def _server_module() -> Any:
        tools = str(ROOT / "tools" / "neo4j")
        if tools not in sys.path:
            sys.path.insert(0, tools)
        return importlib.import_module("neo4j_server")

    def unavailable(self) -> str | None:
        try:
            module = importlib.import_module(self.STORE_MODULE)
        except ImportError as exc:
            return f"{self.STORE_MODULE} is not importable ({exc})"
        if not hasattr(module, "Neo4jStore"):
            return f"{self.STORE_MODULE} has no Neo4jStore"
        try:
            return self._server_module().java_available()
        except Exception as exc:  # noqa: BLE001 - any reason it cannot start is the answer
            return f"the dev Neo4j server cannot be used ({exc})"

    def start(self, workdir: Path, label: str) -> dict[str, Any]:
        data = workdir / f"neo4j-{label}"
        if data.exists():
            import shutil

            shutil.rmtree(data)
        self.server = self._server_module().start(data_dir=data)
        user, password = self.server.auth
        return {"uri": self.server.uri, "user": user, "password": password, "pid": self.server.pid}

    def stop(self) -> dict[str, Any]:
        figures: dict[str, Any] = {}
        if self.server is not None:
            figures["server_peak_rss_mb"] = _vm_hwm_mb(self.server.pid)
            self.server.stop()
            self.server = None
        return figures

    def open_store(self, conf: dict[str, Any]) -> Store:
        from registry.config import Settings

        module = importlib.import_module(self.STORE_MODULE)
        settings = Settings(backend="neo4j", neo4j_uri=conf["uri"], neo4j_user=conf["user"],
                            neo4j_password=conf["password"])
        return module.Neo4jStore(settings)

    def cool(self, conf: dict[str, Any]) -> None:
        return None  # the server's page cache stays warm; only the client process is new

    def engine(self, store: Store) -> Engine:
        return Neo4jEngine(Flowreg(store))


def _vm_hwm_mb(pid: int) -> float | None:
    """Peak resident memory of another process, from /proc (Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


BACKENDS: dict[str, type] = {"embedded": EmbeddedBackend, "neo4j": Neo4jBackend}
