"""Which categories a registry's flows use, and what each flow's data contains of them.

A category is *used* when some flow lists it in `carries`. A flow's data contains every used
category in the subtree of a category it carries (its `carried_used`): the engine tracks regime
state for exactly these ids (`lineage.graph`), and the Neo4j store materialises them as CARRIES
relationships (`registry.neo4j.graph`). Both read these functions, so the backends cannot drift.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable

from registry.model import Category, Flow, Registry


def children_of(categories: Iterable[Category]) -> dict[str, list[str]]:
    """Each category's direct children, in registry order (leaves have no entry)."""
    children: dict[str, list[str]] = defaultdict(list)
    for category in categories:
        if category.parent:
            children[category.parent].append(category.id)
    return dict(children)


def subtree(children: dict[str, list[str]], category: str) -> frozenset[str]:
    """A category and all its descendants under `children` (`children_of`).

    >>> sorted(subtree({"a": ["a.b"], "a.b": ["a.b.c"]}, "a"))
    ['a', 'a.b', 'a.b.c']
    """
    out, stack = {category}, [category]
    while stack:
        for child in children.get(stack.pop(), ()):
            out.add(child)
            stack.append(child)
    return frozenset(out)


def carried_used(carries: Iterable[str], subtree_of: Callable[[str], frozenset[str]],
                 used: frozenset[str]) -> tuple[str, ...]:
    """The used categories a flow carrying `carries` holds data of, sorted (`subtree_of`: a
    category's subtree, e.g. a cached `subtree`).

    >>> tree = {"a": ["a.b", "a.c"]}
    >>> carried_used(["a"], lambda c: subtree(tree, c), frozenset({"a", "a.b"}))
    ('a', 'a.b')
    """
    out: set[str] = set()
    for category in carries:
        out |= subtree_of(category) & used
    return tuple(sorted(out))


def carried_used_of(flows: Iterable[Flow], subtree_of: Callable[[str], frozenset[str]],
                    used: frozenset[str]) -> dict[str, tuple[str, ...]]:
    """Each flow's `carried_used`, by flow id. Flows share a few thousand distinct `carries`
    lists at most (1,523 for 100k generated flows): each is resolved once, and the flows that
    list it share one tuple.

    >>> from registry.model import Flow
    >>> flows = [Flow.model_validate({"id": f"f{i}", "from": "s", "to": "t", "carries": ["a"]}) for i in range(2)]
    >>> found = carried_used_of(flows, lambda c: subtree({"a": ["a.b"]}, c), frozenset({"a", "a.b"}))
    >>> found["f0"], found["f0"] is found["f1"]
    (('a', 'a.b'), True)
    """
    resolved: dict[tuple[str, ...], tuple[str, ...]] = {}
    out: dict[str, tuple[str, ...]] = {}
    for flow in flows:
        key = tuple(flow.carries)
        carried = resolved.get(key)
        if carried is None:
            carried = resolved[key] = carried_used(key, subtree_of, used)
        out[flow.id] = carried
    return out


def category_use(registry: Registry) -> tuple[frozenset[str], dict[str, tuple[str, ...]]]:
    """(the used categories, each flow's `carried_used` by flow id)."""
    children = children_of(registry.categories)
    used = frozenset(c for f in registry.flows for c in f.carries)
    cache: dict[str, frozenset[str]] = {}

    def subtree_of(category: str) -> frozenset[str]:
        if category not in cache:
            cache[category] = subtree(children, category)
        return cache[category]

    return used, carried_used_of(registry.flows, subtree_of, used)
