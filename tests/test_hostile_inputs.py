"""Every reproduction that once ended in "unexpected ... (a bug in flowreg)" or ran without bound
now gives a clear error or a correct answer: huge numbers and extreme dates, revision numbers
past 2^63, deep and cyclic chains in the RoPA, hostile YAML wherever YAML is read (size,
encoding, nesting, alias bombs), malformed proposals and a damaged store. Real commands, real
files, real stores.
"""

from __future__ import annotations

import sqlite3
import subprocess
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from clirun import COMMAND, NORTHWIND, REPO, SEED, invoke

from lineage.api import Flowreg
from lineage.reports import build_report
from lineage.reports.render import render
from registry.errors import FlowregError, RegistryError
from registry.loader import load_registry_data
from registry.sqlite_store import SqliteStore
from registry.yamlsource import load_yaml_file, read_source

FIDES = REPO / "tests" / "fixtures" / "fides_acme.yaml"
BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)


def _clear(result: Any) -> None:
    """A clear error: exit 1, a message, no traceback (checked by invoke) and no "unexpected"."""
    assert result.code == 1, (result.stdout, result.stderr)
    assert result.stderr.strip(), "says what is wrong"
    assert "unexpected" not in result.stderr, result.stderr


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("seed") / "flowreg.db"
    assert invoke("apply", SEED, "-m", "seed", db=db).code == 0
    added = invoke("subprocessor", "add", "--id", "speechco", "--name", "SpeechCo", "--country", "FI",
                   "-c", "content.voice.recording", "--from-system", "comms-records", db=db)
    assert added.code == 0, added.stderr
    return db


# --- numbers and dates at the edge ----------------------------------------------------------------
def test_a_huge_notice_period_in_a_file_is_refused_with_its_key(tmp_path: Path, seeded: Path) -> None:
    doc = yaml.safe_load(NORTHWIND.read_text(encoding="utf-8"))
    doc["notice_days"] = 10**30
    path = tmp_path / "huge.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    result = invoke("validate", path, db=seeded)
    _clear(result)
    assert "notice_days:" in result.stderr and "3650" in result.stderr


def test_a_huge_notice_days_option_is_refused(seeded: Path) -> None:
    result = invoke("report", "changes", "--from", "1", "--notice-days", "99999999999", db=seeded)
    _clear(result)
    assert "--notice-days" in result.stderr


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01"])
@pytest.mark.parametrize("args", [
    ("flows", "content"), ("findings",), ("recipients", "content"), ("path", "end-users-eea", "sift"),
    ("impact", "sift"), ("what-if", "remove-party", "sift"), ("export-graph", "--format", "json"),
    ("report", "changes", "--from", "1"), ("report", "subprocessors"), ("report", "ropa"),
    ("report", "transfers"), ("report", "findings"), ("report", "flows"),
], ids=lambda a: " ".join(a[:2]) if isinstance(a, tuple) else a)
def test_extreme_dates_give_an_answer(seeded: Path, args: tuple[str, ...], day: str) -> None:
    result = invoke(*args, "--as-of", day, db=seeded)
    assert result.code == 0, result.stderr


def test_extreme_dates_in_what_if_and_between(seeded: Path) -> None:
    assert invoke("what-if", "invalidate", "eu-us-dpf", "--from", "9999-12-31", db=seeded).code == 0
    assert invoke("between", "0001-01-01", "9999-12-31", db=seeded).code == 0


def test_notice_given_at_the_end_of_time(tmp_path: Path) -> None:
    doc = yaml.safe_load(NORTHWIND.read_text(encoding="utf-8"))
    for party in doc["parties"]:
        if party["kind"] == "subprocessor":
            party["notice_given"] = date(9999, 12, 30)
    registry = load_registry_data(doc)
    fr = Flowreg(SqliteStore(tmp_path / "db"))
    fr.apply(registry, author="t", message="m")
    assert isinstance(fr.findings(date(9999, 12, 31)), list)


@pytest.mark.parametrize("args", [
    ("show", "--rev"), ("export", "--rev"), ("flows", "content", "--rev"), ("findings", "--rev"),
    ("report", "ropa", "--rev"), ("report", "changes", "--from"), ("report", "changes", "--from", "1", "--to"),
], ids=lambda a: " ".join(a))
def test_revision_numbers_past_2_63_are_refused(seeded: Path, args: tuple[str, ...]) -> None:
    result = invoke(*args, str(2**63), db=seeded)
    _clear(result)
    assert "9223372036854775807" in result.stderr or "does not exist" in result.stderr


def test_diff_past_2_63(seeded: Path) -> None:
    _clear(invoke("diff", "1", str(2**63), db=seeded))
    big = invoke("show", "--rev", str(2**63 - 1), db=seeded)
    _clear(big)
    assert "revision 9223372036854775807 does not exist" in big.stderr


# --- the RoPA on long chains and rings (no RecursionError) -----------------------------------------
def chain_registry(hops: int, *, ring: bool) -> dict[str, Any]:
    """Subjects -> sys0 -> sys1 -> ... (systems of the organisation, so each hop's capacity is
    inherited from the one before), optionally closed into a ring, then one processor."""
    systems = [{"id": f"sys{i}", "name": f"System {i}", "owner": "org", "country": "DE"} for i in range(hops)]
    flows = [{"id": "collect", "from": "customers", "to": "sys0", "carries": ["c"], "role": "controller",
              "purpose": "service"}]
    flows += [{"id": f"hop{i}", "from": f"sys{i - 1}", "to": f"sys{i}", "carries": ["c"], "purpose": "service"}
              for i in range(1, hops)]
    if ring:
        flows.append({"id": "back", "from": f"sys{hops - 1}", "to": "sys0", "carries": ["c"], "purpose": "service"})
    flows.append({"id": "out", "from": f"sys{hops - 1}", "to": "vendor", "carries": ["c"], "role": "processor",
                  "purpose": "service"})
    return {"flowreg": 1, "organization": "Chain", "categories": [{"id": "c", "name": "Contact"}],
            "subjects": [{"id": "customers", "name": "Customers", "location": "DE"}],
            "parties": [{"id": "org", "name": "Org GmbH", "kind": "affiliate", "country": "DE"},
                        {"id": "vendor", "name": "Vendor", "kind": "subprocessor", "country": "DE"}],
            "systems": systems, "flows": flows}


@pytest.mark.parametrize(("hops", "ring"), [(500, False), (1000, True)])
def test_ropa_on_a_long_chain_and_a_ring(tmp_path: Path, hops: int, ring: bool) -> None:
    fr = Flowreg(SqliteStore(tmp_path / "db"))
    fr.apply(load_registry_data(chain_registry(hops, ring=ring)), author="t", message="chain")
    report = build_report(fr, "ropa", date(2024, 1, 1))
    sections = {s.name: s.records() for s in report.sections}
    # Every hop inherits the collection's capacity down the chain (or round the ring): one
    # activity, held as controller, nothing as processor; the vendor is its recipient.
    assert [r["activity"] for r in sections["controller"]] == ["service"]
    assert sections["processor"] == []
    assert "Vendor" in str(sections["controller"][0])
    for fmt in ("csv", "json", "html"):
        assert render(report, fmt)


def test_ropa_on_a_ring_from_the_command_line(tmp_path: Path) -> None:
    path = tmp_path / "ring.yaml"
    path.write_text(yaml.safe_dump(chain_registry(1000, ring=True)), encoding="utf-8")
    db = tmp_path / "flowreg.db"
    assert invoke("apply", path, db=db).code == 0
    result = invoke("report", "ropa", "--as-of", "2024-01-01", "--format", "json", db=db)
    assert result.code == 0, result.stderr


# --- YAML wherever it is read ------------------------------------------------------------------------
@pytest.fixture
def hostile_yaml(tmp_path: Path) -> dict[str, Path]:
    files = {
        "deep": "a: " + "[" * 20000 + "]" * 20000 + "\n",
        "laughs": BILLION_LAUGHS,
        "self": "a: &a [*a]\n",
        "latin1": "system:\n  - fides_key: caf\xe9\n    name: Caf\xe9\n",
        "parties5": "parties: 5\n",
        "not-a-mapping": "- just\n- a list\n",
    }
    out = {}
    for name, text in files.items():
        path = tmp_path / f"{name}.yaml"
        path.write_bytes(text.encode("latin-1") if name == "latin1" else text.encode("utf-8"))
        out[name] = path
    return out


@pytest.mark.parametrize("name", ["deep", "laughs", "self", "latin1", "not-a-mapping"])
def test_import_fides_on_hostile_yaml(hostile_yaml: dict[str, Path], name: str, seeded: Path) -> None:
    started = time.monotonic()
    result = invoke("import-fides", hostile_yaml[name], "--country", "DE", db=seeded)
    _clear(result)
    assert time.monotonic() - started < 30, "no unbounded expansion"
    assert str(hostile_yaml[name]) in result.stderr


@pytest.mark.parametrize("name", ["deep", "laughs", "self", "latin1", "parties5", "not-a-mapping"])
def test_what_if_add_on_hostile_yaml(hostile_yaml: dict[str, Path], name: str, seeded: Path) -> None:
    result = invoke("what-if", "add", hostile_yaml[name], "--as-of", "2018-12-27", db=seeded)
    _clear(result)
    if name == "parties5":
        assert "parties: expected a list" in result.stderr, result.stderr
    if name == "latin1":
        assert "not UTF-8" in result.stderr


def test_what_if_add_still_answers(tmp_path: Path, seeded: Path) -> None:
    proposal = tmp_path / "proposal.yaml"
    proposal.write_text("parties:\n  - {id: newco, name: NewCo, kind: subprocessor, country: US}\n"
                        "flows:\n  - {id: to-newco, from: comms-records, to: newco, carries: [content]}\n",
                        encoding="utf-8")
    result = invoke("what-if", "add", proposal, "--as-of", "2018-12-27", db=seeded)
    assert result.code == 0, result.stderr
    assert "1 hop changes" in result.stdout, result.stdout


@pytest.mark.parametrize("name", ["deep", "laughs", "self", "latin1"])
def test_validate_and_apply_on_hostile_yaml(hostile_yaml: dict[str, Path], name: str, seeded: Path) -> None:
    for command in ("validate", "apply"):
        _clear(invoke(command, hostile_yaml[name], db=seeded))


def test_the_users_file_is_read_with_the_same_limits(hostile_yaml: dict[str, Path]) -> None:
    from app_pages import _auth

    for name in ("laughs", "latin1", "deep"):
        with pytest.raises(FlowregError, match="users file"):
            _auth.configured_users({"FLOWREG_USERS": str(hostile_yaml[name])})


def test_reads_are_bounded(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="larger than 1000 bytes"):
        read_source(Path("/dev/zero"), limit=1000)
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: 1\n" * 1000)
    with pytest.raises(RegistryError, match="larger than 100 bytes"):
        load_yaml_file(big, limit=100)


def test_validate_dev_zero_stops_at_the_limit() -> None:
    proc = subprocess.run([*COMMAND, "validate", "/dev/zero"], capture_output=True, text=True, timeout=120,
                          cwd=REPO)
    assert proc.returncode == 1
    assert "larger than" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr


def test_validate_stdin_is_bounded() -> None:
    proc = subprocess.run(f"head -c 600000000 /dev/zero | {' '.join(COMMAND)} validate -", shell=True,
                          capture_output=True, text=True, timeout=120, cwd=REPO)
    assert proc.returncode == 1
    assert "standard input" in proc.stderr and "larger than" in proc.stderr, proc.stderr


# --- a damaged store -------------------------------------------------------------------------------
def test_a_schema_version_that_is_not_a_number(tmp_path: Path) -> None:
    db = tmp_path / "flowreg.db"
    assert invoke("apply", NORTHWIND, db=db).code == 0
    conn = sqlite3.connect(db)
    conn.execute("UPDATE meta SET value = 'abc' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    result = invoke("show", db=db)
    _clear(result)
    assert "schema version 'abc' is not a number" in result.stderr


@pytest.mark.neo4j
def test_a_neo4j_schema_version_that_is_not_a_number(neo4j_settings: Any) -> None:
    from test_neo4j_backend import cypher

    from registry.errors import StoreError
    from registry.neo4j.store import Neo4jStore

    Neo4jStore(neo4j_settings).close()
    cypher(neo4j_settings, "MATCH (m:FlowregMeta {key: 'store'}) SET m.schema_version = 'abc'")
    with pytest.raises(StoreError, match="schema version 'abc' is not a number"):
        Neo4jStore(neo4j_settings)


def test_the_dashboard_preview_at_the_end_of_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The register form's impact preview on a registry with the longest notice period and
    notices given at the end of the calendar (once an OverflowError)."""
    import streamlit as st
    from app_support import fill_register, open_app, seed_store

    doc = yaml.safe_load(SEED.read_text(encoding="utf-8"))
    doc["notice_days"] = 3650
    for party in doc["parties"]:
        if party["kind"] == "subprocessor":
            party["notice_given"] = date(9999, 12, 1)
    db = tmp_path / "flowreg.db"
    seed_store(db, load_registry_data(doc).content())
    monkeypatch.setenv("FLOWREG_DB", str(db))
    monkeypatch.setenv("FLOWREG_DEMO", "1")
    try:
        at = open_app("engineer", "register", day=date(2100, 12, 31))  # the date picker's last day
        fill_register(at, party_id="late-vendor", name="Late Vendor")
        assert not at.exception
        assert any(m.label == "New hops" for m in at.metric), [e.value for e in at.error]
    finally:
        st.cache_resource.clear()
        st.cache_data.clear()


def test_a_stored_revision_that_fails_a_newer_check_is_said_so(tmp_path: Path) -> None:
    doc = yaml.safe_load(NORTHWIND.read_text(encoding="utf-8"))
    doc["notice_days"] = 10**6  # accepted before notice periods were bounded
    db = tmp_path / "flowreg.db"
    with SqliteStore(db) as store:
        store.append(doc, author="old", message="written by an older flowreg")
    result = invoke("findings", "--as-of", "2020-08-01", db=db)
    _clear(result)
    assert "no longer passes this flowreg's checks: notice_days" in result.stderr


def test_key_and_secrets_files_are_read_with_a_bound(tmp_path: Path) -> None:
    for variable in ("FLOWREG_SECRETS_FILE", "FLOWREG_SIGNING_KEY_FILE", "FLOWREG_VERIFY_KEY_FILE"):
        result = invoke("show", db=tmp_path / "db", **{variable: "/dev/zero"})
        _clear(result)
        assert "larger than 65536 bytes" in result.stderr, (variable, result.stderr)
