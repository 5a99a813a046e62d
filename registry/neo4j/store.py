"""The Neo4j store: the registry's history, proposals and materialised graphs on a Neo4j server.

Revisions are `(:Revision {number, created_at, author, message, content, base, content_hash,
parent_hash, hash, graph, graph_revs, top})` nodes: content is the canonical JSON text of the
whole registry (`base` null), or of the elements a registration appends to its parent (`base` =
the parent's number; `registry.neo4j.revisions`), so hashes are checked on exactly what is
stored; proposals are `(:Proposal ...)` nodes. Uniqueness constraints on the
revision number and hash, the proposal id and the graph keys are created idempotently on open.

Writes: every revision or proposal write is ONE transaction that first takes the write lock of
the single `(:FlowregMeta {key: 'store'})` node, then reads the head, checks the writer's
expected head and creates the record. Writers therefore queue on that lock instead of forking
the chain; the uniqueness constraint on `number` is the second line of defence (a violation
becomes StaleHeadError, or a retry when the writer did not ask for a head).

Graphs: after the revision commits, its graph is materialised by `registry.neo4j.graph` in
follow-up batches (MERGE on the unique graph keys, so re-running is harmless), and only then is
`graph` set from 'pending' to 'ready'. A revision stored as a delta whose parent's graph is
ready gets only its new elements, and `graph_revs` lists the revisions whose elements make up
its graph (`registry.neo4j.graph_delta`). A crash in between leaves 'pending'; the query layer
finishes the job on first use (`ensure_graph`), as it does for a graph pruned by
`registry.neo4j.prune` ('pruned'). Content that is not a valid registry is marked
'invalid' and has no graph. Why not in the append transaction: a registry of a million flows
does not fit one transaction's state in a 1 GB heap, and the history must not wait on it.

Credentials come from `Settings` (environment or secrets file); the password is handed to the
driver only and never appears in a repr, an error or a log line written here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import neo4j  # `registry.store.open_store` turns its absence into a clear error

from registry.config import Settings
from registry.errors import FlowregError, MissingStoreError, StoreError
from registry.neo4j.graph import check_graphs, drop_graph, materialise_revision
from registry.neo4j.proposals import ProposalsMixin
from registry.neo4j.revisions import RevisionsMixin
from registry.neo4j.schema import (
    BOLT_SCHEMES,
    HEAD,
    INDEXES,
    NODE_LABELS,
    REL_TYPES,
    REVISION_FIELDS,
    SCHEMA,
    SCHEMA_VERSION,
)
from registry.revisions import (
    RevisionInfo,
    asked_number,
    checked,
    verify_chain,
)
from registry.signing import Signer, VerifyKeys, check_opened_head

log = logging.getLogger(__name__)
T = TypeVar("T")
# Re-exported: the allow-list is part of the store's contract.
__all__ = ["NODE_LABELS", "REL_TYPES", "Neo4jStore", "shown_uri"]


def shown_uri(uri: str) -> str:
    """The URI as safe to show: any user:password@ part is cut out."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "<unparsable URI>"
    if parts.username is None and parts.password is None:
        return uri
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return parts._replace(netloc=f"{host}{port}").geturl()


def _uri_password(uri: str) -> str | None:
    try:
        return urlsplit(uri).password
    except ValueError:
        return None


@dataclass(frozen=True)
class GraphState:
    """A revision, the state of its graph ('pending', 'ready', 'invalid', 'pruned'), the revisions whose
    elements make up its graph (`rev IN revs` selects it), and the revision its content is a
    delta on (None: stored whole)."""

    info: RevisionInfo
    graph: str | None
    revs: list[int]
    base: int | None


class Neo4jStore(RevisionsMixin, ProposalsMixin):
    """The Neo4j `Store`: safe for several threads and processes (and machines) at once."""

    def __init__(
        self,
        settings: Settings,
        *,
        connect_timeout: float = 15.0,
        create: bool = True,
        signer: Signer | None = None,
        verify_keys: VerifyKeys | None = None,
        check_head: bool = True,
    ) -> None:
        """Connect to the server the settings name, check it and create the schema if missing
        (or, when not `create`, raise MissingStoreError if the database holds no flowreg store).

        `signer` signs every revision written; `check_head` checks the head's own hash (and,
        with `verify_keys`, its signature) on opening, as the embedded store does.
        """
        self.create = create
        self.signer = signer
        self.verify_keys = verify_keys
        if not settings.neo4j_uri:
            raise StoreError("the Neo4j backend needs NEO4J_URI")
        self.uri = shown_uri(settings.neo4j_uri)
        self.user = settings.neo4j_user or "neo4j"
        self.database = settings.neo4j_database
        self._secret = settings.neo4j_password.get_secret_value() if settings.neo4j_password else ""
        # A password written into the URI (user:password@host) is scrubbed from messages too.
        self._hidden = [x for x in (self._secret, _uri_password(settings.neo4j_uri)) if x]
        self._lock = threading.Lock()
        self._last = None  # the revision last read or written (registry.neo4j.revisions)
        self._neo4j = neo4j
        scheme = settings.neo4j_uri.partition("://")[0].lower()
        if scheme not in BOLT_SCHEMES:
            raise StoreError(f"NEO4J_URI {self.uri!r} is not a usable Neo4j address: flowreg "
                             f"speaks Bolt ({', '.join(BOLT_SCHEMES)}://host:port)")
        auth = (self.user, self._secret) if self._secret else None
        try:
            self._driver: Any = neo4j.GraphDatabase.driver(
                settings.neo4j_uri, auth=auth, connection_timeout=connect_timeout,
                max_transaction_retry_time=30.0, user_agent="flowreg",
                # Server notifications (e.g. "property key does not exist yet" on an empty
                # store) would be logged as warnings on every query.
                notifications_min_severity="OFF",
            )
        except (ValueError, neo4j.exceptions.ConfigurationError) as exc:
            raise StoreError(f"NEO4J_URI {self.uri!r} is not a usable Neo4j address: "
                             f"{self._scrub(str(exc))}") from None
        try:
            with self._errors("connecting to"):
                self._driver.verify_connectivity()
            self._prepare()
            if check_head:
                check_opened_head(self.head(), verify_keys)
        except BaseException:
            self._driver.close()
            raise

    def __repr__(self) -> str:
        return f"Neo4jStore(uri={self.uri!r}, user={self.user!r}, database={self.database!r})"

    __str__ = __repr__

    def __enter__(self) -> Neo4jStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing ----------------------------------------------------------------------------
    def _scrub(self, text: str) -> str:
        for secret in self._hidden:
            text = text.replace(secret, "***")
        return text

    @contextmanager
    def _errors(self, doing: str) -> Iterator[None]:
        """Driver errors become StoreError naming the server, never the password."""
        exc_mod = self._neo4j.exceptions
        where = f"the Neo4j server at {self.uri} (database {self.database!r})"
        try:
            yield
        except FlowregError:
            raise
        except exc_mod.AuthError:
            raise StoreError(f"{where} refused the credentials of user {self.user!r} "
                             "(check NEO4J_USER and NEO4J_PASSWORD)") from None
        except (exc_mod.ServiceUnavailable, exc_mod.SessionExpired, OSError) as exc:
            raise StoreError(f"cannot reach {where} while {doing} it: "
                             f"{self._scrub(' '.join(str(exc).split())) or type(exc).__name__}") from None
        except exc_mod.Neo4jError as exc:
            code = getattr(exc, "code", None) or type(exc).__name__
            message = self._scrub(getattr(exc, "message", None) or str(exc))
            raise StoreError(f"{where} failed while {doing} it ({code}): {message}") from None
        except exc_mod.DriverError as exc:
            raise StoreError(f"{where}: {self._scrub(str(exc))}") from None

    @property
    def driver(self) -> Any:
        """The driver, for the query layer; StoreError once the store is closed."""
        with self._lock:
            if self._driver is None:
                raise StoreError(f"the store at {self.uri} is closed")
            return self._driver

    def read(self, work: Callable[..., T], *args: Any, doing: str = "reading") -> T:
        """Run `work(tx, *args)` in one read transaction (retried on transient errors)."""
        with self._errors(doing), self.driver.session(database=self.database) as session:
            return session.execute_read(work, *args)

    def write(self, work: Callable[..., T], *args: Any, doing: str = "writing to") -> T:
        """Run `work(tx, *args)` in one write transaction (retried on transient errors)."""
        with self._errors(doing), self.driver.session(database=self.database) as session:
            return session.execute_write(work, *args)

    def _prepare(self) -> None:
        if not self.create and not self.read(
            lambda tx: tx.run("MATCH (m:FlowregMeta {key: 'store'}) RETURN m LIMIT 1").single(),
            doing="opening",
        ):
            raise MissingStoreError(
                f"no flowreg store in the Neo4j database {self.database!r} at {self.uri}: check "
                "NEO4J_URI and NEO4J_DATABASE, or create the store with `flowreg apply FILE` "
                "(or `flowreg neo4j push`)"
            )

        def existing(tx: Any) -> set[str]:
            names = {r["name"] for r in tx.run("SHOW CONSTRAINTS YIELD name RETURN name")}
            return names | {r["name"] for r in tx.run("SHOW INDEXES YIELD name RETURN name")}

        present = self.read(existing, doing="opening")
        for name, statement in {**SCHEMA, **INDEXES}.items():
            if name not in present:
                self._create_schema(statement)
        version = self.write(self._meta, doing="opening")
        if version > SCHEMA_VERSION:
            raise StoreError(f"the Neo4j store at {self.uri} was written by a newer flowreg (store "
                             f"schema {version}, this version reads {SCHEMA_VERSION}); upgrade flowreg")

    def _create_schema(self, statement: str) -> None:
        # Schema changes cannot share a transaction with data; another process opening at the
        # same moment may win the race, which is fine.
        try:
            with self._errors("preparing"), self.driver.session(database=self.database) as session:
                session.run(statement).consume()
        except StoreError as exc:
            if "AlreadyExists" not in exc.message:
                raise

    @staticmethod
    def _meta(tx: Any) -> int:
        found = tx.run("MATCH (m:FlowregMeta {key: 'store'}) RETURN m.schema_version AS v").single()
        if found is None:
            foreign = tx.run("MATCH (n) WHERE n:Revision OR n:Proposal RETURN count(n) AS n").single()
            if foreign["n"]:
                raise StoreError("the Neo4j database holds :Revision or :Proposal nodes that "
                                 "flowreg did not write; left untouched")
        record = tx.run(
            "MERGE (m:FlowregMeta {key: 'store'}) ON CREATE SET m.format = 'flowreg-store',"
            " m.schema_version = $version, m.next_proposal = 1 RETURN m.schema_version AS v",
            version=SCHEMA_VERSION,
        ).single()
        try:
            version = int(record["v"])
        except (TypeError, ValueError):
            raise StoreError(f"the Neo4j store is damaged: its schema version {str(record['v'])[:40]!r} "
                             "is not a number") from None
        if version < SCHEMA_VERSION:
            # 2: revisions stored as deltas (`base`) and graphs built on others' (`graph_revs`).
            # Everything schema 1 wrote is a whole revision with a graph of its own, which is
            # what a missing `base` and `graph_revs` mean, so nothing else changes; an older
            # flowreg, which would misread deltas, now refuses the store.
            tx.run("MATCH (m:FlowregMeta {key: 'store'}) SET m.schema_version = $version",
                   version=SCHEMA_VERSION).consume()
            return SCHEMA_VERSION
        return version

    # --- revisions and their graphs ---------------------------------------------------------
    def revision_info(self, number: int | None = None) -> RevisionInfo:
        """Revision `number` (None: the head) without its content; NotFoundError as `get`."""
        return self.graph_state(number).info

    def graph_state(self, number: int | None = None) -> GraphState:
        """A revision's info, how it is stored and the state of its graph, in one round trip;
        NotFoundError as `get`."""
        number = asked_number(number)

        def work(tx: Any) -> tuple[Any, Any]:
            head = tx.run(HEAD).single()
            if head is None:
                return None, None
            return tx.run("MATCH (r:Revision {number: $n}) RETURN " + REVISION_FIELDS
                          + ", r.graph AS graph, r.graph_revs AS revs, r.base AS base",
                          n=head["number"] if number is None else number).single(), head
        record, head = self.read(work)
        self._missing(number, record, head)
        info = checked(self._info(record))
        # A revision materialised before `graph_revs` existed has a graph of its own elements.
        revs = list(record["revs"] or [info.number])
        return GraphState(info, record["graph"], revs, record["base"])

    def _write_revision(self, work: Callable[..., T], *args: Any) -> T:
        """A write that creates a revision: a lost race on the number constraint (a writer that
        bypassed the lock) is retried when the caller gave no expected head."""
        for _attempt in range(5):
            try:
                return self.write(work, *args)
            except StoreError as exc:
                if "ConstraintValidationFailed" not in exc.message:
                    raise
        raise StoreError(f"the Neo4j store at {self.uri} is too busy: five writes in a row "
                         "lost the race for the next revision number")

    def _after_write(self, number: int) -> None:
        # The revision is committed; if materialising fails now, the query layer finishes the
        # job later, so the caller still gets the revision it wrote.
        try:
            self.ensure_graph(number)
        except StoreError as exc:
            log.warning("revision %s is stored but its graph is not materialised yet: %s",
                        number, exc.message)

    def ensure_graph(self, number: int | None = None) -> RevisionInfo:
        """The revision's info once its graph is materialised (materialising it if needed).

        StoreError when the revision's content is not a valid registry (it then has no graph).
        """
        return self.ensure_graph_state(number).info

    def ensure_graph_state(self, number: int | None = None) -> GraphState:
        """`graph_state` once the graph is materialised: `revs` then lists the revisions whose
        elements make up its graph. A delta revision's base is made ready first, so that only
        the delta's own elements need writing."""
        state = self.graph_state(number)
        if state.graph == "ready":
            return state
        if state.graph == "invalid":
            raise StoreError(f"revision {state.info.number} does not hold a valid registry, so "
                             "it has no graph to query")
        base_revs = None
        if state.base is not None:
            try:
                base_revs = self.ensure_graph_state(state.base).revs
            except StoreError:
                if self.graph_state(state.base).graph != "invalid":
                    raise
                # No graph to build on: this revision is written whole (and found invalid too).
        materialise_revision(self, state.info.number, base_revs)
        return self.ensure_graph_state(state.info.number)

    def rebuild_graph(self, number: int) -> RevisionInfo:
        """Delete revision `number`'s materialised graph and write it again from its content
        (the later revisions whose graphs build on it are written again when next used)."""
        drop_graph(self, self.revision_info(number).number)
        return self.ensure_graph(number)

    def verify(self) -> list[str]:
        """Every integrity problem in words: dropped constraints, hashes, numbering, graphs."""
        problems: list[str] = []
        present = self.read(lambda tx: {r["name"] for r in tx.run(
            "SHOW CONSTRAINTS YIELD name RETURN name")})
        problems.extend(f"the constraint {name} was removed (the store was edited outside flowreg)"
                        for name in sorted(set(SCHEMA) - present))
        infos = self._verify_revisions(problems)
        problems += check_graphs(self)
        return problems + verify_chain(infos)

    def close(self) -> None:
        """Close the connection; further calls raise StoreError."""
        with self._lock:
            if self._driver is not None:
                self._driver.close()
                self._driver = None
