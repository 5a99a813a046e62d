"""Import Fides (fideslang) system manifests into a flowreg registry document.

Fides describes systems, what each processes (privacy declarations: data categories, data use,
data subjects) and which systems exchange data (egress/ingress). flowreg needs a bit more: where
each system is, who runs it, and hop-by-hop flows. The mapping:
- the manifest's `organization` becomes the registry's organisation and an affiliate party that
  owns the organisation's own systems; a third-party system (`vendor_id`, or `system_type`
  "Third Party"/"Vendor") gets a party of its own (kind service_provider) that owns it;
- data categories keep their fideslang keys (already dotted: `user.contact.email`), every
  ancestor is added; data subjects become subject groups;
- `ingress` from `user` (or, for an own system, no ingress at all) becomes collection flows from
  each declaration's data subjects; `egress`/`ingress` between systems become flows carrying the
  categories the entry names, else those of the declarations that point at the other system,
  else all the sender's declared categories; purpose = data use, legal basis and retention from
  the declaration;
- a vendor's single `third_country_transfers` country becomes its country, and
  `legal_basis_for_transfers: [SCCs]` an SCC mechanism between the organisation and the vendor.
What cannot be mapped (datasets, dependencies without data, third countries that cannot be tied
to a hop, DPIA and cookie fields...) is returned in `unmapped`; guesses the import had to make
(retention "13 months" as 390 days, a hosting country) are returned in `assumptions`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from registry.errors import FlowregError, RegistryError
from registry.fides_mapping import ImportNote, SystemMapper
from registry.fides_vocabulary import humanise, normalised
from registry.loader import load_registry_data
from registry.model import Registry
from registry.yamlsource import load_yaml_file


@dataclass
class FidesImport:
    """The registry built from the manifests, and what did not carry over."""

    registry: Registry
    unmapped: list[ImportNote] = field(default_factory=list)
    assumptions: list[ImportNote] = field(default_factory=list)


def import_fides_files(paths: Iterable[str | Path], **options: Any) -> FidesImport:
    """Read one or more manifest files (YAML) and import them together."""
    documents = []
    for path in paths:
        # The one bounded, alias-guarded YAML reader (registry.yamlsource), as for registries.
        try:
            parsed = load_yaml_file(path)
        except RegistryError as exc:
            raise FlowregError(f"{path}: {'; '.join(str(i) for i in exc.issues)}") from None
        if parsed.issues:
            raise FlowregError(f"{path} is not valid YAML: "
                               f"{'; '.join(str(i) for i in parsed.issues[:5])}")
        documents.append((str(path), parsed.value))
    return import_fides(documents, **options)


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
    cannot read at all, RegistryError if the result does not validate.
    """
    return _Importer(organization, country, subject_location).run(documents)


class _Importer(SystemMapper):
    """Walks the manifests, maps every system, and assembles the registry document."""

    def run(self, documents: list[tuple[str, Any]]) -> FidesImport:
        systems: list[tuple[str, dict[str, Any]]] = []
        orgs: list[dict[str, Any]] = []
        for name, data in documents:
            if not isinstance(data, dict):
                raise FlowregError(f"{name}: a Fides manifest is a mapping with a 'system' list")
            for key, value in data.items():
                if key == "system":
                    if not isinstance(value, list):
                        raise FlowregError(f"{name}: 'system' must be a list of systems")
                    systems += [
                        (f"{name}: system[{i}]", normalised(s) if isinstance(s, dict) else s) for i, s in enumerate(value)
                    ]
                elif key == "organization":
                    orgs += _mappings(value)
                elif key in ("data_category", "data_subject"):
                    names = self.category_names if key == "data_category" else self.subject_names
                    names.update({str(c["fides_key"]): str(c.get("name") or "") for c in _mappings(value) if c.get("fides_key")})
                elif key == "dataset":
                    for ds in _mappings(value):
                        self._skip(f"{name}: dataset {ds.get('fides_key', '?')}", "",
                                   "datasets are storage inside a system, not a flowreg node; their field categories are not imported")
                else:
                    count = len(value) if isinstance(value, list) else 1
                    self._skip(f"{name}: {key}", f"{count} item(s)", "no flowreg equivalent")
        if not systems:
            raise FlowregError("the Fides manifest has no systems ('system:' list)")
        org = orgs[0] if orgs else {}
        org_name = self.org_name or org.get("name") or org.get("fides_key") or "Imported from Fides"
        self.org_party = self._id(org.get("fides_key") or "organization")
        party = {"id": self.org_party, "name": org_name, "kind": "affiliate", "source": "Fides organization"}
        if self.country:
            party["country"] = self.country
        else:
            self._skip("organization", org_name, "Fides has no seat country; pass --country (the engine needs locations)")
        self.parties.append(party)

        self.reserve_categories(
            c for _, s in systems if isinstance(s, dict)
            for part in (*s.get("privacy_declarations", []), *s.get("ingress", []), *s.get("egress", []))
            if isinstance(part, dict) for c in part.get("data_categories", [])
        )
        for path, system in systems:
            self._system(path, system)
        # Systems another system sends data to are fed, not collecting from subjects themselves.
        self.fed = {
            str(e.get("fides_key")) for _, s in systems for e in s.get("egress") or []
            if isinstance(e, dict) and e.get("type") == "system"
        }
        for path, system in systems:
            self._system_flows(path, system)
        return self._result(org_name)

    def _result(self, org_name: str) -> FidesImport:
        flows = [f for f in self.flows.values() if f["carries"]]
        used_subjects = {f["from"] for f in flows}
        subjects = []
        for key, sid in self.subjects.items():
            if sid not in used_subjects:
                continue
            group: dict[str, Any] = {"id": sid, "name": self.subject_names.get(key) or humanise(key), "source": f"Fides data subject {key}"}
            if self.subject_location:
                group["location"] = self.subject_location
            subjects.append(group)
        if subjects and not self.subject_location:
            self._skip("data_subjects", ", ".join(s["id"] for s in subjects), "Fides has no subject locations; pass --subject-location (e.g. EEA)")
        for party in self.parties:
            if party["kind"] == "service_provider" and any(
                f["role"] == "subprocessor" and self.systems_by_id().get(f["to"], {}).get("owner") == party["id"] for f in flows
            ):
                party["kind"] = "subprocessor"
        document = {
            "flowreg": 1,
            "organization": org_name,
            "source": "Imported from Fides system manifests",
            "categories": [{"id": c, "name": n or c} for c, n in sorted(self.categories.items())],
            "subjects": subjects,
            "parties": self.parties,
            "systems": [{k: v for k, v in s.items() if not k.startswith("_")} for s in self.systems.values()],
            "mechanisms": self.mechanisms,
            "flows": flows,
        }
        for flow in flows:
            vendor = self.systems_by_id().get(flow["to"])
            if vendor and vendor["_vendor"]:
                flow["under"] = [m["id"] for m in self.mechanisms if vendor["owner"] in m["members"]]
                if not flow["under"]:
                    del flow["under"]
        registry = load_registry_data({k: v for k, v in document.items() if v != []})
        return FidesImport(registry, self.unmapped, self.assumptions)


def _mappings(value: Any) -> list[dict[str, Any]]:
    """The mappings in a manifest list (anything else in it is ignored)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
