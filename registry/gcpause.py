"""Pausing Python's cyclic garbage collector while a large, long-lived structure is built.

Loading a revision, validating a registry or evaluating every hop of a date allocates millions
of objects that all stay alive. Meanwhile the cyclic collector, triggered by allocation counts,
scans the growing heap again and again and finds nothing to free: at 100k flows that was more
than half the time of opening a store and of registering a sub-processor (see
bench/results/NOTES.md). Reference counting still frees everything outside cycles while paused,
and the collector runs as usual afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Disable the cyclic collector for the block (no-op when it is already off)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
