"""The store every backend implements, and `open_store`, which picks one from the settings.

A store holds the registry's history: an append-only chain of revisions (each the whole
registry as a JSON-able dict) and the proposals waiting for review. Writes are optimistic:
a writer says which head it read (`expected_head`) and loses with `StaleHeadError` if someone
else wrote first, so no update is ever silently overwritten.
"""

from __future__ import annotations

from types import EllipsisType
from typing import Any, Protocol, runtime_checkable

from registry.config import Settings, settings_from_env
from registry.errors import FlowregError
from registry.revisions import Proposal, ProposalStatus, Revision, RevisionInfo
from registry.signing import Signer, VerifyKeys, load_signer, load_verify_keys


@runtime_checkable
class Store(Protocol):
    """Revisions and proposals of one registry. Implementations: SqliteStore, Neo4jStore."""

    def head(self) -> RevisionInfo | None:
        """The newest revision, or None when the store is empty."""
        ...

    def get(self, number: int | None = None) -> Revision:
        """Revision `number` (None: the head). NotFoundError when there is no such revision;
        TamperError when its content no longer matches its hash."""
        ...

    def history(self, *, check: bool = True) -> list[RevisionInfo]:
        """All revisions, oldest first, without content; TamperError when one's own hash does
        not match its fields, unless `check` is false."""
        ...

    def append(
        self,
        content: dict[str, Any],
        *,
        author: str,
        message: str,
        expected_head: int | None | EllipsisType = ...,
    ) -> Revision:
        """Write `content` as the next revision, atomically.

        `expected_head` is the head number the content was edited from (None: the store was
        empty); if the head has moved, StaleHeadError and nothing is written. Left out, the
        revision goes on whatever the head is at write time.
        """
        ...

    def verify(self) -> list[str]:
        """Every integrity problem in words (content or chain hashes, numbering, parent links,
        storage); an empty list means the history is intact."""
        ...

    def propose(
        self, content: dict[str, Any], *, author: str, message: str, base_revision: int | None
    ) -> Proposal:
        """Record a change for review. `base_revision` is the head it was edited from;
        StaleHeadError if that is no longer the head."""
        ...

    def proposals(self, status: ProposalStatus | None = None) -> list[Proposal]:
        """Proposals, oldest first, optionally only those with `status`."""
        ...

    def get_proposal(self, proposal_id: int) -> Proposal:
        """One proposal; NotFoundError when there is none with that id."""
        ...

    def decide(self, proposal_id: int, *, approve: bool, reviewer: str, note: str = "") -> Proposal:
        """Approve (append its content with expected_head=base_revision) or reject a pending
        proposal. A stale base raises StaleHeadError and leaves the proposal pending."""
        ...

    def close(self) -> None:
        """Release the connection; the store is unusable afterwards."""
        ...

    def __enter__(self) -> Store:
        """`with open_store() as store:` closes the store on leaving the block."""
        ...

    def __exit__(self, *exc: object) -> None: ...


def signing_from(settings: Settings) -> tuple[Signer | None, VerifyKeys | None]:
    """The signer and the verify keys the settings configure (FlowregError on a bad key)."""
    signer = load_signer(
        settings.signing_key.get_secret_value() if settings.signing_key else None,
        settings.signing_key_file,
    )
    return signer, load_verify_keys(settings.verify_key, settings.verify_key_file, signer)


def open_store(
    settings: Settings | None = None, *, create: bool = False, check_head: bool = True
) -> Store:
    """Open the store the settings name (default: from the environment).

    Only a writer passes `create=True`; otherwise a store that does not exist yet is a
    MissingStoreError, so a mistyped FLOWREG_DB is reported instead of read as an empty
    registry (and left behind as an empty file). Revisions are signed when the settings give a
    signing key. Opening checks the head's own hash and, with verify keys, its signature
    (TamperError); `check_head=False` is for `history --verify`, which reports instead.
    """
    settings = settings or settings_from_env()
    signer, keys = signing_from(settings)
    if settings.backend == "sqlite":
        from registry.sqlite_store import SqliteStore

        return SqliteStore(settings.db_path, create=create, signer=signer, verify_keys=keys,
                           check_head=check_head)
    if settings.backend == "neo4j":
        if not settings.neo4j_uri:
            raise FlowregError(
                "FLOWREG_BACKEND is neo4j but NEO4J_URI is not set "
                "(set it, or put it in the file named by FLOWREG_SECRETS_FILE)"
            )
        try:
            # Imported lazily: the embedded backend must work without the Neo4j driver.
            from registry.neo4j.store import Neo4jStore
        except ModuleNotFoundError as exc:
            if exc.name == "neo4j":
                raise FlowregError(
                    "the Neo4j backend needs the neo4j Python driver (pip install neo4j)"
                ) from None
            raise FlowregError(
                "the Neo4j backend is not available in this installation "
                f"(missing module {exc.name})"
            ) from None
        return Neo4jStore(settings, create=create, signer=signer, verify_keys=keys,
                          check_head=check_head)
    raise FlowregError(f"unknown backend {settings.backend!r}")
