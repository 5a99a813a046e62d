"""Verifying a store's history as a whole: the hash chain, the signatures and a pinned head.

`Store.verify()` checks what the store holds against itself (content and chain hashes,
numbering, links, the store's own protections). That is all a verifier without outside
knowledge can check, and a forger who can write the store can satisfy it. Two pieces of outside
knowledge close the gap (`registry.signing`): public keys that revisions must be signed with,
and a head hash recorded elsewhere (a report, an export, a ticket) that must still be in the
history.

>>> check = verify_history(store, keys=None, pin=None)   # doctest: +SKIP
>>> check.ok, check.problems, check.notes                 # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field

from registry.errors import FlowregError
from registry.revisions import RevisionInfo
from registry.signing import VerifyKeys, check_pin, check_signatures, normalise_pin
from registry.store import Store


@dataclass
class HistoryCheck:
    """The outcome of `verify_history`: every revision's record (as stored), what is wrong, and
    what is worth saying (which key signed, what the pin matched)."""

    revisions: list[RevisionInfo] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_history(store: Store, *, keys: VerifyKeys | None = None, pin: str | None = None) -> HistoryCheck:
    """Check `store`'s whole history; with `keys`, its signatures; with `pin` (a revision hash,
    or at least 12 of its leading hex digits), that the history still holds that revision."""
    if pin is not None:
        normalise_pin(pin)  # a malformed pin is a usage error, before any work
    check = HistoryCheck(problems=list(store.verify()))
    try:
        check.revisions = store.history(check=False)
    except FlowregError:
        if not check.problems:
            raise
        return check  # the records themselves are unreadable; the problems say how
    signatures = check_signatures(check.revisions, keys)
    check.problems += signatures.problems
    check.notes += signatures.notes
    if pin is not None:
        pinned = check_pin(check.revisions, pin)
        check.problems += pinned.problems
        check.notes += pinned.notes
    return check
