"""User-facing errors: every error a user may see is a `FlowregError` with a plain message.

The CLI and the dashboard catch `FlowregError` and print its message, so no traceback reaches a
user; anything else escaping is a bug.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class FlowregError(Exception):
    """Base of every error meant for a user; `message` says what went wrong and what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class RegistryError(FlowregError):
    """A registry document was rejected; `issues` lists every problem found (not only the first).

    Issues are kept generic (anything with a useful `str`), so the loader decides their shape.
    """

    def __init__(self, issues: Iterable[Any], message: str | None = None) -> None:
        self.issues: list[Any] = list(issues)
        count = len(self.issues)
        summary = message or f"the registry has {count} problem{'s' if count != 1 else ''}"
        super().__init__(summary)

    def __str__(self) -> str:
        if not self.issues:
            return self.message
        return "\n".join([f"{self.message}:", *(f"  {issue}" for issue in self.issues)])


class StaleHeadError(FlowregError):
    """A write was based on a revision that is no longer the head (someone else wrote first)."""

    def __init__(self, expected: int | None, actual: int | None) -> None:
        self.expected = expected
        self.actual = actual
        since = f"revision {expected}" if expected is not None else "it was empty"
        now = f"now {actual}" if actual is not None else "now empty"
        super().__init__(f"the registry changed since {since} ({now}); reload and try again")


class StoreError(FlowregError):
    """The store cannot be opened or used (not a flowreg store, busy, unreadable, bad content)."""


class MissingStoreError(StoreError):
    """There is no store where the settings point, and the command only reads (only writing
    commands create a store)."""


class TamperError(FlowregError):
    """Stored data does not match its hashes: it was edited outside flowreg."""


class NotFoundError(FlowregError):
    """A revision, proposal or other record asked for does not exist."""


class PermissionDenied(FlowregError):
    """The user is not allowed to do this."""
