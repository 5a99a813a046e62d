"""Mapping Fides systems to flowreg elements: systems, their owners, and the flows between them.

`SystemMapper` holds what the import has built so far and the notes on what it could not map or
had to assume; `registry.fides_import` walks the manifests and assembles the registry.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from registry.errors import FlowregError
from registry.fides_vocabulary import (
    DECLARATION_KEYS,
    LEGAL_BASES,
    SILENT,
    SYSTEM_KEYS,
    VENDOR_TYPES,
    alpha2,
    days_of,
    humanise,
    meaningful,
    role_of,
    short,
)


@dataclass(frozen=True)
class ImportNote:
    """Something the import could not map, or a guess it made: where, what, and why."""

    path: str
    value: str
    reason: str

    def __str__(self) -> str:
        value = f" = {self.value}" if self.value else ""
        return f"{self.path}{value}: {self.reason}"


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
        self.subjects: dict[str, str] = {}
        self.parties: list[dict[str, Any]] = []
        self.systems: dict[str, dict[str, Any]] = {}
        self.mechanisms: list[dict[str, Any]] = []
        self.flows: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.raw: dict[str, dict[str, Any]] = {}
        self.paths: dict[str, str] = {}
        self.fed: set[str] = set()

    # --- helpers ----------------------------------------------------------------------------
    def _id(self, wanted: str) -> str:
        base = re.sub(r"\s+", "-", str(wanted).strip()) or "item"
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

    def reserve_categories(self, keys: Iterable[str]) -> None:
        """Claim every category key (and ancestor) first: categories keep their fideslang keys,
        so a subject group or system with the same name is the one that gets a suffix."""
        for key in keys:
            if _category_key(key):
                parts = key.split(".")
                self.ids.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))

    def _category(self, key: str, path: str) -> str | None:
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

    def _subject(self, key: str) -> str:
        if key not in self.subjects:
            self.subjects[key] = self._id(key if key not in self.ids else f"{key}-subjects")
        return self.subjects[key]

    # --- run --------------------------------------------------------------------------------

    def _system(self, path: str, s: Any) -> None:
        if not isinstance(s, dict) or not s.get("fides_key"):
            raise FlowregError(f"{path}: a system needs a fides_key")
        key = str(s["fides_key"])
        vendor = bool(s.get("vendor_id")) or str(s.get("system_type", "")).strip().lower() in VENDOR_TYPES
        owner = self.org_party
        country = self.country
        third = [str(c) for c in s.get("third_country_transfers") or []]
        codes = [alpha2(c) for c in third]
        if vendor:
            owner = self._id(f"{key}-provider")
            party: dict[str, Any] = {
                "id": owner, "name": s.get("legal_name") or s.get("name") or key, "kind": "service_provider",
                "source": f"Fides system {key}",
            }
            url = s.get("privacy_policy") or s.get("dpa_location")
            if url:
                party["url"] = str(url)
            country = None
            if len(codes) == 1 and codes[0]:
                country = codes[0]
                party["country"] = country
                self._assume(f"{path}.third_country_transfers", third[0], f"taken as where {party['name']} is and processes ({country})")
            elif third:
                self._skip(f"{path}.third_country_transfers", ", ".join(third), "several countries: set the party's country by hand")
            else:
                self._skip(path, key, "third-party system without a country; set the party's country")
            self.parties.append(party)
            for basis in s.get("legal_basis_for_transfers") or []:
                if str(basis).strip().lower() in ("scc", "sccs"):
                    self.mechanisms.append({
                        "id": self._id(f"scc-{key}"), "kind": "scc", "members": [self.org_party, owner],
                        "name": f"Standard contractual clauses with {party['name']}", "source": f"Fides system {key}",
                    })
                    self._assume(f"{path}.legal_basis_for_transfers", basis, "SCC between the organisation and the vendor; version and signature date unknown")
                elif str(basis).strip().lower() != "adequacy decision":
                    self._skip(f"{path}.legal_basis_for_transfers", basis, "no flowreg mechanism can be derived from it")
        elif third:
            self._skip(f"{path}.third_country_transfers", ", ".join(third), "cannot be tied to a hop: add the recipients in those countries")
        if country is None and not vendor:
            self._skip(f"{path}", key, "Fides has no hosting country; pass --country or set it")
        elif not vendor:
            self._assume(path, key, f"hosted in {country} (the organisation's country)")
        system: dict[str, Any] = {"id": self._id(key), "name": s.get("name") or key, "owner": owner, "source": f"Fides system {key}"}
        if country:
            system["country"] = country
        description = " ".join(p for p in (
            str(s.get("description") or ""),
            f"Administered by {s['administrating_department']}." if s.get("administrating_department") not in SILENT else "",
        ) if p)
        if description:
            system["description"] = description
        system["_role"] = role_of(s)
        system["_vendor"] = vendor
        system["_key"] = key
        self.systems[key] = system
        self.raw[key] = s
        self.paths[key] = path
        for extra in sorted(set(s) - SYSTEM_KEYS):
            if meaningful(s[extra]):
                self._skip(f"{path}.{extra}", s[extra], "no flowreg equivalent")

    def _declarations(self, path: str, s: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        out = []
        for i, d in enumerate(s.get("privacy_declarations") or []):
            where = f"{path}.privacy_declarations[{i}]"
            if not isinstance(d, dict) or not d.get("data_categories"):
                self._skip(where, "", "a declaration without data categories carries nothing")
                continue
            for extra in sorted(set(d) - DECLARATION_KEYS):
                if meaningful(d[extra]) and not (extra == "flexible_legal_basis_for_processing" and d[extra] is True):
                    self._skip(f"{where}.{extra}", d[extra], "no flowreg equivalent")
            out.append((where, d))
        return out

    def _flow(self, source: str, target: str, purpose: str | None, path: str) -> dict[str, Any]:
        key = (source, target, purpose or "")
        if key not in self.flows:
            self.flows[key] = {"id": self._id(f"{source}-to-{target}"), "from": source, "to": target, "carries": [],
                               "source": path}
            if purpose:
                self.flows[key]["purpose"] = purpose
        return self.flows[key]

    def _fill(
        self, flow: dict[str, Any], categories: Iterable[str], d: dict[str, Any] | None, where: str, role: str,
        kept: tuple[str, dict[str, Any]] | None = None,
    ) -> None:
        """Add categories to a flow and take role, legal basis (from the sender's declaration `d`)
        and retention (from `kept`, the receiver's declaration; `d` itself for a collection)."""
        for c in categories:
            cid = self._category(c, where)
            if cid and cid not in flow["carries"]:
                flow["carries"].append(cid)
        flow.setdefault("role", role)
        if kept is None and d is not None:
            kept = (where, d)
        if kept is not None:
            self._retention(flow, *kept)
        if d is None:
            return
        basis = d.get("legal_basis_for_processing")
        if basis:
            mapped = LEGAL_BASES.get(str(basis).strip().lower())
            if mapped:
                flow.setdefault("legal_basis", mapped)
            else:
                self._skip(f"{where}.legal_basis_for_processing", basis, "not a GDPR Art. 6 basis flowreg knows")

    def _retention(self, flow: dict[str, Any], where: str, d: dict[str, Any]) -> None:
        retention = d.get("retention_period")
        if not retention or "retention_days" in flow:
            return
        days, exact = days_of(str(retention))
        if days is None:
            self._skip(f"{where}.retention_period", retention, "not a number of days, weeks, months or years")
        else:
            flow["retention_days"] = days
            if not exact:
                self._assume(f"{where}.retention_period", retention, f"read as {days} days (30-day months, 365-day years)")

    def _system_flows(self, path: str, s: dict[str, Any]) -> None:
        key = str(s["fides_key"])
        me = self.systems[key]
        declarations = self._declarations(path, s)
        all_categories = [c for _, d in declarations for c in d["data_categories"]]
        ingress = [e for e in s.get("ingress") or [] if isinstance(e, dict)]
        from_user = [e for e in ingress if e.get("type") == "user" or e.get("fides_key") == "user"]
        collects = bool(from_user) or (not ingress and not me["_vendor"] and key not in self.fed)
        if collects and not from_user:
            self._assume(path, key, "no ingress declared: taken to collect its declarations' data from the data subjects")
        user_categories = [c for e in from_user for c in e.get("data_categories") or []]
        if collects:
            for where, d in declarations:
                carries = [c for c in d["data_categories"] if not user_categories or c in user_categories] or d["data_categories"]
                for subject in d.get("data_subjects") or []:
                    flow = self._flow(self._subject(str(subject)), me["id"], d.get("data_use"), where)
                    self._fill(flow, carries, d, where, me["_role"])
        for i, e in enumerate(s.get("egress") or []):
            self._edge(f"{path}.egress[{i}]", e, key, declarations, all_categories, outgoing=True)
        for i, e in enumerate(ingress):
            if e in from_user:
                continue
            self._edge(f"{path}.ingress[{i}]", e, key, declarations, all_categories, outgoing=False)
        for dep in s.get("system_dependencies") or []:
            linked = any({f["from"], f["to"]} == {me["id"], self.systems.get(str(dep), {}).get("id")} for f in self.flows.values())
            if not linked:
                self._skip(f"{path}.system_dependencies", dep, "a dependency names no data: add egress/ingress to import a flow")

    def _edge(self, where: str, e: Any, key: str, declarations: list[tuple[str, dict[str, Any]]],
              all_categories: list[str], *, outgoing: bool) -> None:
        if not isinstance(e, dict):
            self._skip(where, e, "not a data flow entry")
            return
        other, kind = str(e.get("fides_key", "")), str(e.get("type", ""))
        if kind == "user" or other == "user":
            self._skip(where, other, "data sent back to users is not a flowreg flow")
            return
        if kind == "dataset":
            self._skip(where, other, "datasets are storage inside a system, not a flowreg node")
            return
        if other not in self.systems:
            self._skip(where, other, "no system with this fides_key in the manifests")
            return
        source, target = (key, other) if outgoing else (other, key)
        sender_decls = declarations if outgoing else []
        pointing = [(w, d) for w, d in sender_decls if target in (d.get("egress") or [])]
        chosen = pointing[0] if pointing else None
        categories = e.get("data_categories") or (
            [c for _, d in pointing for c in d["data_categories"]] or (all_categories if outgoing else [])
        )
        if not categories:
            # an ingress that names nothing: what the receiver declares
            categories = [c for d in self.raw[target].get("privacy_declarations") or [] for c in d.get("data_categories") or []]
        if not categories:
            self._skip(where, other, "no data categories to carry")
            return
        purpose = chosen[1].get("data_use") if chosen else None
        src_id, tgt_id = self.systems[source]["id"], self.systems[target]["id"]
        existing = [f for f in self.flows.values() if f["from"] == src_id and f["to"] == tgt_id]
        # An ingress usually restates an egress: add to the flow already made, do not repeat it.
        flow = existing[0] if existing and (not outgoing or purpose is None) else self._flow(src_id, tgt_id, purpose, where)
        kept = self._kept_by(target, purpose)
        self._fill(flow, categories, chosen[1] if chosen else None, where, self._edge_role(source, target), kept)

    def _kept_by(self, target: str, purpose: str | None) -> tuple[str, dict[str, Any]] | None:
        """The receiver's declaration saying how long it keeps the data: the one for the same
        data use (or a narrower one), else its first with a retention period."""
        decls = [(i, d) for i, d in enumerate(self.raw[target].get("privacy_declarations") or []) if isinstance(d, dict)]
        same = [(i, d) for i, d in decls if purpose and str(d.get("data_use", "")).startswith(purpose)]
        for i, d in same + decls:
            if d.get("retention_period"):
                return f"{self.paths[target]}.privacy_declarations[{i}]", d
        return None

    def _edge_role(self, source: str, target: str) -> str:
        tgt = self.systems[target]
        if tgt["_vendor"]:
            return "subprocessor" if self.systems[source]["_role"] == "processor" else "processor"
        return tgt["_role"]

    def systems_by_id(self) -> dict[str, dict[str, Any]]:
        return {s["id"]: s for s in self.systems.values()}


def _category_key(key: object) -> bool:
    """True for a dotted fideslang key with no empty part (`user.contact.email`)."""
    return isinstance(key, str) and bool(key) and all(part.strip() for part in key.split("."))
