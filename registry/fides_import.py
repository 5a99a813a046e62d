"""Import Fides (fideslang 1, 2 and 3) manifests into a flowreg registry document, losing nothing
silently: every field of a manifest is either mapped or listed, with its path, in `unmapped`, and
every guess is listed in `assumptions`.

Fides describes systems, what each processes (privacy declarations: data categories, data use,
data subjects) and which systems exchange data (egress/ingress). flowreg needs a bit more: where
each system is, who runs it, and hop-by-hop flows. The mapping:
- the manifest's `organization` becomes the registry's organisation (and, when a system needs an
  owner, an affiliate party); its controller, DPO and representative become the registry's
  `controller` block, and the rest of the complete record comes from the systems: a system's
  `dpo` is the contact of the party that runs it, its `data_security_practices` its security
  measures, and a declaration's special-category fields the categories' `special` and
  `condition` (see `registry.fides_record`); the security policy URL has no registry key;
- a third-party system (`vendor_id`, or `system_type` "Third Party"/"Vendor") gets a party of its
  own that owns it; its country comes from the manifest where it offers one (a single
  `third_country_transfers` country in fideslang 1/2; the country a `legal_address` ends with in
  fideslang 3), labelled as an assumption; `legal_basis_for_transfers` becomes an SCC or BCR
  mechanism between the organisation and the vendor, and "Adequacy Decision" needs no claim
  (see `registry.fides_parties`);
- data categories keep their fideslang keys (every ancestor is added, named from the manifests
  or fideslang's default taxonomy); data subjects become subject groups; data uses become the
  purpose of every flow a declaration gives (see `registry.fides_mapping`);
- systems flowreg itself exported carry `meta.flowreg` (ids, owners, countries), which is read back.
A `fides_key` used twice (in one file or two) is an error naming both places.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from registry.errors import FlowregError, RegistryError
from registry.fides_mapping import ImportNote, overlap
from registry.fides_parties import PartyMapper
from registry.fides_record import (
    SECURITY_POLICY_REASON,
    controller_block,
    declaration_special,
    mark_special,
    meta_special,
    not_a_record,
    system_record,
)
from registry.fides_vocabulary import (
    VENDOR_TYPES,
    as_list,
    default_taxonomy,
    flat,
    normalised,
    roles_of,
)
from registry.loader import load_registry_data
from registry.model import Registry
from registry.yamlsource import load_yaml_file

SYSTEM_MAPPED = {
    "fides_key", "name", "description", "system_type", "vendor_id", "legal_name", "legal_address",
    "data_responsibility_title", "responsibility", "third_country_transfers", "legal_basis_for_transfers",
    "privacy_policy", "ingress", "egress", "privacy_declarations", "system_dependencies",
    "administrating_department", "organization_fides_key", "dpo", "data_security_practices",
}
DECLARATION_MAPPED = {"name", "data_categories", "data_use", "data_subjects", "legal_basis_for_processing",
                      "retention_period", "egress", "ingress", "processes_special_category_data",
                      "special_category_legal_basis"}
TAXONOMY_SECTIONS = ("data_category", "data_subject", "data_use")


@dataclass
class FidesImport:
    """The registry built from the manifests, and what did not carry over."""

    registry: Registry
    unmapped: list[ImportNote] = field(default_factory=list)
    assumptions: list[ImportNote] = field(default_factory=list)


def read_manifest(path: str | Path) -> Any:
    """One manifest file's YAML as plain data: the one place the import reads YAML, through the
    bounded, alias-guarded reader registries are read with (registry.yamlsource)."""
    try:
        parsed = load_yaml_file(path)
    except RegistryError as exc:
        raise FlowregError(f"{path}: {'; '.join(str(i) for i in exc.issues)}") from None
    if parsed.issues:
        raise FlowregError(f"{path} is not valid YAML: {'; '.join(str(i) for i in parsed.issues[:5])}")
    return parsed.value


def import_fides_files(paths: Iterable[str | Path], **options: Any) -> FidesImport:
    """Read one or more manifest files (YAML) and import them together."""
    return import_fides([(str(path), read_manifest(path)) for path in paths], **options)


def import_fides(
    documents: list[tuple[str, Any]],
    *,
    organization: str | None = None,
    country: str | None = None,
    subject_location: str | None = None,
) -> FidesImport:
    """Import parsed manifests (name, data) into a registry.

    `organization` overrides the manifest's organisation name; `country` is the organisation's
    seat and the hosting country of its own systems (Fides records neither); `subject_location`
    is where the data subjects are (ISO code or EEA). Raises FlowregError for a manifest flowreg
    cannot read at all or a duplicate fides_key, RegistryError if the result does not validate.
    """
    return _Importer(organization, country, subject_location).run(documents)


class _Importer(PartyMapper):
    """Walks the manifests, maps every system, and assembles the registry document."""

    def run(self, documents: list[tuple[str, Any]]) -> FidesImport:
        self.defined_categories: list[tuple[str, str]] = []
        self.controller: dict[str, Any] | None = None
        self.special: dict[str, tuple[str, str | None, str]] = {}  # category -> (kind, ground, where)
        self.meta_special: set[str] = set()  # systems whose special categories flowreg's meta names
        systems: list[tuple[str, dict[str, Any]]] = []
        orgs: list[tuple[str, dict[str, Any]]] = []
        seen: dict[tuple[str, str], str] = {}
        for name, data in documents:
            if not isinstance(data, dict):
                raise FlowregError(f"{name}: a Fides manifest is a mapping with a 'system' list")
            for key, value in data.items():
                items = value if isinstance(value, list) else None
                if key in ("system", "organization", *TAXONOMY_SECTIONS) and items is None:
                    raise FlowregError(f"{name}: '{key}' must be a list")
                for i, item in enumerate(items or []):
                    where = f"{name}: {key}[{i}]"
                    if key in ("system", "organization", *TAXONOMY_SECTIONS):
                        _unique(seen, key, item, where)
                    if key == "system":
                        systems.append((where, normalised(item) if isinstance(item, dict) else item))
                    elif key == "organization" and isinstance(item, dict):
                        orgs.append((where, item))
                    elif key in TAXONOMY_SECTIONS and isinstance(item, dict):
                        names = {"data_category": self.category_names, "data_subject": self.subject_names,
                                 "data_use": self.use_names}[key]
                        names[str(item["fides_key"])] = str(item.get("name") or "")
                        if key == "data_category":
                            self.defined_categories.append((where, str(item["fides_key"])))
                        elif key == "data_subject":
                            self.subject(str(item["fides_key"]))  # defined, so kept as a subject group
                        for extra in sorted(set(item) - {"fides_key", "name", "parent_key"}):
                            self._skip(f"{where}.{extra}", flat(item[extra]), "no flowreg equivalent")
                    else:
                        self._skip(where, flat(item.get("fides_key", item) if isinstance(item, dict) else item),
                                   "datasets are storage inside a system, not a flowreg node" if key == "dataset"
                                   else "no flowreg equivalent")
                if items is None:
                    self._skip(f"{name}: {key}", flat(value), "no flowreg equivalent")
        if not systems:
            raise FlowregError("the Fides manifest has no systems ('system:' list)")
        for key, entry in default_taxonomy()["data_category"].items():
            self.category_names.setdefault(key, entry["name"])
        for key, entry in default_taxonomy()["data_subject"].items():
            self.subject_names.setdefault(key, entry["name"])
        self._organisation(orgs)
        self.reserve_categories(
            str(c) for _, s in systems if isinstance(s, dict)
            for part in (*as_list(s.get("privacy_declarations")), *as_list(s.get("ingress")), *as_list(s.get("egress")))
            if isinstance(part, dict) for c in as_list(part.get("data_categories"))
        )
        for path, system in systems:
            self._system(path, system)
        self.fed = {str(e.get("fides_key")) for _, s in systems for e in as_list(s.get("egress"))
                    if isinstance(e, dict) and e.get("type") == "system"}
        for _, system in systems:
            self._system_flows(str(system["fides_key"]))
        for _, system in systems:
            self._declaration_notes(str(system["fides_key"]))
        for where, key in self.defined_categories:
            self.category(key, where)  # defined by the manifests, so kept even when no flow carries it
        return self._result()

    def _organisation(self, orgs: list[tuple[str, dict[str, Any]]]) -> None:
        if orgs:
            path, org = orgs[0]
            self.org_key = str(org.get("fides_key") or "organization")
            self.org_label = str(self.org_name or org.get("name") or self.org_key)
            self.org_description = str(org["description"]) if org.get("description") else None
            self.controller = controller_block(org, path, self.org_label, self._note_skip, self._note_assume)
            if "security_policy" in org:
                self._skip(f"{path}.security_policy", flat(org["security_policy"]), SECURITY_POLICY_REASON)
            for extra in sorted(set(org) - {"fides_key", "name", "description", "controller", "data_protection_officer",
                                            "representative", "security_policy"}):
                self._skip(f"{path}.{extra}", flat(org[extra]), "no flowreg equivalent")
            for path, org in orgs[1:]:
                self._skip(path, org.get("fides_key", ""), "a registry has one organisation; the first one is used")
        elif self.org_name:
            self.org_label = self.org_name

    def _system(self, path: str, s: Any) -> None:
        if not isinstance(s, dict) or not s.get("fides_key"):
            raise FlowregError(f"{path}: a system needs a fides_key")
        key = str(s["fides_key"])
        meta = s.get("meta") if isinstance(s.get("meta"), dict) else {}
        ours = meta.get("flowreg") if isinstance(meta.get("flowreg"), dict) else {}
        vendor = bool(s.get("vendor_id")) or str(s.get("system_type", "")).strip().lower() in VENDOR_TYPES
        roles = roles_of(s)
        titles = as_list(s.get("responsibility")) or as_list(s.get("data_responsibility_title"))
        if len(roles) > 1:
            self._skip(f"{path}.responsibility", titles, "several roles: flows into this system get none; set each flow's role")
        elif len(titles) > len(roles):
            self._skip(f"{path}.responsibility", titles, "not a role flowreg knows")
        owner, country = self._owner(path, s, ours, vendor)
        party_only = bool(ours.get("party_only"))
        node = owner if party_only else self._id(str(ours.get("id") or key), exact="id" in ours)
        system: dict[str, Any] | None = None
        if not party_only:
            system = {"id": node, "name": s.get("name") or key, "owner": owner, "source": f"Fides system {key}"}
            country = ours.get("country", country)
            if country:
                system["country"] = country
            parts = [str(s.get("description") or "")]
            if s.get("administrating_department") not in (None, "", "Not defined"):
                parts.append(f"Administered by {s['administrating_department']}.")
            if " ".join(p for p in parts if p):
                system["description"] = " ".join(p for p in parts if p)
            self.out_systems.append(system)
        self.systems[key] = {"node": node, "owner": owner, "vendor": vendor, "role": roles[0] if len(roles) == 1 else None, "ambiguous": len(roles) > 1,
                             "party_only": party_only, "key": key}
        self.raw[key] = s
        self.paths[key] = path
        self._transfer_bases(path, s, owner, vendor)
        org_key = s.get("organization_fides_key")
        if org_key not in (None, self.org_key, "default_organization"):
            self._skip(f"{path}.organization_fides_key", org_key, "not the manifest's organisation; owned by it anyway")
        self._record(path, s, owner, system)
        if "special" in ours:
            self.meta_special.add(key)
            for cid, (kind, ground) in meta_special(f"{path}.meta.flowreg.special", ours["special"], self._note_skip).items():
                if self.category(cid, f"{path}.meta.flowreg.special"):
                    self._mark_special(cid, kind, ground, f"{path}.meta.flowreg.special")
        for extra in sorted(set(s) - SYSTEM_MAPPED - {"meta"}):
            self._skip(f"{path}.{extra}", flat(s[extra]), not_a_record(extra, s[extra]))
        for extra in sorted(set(meta) - {"flowreg"}):
            self._skip(f"{path}.meta.{extra}", flat(meta[extra]), "no flowreg equivalent")

    def _note_skip(self, path: str, value: Any, reason: str) -> None:
        self._skip(path, flat(value), reason)

    def _note_assume(self, path: str, value: Any, reason: str) -> None:
        self._assume(path, flat(value), reason)

    def _record(self, path: str, s: dict[str, Any], owner: str, system: dict[str, Any] | None) -> None:
        party = next(p for p in self.parties.values() if p["id"] == owner)
        system_record(path, s, party, system, self._note_skip)

    def _mark_special(self, category: str, kind: str, ground: str | None, where: str) -> None:
        mark_special(self.special, category, kind, ground, where, self._note_skip)

    def _system_flows(self, key: str) -> None:
        s, path = self.raw[key], self.paths[key]
        self.collections(key)
        for direction in ("egress", "ingress"):
            for i, e in enumerate(as_list(s.get(direction))):
                where = f"{path}.{direction}[{i}]"
                if not isinstance(e, dict):
                    self._skip(where, e, "not a data flow entry")
                    continue
                other, kind = str(e.get("fides_key", "")), str(e.get("type", ""))
                if kind == "user" or other == "user":
                    if direction == "egress":
                        self._skip(where, other, "data sent back to users is not a flowreg flow")
                    continue
                if kind == "dataset":
                    self._skip(where, other, "datasets are storage inside a system, not a flowreg node")
                    continue
                if other not in self.systems:
                    self._skip(where, other, "no system with this fides_key in the manifests")
                    continue
                source, target = (key, other) if direction == "egress" else (other, key)
                mirror = [m for m in as_list(self.raw[other].get("ingress" if direction == "egress" else "egress"))
                          if isinstance(m, dict) and m.get("fides_key") == key]
                if direction == "ingress" and mirror:
                    continue  # the sender's egress entry made these flows
                named = [str(c) for m in (e, *mirror) for c in as_list(m.get("data_categories"))]
                self.edge(where, source, target, list(dict.fromkeys(named)))
        for dep in as_list(s.get("system_dependencies")):
            other = self.systems.get(str(dep), {}).get("node")
            if not any({f["from"], f["to"]} == {self.systems[key]["node"], other} for f in self.flows.values()):
                self._skip(f"{path}.system_dependencies", dep, "a dependency names no data: add egress/ingress to import a flow")

    def _declaration_notes(self, key: str) -> None:
        """What each declaration of system `key` said that no flow took up."""
        node = self.systems[key]["node"]
        touching = [c for f in self.flows.values() if node in (f["from"], f["to"]) for c in f["carries"]]
        for where, d in self.declarations(key):
            for extra in sorted(set(d) - DECLARATION_MAPPED):
                self._skip(f"{where}.{extra}", flat(d[extra]), not_a_record(extra, d[extra]))
            for c in as_list(d.get("data_categories")):
                self.category(str(c), where)  # declared, so kept as a category
            if key not in self.meta_special:  # flowreg's own meta named them exactly
                for cid, (kind, ground) in declaration_special(where, d, self._note_skip, self._note_assume).items():
                    self._mark_special(cid, kind, ground, where)
            if where not in self.used_declarations:
                shown = {k: flat(d[k]) for k in ("data_use", "data_categories", "data_subjects", "legal_basis_for_processing",
                                                  "retention_period") if d.get(k)}
                self._skip(where, "; ".join(f"{k} {v}" for k, v in shown.items()),
                           "no ingress or egress says where this data comes from or goes: add them to import its flows")
                continue
            if d.get("data_subjects") and where not in self.collected:
                self._skip(f"{where}.data_subjects", flat(d["data_subjects"]),
                           "not collected by this system (no ingress from user carries this data): "
                           "the subjects are those of the flows that bring it")
            for name in ("legal_basis_for_processing", "retention_period"):
                if d.get(name) and f"{where}.{name}" not in self.applied:
                    self._skip(f"{where}.{name}", d[name], "applies to no flow: no flow brings this declaration's "
                               "data into the system (or another declaration already set it)")
            idle = [str(c) for c in as_list(d.get("data_categories")) if not overlap([str(c)], touching)]
            if idle:
                self._skip(f"{where}.data_categories", idle, "no flow into or out of this system carries it")

    def _result(self) -> FidesImport:
        flows = [f for f in self.flows.values() if f["carries"]]
        subjects = []
        for key, sid in self.subjects.items():
            group: dict[str, Any] = {"id": sid, "name": self.subject_names.get(key) or key, "source": f"Fides data subject {key}"}
            if self.subject_location:
                group["location"] = self.subject_location
            subjects.append(group)
        if subjects and not self.subject_location:
            self._skip("data_subjects", ", ".join(s["id"] for s in subjects), "Fides has no subject locations; pass --subject-location (e.g. EEA)")
        owners = {s["owner"] for s in self.out_systems}
        for party in self.parties.values():
            if party.get("kind") == "service_provider" and party["id"] in owners and any(
                    f.get("role") == "subprocessor" and self._owner_of(f["to"]) == party["id"] for f in flows):
                party["kind"] = "subprocessor"
        for flow in flows:
            under = [m["id"] for m in self.mechanisms if self._owner_of(flow["to"]) in m["members"][1:]
                     and self._owner_of(flow["from"]) != self._owner_of(flow["to"])]
            if under:
                flow["under"] = under
        document = {
            "flowreg": 1,
            "organization": self.org_label,
            "source": "Imported from Fides manifests",
            "controller": self.controller,
            "categories": [{"id": c, "name": n or c, **self._special_of(c)} for c, n in sorted(self.categories.items())],
            "subjects": subjects,
            "parties": list({p["id"]: p for p in self.parties.values()}.values()),
            "systems": self.out_systems,
            "mechanisms": self.mechanisms,
            "flows": flows,
        }
        registry = load_registry_data({k: v for k, v in document.items() if v not in ([], None)})
        return FidesImport(registry, self.unmapped, self.assumptions)

    def _special_of(self, category: str) -> dict[str, str]:
        kind, ground, _ = self.special.get(category, (None, None, ""))
        return {k: v for k, v in (("special", kind), ("condition", ground)) if v}

    def _owner_of(self, node: str) -> str:
        for system in self.out_systems:
            if system["id"] == node:
                return system["owner"]
        return node


def _unique(seen: dict[tuple[str, str], str], section: str, item: Any, where: str) -> None:
    if not isinstance(item, dict) or not item.get("fides_key"):
        return
    key = (section, str(item["fides_key"]))
    if key in seen:
        raise FlowregError(f"duplicate {section} fides_key '{key[1]}': {seen[key]} and {where}")
    seen[key] = where
