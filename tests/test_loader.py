"""Registry files in: what validates, what is refused and how, and YAML export round trips.

Malformed files go through the real `flowreg` command (validate and apply) against an empty
store of the test's own, so each case shows the whole contract: exit 1, the offending key path
on stderr, no traceback, and nothing written.
"""

from __future__ import annotations

import os
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from clirun import NORTHWIND, flowreg, revisions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.errors import RegistryError
from registry.ids import (
    FRAMEWORK_IDS,
    ID_PATTERN,
    AgreementKind,
    Art9Condition,
    Authorisation,
    DerogationGround,
    Frequency,
    LegalBasis,
    MechanismKind,
    Outcome,
    PartyKind,
    Regime,
    Role,
    SccModule,
    SccVersion,
)
from registry.loader import load_registry_data, load_registry_file, load_registry_text
from registry.yamlexport import to_yaml

NORTHWIND_TEXT = NORTHWIND.read_text(encoding="utf-8")


def mutate(*edits: tuple[str, str]) -> str:
    """The Northwind example with each `old -> new` edit applied once (each must match)."""
    text = NORTHWIND_TEXT
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "store" / "flowreg.db"


def test_the_format_documents_own_example_validates_and_applies(db: Path) -> None:
    registry = load_registry_file(NORTHWIND)
    assert registry.organization == "Northwind Mail"
    assert [f.id for f in registry.flows] == ["signup", "web-to-mailer", "mailer-to-bouncer"]
    assert registry.get("web-to-mailer").from_ == "webapp"

    checked = flowreg("validate", NORTHWIND, db=db)
    assert checked.code == 0, checked.stderr
    assert "valid registry of Northwind Mail" in checked.stdout
    assert not db.exists()  # validate never writes, not even an empty store
    applied = flowreg("apply", NORTHWIND, db=db)
    assert applied.code == 0, applied.stderr
    assert [r["number"] for r in revisions(db)] == [1]


MALFORMED = {
    "wrong type of a field": (
        mutate(("organization: Northwind Mail", "organization: {a: 1}")),
        ["organization: Input should be a valid string"],
    ),
    "wrong type of a list": (
        mutate(("    carries: [subscriber.contact]\n", "    carries: 42\n")),
        ["flows[0].carries: "],
    ),
    "a section that is not a list": (
        mutate(("rules:\n", "rules: 7\nunused:\n")),
        ["rules: expected a list, got int"],
    ),
    "dangling references": (
        mutate(
            ("    to: bouncer\n", "    to: bouncer-x\n"),
            ("carries: [subscriber.contact.email]", "carries: [subscriber.phone]"),
        ),
        [
            "flows[2].to: unknown system or party 'bouncer-x'",
            "flows[2].carries[0]: unknown category 'subscriber.phone'",
        ],
    ),
    "a category whose parent is missing": (
        mutate(("  - id: subscriber.content\n", "  - id: subscriber.inbox.content\n")),
        ["categories[3].id: parent category 'subscriber.inbox'"],
    ),
    "duplicate ids": (
        mutate(("  - id: adnet\n", "  - id: bouncer\n")),
        ["parties[3].id: duplicate id 'bouncer' (first at parties[2].id"],
    ),
    "duplicate YAML keys": (
        mutate(("    name: Bouncer Ltd\n", "    name: Bouncer Ltd\n    name: Bouncer Two\n")),
        ["parties[2].name: duplicate key 'name'"],
    ),
    "unknown keys, with their path": (
        mutate(
            ("    frequency: continuous\n", "    frequency: continuous\n    colour: blue\n"),
            ("organization: Northwind Mail", "organization: Northwind Mail\nteam: mail"),
        ),
        ["flows[1].colour: unknown key 'colour'", "team: unknown key 'team'"],
    ),
    "an impossible date": (
        mutate(("valid_from: 2019-04-01", "valid_from: 2019-02-30")),
        ["mechanisms[1].valid_from: '2019-02-30' is not a real date"],
    ),
    "a date that is not a date": (
        mutate(("valid_from: 2020-02-10", "valid_from: soon")),
        ["mechanisms[0].valid_from: expected a date written YYYY-MM-DD, got 'soon'"],
    ),
    "valid_until before valid_from": (
        mutate(("valid_until: 2022-07-01", "valid_until: 2018-07-01")),
        ["flows[1]: valid_until (2018-07-01) must be after valid_from (2019-01-01)"],
    ),
    "bad country codes": (
        mutate(
            ("    country: BR\n", "    country: XX\n"), ("    location: NL\n", "    location: nl\n")
        ),
        [
            "parties[2].country: 'XX' is not an ISO 3166-1 alpha-2 country code",
            "subjects[0].location[0]: 'nl' is not an ISO 3166-1 alpha-2 code",
        ],
    ),
    "a wrong kind": (
        mutate(("    kind: subprocessor\n", "    kind: vendor\n")),
        ["parties[2].kind: 'vendor' is not one of"],
    ),
    "a YAML syntax error": (
        mutate(("    carries: [subscriber.contact]\n", "    carries: [subscriber.contact\n")),
        ["(file): YAML syntax error"],
    ),
    "an empty file": ("", ["(file): the file is empty"]),
    "only a comment": ("# nothing here\n", ["(file): the file is empty"]),
    "a document that is not a mapping": (
        "- flowreg: 1\n- organization: x\n",
        ["(file): a registry is a mapping of keys, not list"],
    ),
    "a plain string": ("just some words\n", ["(file): a registry is a mapping of keys, not str"]),
    "a future format version": (
        mutate(("flowreg: 1 ", "flowreg: 2 ")),
        ["flowreg: unsupported format version 2"],
    ),
    "not UTF-8": ("\udcff", ["(file): not UTF-8 text"]),
}


@pytest.mark.parametrize("case", list(MALFORMED), ids=list(MALFORMED))
def test_malformed_files_exit_1_name_the_path_and_write_nothing(
    case: str, tmp_path: Path, db: Path
) -> None:
    text, expected = MALFORMED[case]
    path = tmp_path / "registry.yaml"
    # surrogateescape lets a test write raw bytes that are not UTF-8.
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    for command in ("validate", "apply"):
        result = flowreg(command, path, db=db)
        assert result.code == 1, (command, result.stdout, result.stderr)
        for fragment in expected:
            assert fragment in result.stderr, (command, result.stderr)
    assert "nothing was written" in result.stderr
    assert not db.exists(), "a rejected file writes nothing, not even an empty store"


def test_every_problem_is_reported_at_once(tmp_path: Path, db: Path) -> None:
    text = mutate(
        ("    country: BR\n", "    country: XX\n"),
        ("    to: bouncer\n", "    to: nobody\n"),
        ("  - id: adnet\n", "  - id: northwind-nl\n"),
        ("    name: Bouncer Ltd\n", "    name: Bouncer Ltd\n    name: again\n"),
        ("valid_from: 2019-04-01", "valid_from: 2019-04-31"),
        ("    frequency: continuous\n", "    frequency: continuous\n    colour: blue\n"),
    )
    path = tmp_path / "many.yaml"
    path.write_text(text, encoding="utf-8")
    result = flowreg("validate", path, "--format", "json", db=db)
    assert result.code == 1
    report = result.json()
    assert report["valid"] is False
    paths = {issue["path"] for issue in report["issues"]}
    assert {
        "parties[2].country",
        "flows[2].to",
        "parties[3].id",
        "parties[2].name",
        "mechanisms[1].valid_from",
        "flows[1].colour",
    } <= paths
    assert all(isinstance(issue["line"], int) for issue in report["issues"])
    assert f"({len(report['issues'])} problems)" in result.stderr


def test_fifty_megabytes_of_garbage_is_refused_fast(tmp_path: Path, db: Path) -> None:
    garbage = tmp_path / "garbage.yaml"
    garbage.write_bytes(os.urandom(50 * 1024 * 1024))
    started = time.monotonic()
    result = flowreg("apply", garbage, db=db)
    elapsed = time.monotonic() - started
    assert result.code == 1
    assert "(file): not UTF-8 text" in result.stderr
    assert elapsed < 10, f"took {elapsed:.1f}s"
    assert not db.exists(), "a rejected file writes nothing, not even an empty store"


def test_fifty_megabytes_of_text_garbage_is_refused(tmp_path: Path, db: Path) -> None:
    # Valid UTF-8 but not a registry: random printable ASCII lines.
    garbage = tmp_path / "text.yaml"
    alphabet = bytes(range(32, 127))
    raw = bytes(alphabet[b % len(alphabet)] for b in os.urandom(1 << 16))
    chunk = b"\n".join(raw[i : i + 64] for i in range(0, len(raw), 64))
    garbage.write_bytes(chunk * (50 * 1024 * 1024 // len(chunk)))
    started = time.monotonic()
    result = flowreg("validate", garbage, db=db)
    assert result.code == 1
    assert "(file)" in result.stderr or "(top level)" in result.stderr
    assert time.monotonic() - started < 30


def test_alias_bombs_are_refused_not_expanded(tmp_path: Path, db: Path) -> None:
    lines = ["flowreg: 1", "organization: X", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    path = tmp_path / "bomb.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = flowreg("validate", path, db=db)
    assert result.code == 1
    assert "(file): aliases expand to" in result.stderr


def test_api_errors_carry_issue_objects() -> None:
    with pytest.raises(RegistryError) as caught:
        load_registry_text(mutate(("    to: bouncer\n", "    to: nobody\n")))
    (issue,) = caught.value.issues
    assert issue.path == "flows[2].to"
    assert str(issue) == f"flows[2].to: unknown system or party 'nobody' (line {issue.line})"
    assert issue.to_dict()["path"] == "flows[2].to"


def test_export_of_the_example_reads_well_and_round_trips() -> None:
    registry = load_registry_file(NORTHWIND)
    text = to_yaml(registry)
    assert text.startswith("# flowreg registry of Northwind Mail\n")
    assert "    valid_from: 2019-01-01\n" in text  # dates unquoted
    assert "    carries: [subscriber.contact]\n" in text  # scalar lists in flow style
    assert "      - {framework: eu-us-dpf, valid_from: 2023-10-02}\n" in text
    flow = text[text.index("  - id: web-to-mailer") :]
    assert flow.index("from:") < flow.index("carries:") < flow.index("valid_from:")
    assert load_registry_text(text).content() == registry.content()


# --- random valid registries round-trip through to_yaml ----------------------------------------
# Ids YAML would read as something else (booleans, null, numbers, dates) unless quoted; every
# one follows the id pattern (registry.ids). Ids with YAML punctuation are not ids any more;
# names and descriptions (TEXT, NAME) still carry every character.
TRICKY = [
    "yes",
    "no",
    "NO",
    "on",
    "OFF",
    "true",
    "null",
    "Null",
    "nan",
    "1",
    "0x1F",
    "0o17",
    "1e3",
    "1.5",
    "1_000",
    "2020-01-01",
    "2020-01-01t10",
    "y",
    "n",
]
PLAIN_ID = st.from_regex(rf"\A{ID_PATTERN}\Z", fullmatch=True).filter(lambda s: len(s) <= 12)
ID = st.one_of(st.sampled_from(TRICKY), PLAIN_ID)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)
NAME = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40)
DAY = st.dates(min_value=date(1990, 1, 1), max_value=date(2040, 1, 1))
COUNTRY = st.sampled_from(["US", "IE", "DE", "GB", "CH", "BR", "IN", "JP", "NL", "CA"])
# The complete record's optional keys (registry-format.md "Optional keys for the complete record").
SPECIAL = st.one_of(
    st.just({}),
    st.builds(lambda c, days: {"special": "art9", "condition": c, **days},
              st.sampled_from([c.value for c in Art9Condition]), st.one_of(st.just({}), st.builds(
                  lambda d: {"retention_days": d}, st.integers(0, 5000)))),
    st.just({"special": "art10"}),
    st.builds(lambda d: {"retention_days": d}, st.integers(0, 5000)),
)
CONTROLLER = st.builds(
    lambda name, rest: {"name": name, **rest},
    NAME,
    st.fixed_dictionaries({}, optional={
        "address": NAME, "contact": NAME, "source": TEXT,
        "dpo": st.fixed_dictionaries({"name": NAME}, optional={"contact": NAME}),
        "representative": st.fixed_dictionaries({"name": NAME}, optional={"contact": NAME, "country": COUNTRY}),
    }),
)


def _maybe(draw: Any, strategy: Any, into: dict[str, Any], key: str) -> None:
    if draw(st.booleans()):
        value = draw(strategy)
        into[key] = value.isoformat() if isinstance(value, date) else value


def _window(draw: Any, into: dict[str, Any]) -> None:
    start = draw(st.one_of(st.none(), DAY))
    if start is not None:
        into["valid_from"] = start.isoformat()
    if draw(st.booleans()):
        base = start or date(1989, 1, 1)
        into["valid_until"] = (base + timedelta(days=draw(st.integers(1, 5000)))).isoformat()


def _common(draw: Any, element: dict[str, Any]) -> dict[str, Any]:
    _maybe(draw, TEXT, element, "source")
    _maybe(draw, TEXT, element, "description")
    return element


@st.composite
def registries(draw: Any) -> dict[str, Any]:
    """A random registry that passes every check (ids unique, references resolved)."""
    ids = iter(
        draw(st.lists(ID.filter(lambda s: "." not in s), min_size=30, max_size=30, unique=True))
    )
    roots = [next(ids) for _ in range(draw(st.integers(1, 3)))]
    categories = list(roots) + [f"{roots[0]}.{next(ids)}" for _ in range(draw(st.integers(0, 2)))]
    doc: dict[str, Any] = {"flowreg": 1, "organization": draw(TEXT.filter(bool))}
    _maybe(draw, TEXT, doc, "source")
    _maybe(draw, st.integers(0, 400), doc, "notice_days")
    doc["categories"] = [
        _common(
            draw,
            {"id": c, "name": draw(NAME), **({"dpv": "pd:Name"} if draw(st.booleans()) else {}),
             **draw(SPECIAL)},
        )
        for c in categories
    ]
    _maybe(draw, CONTROLLER, doc, "controller")
    subjects = [next(ids) for _ in range(draw(st.integers(0, 2)))]
    doc["subjects"] = [
        _common(
            draw,
            {
                "id": s,
                "name": draw(NAME),
                "location": draw(st.lists(st.one_of(COUNTRY, st.just("EEA")), max_size=3)),
            },
        )
        for s in subjects
    ]
    parties = [next(ids) for _ in range(draw(st.integers(2, 4)))]
    doc["parties"] = []
    for p in parties:
        party = _common(
            draw,
            {"id": p, "name": draw(NAME), "kind": draw(st.sampled_from(list(PartyKind))).value},
        )
        _maybe(draw, COUNTRY, party, "country")
        _maybe(draw, st.booleans(), party, "public_list")
        _maybe(draw, DAY, party, "notice_given")
        _maybe(draw, TEXT, party, "url")
        _maybe(draw, NAME, party, "contact")
        certifications = []
        for framework in draw(st.lists(st.sampled_from(sorted(FRAMEWORK_IDS)), max_size=2)):
            certification = {"framework": framework}
            _window(draw, certification)
            certifications.append(certification)
        if certifications:
            party["certifications"] = certifications
        doc["parties"].append(party)
    systems = [next(ids) for _ in range(draw(st.integers(1, 3)))]
    doc["systems"] = []
    for s in systems:
        system = _common(
            draw, {"id": s, "name": draw(NAME), "owner": draw(st.sampled_from(parties))}
        )
        _maybe(draw, COUNTRY, system, "country")
        _maybe(draw, st.integers(0, 10_000), system, "retention_days")
        _maybe(draw, st.lists(NAME, min_size=1, max_size=3), system, "security_measures")
        doc["systems"].append(system)
    mechanisms = [next(ids) for _ in range(draw(st.integers(0, 3)))]
    doc["mechanisms"] = []
    for m in mechanisms:
        kind = draw(st.sampled_from(list(MechanismKind)))
        mechanism = _common(draw, {"id": m, "kind": kind.value})
        _maybe(draw, st.sampled_from([r.value for r in Regime]), mechanism, "regime")
        _maybe(draw, TEXT, mechanism, "name")
        if kind is MechanismKind.SCC:
            _maybe(draw, st.sampled_from([v.value for v in SccVersion]), mechanism, "version")
            _maybe(draw, st.sampled_from([v.value for v in SccModule]), mechanism, "module")
        if kind is MechanismKind.DEROGATION:
            _maybe(draw, st.sampled_from([g.value for g in DerogationGround]), mechanism, "ground")
        members = draw(st.lists(st.sampled_from(parties), min_size=2, max_size=3, unique=True))
        if kind in (
            MechanismKind.BCR,
            MechanismKind.SCC,
            MechanismKind.IDTA,
            MechanismKind.UK_ADDENDUM,
        ) or draw(st.booleans()):
            mechanism["members"] = members
        _window(draw, mechanism)
        doc["mechanisms"].append(mechanism)
    doc["flows"] = []
    sources, targets = subjects + systems + parties, systems + parties
    for _ in range(draw(st.integers(0, 5))):
        source = draw(st.sampled_from(sources))
        target = draw(st.sampled_from([t for t in targets if t != source]))
        flow = _common(
            draw,
            {
                "id": next(ids),
                "from": source,
                "to": target,
                "carries": draw(st.lists(st.sampled_from(categories), min_size=1, max_size=3)),
            },
        )
        _maybe(draw, TEXT, flow, "purpose")
        _maybe(draw, st.sampled_from([r.value for r in Role]), flow, "role")
        _maybe(
            draw,
            st.lists(st.sampled_from(mechanisms + sorted(FRAMEWORK_IDS)), max_size=3),
            flow,
            "under",
        )
        _maybe(draw, st.sampled_from([f.value for f in Frequency]), flow, "frequency")
        _maybe(draw, st.sampled_from([b.value for b in LegalBasis]), flow, "legal_basis")
        _maybe(draw, st.integers(0, 5000), flow, "retention_days")
        _window(draw, flow)
        doc["flows"].append(flow)
    doc["rules"] = []
    for _ in range(draw(st.integers(0, 2))):
        body = {"categories": draw(st.lists(st.sampled_from(categories), min_size=1, max_size=2))}
        if draw(st.booleans()):
            body["max_days"] = draw(st.integers(0, 3650))
            doc["rules"].append(_common(draw, {"id": next(ids), "retention": body}))
        else:
            body["to"] = draw(st.lists(st.sampled_from(targets), min_size=1, max_size=2))
            _maybe(
                draw,
                st.lists(st.sampled_from([k.value for k in PartyKind]), max_size=2),
                body,
                "to_kinds",
            )
            _maybe(draw, st.lists(TEXT, max_size=2), body, "purposes")
            doc["rules"].append(_common(draw, {"id": next(ids), "deny": body}))
    doc["agreements"] = []
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from([k.value for k in AgreementKind]))
        signed = draw(DAY)
        agreement = _common(draw, {"id": next(ids), "kind": kind, "signed": signed.isoformat(),
                                   "parties": draw(st.lists(st.sampled_from(parties), min_size=2, max_size=3, unique=True))})
        if draw(st.booleans()):
            agreement["valid_until"] = (signed + timedelta(days=draw(st.integers(1, 5000)))).isoformat()
        if kind == "dpa":
            _maybe(draw, st.sampled_from([a.value for a in Authorisation]), agreement, "authorisation")
            _maybe(draw, st.integers(0, 90), agreement, "objection_days")
        _maybe(draw, NAME, agreement, "document")
        doc["agreements"].append(agreement)
    doc["assessments"] = []
    flow_ids = [f["id"] for f in doc["flows"]]
    for _ in range(draw(st.integers(0, 2)) if flow_ids else 0):
        assessed = draw(DAY)
        outcome = draw(st.sampled_from([o.value for o in Outcome]))
        assessment = _common(draw, {
            "id": next(ids), "flows": draw(st.lists(st.sampled_from(flow_ids), min_size=1, max_size=2)),
            "regime": draw(st.sampled_from([r.value for r in Regime])), "assessed": assessed.isoformat(),
            "outcome": outcome})
        if outcome == "proceed-with-measures" or draw(st.booleans()):
            assessment["measures"] = draw(st.lists(NAME, min_size=1, max_size=2))
        if draw(st.booleans()):
            assessment["review_by"] = (assessed + timedelta(days=draw(st.integers(1, 2000)))).isoformat()
        _maybe(draw, NAME, assessment, "document")
        doc["assessments"].append(assessment)
    return doc


@settings(
    max_examples=int(os.environ.get("FLOWREG_HYPOTHESIS_EXAMPLES", "200")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(registries())
def test_random_valid_registries_round_trip_through_yaml(doc: dict[str, Any]) -> None:
    registry = load_registry_data(doc)
    text = to_yaml(registry)
    assert load_registry_text(text).content() == registry.content()
    # The content (as a store keeps it) exports to the same text as the registry does.
    assert to_yaml(registry.content()) == text


def test_an_empty_name_is_refused(tmp_path: Path) -> None:
    doc = tmp_path / "r.yaml"
    doc.write_text("flowreg: 1\norganization: x\nparties:\n  - {id: p, name: '', kind: other}\n")
    with pytest.raises(RegistryError) as caught:
        load_registry_file(doc)
    assert [i.path for i in caught.value.issues] == ["parties[0].name"]
