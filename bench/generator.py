"""A seeded, deterministic synthetic registry of enterprise shape, at any number of flows.

The shape follows issue 7 and a real privacy programme:

- a category tree of about 300 nodes, three to four levels deep (`account.contact.email`);
- subject groups in several regimes (EEA, single EEA states, GB, CH, US and others, a group
  spanning several places, one whose location is unknown);
- group companies (affiliates) in about 20 countries with an EU BCR (a UK and a Swiss one too),
  a few recent acquisitions outside it;
- vendors of every party kind across 40 countries: tier-1 vendors contract with one affiliate,
  tier-2 vendors are their sub-processors; SCC contracts of version 2010/87 and 2021/914 with
  signature dates (repapered, never repapered, signed too late), IDTAs for UK exporters,
  Privacy Shield, DPF and UK/Swiss certifications of US vendors;
- flows as chains of 1 to 10 hops: subject group (or a data source) -> system -> ... -> system
  -> vendor -> sub-processor -> ..., where systems are layered in 7 tiers so chains never loop;
  most hops claim a fitting tool, some claim nothing, a stale framework or a derogation; a few
  nodes have no location; some flows start later or have ended;
- a few rules (deny and retention promises).

Nodes scale with flows (about one system or party per 10 flows); categories and subject groups
barely do. Everything comes from one `random.Random` seeded by text, so the same size and seed
give the same registry in any process. `write_json` streams the flows to a file and keeps only
the small part (nodes, mechanisms) in memory, so 1M flows need little more than the flows'
text on disk.
"""

from __future__ import annotations

import functools
import json
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SEED = 7
SIZES = {"1k": 1_000, "10k": 10_000, "100k": 100_000, "1m": 1_000_000}
AS_OF = "2024-06-30"  # the date the benchmark asks about: DPF in force, Privacy Shield gone
WHAT_IF_FROM = "2024-01-01"

EEA = ["DE", "FR", "NL", "IE", "IT", "ES", "SE", "PL", "AT", "BE", "DK", "FI", "NO", "PT", "CZ", "LU"]
# 40 countries: the EEA states above, the UK and Switzerland, adequate destinations, and others.
COUNTRIES = EEA + ["GB", "CH", "CA", "JP", "KR", "IL", "NZ", "UY", "AR", "US", "BR", "IN", "CN",
                   "SG", "AU", "ZA", "MX", "AE", "PH", "TR", "UA", "ID", "NG", "HK"]
# Vendors sit mostly in the US, then in the big EEA markets, the UK and India.
VENDOR_COUNTRY_WEIGHTS = {c: 1 for c in COUNTRIES} | {
    "US": 30, "DE": 5, "IE": 4, "FR": 3, "NL": 3, "GB": 6, "IN": 6, "CA": 3, "JP": 2, "SG": 2,
}
AFFILIATE_COUNTRIES = ["US", "IE", "GB", "DE", "FR", "NL", "CH", "JP", "BR", "IN", "SG", "AU",
                       "CA", "ES", "IT", "SE", "PL", "KR", "MX", "IL"]
CLOUD_REGIONS = ["US", "IE", "DE", "NL", "GB", "SG", "JP", "AU", "IN", "BR"]

ROOTS = [
    ("account", "Customer account data"), ("usage", "Usage data"),
    ("content", "Communication content"), ("billing", "Billing data"),
    ("support", "Support data"), ("marketing", "Marketing data"),
    ("hr", "Employee data"), ("security", "Security and fraud data"),
]
WORDS = ["contact", "profile", "identifiers", "preferences", "history", "records", "metadata",
         "logs", "payments", "devices", "location", "media", "messages", "documents", "scores",
         "settings", "consents", "tickets", "recordings", "transcripts", "credentials",
         "contracts", "invoices", "events", "segments", "signals", "notes", "attachments",
         "statistics", "claims"]
SUBJECT_PLACES: list[tuple[str, Any]] = [
    ("eea", "EEA"), ("de", "DE"), ("fr", "FR"), ("nl", "NL"), ("gb", "GB"), ("ch", "CH"),
    ("us", "US"), ("ca", "CA"), ("br", "BR"), ("jp", "JP"), ("in", "IN"), ("au", "AU"),
    ("global", ["EEA", "GB", "US"]), ("unknown", None),
]
SUBJECT_KINDS = ["customers", "end-users", "prospects", "employees", "visitors"]
VENDOR_KINDS = {
    "subprocessor": 35, "service_provider": 22, "carrier": 10, "ott_provider": 3,
    "addon_partner": 10, "authority": 4, "data_source": 6, "other": 10,
}
TIER2_KINDS = {"subprocessor": 60, "service_provider": 25, "carrier": 10, "other": 5}
PURPOSES = {
    "collection": ["service delivery", "account management", "marketing", "customer support",
                   "billing", "fraud prevention"],
    "internal": ["record storage", "analytics", "billing", "customer support", "security",
                 "infrastructure hosting"],
    "subprocessor": ["infrastructure hosting", "transcription", "service delivery"],
    "service_provider": ["payment processing", "customer insight", "marketing"],
    "carrier": ["communications routing"], "ott_provider": ["communications routing"],
    "addon_partner": ["optional add-on features"], "authority": ["legal compliance"],
    "data_source": ["customer insight"], "other": ["corporate transaction", "troubleshooting"],
    "affiliate": ["service delivery"],
}
# Chain lengths 1..10 (flows per chain): most are short, some reach ten hops.
LENGTH_WEIGHTS = [5, 15, 20, 18, 14, 10, 7, 5, 3, 3]
SYSTEM_TIERS = [0.20, 0.20, 0.16, 0.14, 0.12, 0.10, 0.08]
BCR_EU, BCR_UK, BCR_CH = "bcr-eu", "bcr-uk", "bcr-ch"
DEROGATIONS = {"der-consent": "49-1-a", "der-contract": "49-1-b", "der-claims": "49-1-e"}


def parse_size(text: str) -> int:
    """'1k' -> 1000, '1m' -> 1000000, '250' -> 250.

    >>> parse_size("10k"), parse_size("1M"), parse_size("200")
    (10000, 1000000, 200)
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*", text)
    if not match:
        raise ValueError(f"not a size: {text!r} (use e.g. 200, 1k, 100k, 1m)")
    scale = {"": 1, "k": 1_000, "m": 1_000_000}[match[2].lower()]
    return int(float(match[1]) * scale)


def size_label(flows: int) -> str:
    """1000 -> '1k', 1000000 -> '1m', 250 -> '250'."""
    for label, value in SIZES.items():
        if value == flows:
            return label
    return str(flows)


@dataclass
class Synthetic:
    """A generated registry and the probes the benchmark asks about (ids known to exist)."""

    registry: dict[str, Any]
    probes: dict[str, Any]


@dataclass
class _Node:
    id: str
    org: int | None  # affiliate index for systems and affiliates; None for vendors and groups
    country: str | None


@dataclass
class _Vendor:
    id: str
    kind: str
    country: str | None
    tier: int
    contractor: int | None = None  # tier 1: the affiliate that signed with it
    parent: int | None = None  # tier 2: the tier-1 vendor it works for
    claims: list[str] = field(default_factory=list)
    certified: bool = False


class _Builder:
    """Builds the small part (categories .. rules) eagerly and yields flows lazily."""

    def __init__(self, flows: int, seed: int) -> None:
        if flows < 1:
            raise ValueError("a synthetic registry needs at least one flow")
        self.n = flows
        self.seed = seed
        self.rng = random.Random(f"flowreg-bench/{seed}")
        nodes = max(60, flows // 10)
        self.n_affiliates = min(300, max(5, nodes // 20))
        self.n_vendors = int(nodes * 0.4)
        self.n_systems = nodes - self.n_affiliates - self.n_vendors
        self.probe_leaves: dict[str, None] = {}
        self.probe_paths: list[tuple[str, str, str]] = []
        self._categories()
        self._subjects()
        self._affiliates()
        self._vendors()
        self._systems()
        self._mechanisms()
        self._rules()

    # --- the small part --------------------------------------------------------------------
    def _categories(self) -> None:
        rng = self.rng
        self.categories: list[dict[str, Any]] = []
        self.children: dict[str, list[str]] = {}
        self.by_depth: dict[int, list[str]] = {1: [], 2: [], 3: [], 4: []}

        def add(cid: str, name: str, depth: int) -> None:
            self.categories.append({"id": cid, "name": name})
            self.children[cid] = []
            self.by_depth[depth].append(cid)
            parent, dot, _ = cid.rpartition(".")
            if dot:
                self.children[parent].append(cid)

        for root, name in ROOTS:
            add(root, name, 1)
            for w2 in rng.sample(WORDS, 4):
                c2 = f"{root}.{w2}"
                add(c2, f"{name}: {w2}", 2)
                for w3 in rng.sample([w for w in WORDS if w != w2], 4):
                    c3 = f"{c2}.{w3}"
                    add(c3, f"{name}: {w2}, {w3}", 3)
                    unused = [w for w in WORDS if w not in (w2, w3)]
                    for w4 in rng.sample(unused, rng.choice([0, 1, 1, 2])):
                        add(f"{c3}.{w4}", f"{name}: {w2}, {w3}, {w4}", 4)
        self.deep = self.by_depth[3] + self.by_depth[4]

    def _subjects(self) -> None:
        count = len(SUBJECT_PLACES) + self.n // 20_000
        self.subjects: list[dict[str, Any]] = []
        self.subject_nodes: list[_Node] = []
        for i in range(count):
            place, location = SUBJECT_PLACES[i % len(SUBJECT_PLACES)]
            kind = SUBJECT_KINDS[i % len(SUBJECT_KINDS)]
            sid = f"sg{i:03d}-{kind}-{place}"
            element: dict[str, Any] = {"id": sid, "name": f"{kind.replace('-', ' ').capitalize()} ({place})"}
            if location is not None:
                element["location"] = location
            self.subjects.append(element)
            first = location if isinstance(location, str) else (location or [None])[0]
            self.subject_nodes.append(_Node(sid, None, first))
        # The group with no location is a rare start of a chain.
        self.subject_weights = [0.2 if s.country is None else 1.0 for s in self.subject_nodes]

    def _affiliates(self) -> None:
        self.affiliates: list[_Node] = []
        self.parties: list[dict[str, Any]] = []
        self.bcr_members: list[str] = []
        for i in range(self.n_affiliates):
            country = AFFILIATE_COUNTRIES[i % len(AFFILIATE_COUNTRIES)]
            aid = f"aff{i:03d}-{country.lower()}"
            role = "headquarters" if i == 0 else "EU hub" if i == 1 else "group company"
            party: dict[str, Any] = {"id": aid, "name": f"Synthetic Corp {country} {i} ({role})",
                                     "kind": "affiliate", "country": country}
            if country == "US":
                party["certifications"] = [
                    {"framework": "eu-us-privacy-shield", "valid_from": "2016-09-30"},
                    {"framework": "eu-us-dpf", "valid_from": "2023-07-17"},
                    {"framework": "uk-us-data-bridge", "valid_from": "2023-10-12"},
                ]
            self.parties.append(party)
            self.affiliates.append(_Node(aid, i, country))
            if i % 10 != 9:  # every tenth is a recent acquisition, not yet bound by the BCR
                self.bcr_members.append(aid)
        # The headquarters and the EU hub own most systems and most vendor contracts.
        self.affiliate_weights = [25.0, 20.0] + [55.0 / max(1, self.n_affiliates - 2)] * (self.n_affiliates - 2)

    def _vendors(self) -> None:
        rng = self.rng
        self.vendors: list[_Vendor] = []
        countries, cweights = list(VENDOR_COUNTRY_WEIGHTS), list(VENDOR_COUNTRY_WEIGHTS.values())
        n_tier1 = max(1, int(self.n_vendors * 0.7))
        for j in range(self.n_vendors):
            tier = 1 if j < n_tier1 else 2
            table = VENDOR_KINDS if tier == 1 else TIER2_KINDS
            kind = rng.choices(list(table), weights=list(table.values()))[0]
            country = None if rng.random() < 0.005 else rng.choices(countries, weights=cweights)[0]
            vid = f"v{j:06d}-{kind.replace('_', '-')}"
            vendor = _Vendor(vid, kind, country, tier)
            if tier == 1:
                vendor.contractor = rng.choices(range(self.n_affiliates), weights=self.affiliate_weights)[0]
            else:
                vendor.parent = rng.randrange(n_tier1)
            party: dict[str, Any] = {"id": vid, "name": f"Vendor {j} ({kind.replace('_', ' ')})", "kind": kind}
            if country:
                party["country"] = country
            if country == "US":
                certifications = self._certifications()
                if certifications:
                    party["certifications"] = certifications
                    vendor.certified = True
            if kind == "subprocessor":
                listed = rng.random()
                if listed < 0.85:
                    party["public_list"] = True
                elif listed < 0.90:
                    party["public_list"] = False
                if rng.random() < 0.8:
                    party["notice_given"] = _day(rng, 2015, 2023)
            if rng.random() < 0.2:
                party["url"] = f"https://vendor{j}.example/privacy"
            self.parties.append(party)
            self.vendors.append(vendor)
        self.recipients1 = [j for j, v in enumerate(self.vendors) if v.tier == 1 and v.kind != "data_source"]
        self.tier2 = [j for j, v in enumerate(self.vendors) if v.tier == 2]
        self.sources = [j for j, v in enumerate(self.vendors) if v.kind == "data_source"]
        self.vendors_of: dict[int, list[int]] = {}
        self.subs_of: dict[int, list[int]] = {}
        for j in self.recipients1:
            self.vendors_of.setdefault(self.vendors[j].contractor, []).append(j)  # type: ignore[arg-type]
        for j in self.tier2:
            self.subs_of.setdefault(self.vendors[j].parent, []).append(j)  # type: ignore[arg-type]

    def _certifications(self) -> list[dict[str, Any]]:
        rng = self.rng
        out = []
        if rng.random() < 0.55:
            out.append({"framework": "eu-us-privacy-shield", "valid_from": _day(rng, 2016, 2018, first_month=8)})
        if rng.random() < 0.2:
            out.append({"framework": "swiss-us-privacy-shield", "valid_from": _day(rng, 2017, 2019, first_month=5)})
        if rng.random() < 0.6:
            out.append({"framework": "eu-us-dpf", "valid_from": _day(rng, 2023, 2025, first_month=8)})
            if rng.random() < 0.6:
                out.append({"framework": "uk-us-data-bridge", "valid_from": _day(rng, 2023, 2025, first_month=11)})
            if rng.random() < 0.3:
                out.append({"framework": "swiss-us-dpf", "valid_from": _day(rng, 2024, 2025, first_month=10)})
        return out

    def _systems(self) -> None:
        rng = self.rng
        self.systems: list[dict[str, Any]] = []
        self.system_nodes: list[_Node] = []
        self.tiers: list[list[int]] = [[] for _ in SYSTEM_TIERS]
        bounds, total = [], 0.0
        for share in SYSTEM_TIERS:
            total += share
            bounds.append(total)
        for k in range(self.n_systems):
            tier = next(t for t, b in enumerate(bounds) if k < b * self.n_systems or t == len(bounds) - 1)
            owner = rng.choices(range(self.n_affiliates), weights=self.affiliate_weights)[0]
            where = rng.random()
            if where < 0.005:
                country = None
            elif where < 0.75:
                country = self.affiliates[owner].country
            else:
                country = rng.choice(CLOUD_REGIONS)
            sid = f"s{k:06d}-t{tier}"
            system: dict[str, Any] = {"id": sid, "name": f"System {k} (tier {tier})",
                                      "owner": self.affiliates[owner].id}
            if country:
                system["country"] = country
            if rng.random() < 0.5:
                system["retention_days"] = rng.choice([30, 60, 90, 365, 730, 1095, 2555])
            self.systems.append(system)
            self.system_nodes.append(_Node(sid, owner, country))
            self.tiers[tier].append(k)
        for tier, members in enumerate(self.tiers):
            if not members:  # tiny registries: borrow a system so every tier exists
                self.tiers[tier] = [self.tiers[tier - 1][-1]] if tier else [0]

    def _mechanisms(self) -> None:
        rng = self.rng
        self.mechanisms: list[dict[str, Any]] = [
            {"id": BCR_EU, "name": "Group BCR (controller)", "kind": "bcr", "regime": "eu",
             "valid_from": "2018-05-31", "members": self.bcr_members},
            {"id": BCR_UK, "name": "Group BCR (UK)", "kind": "bcr", "regime": "uk",
             "valid_from": "2022-03-01", "members": self.bcr_members},
            {"id": BCR_CH, "name": "Group BCR (Switzerland)", "kind": "bcr", "regime": "ch",
             "valid_from": "2023-09-01", "members": self.bcr_members},
        ]
        for mid, ground in DEROGATIONS.items():
            self.mechanisms.append({"id": mid, "kind": "derogation", "ground": ground})
        for j, vendor in enumerate(self.vendors):
            if vendor.kind in ("data_source", "authority") or vendor.country in EEA or vendor.country is None:
                continue
            if vendor.tier == 1:
                exporter = self.affiliates[vendor.contractor]  # type: ignore[index]
                module = "c2p"
            else:
                exporter = _Node(self.vendors[vendor.parent].id, None, None)  # type: ignore[index]
                module = "p2p"
            members = [exporter.id, vendor.id]
            scenario = rng.random()
            scc = functools.partial(self._scc, j, vendor, members, module)
            if scenario < 0.45:
                scc("a", "2021/914", _day(rng, 2021, 2023, first_month=7))
            elif scenario < 0.70:  # repapered: the old contract and its 2021/914 successor
                scc("a", "2010/87", _day(rng, 2012, 2020))
                scc("b", "2021/914", _day(rng, 2022, 2022))
            elif scenario < 0.80:  # never repapered: invalid after 2022-12-27
                scc("a", "2010/87", _day(rng, 2012, 2020))
            elif scenario < 0.85:  # signed on the old clauses after they closed
                scc("a", "2010/87", _day(rng, 2021, 2021, first_month=10))
            if exporter.country == "GB":
                mid = f"idta-{j:06d}"
                self.mechanisms.append({"id": mid, "kind": "idta", "regime": "uk",
                                        "valid_from": _day(rng, 2022, 2023, first_month=4),
                                        "members": members})
                vendor.claims.append(mid)
            if exporter.country == "CH":
                scc("ch", "2021/914", _day(rng, 2021, 2023, first_month=9), regime="ch")

    def _scc(self, j: int, vendor: _Vendor, members: list[str], module: str, suffix: str,
             version: str, signed: str, regime: str = "eu") -> None:
        mid = f"scc-{j:06d}-{suffix}"
        element: dict[str, Any] = {"id": mid, "kind": "scc", "version": version,
                                   "valid_from": signed, "members": members}
        if regime != "eu":
            element["regime"] = regime
        if version == "2021/914":
            element["module"] = module
        self.mechanisms.append(element)
        vendor.claims.append(mid)

    def _rules(self) -> None:
        provider = next((v.id for v in self.vendors if v.kind == "service_provider"), self.vendors[0].id)
        content_part = self.children["content"][0]
        self.rules: list[dict[str, Any]] = [
            {"id": "rule-no-content-to-addons", "description": "Message content never goes to add-on partners",
             "deny": {"categories": ["content"], "to_kinds": ["addon_partner"]}},
            {"id": "rule-no-hr-to-carriers", "description": "Employee data never leaves through carriers or OTT providers",
             "deny": {"categories": ["hr"], "to_kinds": ["carrier", "ott_provider"]}},
            {"id": "rule-no-security-marketing", "description": "Fraud signals are not used for marketing",
             "deny": {"categories": ["security"], "purposes": ["marketing"]}},
            {"id": "rule-no-content-to-provider", "description": f"No {content_part} to {provider}",
             "deny": {"categories": [content_part], "to": [provider]}},
            {"id": "rule-support-3y", "description": "Support data is kept at most 3 years",
             "retention": {"categories": ["support"], "max_days": 1095}},
            {"id": "rule-usage-1y", "description": "Usage data is kept at most 1 year",
             "retention": {"categories": ["usage"], "max_days": 365}},
        ]

    # --- flows -------------------------------------------------------------------------------
    def flows(self) -> Iterator[dict[str, Any]]:
        """Yield exactly `n` flows, chain by chain."""
        made = 0
        while made < self.n:
            for flow in self._chain():
                if made >= self.n:
                    return
                flow["id"] = f"f{made:07d}"
                made += 1
                yield flow

    def _carried(self) -> list[str]:
        rng = self.rng
        pick = rng.random()
        if pick < 0.02:
            first = rng.choice(self.by_depth[1])
        elif pick < 0.20:
            first = rng.choice(self.by_depth[2])
        else:
            first = rng.choice(self.deep)
        carried = [first]
        extra = rng.random()
        root = first.split(".", 1)[0]
        family = [c for c in self.by_depth[2] if c.startswith(root + ".")]
        for _ in range(2 if extra < 0.05 else 1 if extra < 0.25 else 0):
            other = rng.choice(family)
            if all(not (other + ".").startswith(c + ".") and not (c + ".").startswith(other + ".") for c in carried):
                carried.append(other)
        return carried

    def _chain(self) -> list[dict[str, Any]]:
        rng = self.rng
        length = rng.choices(range(1, 11), weights=LENGTH_WEIGHTS)[0]
        party_hops = 0 if length == 1 else min(length - 1, rng.choices([0, 1, 2, 3], weights=[25, 40, 25, 10])[0])
        internal = length - 1 - party_hops
        if internal > len(SYSTEM_TIERS) - 1:
            party_hops += internal - (len(SYSTEM_TIERS) - 1)
            internal = len(SYSTEM_TIERS) - 1
        carried = self._carried()
        out: list[dict[str, Any]] = []

        # hop 0: collection from a subject group, or a data source selling data in
        if self.sources and rng.random() < 0.03:
            source = rng.choice(self.sources)
            start_id, start, kind = self.vendors[source].id, ("v", source), "inbound"
        else:
            g = rng.choices(range(len(self.subject_nodes)), weights=self.subject_weights)[0]
            start: tuple[str, int] = ("g", g)
            start_id, kind = self.subject_nodes[g].id, "collection"
        tier = 0
        system = rng.choice(self.tiers[0])
        out.append(self._flow(start_id, ("s", system), carried, kind, start))
        first_source = start_id

        for left in range(internal, 0, -1):
            step = 2 if rng.random() < 0.2 and tier + 2 + (left - 1) <= len(SYSTEM_TIERS) - 1 else 1
            tier += step
            nxt = rng.choice(self.tiers[tier])
            carried = self._narrow(carried)
            out.append(self._flow(self.system_nodes[system].id, ("s", nxt), carried, "internal", ("s", system)))
            system = nxt

        current: tuple[str, int] = ("s", system)
        for hop in range(party_hops):
            carried = self._narrow(carried)
            if hop == 0:
                owner = self.system_nodes[system].org
                mine = self.vendors_of.get(owner, [])  # type: ignore[arg-type]
                j = rng.choice(mine) if mine and rng.random() < 0.85 else rng.choice(self.recipients1)
            else:
                subs = self.subs_of.get(current[1], []) if hop == 1 else []
                if subs and rng.random() < 0.85:
                    j = rng.choice(subs)
                elif self.tier2:
                    j = rng.choice(self.tier2)
                else:
                    j = rng.choice(self.recipients1)
                if j == current[1]:
                    break
            source_id = self._id(current)
            out.append(self._flow(source_id, ("v", j), carried, "vendor", current))
            current = ("v", j)

        if len(out) >= 4 and party_hops >= 1 and len(self.probe_paths) < 40 and kind == "collection":
            self.probe_paths.append((first_source, self.vendors[current[1]].id if current[0] == "v" else self._id(current),
                                     out[-1]["carries"][0].split(".", 1)[0]))
        for c in out[-1]["carries"]:
            if not self.children[c] and len(self.probe_leaves) < 40:
                self.probe_leaves[c] = None
        return out

    def _narrow(self, carried: list[str]) -> list[str]:
        if self.rng.random() < 0.25 and self.children[carried[0]]:
            return [self.rng.choice(self.children[carried[0]])]
        return carried

    def _id(self, node: tuple[str, int]) -> str:
        kind, index = node
        if kind == "s":
            return self.system_nodes[index].id
        if kind == "v":
            return self.vendors[index].id
        return self.subject_nodes[index].id

    def _place(self, node: tuple[str, int]) -> tuple[str | None, int | None]:
        """(country, affiliate index) of a node; vendors have no affiliate index."""
        kind, index = node
        if kind == "s":
            n = self.system_nodes[index]
            return n.country, n.org
        if kind == "v":
            return self.vendors[index].country, None
        return self.subject_nodes[index].country, None

    def _flow(self, source: str, target: tuple[str, int], carried: list[str], kind: str,
              source_node: tuple[str, int]) -> dict[str, Any]:
        rng = self.rng
        flow: dict[str, Any] = {"id": "", "from": source, "to": self._id(target), "carries": list(carried)}
        purposes = PURPOSES["data_source" if kind == "inbound" else "internal"]
        if kind == "collection":
            purposes = PURPOSES["collection"]
            if rng.random() < 0.6:
                flow["legal_basis"] = rng.choice(["contract", "consent", "legitimate_interest"])
        elif kind == "vendor":
            vendor = self.vendors[target[1]]
            purposes = PURPOSES[vendor.kind]
            flow["role"] = ("subprocessor" if source_node[0] == "v" else
                            "third_party" if vendor.kind in ("authority", "addon_partner") else "processor")
            under = self._vendor_claims(source_node, vendor)
            if under:
                flow["under"] = under
            if vendor.kind == "authority":
                flow["frequency"] = "occasional"
        elif kind == "internal":
            under = self._group_claims(source_node, target)
            if under:
                flow["under"] = under
        flow["purpose"] = rng.choice(purposes)
        if kind != "collection" and rng.random() < 0.01:  # a derogation standing in for a tool
            flow["under"] = [rng.choice(["der-consent", "der-contract"])]
            if rng.random() < 0.5:
                flow["frequency"] = "occasional"
        window = rng.random()
        if window < 0.04:
            flow["valid_from"] = _day(rng, 2024, 2026, first_month=9)
        elif window < 0.08:
            flow["valid_from"] = _day(rng, 2014, 2018)
            flow["valid_until"] = _day(rng, 2019, 2024, last_month=5)
        elif window < 0.28:
            flow["valid_from"] = _day(rng, 2014, 2023)
        if rng.random() < 0.1:
            flow["retention_days"] = rng.choice([30, 90, 365, 730, 1825])
        return flow

    def _group_claims(self, source: tuple[str, int], target: tuple[str, int]) -> list[str]:
        (c1, _), (c2, _) = self._place(source), self._place(target)
        if c1 is None or c2 is None or c1 == c2:
            return []
        pick = self.rng.random()
        if pick < 0.03:
            return []  # forgotten: uncovered wherever a tool is needed
        if pick < 0.20:
            return [BCR_EU]
        return [BCR_EU, BCR_UK, BCR_CH]

    def _vendor_claims(self, source: tuple[str, int], vendor: _Vendor) -> list[str]:
        rng = self.rng
        if vendor.kind == "authority":
            return ["der-claims"] if rng.random() < 0.6 else []
        if rng.random() < 0.04:
            return []
        claims = list(vendor.claims)
        if vendor.certified:
            if rng.random() < 0.5:
                claims.append("eu-us-dpf")
            if rng.random() < 0.2:
                claims.append("eu-us-privacy-shield")  # a stale claim left from 2017
        return claims

    # --- output ------------------------------------------------------------------------------
    def header(self) -> dict[str, Any]:
        return {
            "flowreg": 1,
            "organization": f"Synthetic Corp ({self.n} flows, seed {self.seed})",
            "source": "bench/generator.py: synthetic, deterministic; no real organisation",
        }

    def static_sections(self) -> dict[str, list[dict[str, Any]]]:
        vendor_parties = self.parties
        return {
            "categories": self.categories, "subjects": self.subjects, "parties": vendor_parties,
            "systems": self.systems, "mechanisms": self.mechanisms, "rules": self.rules,
        }

    def probes(self) -> dict[str, Any]:
        """Ids the benchmark queries; call after the flows were generated."""
        vendors = [v.id for v in self.vendors if v.tier == 1 and v.kind in ("subprocessor", "service_provider")]
        claimed = next((m for v in self.vendors for m in v.claims if m.startswith("scc-")), BCR_EU)
        registrar = self.system_nodes[self.tiers[3][0]]
        return {
            "as_of": AS_OF,
            "what_if_from": WHAT_IF_FROM,
            "roots": [r for r, _ in ROOTS],
            "leaves": list(self.probe_leaves) or self.deep[:10],
            "vendors": vendors[:: max(1, len(vendors) // 20)][:20],
            "affiliates": [self.affiliates[0].id, self.affiliates[1].id],
            "paths": self.probe_paths[:20],
            "tools": ["eu-us-dpf", BCR_EU, claimed],
            "register_from": registrar.id,
            "register_categories": [self.deep[0]],
        }


def _day(rng: random.Random, first_year: int, last_year: int, *, first_month: int = 1,
         last_month: int = 12) -> str:
    """A random day from `first_month` of the first year to `last_month` of the last year."""
    year = rng.randint(first_year, last_year)
    low = first_month if year == first_year else 1
    high = last_month if year == last_year else 12
    return f"{year}-{rng.randint(low, max(low, high)):02d}-{rng.randint(1, 28):02d}"


def build(flows: int, seed: int = SEED) -> Synthetic:
    """The registry (a format-1 dict that passes `load_registry_data`) and its probes."""
    builder = _Builder(flows, seed)
    registry = {**builder.header(), **builder.static_sections()}
    registry["flows"] = list(builder.flows())
    return Synthetic(registry, builder.probes())


def generate(flows: int, seed: int = SEED) -> dict[str, Any]:
    """A synthetic registry with exactly `flows` flows, the same for the same arguments.

    >>> len(generate(50)["flows"]), generate(50) == generate(50)
    (50, True)
    """
    return build(flows, seed).registry


def write_json(path: str | Path, flows: int, seed: int = SEED) -> dict[str, Any]:
    """Stream the registry of `generate(flows, seed)` to `path` as JSON; return its probes.

    Flows are written as they are made (one per line), so memory stays small at 1M flows.
    """
    builder = _Builder(flows, seed)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as out:
        head = json.dumps({**builder.header(), **builder.static_sections()}, separators=(",", ":"))
        out.write(head[:-1] + ',\n"flows":[\n')
        encode = json.JSONEncoder(separators=(",", ":")).encode
        chunk: list[str] = []
        for i, flow in enumerate(builder.flows()):
            chunk.append(("," if i else "") + encode(flow) + "\n")
            if len(chunk) >= 10_000:
                out.write("".join(chunk))
                chunk.clear()
        out.write("".join(chunk) + "]}\n")
    return builder.probes()
