"""Importing Fides system manifests: what maps, what is assumed, what is listed as not mapped."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from lineage.api import Flowreg
from lineage.cli import report_cmds
from lineage.reports import build_report
from registry.errors import FlowregError
from registry.fides_import import import_fides, import_fides_files
from registry.loader import load_registry_file
from registry.sqlite_store import SqliteStore

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "fides_acme.yaml"


@pytest.fixture(scope="module")
def imported():
    return import_fides_files([FIXTURE], country="DE", subject_location="EEA")


def test_systems_parties_and_categories(imported) -> None:
    reg = imported.registry
    assert reg.organization == "Acme Shop GmbH"
    assert [s.id for s in reg.systems] == ["storefront", "mail_vendor", "web_analytics", "support_desk"]
    owners = {s.id: s.owner for s in reg.systems}
    assert owners["storefront"] == "acme_shop" and owners["mail_vendor"] == "mail_vendor-provider"
    vendor = reg.get("mail_vendor-provider")
    assert (vendor.name, vendor.kind.value, vendor.country) == ("Postbote Mail Inc.", "service_provider", "US")
    ids = {c.id for c in reg.categories}
    assert {"user", "user.contact", "user.contact.email", "user.device.ip_address"} <= ids, "ancestors are added"
    assert {s.id for s in reg.subjects} == {"customer"}, "the user ingress names no cookie data: prospects are not collected"
    assert all(s.location == ["EEA"] for s in reg.subjects)


def test_flows_from_declarations_and_egress(imported) -> None:
    flows = {f.id: f for f in imported.registry.flows}
    collect = flows["customer-to-storefront"]
    assert collect.carries == ["user.contact.email", "user.name", "user.contact.address"]
    assert (collect.purpose, collect.legal_basis.value, collect.retention_days) == ("essential.service", "contract", 3650)
    vendor = flows["storefront-to-mail_vendor"]
    assert vendor.carries == ["user.contact.email", "user.name"]
    assert vendor.purpose == "essential.service.notifications", "the receiver's use: why it gets the data"
    assert vendor.role.value == "processor" and vendor.under == ["scc-mail_vendor"]
    assert vendor.retention_days == 30, "how long the receiver keeps it, from its own declaration"
    assert "storefront-to-mail_vendor-2" not in flows, "the vendor's ingress restates the egress"
    assert flows["storefront-to-web_analytics"].carries == ["user.device.cookie_id", "user.device.ip_address"]
    assert not any(f.from_ == "web_analytics" for f in flows.values())
    scc = imported.registry.get("scc-mail_vendor")
    assert scc.kind.value == "scc" and scc.members == ["acme_shop", "mail_vendor-provider"]


def test_what_could_not_be_mapped_is_listed(imported) -> None:
    unmapped = [str(n) for n in imported.unmapped]
    assert any("dataset[0] = customer_db" in n for n in unmapped)
    assert any("support_desk" not in n and "third_country_transfers = IND" in n and "cannot be tied to a hop" in n for n in unmapped)
    assert any("egress[0] = user" in n for n in unmapped)
    assert any("as long as the account exists" in n for n in unmapped)
    assert any("uses_cookies" in n for n in unmapped)
    assumed = [str(n) for n in imported.assumptions]
    assert any("14 months" in n and "420 days" in n for n in assumed)
    assert any("retention_period = 13 months: applies to no flow" in n for n in unmapped)
    assert any("USA" in n and "(US)" in n for n in assumed)


def test_the_import_is_a_registry_the_engine_can_judge(imported, tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "db")
    store.append(imported.registry.content(), author="test", message="fides import")
    report = build_report(Flowreg(store), "transfers", date(2025, 1, 1))
    eu = {r["flow"]: r for r in report.section("eu").records()}
    assert eu["storefront-to-mail_vendor"]["status"] == "covered"
    assert eu["storefront-to-mail_vendor"]["dpv_term"] == ("eu-gdpr:SCCByCommission",)


def test_without_locations_it_still_imports_and_says_what_is_missing() -> None:
    result = import_fides_files([FIXTURE])
    assert result.registry.get("acme_shop").country is None
    notes = " ".join(str(n) for n in result.unmapped)
    assert "pass --country" in notes and "pass --subject-location" in notes


def test_bad_manifests_fail_with_a_clear_error() -> None:
    with pytest.raises(FlowregError, match="no systems"):
        import_fides([("m.yaml", {"dataset": []})])
    with pytest.raises(FlowregError, match=r"system\[0\]: a system needs a fides_key"):
        import_fides([("m.yaml", {"system": [{"name": "x"}]})])
    with pytest.raises(FlowregError, match="a mapping"):
        import_fides([("m.yaml", ["not", "a", "manifest"])])


def test_minimal_manifest_collects_from_subjects() -> None:
    manifest = {"system": [{
        "fides_key": "app", "name": "App", "system_type": "Service",
        "privacy_declarations": [{"data_categories": ["user.contact.email"], "data_use": "marketing", "data_subjects": ["customer"]}],
    }]}
    result = import_fides([("m.yaml", manifest)], organization="Example", country="NL", subject_location="NL")
    flow = result.registry.flows[0]
    assert (flow.from_, flow.to, flow.carries, flow.purpose) == ("customer", "app", ["user.contact.email"], "marketing")
    assert any("taken to collect" in str(n) for n in result.assumptions)


def test_cli_import_writes_a_valid_registry_with_the_notes(tmp_path: Path) -> None:
    app = typer.Typer()
    report_cmds.register(app)
    out = tmp_path / "registry.yaml"
    result = CliRunner().invoke(app, ["import-fides", str(FIXTURE), "--country", "DE", "--subject-location", "EEA", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text()
    assert text.startswith("# Imported from Fides")
    assert "# not mapped:" in text and "# assumed:" in text
    assert load_registry_file(out).organization == "Acme Shop GmbH"
    assert "not mapped:" in result.stderr
    assert yaml.safe_load(text)["flowreg"] == 1


# --- real manifests (tests/fixtures/fides/SOURCE.md: ethyca/fides, fideslang 1, 2 and 3) -------
REAL = FIXTURE.parent / "fides"
REAL_SETS = {
    "demo (fideslang 3)": ["demo_system.yml", "demo_organization.yml"],
    "sample project (fideslang 3)": ["sample_systems.yml", "sample_organization.yml"],
    "fides' own systems (fideslang 3)": ["fides_systems.yml"],
    "demo (fideslang 1)": ["demo_system_fideslang1.yml"],
    "fides' own systems (fideslang 2)": ["fides_systems_fideslang2.yml"],
}
SYSTEM_OR_DECLARATION_MAPPED = {
    "fides_key", "name", "description", "system_type", "administrating_department", "organization_fides_key",
    "data_responsibility_title", "responsibility", "ingress", "egress", "privacy_declarations",
    "data_categories", "data_use", "data_subjects", "legal_basis_for_processing", "retention_period",
}


def _import_real(files: list[str]):
    return import_fides_files([REAL / f for f in files], country="US", subject_location="US")


def test_the_seven_real_manifests_are_the_ones_named_here() -> None:
    named = sorted(f for files in REAL_SETS.values() for f in files)
    assert named == sorted(p.name for p in REAL.glob("*.yml")) and len(named) == 7
    source = (REAL / "SOURCE.md").read_text(encoding="utf-8")
    assert all(name in source for name in named)


@pytest.mark.parametrize("label", list(REAL_SETS))
def test_real_manifests_import_with_every_dropped_field_listed(label: str) -> None:
    files = REAL_SETS[label]
    result = _import_real(files)
    notes = [str(n) for n in result.unmapped]
    purposes = {f.purpose for f in result.registry.flows}
    carried = {c for f in result.registry.flows for c in f.carries}
    for file in files:
        manifest = yaml.safe_load((REAL / file).read_text(encoding="utf-8"))
        for i, org in enumerate(manifest.get("organization") or []):
            for key in sorted(set(org) - {"fides_key", "name", "description"}):
                assert any(n.startswith(f"{REAL / file}: organization[{i}].{key} ") for n in notes), (key, notes)
        for i, system in enumerate(manifest.get("system") or []):
            path = f"{REAL / file}: system[{i}]"
            for key in sorted(set(system) - SYSTEM_OR_DECLARATION_MAPPED):
                assert any(n.startswith(f"{path}.{key} ") for n in notes), f"{path}.{key} neither mapped nor listed"
            for j, d in enumerate(system["privacy_declarations"]):
                where = f"{path}.privacy_declarations[{j}]"
                for key in sorted(set(d) - SYSTEM_OR_DECLARATION_MAPPED):
                    assert any(n.startswith(f"{where}.{key} ") for n in notes), f"{where}.{key} neither mapped nor listed"
                # Its data use is a purpose, or the whole declaration is listed as not imported.
                assert d["data_use"] in purposes or any(n.startswith(f"{where} = ") for n in notes), where
                for c in d["data_categories"]:
                    assert c in carried or any(c in n for n in notes if n.startswith(where)), (where, c)
    # Nothing invented: every carried category is declared by an end of its flow, or named by
    # the data flow itself.
    declared = _declared_by_node(files)
    for flow in result.registry.flows:
        ends = declared.get(flow.from_, set()) | declared.get(flow.to, set())
        assert all(any(c == d or c.startswith(d + ".") for d in ends) for c in flow.carries), flow


def _declared_by_node(files: list[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for file in files:
        for system in yaml.safe_load((REAL / file).read_text(encoding="utf-8")).get("system") or []:
            cats = {c for d in system["privacy_declarations"] for c in d["data_categories"]}
            out[system["fides_key"]] = cats
            for d in system["privacy_declarations"]:
                for subject in d.get("data_subjects") or []:
                    out.setdefault(subject, set()).update(d["data_categories"])
    return out


def test_demo_manifest_keeps_its_data_uses_and_invents_no_category() -> None:
    result = _import_real(REAL_SETS["demo (fideslang 3)"])
    flows = {(f.from_, f.to): f for f in result.registry.flows}
    hop = flows[("demo_marketing_system", "demo_analytics_system")]
    assert hop.carries == ["user.device.cookie_id"], "user.contact is declared by the receiver only"
    assert hop.purpose == "functional.service.improve"
    assert flows[("customer", "demo_marketing_system")].purpose == "marketing.advertising"
    notes = " ".join(str(n) for n in result.unmapped)
    assert "privacy_declarations[0].data_categories = user.contact: no flow" in notes
    for key in ("controller", "data_protection_officer", "representative", "security_policy"):
        assert f"organization[0].{key} = " in notes and "complete-record keys pending" in notes
    assert result.registry.organization == "Demo Organization"
    assert any("purpose taken from" in str(n) for n in result.assumptions), "the inferred purpose is labelled"


def test_fideslang1_demo_reports_its_third_countries_and_roles() -> None:
    result = _import_real(REAL_SETS["demo (fideslang 1)"])
    notes = " ".join(str(n) for n in result.unmapped)
    assert "third_country_transfers = USA, CAN: cannot be tied to a hop" in notes
    assert "data_protection_impact_assessment" in notes and "data_qualifier" in notes
    roles = {f.to: f.role.value for f in result.registry.flows}
    assert roles == {"demo_marketing_system": "processor", "demo_analytics_system": "controller"}
    assert {f.purpose for f in result.registry.flows} == {"marketing.advertising", "improve.system"}


VENDOR = {
    "fides_key": "mailer", "name": "Mailer", "system_type": "Third Party", "legal_name": "Mailer Inc.",
    "legal_address": "1 Market St, San Francisco, CA, USA", "does_international_transfers": True,
    "responsibility": ["Controller", "Processor"],
    "legal_basis_for_transfers": ["Standard contractual clauses", "BCRs", "Adequacy Decision", "Supplementary Measures"],
    "dpo": "dpo@mailer.example", "data_security_practices": "ISO 27001",
    "ingress": [{"fides_key": "app", "type": "system", "data_categories": ["user.contact.email"]}],
    "privacy_declarations": [{"data_categories": ["user.contact.email"], "data_use": "essential.service.notifications",
                              "data_subjects": ["customer"], "legal_basis_for_processing": "Contract",
                              "retention_period": "30 days", "processes_special_category_data": False}],
}
APP = {
    "fides_key": "app", "name": "App", "system_type": "Application",
    "ingress": [{"fides_key": "user", "type": "user"}],
    "egress": [{"fides_key": "mailer", "type": "system", "data_categories": ["user.contact.email"]}],
    "privacy_declarations": [{"data_categories": ["user.contact.email", "user.name"], "data_use": "essential.service",
                              "data_subjects": ["customer"]}],
}


def test_a_fideslang3_vendor_gets_its_country_and_transfer_tools() -> None:
    result = import_fides([("m.yml", {"system": [APP, VENDOR]})], organization="Example", country="DE", subject_location="EEA")
    reg = result.registry
    party = reg.get("mailer-provider")
    assert (party.name, party.country) == ("Mailer Inc.", "US")
    kinds = sorted(m.kind.value for m in reg.mechanisms)
    assert kinds == ["bcr", "scc"]
    hop = next(f for f in reg.flows if f.to == "mailer")
    assert sorted(hop.under) == sorted(m.id for m in reg.mechanisms)
    assert hop.role is None, "two responsibilities: no role is picked"
    assumed = " ".join(str(n) for n in result.assumptions)
    assert "legal_address = 1 Market St, San Francisco, CA, USA: taken as where Mailer Inc. is" in assumed
    assert "Adequacy Decision: needs no claim" in assumed and "processor BCR" in assumed
    notes = " ".join(str(n) for n in result.unmapped)
    assert "responsibility = Controller, Processor: several roles" in notes
    assert "does_international_transfers = True" in notes
    assert "Supplementary Measures" in notes and "dpo = dpo@mailer.example: not mapped yet" in notes
    assert "data_security_practices = ISO 27001: not mapped yet (complete-record keys pending)" in notes


def test_a_vendor_without_data_flows_keeps_its_declaration_in_the_notes() -> None:
    lonely = {k: v for k, v in VENDOR.items() if k != "ingress"}
    app = {k: v for k, v in APP.items() if k != "egress"}
    result = import_fides([("m.yml", {"system": [app, lonely]})], organization="Example", country="DE")
    notes = [str(n) for n in result.unmapped]
    note = next(n for n in notes if "system[1].privacy_declarations[0] = " in n)
    for said in ("essential.service.notifications", "user.contact.email", "customer", "Contract", "30 days"):
        assert said in note
    assert "user.contact.email" in {c.id for c in result.registry.categories}


def test_duplicate_fides_keys_across_files_are_an_error_naming_both(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yml", tmp_path / "b.yml"
    for path in (first, second):
        path.write_text(yaml.safe_dump({"system": [APP]}), encoding="utf-8")
    with pytest.raises(FlowregError, match=r"duplicate system fides_key 'app': .*a\.yml: system\[0\] and .*b\.yml: system\[0\]"):
        import_fides_files([first, second])
