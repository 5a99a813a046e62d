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
    assert {s.id for s in reg.subjects} == {"customer", "prospect"}
    assert all(s.location == ["EEA"] for s in reg.subjects)


def test_flows_from_declarations_and_egress(imported) -> None:
    flows = {f.id: f for f in imported.registry.flows}
    collect = flows["customer-to-storefront"]
    assert collect.carries == ["user.contact.email", "user.name", "user.contact.address"]
    assert (collect.purpose, collect.legal_basis.value, collect.retention_days) == ("essential.service", "contract", 3650)
    vendor = flows["storefront-to-mail_vendor"]
    assert vendor.carries == ["user.contact.email", "user.name"]
    assert vendor.role.value == "processor" and vendor.under == ["scc-mail_vendor"]
    assert vendor.retention_days == 30, "how long the receiver keeps it, from its own declaration"
    assert "storefront-to-mail_vendor-2" not in flows, "the vendor's ingress restates the egress"
    assert flows["storefront-to-web_analytics"].carries == ["user.device.cookie_id", "user.device.ip_address"]
    assert not any(f.from_ == "web_analytics" for f in flows.values())
    scc = imported.registry.get("scc-mail_vendor")
    assert scc.kind.value == "scc" and scc.members == ["acme_shop", "mail_vendor-provider"]


def test_what_could_not_be_mapped_is_listed(imported) -> None:
    unmapped = [str(n) for n in imported.unmapped]
    assert any("dataset customer_db" in n for n in unmapped)
    assert any("third_country_transfers = IND" in n and "cannot be tied to a hop" in n for n in unmapped)
    assert any("egress[0] = user" in n for n in unmapped)
    assert any("as long as the account exists" in n for n in unmapped)
    assert any("uses_cookies" in n for n in unmapped)
    assumed = [str(n) for n in imported.assumptions]
    assert any("13 months" in n and "390 days" in n for n in assumed)
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
