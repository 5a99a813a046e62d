"""Proposals on the Neo4j store: `(:Proposal)` nodes, written under the same lock as revisions.

A mixin of `Neo4jStore`, kept apart so each module stays one idea: it relies on the store's
`read`, `write`, `_append_tx`, `_write_revision` and `_after_write`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from registry.errors import FlowregError, NotFoundError, StaleHeadError, TamperError
from registry.neo4j.schema import (
    HEAD,
    LOCK,
    PROPOSAL_FIELDS,
    PROPOSAL_RETURN,
    encode,
    now,
    require_text,
)
from registry.revisions import Proposal, ProposalStatus


class ProposalsMixin:
    """propose / proposals / get_proposal / decide of the `Store` protocol."""

    read: Any
    write: Any
    _append_tx: Any
    _write_revision: Any
    _after_write: Any

    def propose(
        self, content: dict[str, Any], *, author: str, message: str, base_revision: int | None
    ) -> Proposal:
        """Record a change for review; StaleHeadError if `base_revision` is not the head."""
        text = encode(content)
        author = require_text(author, "author")

        def work(tx: Any) -> int:
            tx.run(LOCK).consume()
            meta = tx.run("MATCH (m:FlowregMeta {key: 'store'}) RETURN m.next_proposal AS next").single()
            head = tx.run(HEAD).single()
            head_number = head["number"] if head else None
            if base_revision != head_number:
                raise StaleHeadError(base_revision, head_number)
            tx.run("MATCH (m:FlowregMeta {key: 'store'}) SET m.next_proposal = $next + 1"
                   " CREATE (p:Proposal) SET p = $values",
                   next=meta["next"], values={
                       "id": meta["next"], "base_revision": base_revision, "created_at": now(),
                       "author": author, "message": message or "", "content": text,
                       "status": "pending", "decision_note": ""}).consume()
            return int(meta["next"])

        return self.get_proposal(self.write(work))

    @staticmethod
    def _proposal(record: Mapping[str, Any]) -> Proposal:
        data = {name: record[name] for name in PROPOSAL_FIELDS}
        try:
            data["content"] = json.loads(data["content"])
            return Proposal.model_validate(data)
        except (ValueError, TypeError):  # ValidationError is a ValueError
            raise TamperError(f"proposal {record['id']} was changed outside flowreg") from None

    def proposals(self, status: ProposalStatus | None = None) -> list[Proposal]:
        """Proposals, oldest first, optionally only those with `status`."""
        records = self.read(lambda tx: list(tx.run(
            "MATCH (p:Proposal) WHERE $status IS NULL OR p.status = $status "
            + PROPOSAL_RETURN + " ORDER BY p.id", status=status)))
        return [self._proposal(record) for record in records]

    def get_proposal(self, proposal_id: int) -> Proposal:
        """One proposal; NotFoundError when there is none with that id."""
        record = self.read(lambda tx: tx.run(
            "MATCH (p:Proposal {id: $id}) " + PROPOSAL_RETURN, id=proposal_id).single())
        if record is None:
            raise NotFoundError(f"there is no proposal {proposal_id}")
        return self._proposal(record)

    def decide(self, proposal_id: int, *, approve: bool, reviewer: str, note: str = "") -> Proposal:
        """Approve (append as a revision on its base) or reject a pending proposal, atomically."""
        reviewer = require_text(reviewer, "reviewer")

        def work(tx: Any) -> int | None:
            tx.run(LOCK).consume()
            found = tx.run("MATCH (p:Proposal {id: $id}) RETURN p.status AS status,"
                           " p.base_revision AS base, p.author AS author, p.message AS message,"
                           " p.content AS content", id=proposal_id).single()
            if found is None:
                raise NotFoundError(f"there is no proposal {proposal_id}")
            if found["status"] != "pending":
                raise FlowregError(f"proposal {proposal_id} is already {found['status']}")
            applied = None
            if approve:
                summary = (f"{found['message']} (proposal {proposal_id}, approved by "
                           f"{reviewer})").lstrip()
                try:
                    canonical = encode(json.loads(found["content"]))
                except ValueError:
                    raise TamperError(f"proposal {proposal_id} was changed outside flowreg") from None
                # A stale base raises inside the transaction: nothing is written, still pending.
                applied = self._append_tx(tx, canonical, found["author"], summary,
                                          found["base"]).number
            tx.run("MATCH (p:Proposal {id: $id}) SET p.status = $status, p.reviewer = $reviewer,"
                   " p.decided_at = $at, p.decision_note = $note, p.applied_revision = $applied",
                   id=proposal_id, status="approved" if approve else "rejected",
                   reviewer=reviewer, at=now(), note=note or "", applied=applied).consume()
            return applied

        applied = self._write_revision(work)
        if applied is not None:
            self._after_write(applied)
        return self.get_proposal(proposal_id)
