"""A flowreg registry as a fideslang 3 manifest: organisation, systems with privacy declarations,
egress/ingress with categories, and the data categories, uses and subjects they name.

- Every system is a Fides System; every party that sends or receives a flow directly (not through
  a system) is one too (`meta.flowreg.party_only`). A system run by someone other than the
  organisation's affiliates is a "Third Party" system with the runner's `legal_name`.
- Every flow into a node is one privacy declaration of the receiver (its purpose as the data use,
  its categories, its data subjects, legal basis and retention), whose `ingress` names the sender
  (`user` for a collection from data subjects); the sender's `egress` and the receiver's
  `ingress` carry the categories. That is what `registry.fides_import` reads back.
- A purpose that is not a fideslang data use key becomes a custom data use (`flowreg_<slug>`,
  named with the purpose); categories and subject groups outside fideslang's default taxonomy
  are defined with their names.
- The complete record: the `controller` block becomes the organisation's `controller`,
  `data_protection_officer` and `representative` contact details (see `registry.fides_record`);
  a party's `contact` is the `dpo` of every system it runs (or that stands for it); a system's
  security measures its `data_security_practices`; a flow that carries an art9 category makes
  its declaration `processes_special_category_data` with the category's Art. 9(2) ground as
  `special_category_legal_basis`.
- What fideslang 3 has no field for (countries, owners' kinds, flowreg ids, which categories are
  special) goes in each system's `meta.flowreg`, which Fides keeps and the import reads; what it
  cannot express at all (validity windows, frameworks claimed, rules, subject locations,
  agreements, assessments...) is listed in `notes`.
Claimed SCCs and BCRs become the receiving third-party system's `legal_basis_for_transfers`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from registry.fides_record import organisation_contacts, special_basis_words
from registry.fides_vocabulary import LEGAL_BASIS_WORDS, UNSPECIFIED_USE, default_taxonomy
from registry.ids import MechanismKind, PartyKind, SpecialKind
from registry.model import Category, Flow, Mechanism, Party, Registry, System

ROLE_TITLES = {"controller": "Controller", "processor": "Processor", "subprocessor": "Sub-Processor"}
TRANSFER_WORDS = {MechanismKind.SCC: "SCCs", MechanismKind.BCR: "BCRs"}


@dataclass
class FidesExport:
    """The manifest (one mapping with every resource type) and what Fides cannot hold."""

    manifest: dict[str, list[dict[str, Any]]]
    notes: list[str] = field(default_factory=list)


def fides_key(text: str) -> str:
    """A fideslang key (letters, digits, `_ . < > -`) for a flowreg id or name.

    >>> fides_key("Twilio Inc.")
    'Twilio_Inc.'
    """
    return re.sub(r"[^A-Za-z0-9_.<>-]", "_", text.strip()) or "_"


def export_fides(registry: Registry) -> FidesExport:
    """The registry as a fideslang 3 manifest, with notes on what it leaves out."""
    return _Exporter(registry).run()


class _Exporter:
    def __init__(self, registry: Registry) -> None:
        self.reg = registry
        self.notes: list[str] = []
        self.keys: dict[str, str] = {}
        self.taken: set[str] = set()
        self.uses: dict[str, dict[str, Any]] = {}
        self.org_key = fides_key(registry.organization)
        self.special = [c for c in registry.categories if c.special is not None]
        self.mixed_grounds: list[str] = []  # flows whose art9 categories have several grounds

    def key(self, element_id: str) -> str:
        if element_id not in self.keys:
            base = fides_key(element_id)
            candidate, n = base, 2
            while candidate in self.taken:
                candidate, n = f"{base}_{n}", n + 1
            self.taken.add(candidate)
            self.keys[element_id] = candidate
            if candidate != element_id:
                self.notes.append(f"'{element_id}' is '{candidate}' in Fides (fides_key spelling); "
                                  "systems keep their id in meta.flowreg")
        return self.keys[element_id]

    def use(self, purpose: str | None) -> str:
        if purpose is None:
            self.uses.setdefault(UNSPECIFIED_USE, {"fides_key": UNSPECIFIED_USE, "name": "Purpose not stated in the registry"})
            return UNSPECIFIED_USE
        if purpose in default_taxonomy()["data_use"]:
            return purpose
        key = "flowreg_" + re.sub(r"[^a-z0-9]+", "_", purpose.lower()).strip("_")
        while key in self.uses and self.uses[key]["name"] != purpose:
            key += "_"
        self.uses[key] = {"fides_key": key, "name": purpose, "description": "A purpose of the flowreg registry"}
        return key

    def run(self) -> FidesExport:
        reg = self.reg
        for category in reg.categories:
            self.keys[category.id] = fides_key(category.id)
            if self.keys[category.id] != category.id:
                self.notes.append(f"category '{category.id}' is '{self.keys[category.id]}' in Fides (fides_key spelling)")
        ends = {f.from_ for f in reg.flows} | {f.to for f in reg.flows}
        owners = {s.owner for s in reg.systems}
        # A party is a system of its own when data reaches it directly, or when it runs none.
        nodes = [s.id for s in reg.systems] + [p.id for p in reg.parties if p.id in ends or p.id not in owners]
        for node in nodes:
            self.key(node)
        subjects = {g.id for g in reg.subjects}
        incoming: dict[str, list[Flow]] = defaultdict(list)
        outgoing: dict[str, list[Flow]] = defaultdict(list)
        for flow in reg.flows:
            incoming[flow.to].append(flow)
            if flow.from_ not in subjects:
                outgoing[flow.from_].append(flow)
        systems = [self.system(node, incoming[node], outgoing[node], subjects) for node in nodes]
        contacts = organisation_contacts(reg.controller, self.notes)
        self._summarise()
        taxonomy = default_taxonomy()
        manifest: dict[str, list[dict[str, Any]]] = {
            "organization": [{"fides_key": self.org_key, "name": reg.organization,
                              **({"description": reg.source} if reg.source else {}), **contacts}],
            "data_category": [
                {"fides_key": self.keys[c.id], "name": c.name,
                 **({"parent_key": self.keys[c.parent]} if c.parent else {}),
                 **({"description": c.description} if c.description else {})}
                for c in reg.categories if c.id not in taxonomy["data_category"]
            ],
            "data_subject": [
                {"fides_key": self.key(g.id), "name": g.name, **({"description": g.description} if g.description else {})}
                for g in reg.subjects if g.id not in taxonomy["data_subject"]
            ],
            "data_use": sorted(self.uses.values(), key=lambda u: u["fides_key"]),
            "system": systems,
        }
        return FidesExport({k: v for k, v in manifest.items() if v}, self.notes)

    def owner_of(self, node: str) -> Party | None:
        element = self.reg.get(node)
        owner = self.reg.get(element.owner) if element is not None and hasattr(element, "owner") else element
        return owner if isinstance(owner, Party) else None

    def system(self, node: str, into: list[Flow], out: list[Flow], subjects: set[str]) -> dict[str, Any]:
        element = self.reg.get(node)
        party = self.owner_of(node)
        party_only = isinstance(element, Party)
        own = party is not None and party.kind is PartyKind.AFFILIATE
        meta: dict[str, Any] = {"id": node}
        if party is not None:
            meta["owner"] = {k: v for k, v in {"id": party.id, "name": party.name, "kind": party.kind.value,
                                               "country": party.country, "url": party.url}.items() if v}
        if party_only:
            meta["party_only"] = True
        elif getattr(element, "country", None):
            meta["country"] = element.country
        special = {c.id: c for f in into for c in self.special_in(f)}
        if special:
            meta["special"] = {self.keys[c.id]: {"special": c.special.value, **({"condition": c.condition.value} if c.condition else {})}
                               for c in special.values()}
        system: dict[str, Any] = {
            "fides_key": self.keys[node], "name": element.name, "organization_fides_key": self.org_key,
            "system_type": "Service" if own else "Third Party", "meta": {"flowreg": meta},
        }
        if element.description:
            system["description"] = element.description
        if party is not None and not own:
            system["legal_name"] = party.name
            if party.url:
                system["privacy_policy"] = party.url
        if party is not None and party.contact:
            system["dpo"] = party.contact
        if isinstance(element, System) and element.security_measures:
            system["data_security_practices"] = "; ".join(element.security_measures)
        roles = {f.role.value for f in into if f.role}
        if len(roles) == 1 and roles <= set(ROLE_TITLES):
            system["responsibility"] = [ROLE_TITLES[roles.pop()]]
        system["egress"] = self.data_flows(out, lambda f: f.to, subjects)
        system["ingress"] = self.data_flows(into, lambda f: f.from_, subjects)
        system["privacy_declarations"] = [self.declaration(f, subjects) for f in into]
        bases = sorted({TRANSFER_WORDS[m.kind] for f in into for m in self.claimed(f) if m.kind in TRANSFER_WORDS})
        if bases and not own:
            system["legal_basis_for_transfers"] = bases
            system["does_international_transfers"] = True
        return {k: v for k, v in system.items() if v != []} | {"privacy_declarations": system["privacy_declarations"]}

    def data_flows(self, flows: list[Flow], other, subjects: set[str]) -> list[dict[str, Any]]:
        by_other: dict[str, list[str]] = {}
        for flow in flows:
            end = "user" if other(flow) in subjects else self.keys[other(flow)]
            cats = by_other.setdefault(end, [])
            cats += [self.keys[c] for c in flow.carries if self.keys[c] not in cats]
        return [{"fides_key": end, "type": "user" if end == "user" else "system", "data_categories": cats}
                for end, cats in by_other.items()]

    def declaration(self, flow: Flow, subjects: set[str]) -> dict[str, Any]:
        collected = flow.from_ in subjects
        d: dict[str, Any] = {
            "name": flow.description or flow.id,
            "data_categories": [self.keys[c] for c in flow.carries],
            "data_use": self.use(flow.purpose),
            "data_subjects": [self.key(flow.from_)] if collected else [],
            "ingress": ["user" if collected else self.keys[flow.from_]],
        }
        if flow.legal_basis:
            d["legal_basis_for_processing"] = LEGAL_BASIS_WORDS[flow.legal_basis.value]
        if flow.retention_days is not None:
            d["retention_period"] = f"{flow.retention_days} days"
        grounds = sorted({c.condition.value for c in self.special_in(flow) if c.special is SpecialKind.ART9 and c.condition})
        if grounds:
            d["processes_special_category_data"] = True
            if len(grounds) == 1:
                d["special_category_legal_basis"] = special_basis_words(grounds[0])
            else:
                self.mixed_grounds.append(flow.id)
        return d

    def special_in(self, flow: Flow) -> list[Category]:
        """The art9/art10 categories whose data the flow carries: one it carries or contains, or
        one it carries part of (the rule of the complete record's findings)."""
        return [c for c in self.special if any(c.id == k or c.id.startswith(k + ".") or k.startswith(c.id + ".")
                                               for k in flow.carries)]

    def claimed(self, flow: Flow) -> list[Mechanism]:
        return [m for m in (self.reg.get(u) for u in flow.under) if isinstance(m, Mechanism)]

    def _summarise(self) -> None:
        """One note per kind of fact that fideslang 3 cannot hold."""
        reg = self.reg

        def listed(ids: list[str]) -> str:
            return ", ".join(ids[:8]) + (f" and {len(ids) - 8} more" if len(ids) > 8 else "")

        lost = {
            "validity windows (valid_from/valid_until) of flows": [f.id for f in reg.flows if f.valid_from or f.valid_until],
            "occasional frequency of flows": [f.id for f in reg.flows if f.frequency.value != "continuous"],
            "frameworks and mechanisms claimed other than SCC and BCR": sorted({
                u for f in reg.flows for u in f.under
                if not isinstance(reg.get(u), Mechanism) or reg.get(u).kind not in TRANSFER_WORDS}),
            "mechanisms' dates, versions, regimes and members": [m.id for m in reg.mechanisms],
            "subject groups' locations": [g.id for g in reg.subjects if g.location],
            "parties' certifications": [p.id for p in reg.parties if p.certifications],
            "systems' retention_days": [s.id for s in reg.systems if s.retention_days is not None],
            "rules (promises)": [r.id for r in reg.rules],
            "categories' DPV terms": [c.id for c in reg.categories if c.dpv],
            "flow ids (a flow is its receiver's declaration, named after the flow)": [f.id for f in reg.flows],
            "agreements (DPAs and joint-controller arrangements: parties, dates, authorisation, documents)":
                [a.id for a in reg.agreements],
            "transfer impact assessments (hops, regime, dates, outcome, measures, documents)":
                [a.id for a in reg.assessments],
            "categories' retention_days": [c.id for c in reg.categories if c.retention_days is not None],
            "criminal-offence data (art10; kept in meta.flowreg.special only)":
                [c.id for c in self.special if c.special is SpecialKind.ART10],
            "special kinds of categories no flow carries (no declaration to hold them)": [
                c.id for c in self.special if not any(c in self.special_in(f) for f in reg.flows)],
            "one Art. 9(2) ground per declaration: flows whose art9 categories have several (kept in meta.flowreg.special)":
                self.mixed_grounds,
            "parties' public-list flags and notice dates": [
                p.id for p in reg.parties if p.public_list is not None or p.notice_given is not None],
            "roles of flows into a node that receives in several roles": sorted({
                f.to for f in reg.flows if len({g.role for g in reg.flows if g.to == f.to}) > 1}),
        }
        for what, ids in lost.items():
            if ids:
                self.notes.append(f"not expressible in fideslang 3: {what}: {listed(ids)}")
