"""The W3C Data Privacy Vocabulary (DPV 2.3), bundled as data, and what flowreg checks with it.

`vocabulary-2.3.json` beside this file is made from the published DPV 2.3 Turtle files by
`tools/dpv/build_vocabulary.py` (its header names the files, their sha256 and the licence). It
holds the terms of the namespaces flowreg writes or reads (dpv, pd, eu-gdpr, legal-eu, legal-gb,
and loc down to countries and supranational unions), each with its types, its broader concepts
and, for a property, its documented range and domain.

>>> vocabulary().is_a("pd:EmailAddress", "dpv:PersonalData")
True
>>> personal_data_problem("pd:BrowsingBehavior")
"unknown DPV 2.3 term 'pd:BrowsingBehavior' (did you mean 'pd:BrowsingBehaviour'?)"
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

VERSION = "2.3"
DATA = Path(__file__).with_name(f"vocabulary-{VERSION}.json")
# Prefixes a category's `dpv` value may use: personal-data terms live in these namespaces.
PERSONAL_DATA_PREFIXES = ("pd", "dpv", "eu-gdpr")


@dataclass(frozen=True)
class Vocabulary:
    """DPV terms by CURIE (`pd:EmailAddress`), with the prefixes that expand them."""

    version: str
    source: str
    prefixes: dict[str, str]
    terms: dict[str, dict[str, list[str] | str]]
    _up: dict[str, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)

    def curie(self, text: str) -> str | None:
        """A CURIE or full IRI in a bundled namespace as a CURIE; None if it is in none."""
        text = text.strip()
        for prefix, ns in sorted(self.prefixes.items(), key=lambda p: -len(p[1])):
            if text.startswith(ns):
                return f"{prefix}:{text[len(ns):]}"
        prefix, sep, local = text.partition(":")
        return text if sep and prefix in self.prefixes and local else None

    def iri(self, curie: str) -> str:
        """'loc:US' -> 'https://w3id.org/dpv/loc#US' (a KeyError for an unknown prefix)."""
        prefix, _, local = curie.partition(":")
        return self.prefixes[prefix] + local

    def has(self, curie: str) -> bool:
        return curie in self.terms

    def label(self, curie: str) -> str | None:
        value = self.terms.get(curie, {}).get("l")
        return value if isinstance(value, str) else None

    def _list(self, curie: str, key: str) -> list[str]:
        value = self.terms.get(curie, {}).get(key, [])
        return value if isinstance(value, list) else []

    def range_of(self, prop: str) -> list[str]:
        """A property's documented range (dcam/schema rangeIncludes), inherited from its parents."""
        return self._inherited(prop, "r")

    def domain_of(self, prop: str) -> list[str]:
        """A property's documented domain (domainIncludes), inherited from its parents."""
        return self._inherited(prop, "d")

    def _inherited(self, prop: str, key: str) -> list[str]:
        seen, todo = set(), [prop]
        while todo:
            p = todo.pop()
            if p in seen:
                continue
            seen.add(p)
            if self._list(p, key):
                return self._list(p, key)
            todo += self._list(p, "p")
        return []

    def ancestors(self, curie: str) -> frozenset[str]:
        """The term itself, its types and broader concepts, and theirs, transitively."""
        if curie not in self._up:
            seen: set[str] = set()
            todo = [curie]
            while todo:
                term = todo.pop()
                if term in seen:
                    continue
                seen.add(term)
                todo += self._list(term, "t") + self._list(term, "b")
            self._up[curie] = frozenset(seen)
        return self._up[curie]

    def is_a(self, curie: str, concept: str) -> bool:
        """True when `curie` is `concept`, an instance of it or a narrower concept."""
        return concept in self.ancestors(curie)

    def suggest(self, curie: str, within: tuple[str, ...] | None = None) -> list[str]:
        """Close spellings of an unknown term (same prefix first)."""
        prefix = curie.partition(":")[0]
        pool = [t for t in self.terms if t.startswith(f"{prefix}:")] or list(self.terms)
        if within:
            pool = [t for t in pool if t.partition(":")[0] in within]
        by_case = {t.lower(): t for t in pool}
        close = difflib.get_close_matches(curie.lower(), list(by_case), n=3, cutoff=0.8)
        return [by_case[c] for c in close]


@cache
def vocabulary() -> Vocabulary:
    """The bundled DPV vocabulary (read once)."""
    data = json.loads(DATA.read_text(encoding="utf-8"))
    return Vocabulary(data["version"], data["source"], data["prefixes"], data["terms"])


def personal_data_problem(value: str) -> str | None:
    """Why `value` is not a DPV personal-data term (pd:, dpv: or eu-gdpr:), or None when it is."""
    vocab = vocabulary()
    curie = vocab.curie(value)
    if curie is None:
        prefixes = ", ".join(f"{p}:" for p in PERSONAL_DATA_PREFIXES)
        return f"'{value}' is not a DPV term (expected a CURIE such as pd:EmailAddress; prefixes {prefixes})"
    if curie.partition(":")[0] not in PERSONAL_DATA_PREFIXES:
        return f"'{value}' is not a personal-data term (DPV keeps those under pd:, dpv: and eu-gdpr:)"
    if not vocab.has(curie):
        hints = vocab.suggest(curie, PERSONAL_DATA_PREFIXES)
        hint = f" (did you mean {' or '.join(repr(h) for h in hints)}?)" if hints else ""
        return f"unknown DPV {vocab.version} term '{value}'{hint}"
    if not vocab.is_a(curie, "dpv:PersonalData"):
        return f"'{value}' is a DPV {vocab.version} term but not a kind of personal data (dpv:PersonalData)"
    return None
