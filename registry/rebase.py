"""Writing a change made from the head, made again on the newer head when someone wrote first.

A change like "add this sub-processor" is a function of the registry it is applied to. When
another writer commits between our read and our write, the store refuses ours
(StaleHeadError), which is right: it was checked against a registry that is no longer the head.
But the user asked for the change, not for a write on that exact revision: so the change is
made again on the new head and checked again there. If it still applies (another vendor was
added meanwhile), it is written; if it no longer does (the same id was taken meanwhile), the
user gets the reason from the checks, never a bare "try again".
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from registry.additions import append_registry
from registry.errors import NotFoundError, StaleHeadError
from registry.model import Registry
from registry.revisions import Revision

# How long a change keeps being rebased while other writers win the race; every attempt costs
# a read of the head and the change's own checks, so this outlasts any realistic burst.
RETRY_SECONDS = 120.0


@dataclass(frozen=True)
class Written:
    """A change as written (revision None on a dry run), the registry it made, and the head
    number it was made on."""

    revision: Revision | None
    registry: Registry
    base: int


def write_change(
    store: Any,
    change: Callable[[Registry], Registry],
    *,
    author: str,
    message: str,
    dry_run: bool = False,
    retry_seconds: float = RETRY_SECONDS,
) -> Written:
    """Apply `change` to the head's registry and write the result as the next revision; when
    another writer got there first, apply it again to the new head, until it is written.

    `change` raises RegistryError when it does not apply (that propagates at once). NotFoundError
    when the store has no revisions; StaleHeadError only after `retry_seconds` of losing races.
    """
    deadline = time.monotonic() + retry_seconds
    attempt = 0
    while True:
        head = store.head()
        if head is None:
            raise NotFoundError(
                "the registry has no revisions yet; apply a registry file first (flowreg apply FILE)"
            )
        registry = Registry.from_content(store.get(head.number).content)
        updated = change(registry)
        if dry_run:
            return Written(None, updated, head.number)
        try:
            revision = append_registry(store, updated, author=author, message=message,
                                       expected_head=head.number)
        except StaleHeadError:
            attempt += 1
            if time.monotonic() > deadline:
                raise
            # Jittered back-off: racers that lost together should not collide again together.
            time.sleep(random.uniform(0, min(0.01 * 2**attempt, 0.5)))
            continue
        return Written(revision, updated, head.number)
