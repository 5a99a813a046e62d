"""The lineage map applied: which registry node holds a dataset, and which categories its
fields hold. Globs are compiled once and every answer is remembered, so a dataset or field
name seen in a hundred thousand events is matched once.
"""

from __future__ import annotations

import re
from fnmatch import translate

from lineage.discovery.event_model import Tag
from registry.lineage_map import DatasetEntry, LineageMap


class MapMatcher:
    """First-match-wins look-ups over a `LineageMap`.

    >>> from registry.lineage_map import LineageMap
    >>> m = MapMatcher(LineageMap.model_validate({"openlineage_map": 1,
    ...     "datasets": [{"match": "pg://eu/*", "system": "eu-db"}],
    ...     "fields": [{"match": "*EMAIL*", "category": "c.email"}]}))
    >>> m.node("pg://eu/shop.users"), m.categories("pg://eu/shop.users", ("id", "Email"))
    ('eu-db', frozenset({'c.email'}))
    """

    def __init__(self, lineage_map: LineageMap) -> None:
        self.map = lineage_map
        self._datasets = [(re.compile(translate(e.match)), e) for e in lineage_map.datasets]
        self._fields = [(re.compile(translate(e.match), re.IGNORECASE), e.category)
                        for e in lineage_map.fields if e.match is not None]
        self._tags = [(re.compile(translate(e.tag), re.IGNORECASE), e.category)
                      for e in lineage_map.fields if e.tag is not None]
        self._category_of_tag: dict[str, str | None] = {}
        self._entry_of: dict[str, DatasetEntry | None] = {}
        self._category_of: dict[str, str | None] = {}
        self._categories: dict[tuple[str, tuple[str, ...] | None], frozenset[str]] = {}

    def entry(self, dataset: str) -> DatasetEntry | None:
        """The first dataset entry whose glob matches "NAMESPACE/NAME", or None (unmapped)."""
        try:
            return self._entry_of[dataset]
        except KeyError:
            found = next((e for pattern, e in self._datasets if pattern.match(dataset)), None)
            self._entry_of[dataset] = found
            return found

    def node(self, dataset: str) -> str | None:
        entry = self.entry(dataset)
        return entry.node if entry is not None else None

    def field_category(self, name: str) -> str | None:
        """The category of the first field entry matching `name` (case-insensitive), or None."""
        try:
            return self._category_of[name]
        except KeyError:
            found = next((c for pattern, c in self._fields if pattern.match(name)), None)
            self._category_of[name] = found
            return found

    def tag_category(self, label: str) -> str | None:
        """The category of the first tag entry matching a "key:value" label, or None."""
        try:
            return self._category_of_tag[label]
        except KeyError:
            found = next((c for pattern, c in self._tags if pattern.match(label)), None)
            self._category_of_tag[label] = found
            return found

    def categories(self, dataset: str, fields: tuple[str | Tag, ...] | None) -> frozenset[str]:
        """What a dataset with these schema fields (and tags) holds: the categories its fields
        and tags match plus its entry's own; nothing for an unmapped dataset or one marked
        `personal: false`."""
        key = (dataset, fields)
        cached = self._categories.get(key)
        if cached is None:
            entry = self.entry(dataset)
            if entry is None or not entry.personal:
                cached = frozenset()
            else:
                found = {self.field_category(item) if type(item) is str else self.tag_category(item.label)
                         for item in fields or ()}
                found.discard(None)
                cached = frozenset(found) | frozenset(entry.categories)  # type: ignore[arg-type]
            self._categories[key] = cached
        return cached

    def is_personal(self, dataset: str) -> bool:
        """False for a dataset whose entry says `personal: false` (its movements carry nothing,
        and the input's categories are not assumed for it)."""
        entry = self.entry(dataset)
        return entry is not None and entry.personal
