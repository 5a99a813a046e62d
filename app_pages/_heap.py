"""Keeping Python's cyclic garbage collector off the dashboard's long-lived caches.

At 100k flows the caches shared by all sessions (a revision's graph, each date's hops and
findings) are millions of objects. A page run allocates enough (tables, figures, messages) that
the collector now and then makes a full pass, and a full pass over that heap took 1-3 s, more
than the rest of the page (measured with bench/dashboard.py). So once a cache has been filled,
everything alive is moved to the collector's permanent generation (`gc.freeze`), which it never
scans; reference counting still frees every object that is no longer used.

What is frozen and later becomes garbage inside a reference cycle is only freed by a full pass
over unfrozen objects; when a new revision appears, the old revision's structures are unfrozen
(`gc.unfreeze`) so that the next full pass can free them.
"""

from __future__ import annotations

import gc
import threading

_lock = threading.Lock()
_revision: list[str] = []


def freeze() -> None:
    """Call after filling a large cache: what is alive now is never scanned again."""
    gc.freeze()


def seen_revision(rev_hash: str) -> None:
    """Call with the head revision of each run: a new head unfreezes the heap once, so that
    the previous revision's graph and answers can be collected when evicted."""
    with _lock:
        if _revision and _revision[0] == rev_hash:
            return
        if _revision:
            gc.unfreeze()
        _revision[:] = [rev_hash]
