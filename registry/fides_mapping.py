"""Mapping Fides systems to flowreg elements: their owners, and the flows between them.

`SystemMapper` holds what the import has built so far and the notes on what it could not map or
had to assume; `registry.fides_import` walks the manifests and assembles the registry. Flows:
- collection: a system's `ingress` from `user` (or, for an own system that nothing feeds and that
  declares no ingress, its declarations, as a labelled assumption) gives one flow per declaration
  and data subject, for the declaration's data use;
- between systems: each `egress`/`ingress` pair gives one flow per data use that names it (the
  receiver's declarations whose `ingress` lists the sender, else the sender's whose `egress`
  lists the receiver, else the receiver's declarations that hold what is sent), carrying what
  the data flow names, else what both ends declare; never what only one end declares.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from registry.fides_vocabulary import (
    LEGAL_BASES,
    UNSPECIFIED_USE,
    as_list,
    days_of,
    humanise,
    short,
)
from registry.ids import ID_PATTERN, slug


@dataclass(frozen=True)
class ImportNote:
    """Something the import could not map, or a guess it made: where, what, and why."""

    path: str
    value: str
    reason: str

    def __str__(self) -> str:
        value = f" = {self.value}" if self.value else ""
        return f"{self.path}{value}: {self.reason}"


def overlap(sent: Iterable[str], held: Iterable[str]) -> list[str]:
    """The data in both lists: per pair, the narrower category where one contains the other,
    without what another result already contains.

    >>> overlap(["user"], ["user.contact", "system"])
    ['user.contact']
    >>> overlap(["usage", "usage.metadata"], ["usage"])
    ['usage']
    """
    held = list(held)
    out: list[str] = []
    for a in sent:
        for b in held:
            hit = b if (a == b or b.startswith(a + ".")) else a if a.startswith(b + ".") else None
            if hit and hit not in out:
                out.append(hit)
    return [c for c in out if not any(c.startswith(o + ".") for o in out)]


class SystemMapper:
    """Systems, parties, categories, subjects and flows built from Fides systems, plus notes."""

    def __init__(self, organization: str | None, country: str | None, subject_location: str | None) -> None:
        self.org_name = organization
        self.country = country
        self.subject_location = subject_location
        self.unmapped: list[ImportNote] = []
        self.assumptions: list[ImportNote] = []
        self.ids: set[str] = set()
        self.categories: dict[str, str] = {}
        self.category_names: dict[str, str] = {}
        self.subject_names: dict[str, str] = {}
        self.use_names: dict[str, str] = {}
        self.subjects: dict[str, str] = {}
        self.parties: dict[str, dict[str, Any]] = {}
        self.systems: dict[str, dict[str, Any]] = {}  # by fides_key: node, owner, vendor, role
        self.out_systems: list[dict[str, Any]] = []  # the registry's systems
        self.mechanisms: list[dict[str, Any]] = []
        self.flows: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self.raw: dict[str, dict[str, Any]] = {}
        self.paths: dict[str, str] = {}
        self.fed: set[str] = set()
        self.used_declarations: set[str] = set()
        self.collected: set[str] = set()  # declarations whose subjects got collection flows
        self.applied: set[str] = set()  # declaration fields that reached a flow (paths)
        self.org_key = "organization"
        self.org_label = "Imported from Fides"
        self.org_description: str | None = None

    # --- helpers ----------------------------------------------------------------------------
    def _id(self, wanted: str, *, exact: bool = False) -> str:
        """A free id: `wanted` (spaces as '-' unless `exact`; made to fit the id pattern when it
        does not, e.g. an id kept in a manifest's meta from before ids had one pattern), with a
        suffix when it is taken."""
        base = str(wanted).strip() if exact else re.sub(r"\s+", "-", str(wanted).strip())
        base = base or "item"
        if not re.fullmatch(ID_PATTERN, base):
            base = slug(base)
        candidate, n = base, 2
        while candidate in self.ids:
            candidate = f"{base}-{n}"
            n += 1
        self.ids.add(candidate)
        return candidate

    def _skip(self, path: str, value: Any, reason: str) -> None:
        note = ImportNote(path, short(value), reason)
        if note not in self.unmapped:
            self.unmapped.append(note)

    def _assume(self, path: str, value: Any, reason: str) -> None:
        note = ImportNote(path, short(value), reason)
        if note not in self.assumptions:
            self.assumptions.append(note)

    def org_party(self) -> str:
        """The organisation's own party (made on first use: exported manifests name owners)."""
        if self.org_key not in self.parties:
            party: dict[str, Any] = {"id": self._id(self.org_key), "name": self.org_label, "kind": "affiliate",
                                     "source": "Fides organization"}
            if self.org_description:
                party["description"] = self.org_description
            if self.country:
                party["country"] = self.country
            else:
                self._skip("organization", self.org_label, "Fides has no seat country; pass --country (the engine needs locations)")
            self.parties[self.org_key] = party
        return self.parties[self.org_key]["id"]

    def reserve_categories(self, keys: Iterable[str]) -> None:
        """Claim every category key (and ancestor) first: categories keep their fideslang keys,
        so a subject group or system with the same name is the one that gets a suffix."""
        for key in keys:
            if _category_key(key):
                parts = key.split(".")
                self.ids.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))

    def category(self, key: str, path: str) -> str | None:
        if not _category_key(key):
            self._skip(path, key, "not a data category key")
            return None
        parts = key.split(".")
        for i in range(1, len(parts) + 1):
            cid = ".".join(parts[:i])
            if cid not in self.categories:
                self.categories[cid] = self.category_names.get(cid) or humanise(parts[i - 1])
                self.ids.add(cid)
        return key

    def subject(self, key: str) -> str:
        if key not in self.subjects:
            self.subjects[key] = self._id(key if key not in self.ids else f"{key}-subjects")
        return self.subjects[key]

    def purpose(self, use: str) -> str:
        """A data use as a flow purpose: its name when the manifests define it (flowreg's own
        export does, for purposes that are not fideslang keys), else the fideslang key itself."""
        return self.use_names.get(use) or use

    # --- flows ------------------------------------------------------------------------------
    def declarations(self, key: str) -> list[tuple[str, dict[str, Any]]]:
        s = self.raw[key]
        return [(f"{self.paths[key]}.privacy_declarations[{i}]", d)
                for i, d in enumerate(s.get("privacy_declarations") or []) if isinstance(d, dict)]

    def declared(self, key: str) -> list[str]:
        return [c for _, d in self.declarations(key) for c in as_list(d.get("data_categories"))]

    def flow(self, source: str, target: str, use: str | None, path: str, declaration: str = "") -> dict[str, Any]:
        """The flow for (source, target, use), made on first use; a declaration that names the
        sender (`ingress`) gets a flow of its own, as flowreg's export writes one per flow."""
        use = None if use == UNSPECIFIED_USE else use
        key = (source, target, use or "", declaration)
        if key not in self.flows:
            flow: dict[str, Any] = {"id": self._id(f"{source}-to-{target}"), "from": source, "to": target,
                                    "carries": [], "source": path}
            if use:
                flow["purpose"] = self.purpose(use)
            self.flows[key] = flow
        return self.flows[key]

    def fill(self, flow: dict[str, Any], categories: Iterable[str], decl: tuple[str, dict[str, Any]] | None,
             where: str, role: str | None, kept: tuple[str, dict[str, Any]] | None) -> None:
        """Add categories to a flow, with its role, the legal basis of the declaration `decl` it
        comes from, and the retention of `kept` (the receiver's declaration for that use)."""
        for c in categories:
            cid = self.category(str(c), where)
            if cid and cid not in flow["carries"]:
                flow["carries"].append(cid)
        if role:
            flow.setdefault("role", role)
        if decl is not None:
            dpath, d = decl
            self.used_declarations.add(dpath)
            if d.get("name"):
                flow.setdefault("description", str(d["name"]))
            basis = d.get("legal_basis_for_processing")
            if basis:
                mapped = LEGAL_BASES.get(str(basis).strip().lower())
                if mapped and flow.setdefault("legal_basis", mapped) == mapped:
                    self.applied.add(f"{dpath}.legal_basis_for_processing")
                else:
                    self._skip(f"{dpath}.legal_basis_for_processing", basis, "not a GDPR Art. 6 basis flowreg knows")
        if kept is not None:
            self._retention(flow, *kept)

    def _retention(self, flow: dict[str, Any], where: str, d: dict[str, Any]) -> None:
        retention = d.get("retention_period")
        if not retention:
            return
        days, exact = days_of(str(retention))
        if days is not None and flow.get("retention_days", days) == days:
            self.applied.add(f"{where}.retention_period")
        if "retention_days" in flow:
            return
        if days is None:
            self._skip(f"{where}.retention_period", retention, "not a number of days, weeks, months or years")
        else:
            flow["retention_days"] = days
            if not exact:
                self._assume(f"{where}.retention_period", retention, f"read as {days} days (30-day months, 365-day years)")

    def kept_by(self, target: str, use: str | None) -> tuple[str, dict[str, Any]] | None:
        """The receiver's declaration saying how long it keeps the data: the one for the same
        data use (or a narrower one), else none (another use's retention is not this one's)."""
        for where, d in self.declarations(target):
            if use and str(d.get("data_use", "")).startswith(use) and d.get("retention_period"):
                return where, d
        return None

    def collections(self, key: str) -> None:
        """Flows from data subjects into system `key`."""
        me = self.systems[key]
        s = self.raw[key]
        ingress = [e for e in as_list(s.get("ingress")) if isinstance(e, dict)]
        from_user = [e for e in ingress if e.get("type") == "user" or e.get("fides_key") == "user"]
        collects = bool(from_user) or (not ingress and not me["vendor"] and key not in self.fed and not me["party_only"])
        if not collects:
            return
        if not from_user:
            self._assume(self.paths[key], key, "no ingress declared: taken to collect its declarations' data from the data subjects")
        named = [str(c) for e in from_user for c in as_list(e.get("data_categories"))]
        decls = self.declarations(key)
        pointed = [(w, d) for w, d in decls if "user" in as_list(d.get("ingress"))]
        for where, d in pointed or decls:
            cats = [str(c) for c in as_list(d.get("data_categories"))]
            carries = overlap(named, cats) if named else cats
            if not carries:
                continue
            for subject in as_list(d.get("data_subjects")):
                self.collected.add(where)
                flow = self.flow(self.subject(str(subject)), me["node"], d.get("data_use"), where, where if pointed else "")
                self.fill(flow, carries, (where, d), where, me["role"], (where, d))

    def edge(self, where: str, source: str, target: str, named: list[str]) -> None:
        """The flows of one data flow from system `source` to system `target`: one per data use
        of the receiver that holds what is sent (why it receives it), then, for what is left,
        one per use of the sender's declarations that name the receiver."""
        src, tgt = self.systems[source], self.systems[target]
        role = self.edge_role(source, target)
        receiving = [(w, d) for w, d in self.declarations(target) if source in as_list(d.get("ingress"))]
        sending = [(w, d) for w, d in self.declarations(source) if target in as_list(d.get("egress"))]
        explicit = named or [str(c) for _, d in sending for c in as_list(d.get("data_categories"))]
        available = explicit or overlap(self.declared(source), self.declared(target))
        if not available and not self.declared(target):
            available = self.declared(source)
            if available:
                self._assume(where, target, "no categories named and none declared by the receiver: "
                             "taken to carry everything the sender declares")
        covered: list[str] = []
        holders = receiving or [(w, d) for w, d in self.declarations(target)
                                if overlap(available, as_list(d.get("data_categories")))]
        for w, d in holders:
            cats = [str(c) for c in as_list(d.get("data_categories"))]
            carries = (overlap(named, cats) if named else cats) if receiving else overlap(available, cats)
            if not carries:
                continue
            use = d.get("data_use")
            flow = self.flow(src["node"], tgt["node"], use, where)
            self.fill(flow, carries, (w, d), where, role, (w, d) if d.get("retention_period") else None)
            for sw, sd in sending:  # the sender's basis for sending it, when the receiver states none
                if overlap(carries, as_list(sd.get("data_categories"))):
                    self.fill(flow, [], (sw, sd), where, role, None)
            covered += carries
            if not receiving and not explicit:
                self._assume(where, use, f"purpose taken from {w}, which holds data both ends declare")
        left = [c for c in available if not overlap([c], covered)]
        for w, d in sending:
            carries = overlap(left, [str(c) for c in as_list(d.get("data_categories"))])
            if carries:
                use = d.get("data_use")
                self.fill(self.flow(src["node"], tgt["node"], use, where), carries, (w, d), where, role,
                          self.kept_by(target, use))
                covered += carries
        left = [c for c in left if not overlap([c], covered)]
        if left:
            self.fill(self.flow(src["node"], tgt["node"], None, where), left, None, where, role, None)
        if not available:
            self._skip(where, target, "no data category both ends declare, and the data flow names none")

    def edge_role(self, source: str, target: str) -> str | None:
        tgt = self.systems[target]
        if tgt["ambiguous"]:
            return None
        if tgt["vendor"]:
            return "subprocessor" if self.systems[source]["role"] == "processor" else "processor"
        return tgt["role"]


def _category_key(key: object) -> bool:
    """True for a dotted fideslang key with no empty part (`user.contact.email`)."""
    return isinstance(key, str) and bool(key) and all(part.strip() for part in key.split("."))
