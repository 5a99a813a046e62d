"""The Discovery page's actions: run a lineage check on uploaded files, and propose what it
found undeclared. Like every dashboard write, proposing checks the role first (`require`), and
the proposal goes through the same review as a registered sub-processor (`Store.propose`,
approved on Review proposals with `_actions.decide_proposal`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from app_pages._auth import User, require
from lineage.api import Flowreg
from lineage.discovery.check import LineageCheck, check_revision
from lineage.discovery.event_files import Source
from lineage.discovery.proposal import propose
from registry.errors import FlowregError
from registry.lineage_map import load_lineage_map_bytes
from registry.revisions import Proposal


def run_check(fr: Flowreg, user: User | None, events: Sequence[tuple[str, bytes]], map_bytes: bytes,
              day: date, since: date | None, rev: int) -> LineageCheck:
    """The lineage check of uploaded event files against revision `rev` on `day`. Writes
    nothing; RegistryError (with key paths) for a map that does not fit the registry."""
    require(user, "read")
    if not events:
        raise FlowregError("upload at least one file of OpenLineage run events")
    if since is not None and since > day:
        raise FlowregError(f"Since: {since} is after the as-of date {day}")
    lineage_map = load_lineage_map_bytes(map_bytes, fr.registry(rev))
    sources = [Source(name, data=data) for name, data in events]
    # Uploads are read in this process: the dashboard's server is no place to start workers.
    return check_revision(fr, lineage_map, sources, day, since, rev=rev, workers=1)


def propose_discovered(fr: Flowreg, user: User | None, result: LineageCheck, message: str = "") -> Proposal:
    """Save the flows that would declare what the check found as a proposal for a privacy
    officer. Engineers and officers only; the check must have been made on the head
    (StaleHeadError otherwise: check again)."""
    author = require(user, "propose")
    if result.plan.empty:
        raise FlowregError("nothing to propose: every observed movement is declared")
    assert result.revision is not None
    return propose(fr.store, fr.registry(result.revision), result.revision, result.plan,
                   author=author.username, message=message)
