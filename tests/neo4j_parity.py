"""Asking the embedded engine and the Neo4j backend the same questions and comparing the answers.

`questions(registry)` lists queries over every category, node and mechanism of a registry (plus
sampled paths, reachability and what-ifs); `answers(target, ...)` asks them of a `Flowreg` (either
backend) or of the pure engine on a whole-registry graph, as JSON-able values (`to_dict()`),
errors included; `assert_same` names the first question whose answers differ.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from lineage import findings, impact, queries, whatif
from lineage.evaluation import evaluate
from lineage.graph import RegistryGraph
from lineage.law import Law
from registry.errors import FlowregError
from registry.ids import FRAMEWORK_IDS
from registry.model import Registry

# Quotes, a backtick, a pattern closer, Cypher keywords and a parameter name, all in one id.
EVIL = "'\"`})-[:FLOW]->() MATCH (n) DETACH DELETE n //$rev"
# Shorter for each part of a dotted category id (an id may be 200 characters at most).
CATEGORY_EVIL = "'`}) MATCH $x"
FRAMEWORKS = sorted(FRAMEWORK_IDS)


def _evil(value: str) -> str:
    return value + EVIL


def _evil_category(value: str) -> str:
    return ".".join(part + CATEGORY_EVIL for part in value.split("."))


def evil_doc(source: dict[str, Any]) -> dict[str, Any]:
    """The registry document with every id (and every reference to one) made hostile."""
    def many(value: Any, rename: Any) -> Any:
        return rename(value) if isinstance(value, str) else [rename(v) for v in value]

    out = dict(source)
    out["categories"] = [{**c, "id": _evil_category(c["id"])} for c in source.get("categories", [])]
    for section in ("subjects", "parties"):
        out[section] = [{**e, "id": _evil(e["id"])} for e in source.get(section, [])]
    out["systems"] = [{**s, "id": _evil(s["id"]), "owner": _evil(s["owner"])} for s in source.get("systems", [])]
    out["mechanisms"] = [{**m, "id": _evil(m["id"]), **({"members": many(m["members"], _evil)} if "members" in m else {})}
                         for m in source.get("mechanisms", [])]
    out["flows"] = [{**f, "id": _evil(f["id"]), "from": _evil(f["from"]), "to": _evil(f["to"]),
                     "carries": many(f["carries"], _evil_category),
                     **({"under": many(f["under"], lambda u: u if u in FRAMEWORK_IDS else _evil(u))} if "under" in f else {})}
                    for f in source.get("flows", [])]
    rules = []
    for rule in source.get("rules", []):
        key = "deny" if "deny" in rule else "retention"
        check = {**rule[key], "categories": many(rule[key]["categories"], _evil_category)}
        if "to" in check:
            check["to"] = many(check["to"], _evil)
        rules.append({**rule, "id": _evil(rule["id"]), key: check})
    out["rules"] = rules
    out["agreements"] = [{**a, "id": _evil(a["id"]), "parties": many(a["parties"], _evil)}
                         for a in source.get("agreements", [])]
    out["assessments"] = [{**a, "id": _evil(a["id"]), "flows": many(a["flows"], _evil)}
                          for a in source.get("assessments", [])]
    return {k: v for k, v in out.items() if v != [] or k in source}


def questions(registry: Registry, rnd: random.Random | None = None, *, samples: int = 5) -> list[tuple[Any, ...]]:
    """Every category's flows and recipients, every node's and mechanism's impact, findings and
    hops; plus `samples` sampled flows-from-a-node, paths and what-ifs (some with unknown ids)."""
    rnd = rnd or random.Random(0)
    cats = [c.id for c in registry.categories]
    nodes = [e.id for e in (*registry.subjects, *registry.systems, *registry.parties)]
    parties = [p.id for p in registry.parties]
    tools = [m.id for m in registry.mechanisms] + rnd.sample(FRAMEWORKS, 2)
    out: list[tuple[Any, ...]] = [("findings",), ("hops",), ("flows", "no such category"), ("impact", "nope")]
    out += [(kind, c) for c in cats for kind in ("flows", "recipients")]
    out += [("impact", n) for n in nodes + tools]
    for _ in range(samples):
        out.append(("flows_from", rnd.choice(cats), rnd.choice([*nodes, "nope"])))
        out.append(("path", rnd.choice(nodes), rnd.choice(nodes), rnd.choice([None, None, *cats])))
    for tool in rnd.sample(tools, min(len(tools), max(2, samples // 5))):
        out.append(("invalidate", tool))
    for party in rnd.sample(parties, min(len(parties), max(2, samples // 5))):
        out.append(("remove", party))
    if registry.systems and parties and cats:
        out.append(("add", registry.systems[0].id, parties[-1], cats[0]))
    return out


class Reference:
    """The pure engine on a whole-registry graph, with `Flowreg`'s method names."""

    def __init__(self, rg: RegistryGraph, law: Law) -> None:
        self.rg, self.law = rg, law

    def registry(self, rev: int | None = None) -> Registry:
        return self.rg.registry

    def flows(self, category: str, day: date, *, from_node: str | None = None, rev: int | None = None) -> Any:
        return queries.flows(self.rg, category, day, from_node=from_node, law=self.law)

    def recipients(self, category: str, day: date, *, rev: int | None = None) -> Any:
        return queries.recipients(self.rg, category, day)

    def path(self, source: str, target: str, day: date, *, category: str | None = None, rev: int | None = None) -> Any:
        return queries.path(self.rg, source, target, day, category=category, law=self.law)

    def impact(self, node: str, day: date, *, rev: int | None = None) -> Any:
        return impact.impact(self.rg, node, day, law=self.law)

    def findings(self, day: date, *, rev: int | None = None) -> Any:
        return findings.findings(self.rg, day, law=self.law)

    def hops(self, day: date, *, rev: int | None = None) -> Any:
        return evaluate(self.rg, day, self.law).hops()

    def what_if_invalidate(self, tool: str, from_day: date, day: date, *, rev: int | None = None) -> Any:
        return whatif.invalidate(self.rg, tool, from_day, day, law=self.law)

    def what_if_remove_party(self, party: str, day: date, *, rev: int | None = None) -> Any:
        return whatif.remove_party(self.rg, party, day, law=self.law)

    def what_if_add(self, proposal: dict[str, Any], day: date, *, rev: int | None = None) -> Any:
        return whatif.add_proposal(self.rg, proposal, day, law=self.law)


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value.to_dict() if hasattr(value, "to_dict") else value


def _ask(target: Any, q: tuple[Any, ...], day: date, rev: int | None) -> Any:
    kind, *args = q
    if kind == "flows_from":
        return target.flows(args[0], day, from_node=args[1], rev=rev)
    if kind == "path":
        return target.path(args[0], args[1], day, category=args[2], rev=rev)
    if kind == "invalidate":
        return target.what_if_invalidate(args[0], date(2019, 6, 1), day, rev=rev)
    if kind == "remove":
        return target.what_if_remove_party(args[0], day, rev=rev)
    if kind == "add":
        proposal = {"flows": [{"id": "proposed-flow", "from": args[0], "to": args[1], "carries": [args[2]]}]}
        return target.what_if_add(proposal, day, rev=rev)
    if kind in ("findings", "hops"):
        return getattr(target, kind)(day, rev=rev)
    return getattr(target, kind)(args[0], day, rev=rev)


def answers(target: Any, day: date, *, rev: int | None = None, law: Law | None = None,
            rnd: random.Random | None = None, asked: list[tuple[Any, ...]] | None = None,
            samples: int = 5) -> dict[str, Any]:
    """Every question's answer (or error) from `target`: a Flowreg, or a RegistryGraph (then the
    pure engine is asked, with `law`)."""
    if isinstance(target, RegistryGraph):
        assert law is not None
        target = Reference(target, law)
    asked = asked if asked is not None else questions(target.registry(rev), rnd, samples=samples)
    out: dict[str, Any] = {}
    for q in asked:
        try:
            out[repr(q)] = _plain(_ask(target, q, day, rev))
        except FlowregError as exc:
            out[repr(q)] = ("error", type(exc).__name__, str(exc))
    return out


def assert_same(actual: dict[str, Any], expected: dict[str, Any]) -> None:
    """Equal answers, or an assertion naming the first question that differs."""
    assert actual.keys() == expected.keys()
    for key, want in expected.items():
        assert actual[key] == want, f"{key}:\n  neo4j:    {actual[key]!r}\n  embedded: {want!r}"
