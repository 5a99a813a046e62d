"""A page of a whole-registry answer: the items from `offset`, at most `limit` of them, and the
total, so a script or a person can ask for the rest (`flowreg findings --limit`, the API).

An answer with several lists (an impact, a path, a what-if) is paged as ONE sequence: its lists
in a stated order, one after the other. A page then holds (list name, item) pairs, and the
answer's own shape is kept with each list cut to its part of the page (`page_sections`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from registry.errors import FlowregError

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """`items` of an answer of `total` items, from position `offset` (0-based); `limit` is the
    most a page holds (None: no limit, 0: the total alone).

    >>> p = Page.of(range(10), offset=8, limit=5)
    >>> p.items, p.total, p.shown()
    ([8, 9], 10, 'showing 9-10 of 10')
    """

    items: list[T]
    total: int
    offset: int = 0
    limit: int | None = None

    @classmethod
    def of(cls, items: Iterable[T], *, offset: int = 0, limit: int | None = None) -> Page[T]:
        """The page of `items` (a sequence, or any iterable: then read to its end for the total)."""
        check_window(offset, limit)
        every = items if isinstance(items, Sequence) else list(items)
        end = None if limit is None else offset + limit
        return cls(list(every[offset:end]), len(every), offset, limit)

    def shown(self) -> str:
        """Which items the page holds, in words: 'showing 21-40 of 135'."""
        if not self.items:
            if self.total and self.offset >= self.total:
                return f"showing none of {self.total} (offset {self.offset} is past the end)"
            return f"showing none of {self.total}"
        return f"showing {self.offset + 1}-{self.offset + len(self.items)} of {self.total}"

    def header(self) -> dict[str, Any]:
        """The page's place in the answer: `total`, `offset`, `limit` (null: no limit)."""
        return {"total": self.total, "offset": self.offset, "limit": self.limit}


def check_window(offset: int, limit: int | None, *, names: tuple[str, str] = ("offset", "limit")) -> None:
    """FlowregError naming the option unless `offset` is a non-negative integer and `limit` one
    or None (`names`: how the caller calls them)."""
    for name, value in zip(names, (offset, limit), strict=True):
        if value is None and name == names[1]:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise FlowregError(f"{name}: {value!r} is not a non-negative integer")


def sections(answer: Mapping[str, Any], lists: Sequence[str]) -> Iterable[tuple[str, Any]]:
    """(list name, item) for every item of the answer's `lists`, in that order."""
    for name in lists:
        for item in answer[name]:
            yield name, item


def page_sections(answer: Mapping[str, Any], lists: Sequence[str], *, offset: int = 0,
                  limit: int | None = None) -> tuple[dict[str, Any], Page[tuple[str, Any]]]:
    """(the answer with each of its `lists` cut to its part of the page, plus the page's
    `header`; the page of (list name, item) pairs).

    >>> cut, page = page_sections({"a": [1, 2], "b": [3, 4], "c": 0}, ["a", "b"], offset=1, limit=2)
    >>> cut, page.items
    ({'a': [2], 'b': [3], 'c': 0, 'total': 4, 'offset': 1, 'limit': 2}, [('a', 2), ('b', 3)])
    """
    page = Page.of(list(sections(answer, lists)), offset=offset, limit=limit)
    cut = {key: ([] if key in lists else value) for key, value in answer.items()}
    for name, item in page.items:
        cut[name].append(item)
    return {**cut, **page.header()}, page
