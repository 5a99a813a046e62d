"""`flowreg export-fides`: fideslang itself accepts the export, and importing it back keeps every
flow, category and party that Fides can express.

fideslang pins its own pydantic, so it is never installed into flowreg's environment: the
acceptance test makes an isolated virtualenv, installs fideslang from PyPI into it and runs it
there on the exported files. Without network it skips with the reason (and fails under CI=true).
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import yaml
from clirun import FIXTURES, NORTHWIND, SEED, flowreg
from conftest import in_ci

from registry.fides_export import export_fides, fides_key
from registry.fides_import import import_fides
from registry.loader import load_registry_file
from registry.model import Registry

COMPLETE = FIXTURES / "northwind_complete.yaml"
FIDESLANG = "fideslang>=3.0,<4"
CHECK = r'''
import json, sys
from fideslang import DEFAULT_TAXONOMY, Taxonomy
from fideslang.manifests import ingest_manifests
from fideslang.parse import load_manifests_into_taxonomy
from fideslang.relationships import get_referenced_missing_keys

out = {}
for path in sys.argv[1:]:
    taxonomy = load_manifests_into_taxonomy(ingest_manifests(path))
    merged = Taxonomy(**{
        kind: list(getattr(DEFAULT_TAXONOMY, kind) or []) + list(getattr(taxonomy, kind) or [])
        for kind in ("data_category", "data_subject", "data_use", "organization")
    }, system=taxonomy.system)
    org = taxonomy.organization[0]
    out[path] = {
        "systems": len(taxonomy.system),
        "declarations": sum(len(s.privacy_declarations) for s in taxonomy.system),
        "missing": sorted(get_referenced_missing_keys(merged)),
        "contacts": {k: getattr(org, k).model_dump() for k in ("controller", "data_protection_officer", "representative")
                     if getattr(org, k) is not None},
        "dpo": {s.fides_key: s.dpo for s in taxonomy.system if s.dpo},
        "security": {s.fides_key: s.data_security_practices for s in taxonomy.system if s.data_security_practices},
        "special": sorted([s.fides_key, d.name, d.special_category_legal_basis.value if d.special_category_legal_basis else None]
                          for s in taxonomy.system for d in s.privacy_declarations if d.processes_special_category_data),
    }
print(json.dumps(out))
'''


@pytest.fixture(scope="module")
def fideslang_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The python of a fresh virtualenv with fideslang 3 from PyPI."""
    home = tmp_path_factory.mktemp("fideslang-venv")
    venv.EnvBuilder(with_pip=True).create(home)
    python = home / "bin" / "python"
    try:
        proc = subprocess.run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", FIDESLANG],
                              capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        proc = None
    if proc is None or proc.returncode != 0:
        reason = f"cannot install {FIDESLANG} from PyPI: {(proc.stderr.strip().splitlines() or ['timeout'])[-1] if proc else 'timeout'}"
        if in_ci():
            pytest.fail(f"CI is set but {reason}")
        pytest.skip(reason)
    return python


def _exported(tmp_path: Path, source: Path) -> Path:
    out = tmp_path / f"{source.stem}.yml"
    result = flowreg("export-fides", "--registry", source, "-o", out, db=tmp_path / "db")
    assert result.code == 0, result.stderr
    assert "not carried over:" in result.stderr
    return out


def test_fideslang_accepts_the_export_of_the_seed_and_northwind(tmp_path: Path, fideslang_python: Path) -> None:
    files = [_exported(tmp_path, SEED), _exported(tmp_path, NORTHWIND), _exported(tmp_path, COMPLETE)]
    proc = subprocess.run([fideslang_python, "-c", CHECK, *map(str, files)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    checked = json.loads(proc.stdout)
    seed, northwind, complete = (checked[str(f)] for f in files)
    assert seed["missing"] == northwind["missing"] == complete["missing"] == [], "every key a resource names is defined"
    # The complete record as fideslang itself parsed it.
    assert complete["contacts"] == {
        "controller": {"name": "Northwind Mail B.V.", "address": "Herengracht 1, Amsterdam, NL",
                       "email": "privacy@northwind.example", "phone": ""},
        "data_protection_officer": {"name": "Dana Ortiz", "address": "", "email": "dpo@northwind.example", "phone": ""},
        "representative": {"name": "Rep Ltd", "address": "Ireland", "email": "rep@example.eu", "phone": ""},
    }
    assert complete["dpo"]["bouncer"] == "dpo@bouncer.example" and complete["dpo"]["mailer"] == "legal@northwind-inc.example"
    assert complete["security"] == {"webapp": "TLS everywhere; role-based access control",
                                    "mailer": "encryption at rest; role-based access control"}
    assert complete["special"] == [["bouncer", "mailer-to-bouncer", "Explicit consent"],
                                   ["mailer", "web-to-mailer-health", "Explicit consent"],
                                   ["webapp", "signup", "Explicit consent"]], "the flows that carry the art9 category"
    assert seed["contacts"]["controller"]["email"] == "privacy@twilio.com" and "representative" not in seed["contacts"]
    twilio = load_registry_file(SEED)
    assert seed["systems"] == len(export_fides(twilio).manifest["system"]) > len(twilio.systems)
    assert seed["declarations"] == len(twilio.flows), "one declaration per flow, all parsed by fideslang"
    assert northwind["declarations"] == 3


def _flows(reg: Registry) -> list[tuple]:
    return sorted((f.from_, f.to, tuple(sorted(f.carries)), f.purpose) for f in reg.flows)


@pytest.mark.parametrize("path", [SEED, NORTHWIND, COMPLETE], ids=["seed", "northwind", "northwind_complete"])
def test_import_of_the_export_keeps_flows_categories_and_parties(path: Path) -> None:
    original = load_registry_file(path)
    exported = export_fides(original)
    back = import_fides([("export.yml", yaml.safe_load(yaml.safe_dump(exported.manifest)))]).registry
    assert _flows(back) == _flows(original)
    assert {(c.id, c.name) for c in back.categories} == {(c.id, c.name) for c in original.categories}
    assert {(p.id, p.name, p.kind, p.country) for p in back.parties} == {
        (p.id, p.name, p.kind, p.country) for p in original.parties}
    assert {(s.id, s.owner, s.country) for s in back.systems} == {(s.id, s.owner, s.country) for s in original.systems}
    assert {g.id for g in back.subjects} == {g.id for g in original.subjects}
    # Legal bases and retention travel in the declarations.
    basis = {(f.from_, f.to, f.purpose): (f.legal_basis, f.retention_days) for f in original.flows}
    assert {(f.from_, f.to, f.purpose): (f.legal_basis, f.retention_days) for f in back.flows} == basis
    # The complete record: the controller block, contacts, security measures, special categories.
    assert _record(back) == _record(original)


def _record(reg: Registry) -> tuple:
    controller = reg.controller.model_dump(exclude={"source"}) if reg.controller else None
    for part in ("dpo", "representative"):
        if controller and controller[part]:
            controller[part].pop("source")
    return (
        controller,
        {(p.id, p.contact) for p in reg.parties},
        {(s.id, tuple(s.security_measures)) for s in reg.systems},
        {(c.id, c.special, c.condition) for c in reg.categories},
    )


def test_the_complete_record_travels_where_fideslang_can_hold_it() -> None:
    original = load_registry_file(COMPLETE)
    exported = export_fides(original)
    org = exported.manifest["organization"][0]
    assert org["representative"] == {"name": "Rep Ltd", "address": "Ireland", "email": "rep@example.eu"}
    systems = {s["fides_key"]: s for s in exported.manifest["system"]}
    assert systems["adnet"]["meta"]["flowreg"]["special"] == {"subscriber.fraud": {"special": "art10"}}
    assert not any(d.get("processes_special_category_data") for d in systems["adnet"]["privacy_declarations"]), \
        "criminal-offence data (Art. 10) is not special-category data (Art. 9) in fideslang's sense"
    back = import_fides([("export.yml", yaml.safe_load(yaml.safe_dump(exported.manifest)))])
    assert back.registry.controller.representative.country == "IE"
    assert any("representative.address = Ireland: taken as where the representative is (IE)" in str(n)
               for n in back.assumptions)
    notes = "\n".join(exported.notes)
    assert "agreements (DPAs and joint-controller arrangements: parties, dates, authorisation, documents): " \
           "dpa-mailer, dpa-bouncer, dpa-shopco, jca-adnet" in notes
    assert "transfer impact assessments (hops, regime, dates, outcome, measures, documents): tia-mailer-us, " \
           "tia-mailer-us-2021, tia-bouncer-br, tia-bouncer-br-2023" in notes
    assert "criminal-offence data (art10; kept in meta.flowreg.special only): subscriber.fraud" in notes
    assert "categories' retention_days: subscriber.contact" in notes
    assert "representative's country (IE) is written as its address" in notes


def test_contacts_fideslang_cannot_hold_are_listed() -> None:
    content = load_registry_file(COMPLETE).content()
    content["controller"]["dpo"]["contact"] = "dpo@northwind.example, +31 20 123 4567, https://northwind.example/dpo"
    content["categories"].append({"id": "subscriber.beliefs", "name": "Beliefs", "special": "art9", "condition": "9-2-e"})
    flow = next(f for f in content["flows"] if f["id"] == "signup")
    flow["carries"].append("subscriber.beliefs")
    exported = export_fides(Registry.model_validate(content))
    assert exported.manifest["organization"][0]["data_protection_officer"] == {
        "name": "Dana Ortiz", "email": "dpo@northwind.example", "phone": "+31 20 123 4567"}
    notes = "\n".join(exported.notes)
    assert "the DPO's contact 'https://northwind.example/dpo' is neither an email address nor a phone number" in notes
    signup = next(d for s in exported.manifest["system"] for d in s["privacy_declarations"] if d["name"] == "signup")
    assert signup["processes_special_category_data"] is True and "special_category_legal_basis" not in signup
    assert "flows whose art9 categories have several (kept in meta.flowreg.special): signup" in notes
    back = import_fides([("x.yml", yaml.safe_load(yaml.safe_dump(exported.manifest)))]).registry
    assert (back.get("subscriber.beliefs").special.value, back.get("subscriber.beliefs").condition.value) == ("art9", "9-2-e")


def test_what_fides_cannot_express_is_listed() -> None:
    notes = " ".join(export_fides(load_registry_file(NORTHWIND)).notes)
    for lost in ("validity windows", "eu-us-privacy-shield", "subject groups' locations", "rules (promises)",
                 "parties' certifications"):
        assert lost in notes


def test_ids_that_are_not_fides_keys_are_respelt_and_kept_in_meta() -> None:
    assert fides_key("Twilio Inc.") == "Twilio_Inc." and fides_key("a b/c") == "a_b_c"
    original = load_registry_file(NORTHWIND)
    content = original.content()
    content["systems"][0]["id"] = "web app"
    for flow in content["flows"]:
        for end in ("from", "to"):
            if flow[end] == "webapp":
                flow[end] = "web app"
    # a revision stored before ids had one pattern may still hold such an id
    renamed = Registry.from_content(content)
    exported = export_fides(renamed)
    keys = {s["fides_key"] for s in exported.manifest["system"]}
    assert "web_app" in keys and any("'web app' is 'web_app'" in n for n in exported.notes)
    back = import_fides([("x.yml", exported.manifest)]).registry
    assert back.get("web-app") is not None  # a new registry's ids follow the one id pattern


def test_dry_run_shows_a_diff_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "fides.yml"
    out.write_text("organization: []\n", encoding="utf-8")
    result = flowreg("export-fides", "--registry", NORTHWIND, "-o", out, "--dry-run", db=tmp_path / "db")
    assert result.code == 0, result.stderr
    assert result.stdout.startswith("---") and "+system:" in result.stdout and "-organization: []" in result.stdout
    assert out.read_text(encoding="utf-8") == "organization: []\n"
    empty = flowreg("export-fides", db=tmp_path / "empty-db")
    assert empty.code == 1 and "no flowreg store" in empty.stderr
    written = flowreg("export-fides", "--registry", NORTHWIND, "-o", out, db=tmp_path / "db")
    assert written.code == 1 and "give --force" in written.stderr  # an existing file is kept
    assert out.read_text(encoding="utf-8") == "organization: []\n"
    forced = flowreg("export-fides", "--registry", NORTHWIND, "-o", out, "--force", db=tmp_path / "db")
    assert forced.code == 0 and "system:" in out.read_text(encoding="utf-8")
    assert sys.executable  # the CLI ran in this interpreter's environment, fideslang not in it
