"""Who runs each Fides system, and on what transfer basis: the owner parties of the import.

An own system (not a vendor's) is run by the organisation's party; a third-party system
(`vendor_id`, or `system_type` "Third Party"/"Vendor") by a party of its own, whose country comes
from whatever the manifest offers (a single `third_country_transfers` country in fideslang 1/2,
the country a `legal_address` ends with in fideslang 3), labelled as a guess; a system flowreg
exported names its owner in `meta.flowreg.owner`. A vendor's `legal_basis_for_transfers` becomes
an SCC or BCR mechanism between the organisation and the vendor; "Adequacy Decision" needs no
claim; the rest is listed.
"""

from __future__ import annotations

from typing import Any

from registry.fides_mapping import SystemMapper
from registry.fides_record import EMPTY, NOTHING, SUPPLEMENTARY_REASON
from registry.fides_vocabulary import alpha2, as_list, country_in_address, flat, transfer_basis


class PartyMapper(SystemMapper):
    """The owner parties and transfer mechanisms of the systems (see the module docstring)."""

    def _owner(self, path: str, s: dict[str, Any], ours: dict[str, Any], vendor: bool) -> tuple[str, str | None]:
        """The party that runs a system, and the system's country as far as the manifest says."""
        key = str(s["fides_key"])
        if isinstance(ours.get("owner"), dict):
            wanted = ours["owner"]
            pid = str(wanted.get("id") or f"{key}-provider")
            if pid not in self.parties:
                party = {k: v for k, v in wanted.items() if k in ("name", "kind", "country", "url", "description")}
                self.parties[pid] = {"id": self._id(pid, exact=True), "source": f"Fides system {key}", **party}
                if pid == self.org_key or party.get("kind") == "affiliate" and not self.parties.get(self.org_key):
                    self.parties.setdefault(self.org_key, self.parties[pid])
            return self.parties[pid]["id"], ours.get("country")
        if not vendor:
            for name in ("third_country_transfers", "legal_name", "legal_address", "privacy_policy"):
                if name in s:
                    self._skip(f"{path}.{name}", flat(s[name]), EMPTY if s[name] in NOTHING else "cannot be tied to a hop: "
                               "this is the organisation's own system; add the recipients (and their countries) it sends data to")
            owner = self.org_party()
            if self.country:
                self._assume(path, key, f"hosted in {self.country} (the organisation's country)")
            else:
                self._skip(path, key, "Fides has no hosting country; pass --country or set it")
            return owner, self.country
        name = s.get("legal_name") or s.get("name") or key
        party: dict[str, Any] = {"id": self._id(f"{key}-provider"), "name": name, "kind": "service_provider",
                                 "source": f"Fides system {key}" + (f" (vendor {s['vendor_id']})" if s.get("vendor_id") else "")}
        if s.get("privacy_policy"):
            party["url"] = str(s["privacy_policy"])
        if s.get("legal_address"):
            party["description"] = f"Legal address: {s['legal_address']}"
        third = [str(c) for c in as_list(s.get("third_country_transfers"))]
        codes = [alpha2(c) for c in third]
        country = None
        if len(codes) == 1 and codes[0]:
            country = codes[0]
            self._assume(f"{path}.third_country_transfers", third[0], f"taken as where {name} is and processes ({country})")
        elif third:
            self._skip(f"{path}.third_country_transfers", third, "several or unknown countries: set the party's country by hand")
        if country is None and s.get("legal_address"):
            country = country_in_address(str(s["legal_address"]))
            if country:
                self._assume(f"{path}.legal_address", s["legal_address"], f"taken as where {name} is and processes ({country})")
        if country:
            party["country"] = country
        else:
            self._skip(path, key, "third-party system without a country; set the party's country")
        self.parties[party["id"]] = party
        return party["id"], country

    def _transfer_bases(self, path: str, s: dict[str, Any], owner: str, vendor: bool) -> None:
        where = f"{path}.legal_basis_for_transfers"
        for basis in as_list(s.get("legal_basis_for_transfers")):
            kind = transfer_basis(basis)
            party = self.parties.get(owner, {})
            if not vendor or owner == self.parties.get(self.org_key, {}).get("id") or kind in (None, "measures"):
                reason = (SUPPLEMENTARY_REASON if kind == "measures" else "cannot be tied to a hop of another organisation" if kind
                          else "no flowreg mechanism can be derived from it")
                self._skip(where, basis, reason)
            elif kind == "adequacy":
                self._assume(where, basis, "needs no claim: flowreg applies adequacy by the destination's country"
                             + (f" ({party['country']})" if party.get("country") else ", which is unknown"))
            else:
                name = party.get("name", owner)
                self.mechanisms.append({
                    "id": self._id(f"{kind}-{s['fides_key']}"), "kind": kind, "members": [self.org_party(), owner],
                    "name": f"{'Standard contractual clauses' if kind == 'scc' else 'Binding corporate rules'} with {name}",
                    "source": f"Fides system {s['fides_key']}",
                })
                self._assume(where, basis, "SCC between the organisation and the vendor; version and signature date unknown"
                             if kind == "scc" else "the vendor's processor BCR, made binding on the organisation by the "
                             "service agreement (both listed as members); approval date unknown")
