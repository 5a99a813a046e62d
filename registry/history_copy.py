"""Copying a registry's history from one store to another, hashes and all (`flowreg neo4j push`
and `pull`).

Revisions are copied verbatim (number, time, author, message, content, hashes), one transaction
each, so the two chains end with the same head hash and an interrupted copy leaves a valid
shorter chain that the next run continues. Both chains are verified before anything is written
and again afterwards; a target whose history is not a prefix of the source's is refused.
Proposals are not copied: they are review state of one store, not registry history.
"""

from __future__ import annotations

from dataclasses import dataclass

from registry.errors import StoreError
from registry.revisions import RevisionInfo
from registry.signing import VerifyKeys, check_signatures
from registry.store import Store


@dataclass(frozen=True)
class CopyReport:
    """What a copy did: revisions written, revisions the target already held, the common head."""

    copied: int
    already: int
    head: RevisionInfo | None


def _verified(store: Store, role: str, keys: VerifyKeys | None = None) -> list[RevisionInfo]:
    problems = store.verify()
    if not problems and keys is not None:
        problems = check_signatures(store.history(check=False), keys).problems
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise StoreError(f"the {role} store {store} fails verification, nothing copied: "
                         f"{problems[0]}{more}; see `flowreg history --verify`")
    return store.history()


def copy_history(source: Store, target: Store, keys: VerifyKeys | None = None) -> CopyReport:
    """Copy every revision `target` lacks from `source`, signatures included; StoreError
    (nothing written) when either chain fails verification (with `keys`, the source's
    signatures too) or the histories diverge."""
    theirs, ours = _verified(source, "source", keys), _verified(target, "target")
    for mine, other in zip(theirs, ours, strict=False):
        if mine.hash != other.hash:
            raise StoreError(f"the histories diverge at revision {mine.number}: the target "
                             "holds a different revision there; nothing copied")
    if len(ours) > len(theirs):
        raise StoreError(f"the target already has {len(ours) - len(theirs)} revisions the "
                         "source lacks; nothing copied")
    copied = 0
    for info in theirs[len(ours):]:
        # One revision in memory at a time.
        copied += target.adopt(source.get(info.number))  # type: ignore[attr-defined]
    after = _verified(target, "target")
    if [r.hash for r in after] != [r.hash for r in theirs]:
        raise StoreError("after copying, the target's hash chain differs from the source's")
    ensure_graph = getattr(target, "ensure_graph", None)
    if ensure_graph is not None and theirs:
        ensure_graph()  # the head's graph now; older ones are materialised when first queried
    return CopyReport(copied, len(ours), theirs[-1] if theirs else None)
