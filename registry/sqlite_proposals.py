"""Proposals in the embedded store: changes recorded for review, approved into revisions.

A mixin of `registry.sqlite_store.SqliteStore` (it uses the store's connection, its write
transaction and its revision append), kept apart because reviewing is its own idea.
"""

from __future__ import annotations

import json
from typing import Any

from registry.errors import FlowregError, NotFoundError, StaleHeadError, TamperError
from registry.revisions import Proposal, ProposalStatus
from registry.sqlite_schema import PROPOSAL_FIELDS, SELECT_PROPOSAL, encode, now, require_text


class SqliteProposalsMixin:
    """`propose`, `proposals`, `get_proposal` and `decide` of the `Store` protocol."""

    def propose(
        self, content: dict[str, Any], *, author: str, message: str, base_revision: int | None
    ) -> Proposal:
        """Record a change for review; StaleHeadError if `base_revision` is not the head."""
        text = encode(content)
        author = require_text(author, "author")
        with self._writing() as conn:
            head = self._head_row(conn)
            head_number = head[0] if head else None
            if base_revision != head_number:
                raise StaleHeadError(base_revision, head_number)
            cursor = conn.execute(
                "INSERT INTO proposals (base_revision, created_at, author, message, content)"
                " VALUES (?, ?, ?, ?, ?)",
                (base_revision, now(), author, message or "", text),
            )
            proposal_id = cursor.lastrowid
        assert proposal_id is not None
        return self.get_proposal(proposal_id)

    @staticmethod
    def _proposal(row: tuple[Any, ...]) -> Proposal:
        data = dict(zip(PROPOSAL_FIELDS, row, strict=True))
        try:
            data["content"] = json.loads(data["content"])
            return Proposal.model_validate(data)
        except (ValueError, TypeError):  # ValidationError is a ValueError
            raise TamperError(f"proposal {row[0]} was changed outside flowreg") from None

    def proposals(self, status: ProposalStatus | None = None) -> list[Proposal]:
        """Proposals, oldest first, optionally only those with `status`."""
        with self._reading() as conn:
            rows = conn.execute(
                SELECT_PROPOSAL + " WHERE ? IS NULL OR status = ? ORDER BY id", (status, status)
            ).fetchall()
        return [self._proposal(row) for row in rows]

    def get_proposal(self, proposal_id: int) -> Proposal:
        """One proposal; NotFoundError when there is none with that id."""
        with self._reading() as conn:
            row = conn.execute(SELECT_PROPOSAL + " WHERE id = ?", (proposal_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"there is no proposal {proposal_id}")
        return self._proposal(row)

    def decide(self, proposal_id: int, *, approve: bool, reviewer: str, note: str = "") -> Proposal:
        """Approve (append as a revision on its base) or reject a pending proposal, atomically."""
        reviewer = require_text(reviewer, "reviewer")
        with self._writing() as conn:
            row = conn.execute(
                "SELECT status, base_revision, author, message, content FROM proposals"
                " WHERE id = ?",
                (proposal_id,),
            ).fetchone()
            if row is None:
                raise NotFoundError(f"there is no proposal {proposal_id}")
            status, base, author, message, text = row
            if status != "pending":
                raise FlowregError(f"proposal {proposal_id} is already {status}")
            applied = None
            if approve:
                # Stale base: StaleHeadError rolls back the whole transaction, so the proposal
                # stays pending.
                summary = f"{message} (proposal {proposal_id}, approved by {reviewer})".lstrip()
                # Re-encoded so the revision's text is canonical even if the row was not.
                try:
                    canonical = encode(json.loads(text))
                except ValueError:
                    raise TamperError(
                        f"proposal {proposal_id} was changed outside flowreg"
                    ) from None
                applied = self._append_locked(conn, canonical, author, summary, base).number
            decision = "approved" if approve else "rejected"
            conn.execute(
                "UPDATE proposals SET status = ?, reviewer = ?, decided_at = ?,"
                " decision_note = ?, applied_revision = ? WHERE id = ?",
                (decision, reviewer, now(), note or "", applied, proposal_id),
            )
        return self.get_proposal(proposal_id)

