"""Compact builders for hand-written test registries.

Each element helper returns `(section, element dict)` pairs (a system also brings its owner);
`registry(...)` assembles them into a registry-format-1 document and declares every category a
flow or rule mentions (with its parents), so a test states only what it is about:

>>> doc = registry(subjects("eea", "NL"), system("web", "NL"), system("crm", "US"),
...                flow("collect", "eea", "web"), flow("hop", "web", "crm"))
>>> sorted(p["id"] for p in doc["parties"]), [c["id"] for c in doc["categories"]]
(['crm-org', 'web-org'], ['c'])

`transfer(...)` builds the most common shape: subjects -> an exporting system -> a receiving
system (or party), with the hop under test called "hop".
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from lineage.evaluation import evaluate
from lineage.graph import RegistryGraph, build_graph
from lineage.status import HopStatus
from registry.loader import load_registry_data
from registry.model import Registry

Item = tuple[str, dict[str, Any]]
Day = date | str

FAR_PAST = "1990-01-01"


def day_of(value: Day) -> date:
    """A date from a date or an ISO string."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def _iso(value: Day | None) -> str | None:
    return None if value is None else day_of(value).isoformat()


def _window(valid_from: Day | None, valid_until: Day | None) -> dict[str, str]:
    out = {}
    if valid_from is not None:
        out["valid_from"] = _iso(valid_from)
    if valid_until is not None:
        out["valid_until"] = _iso(valid_until)
    return out


# --- elements -----------------------------------------------------------------------------------
def category(cid: str, name: str | None = None) -> Item:
    return "categories", {"id": cid, "name": name or cid}


def subjects(sid: str, *locations: str) -> Item:
    """A subject group; no location means the location is unknown."""
    body: dict[str, Any] = {"id": sid, "name": f"group {sid}"}
    if locations:
        body["location"] = list(locations)
    return "subjects", body


Certified = dict[str, Day | tuple[Day | None, Day | None]]


def party(pid: str, country: str | None, kind: str = "other", *, certified: Certified | None = None,
          **extra: Any) -> Item:
    """A party; `certified` maps a framework id to its certification start, or (start, end)."""
    body: dict[str, Any] = {"id": pid, "name": f"party {pid}", "kind": kind}
    if country is not None:
        body["country"] = country
    certs = []
    for framework, when in (certified or {}).items():
        start, end = when if isinstance(when, tuple) else (when, None)
        certs.append({"framework": framework, **_window(start, end)})
    if certs:
        body["certifications"] = certs
    return "parties", {**body, **extra}


def system(sid: str, country: str | None, owner: str | None = None, *, owner_country: str | None = "same",
           owner_kind: str = "other", certified: Certified | None = None, **extra: Any) -> list[Item]:
    """A system; without `owner`, also its owner party `<sid>-org` (same country by default)."""
    body: dict[str, Any] = {"id": sid, "name": f"system {sid}", "owner": owner or f"{sid}-org"}
    if country is not None:
        body["country"] = country
    items: list[Item] = [("systems", {**body, **extra})]
    if owner is None:
        where = country if owner_country == "same" else owner_country
        items.append(party(f"{sid}-org", where, owner_kind, certified=certified))
    return items


def mechanism(mid: str, kind: str, members: Iterable[str] = (), *, regime: str = "eu",
              valid_from: Day | None = None, valid_until: Day | None = None, **extra: Any) -> Item:
    body: dict[str, Any] = {"id": mid, "kind": kind, "regime": regime, **_window(valid_from, valid_until)}
    if members:
        body["members"] = list(members)
    return "mechanisms", {**body, **extra}


def bcr(mid: str, *members: str, regime: str = "eu", since: Day = FAR_PAST) -> Item:
    return mechanism(mid, "bcr", members, regime=regime, valid_from=since)


def scc(mid: str, version: str, *members: str, signed: Day, regime: str = "eu") -> Item:
    """An SCC contract on `version`, signed (valid from) `signed`."""
    return mechanism(mid, "scc", members, regime=regime, valid_from=signed, version=version)


def derogation(mid: str, ground: str = "49-1-a", regime: str = "eu") -> Item:
    return mechanism(mid, "derogation", regime=regime, ground=ground)


def flow(fid: str, src: str, dst: str, carries: str | Iterable[str] = "c", *, under: Iterable[str] = (),
         valid_from: Day | None = None, valid_until: Day | None = None, **extra: Any) -> Item:
    body: dict[str, Any] = {
        "id": fid, "from": src, "to": dst,
        "carries": [carries] if isinstance(carries, str) else list(carries),
        **_window(valid_from, valid_until),
    }
    if under:
        body["under"] = list(under)
    return "flows", {**body, **extra}


def deny_rule(rid: str, categories: Iterable[str], **deny: Any) -> Item:
    return "rules", {"id": rid, "description": f"rule {rid}", "deny": {"categories": list(categories), **deny}}


def retention_rule(rid: str, categories: Iterable[str], max_days: int) -> Item:
    return "rules", {"id": rid, "retention": {"categories": list(categories), "max_days": max_days}}


# --- assembly -----------------------------------------------------------------------------------
SECTION_ORDER = ("categories", "subjects", "parties", "systems", "mechanisms", "flows", "rules", "agreements",
                 "assessments")


def _flatten(items: Iterable[Item | list[Item]]) -> Iterable[Item]:
    for item in items:
        if isinstance(item, list):
            yield from item
        else:
            yield item


def registry(*items: Item | list[Item], **top: Any) -> dict[str, Any]:
    """A registry document from element items; the first element with an id wins, so an explicit
    party listed before a system replaces the system's default owner."""
    doc: dict[str, Any] = {"flowreg": 1, "organization": "Test Org", **top}
    sections: dict[str, list[dict[str, Any]]] = {name: [] for name in SECTION_ORDER}
    seen: set[str] = set()
    for section, body in _flatten(items):
        if body["id"] in seen:
            continue
        seen.add(body["id"])
        sections[section].append(body)
    mentioned = [c["id"] for c in sections["categories"]] + [c for f in sections["flows"] for c in f["carries"]]
    for rule in sections["rules"]:
        mentioned += (rule.get("deny") or rule.get("retention"))["categories"]
    declared = {c["id"] for c in sections["categories"]}
    for cid in mentioned:
        parts = cid.split(".")
        for i in range(1, len(parts) + 1):
            prefix = ".".join(parts[:i])
            if prefix not in declared:
                declared.add(prefix)
                sections["categories"].append({"id": prefix, "name": prefix})
    sections["categories"].sort(key=lambda c: c["id"].count("."))
    doc.update({name: body for name, body in sections.items() if body})
    return doc


def transfer(
    dst: str | None,
    *,
    src: str | None = "NL",
    origin: str | Iterable[str] | None = None,
    dst_kind: str = "other",
    certified: Certified | None = None,
    under: Iterable[str] = (),
    mechanisms: Iterable[Item] = (),
    to_party: bool = False,
    carries: str = "c",
    extra: Iterable[Item | list[Item]] = (),
    **hop_extra: Any,
) -> dict[str, Any]:
    """Subjects located at `origin` (default: `src`) -> system `src-sys` (owned by party
    `exporter`, in `src`) -> flow "hop" -> system `dst-sys` (owned by party `importer`, in `dst`)
    or, with `to_party`, straight to the party `importer`. Missing countries are None."""
    locations = [origin] if isinstance(origin, str) else list(origin or ([src] if src else []))
    return registry(
        party("exporter", src),
        party("importer", dst, dst_kind, certified=certified),
        subjects("people", *locations),
        system("src-sys", src, "exporter"),
        [] if to_party else system("dst-sys", dst, "importer"),
        *mechanisms,
        flow("collect", "people", "src-sys", carries),
        flow("hop", "src-sys", "importer" if to_party else "dst-sys", carries, under=under, **hop_extra),
        *extra,
    )


# --- evaluation ---------------------------------------------------------------------------------
def graph_of(doc: dict[str, Any], *, stored: bool = False) -> RegistryGraph:
    """Validate the document (as a user's file would be; `stored`: as a stored revision, whose
    ids predate the id pattern) and build its graph."""
    registry_: Registry = load_registry_data(doc, stored=stored)
    return build_graph(registry_)


def hop_status(doc: dict[str, Any] | RegistryGraph, day: Day, flow_id: str = "hop") -> HopStatus:
    """The engine's status of one flow on one day."""
    rg = doc if isinstance(doc, RegistryGraph) else graph_of(doc)
    return evaluate(rg, day_of(day)).hop(flow_id)
