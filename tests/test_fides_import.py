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
from registry.loader import load_registry_file, load_registry_text
from registry.sqlite_store import SqliteStore
from registry.yamlexport import to_yaml

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
            path = f"{REAL / file}: organization[{i}]"
            for key in sorted(set(org) - {"fides_key", "name", "description"}):
                if key in CONTACT_HOMES:  # each detail is in the controller block, or listed
                    block = _contact_block(result.registry.controller, CONTACT_HOMES[key])
                    for detail, value in org[key].items():
                        assert value in block.values() or value in (block.get("contact") or "").split(", ") or any(
                            n.startswith(f"{path}.{key}.{detail} ") for n in notes), (key, detail, block, notes)
                else:
                    assert any(n.startswith(f"{path}.{key} ") for n in notes), (key, notes)
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


CONTACT_HOMES = {"controller": None, "data_protection_officer": "dpo", "representative": "representative"}


def _contact_block(controller, part: str | None) -> dict[str, str]:
    """The controller block (or its dpo or representative) as {field: value}."""
    assert controller is not None, "the organisation's contact details make a controller block"
    block = controller if part is None else getattr(controller, part)
    assert block is not None, part
    return {k: v for k, v in block.model_dump().items() if isinstance(v, str)}


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
    assert result.registry.organization == "Demo Organization"
    assert "organization[0].security_policy = https://ethyca.com/privacy-policy/: a URL of the organisation's " \
           "security policy: the registry has no key" in notes
    assert any("purpose taken from" in str(n) for n in result.assumptions), "the inferred purpose is labelled"


def test_the_organisations_contact_details_are_the_controller_block() -> None:
    result = _import_real(REAL_SETS["sample project (fideslang 3)"])
    controller = result.registry.controller
    assert (controller.name, controller.address, controller.contact) == (
        "Con Troller", "123 Example Street, New York, NY, USA", "controller@example.com, +1 555 555 5555")
    assert (controller.dpo.name, controller.dpo.contact) == ("DataPro Tection", "dpo@example.com, +1 555 555 5555")
    rep = controller.representative
    assert (rep.name, rep.contact, rep.country) == ("Rep Resentative", "representative@example.com, +1 555 555 5555", "US")
    assert controller.source == "Fides organization default_organization"
    notes = [str(n) for n in result.unmapped]
    assert any("data_protection_officer.address = 123 Example Street, New York, NY, USA: the registry's dpo has "
               "a name and a contact, no address" in n for n in notes)
    assert any("representative.address = 123 Example Stree, New York, NY, USA: the registry's representative" in n
               for n in notes), "the address itself is listed; only its country is taken"
    assumed = [str(n) for n in result.assumptions]
    assert any("representative.address = 123 Example Stree, New York, NY, USA: taken as where the representative "
               "is (US)" in n for n in assumed), "the country is a labelled guess"
    # The block survives a round trip through the registry file.
    assert load_registry_text(to_yaml(result.registry)).controller == controller


def test_contact_details_without_a_name_email_or_country_are_not_invented() -> None:
    org = {"fides_key": "org", "name": "Example GmbH",
           "data_protection_officer": {"name": "", "address": "Postfach 1, 10115 Berlin", "email": "", "phone": ""},
           "representative": {"name": "", "address": "", "email": "rep@example.eu", "phone": ""},
           "controller": {"name": "", "address": "", "email": "", "phone": ""}}
    result = import_fides([("m.yml", {"organization": [org], "system": [APP]})], country="DE")
    controller = result.registry.controller
    assert controller.name == "Example GmbH" and controller.address is None and controller.contact is None
    assert any("no controller named: the organisation (Example GmbH) is taken as the controller" in str(n)
               for n in result.assumptions)
    assert controller.dpo.contact == "Postfach 1, 10115 Berlin", "an address is how to reach a DPO that gives nothing else"
    assert controller.dpo.name is None
    assert controller.representative is None
    notes = [str(n) for n in result.unmapped]
    assert any(n.startswith("m.yml: organization[0].representative = rep@example.eu: a representative needs a name")
               for n in notes)
    assert any(n.startswith("m.yml: organization[0].controller = (empty): empty") for n in notes)


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
    "dpo": "dpo@mailer.example", "data_security_practices": "ISO 27001; encryption at rest",
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
    assert "Supplementary Measures: supplementary measures belong to a transfer impact assessment" in notes
    assert "Fides gives none of them, so none is made" in notes and not reg.assessments
    assert "dpo" not in notes and "data_security_practices" not in notes
    assert party.contact == "dpo@mailer.example", "a vendor system's DPO answers for the vendor"
    assert reg.get("mailer").security_measures == ["ISO 27001", "encryption at rest"]
    assert not any(c.special for c in reg.categories), "processes_special_category_data: false"


def _special(declaration: dict, **system):
    app = {**APP, **system, "privacy_declarations": [{**APP["privacy_declarations"][0], **declaration}]}
    return import_fides([("m.yml", {"system": [app]})], organization="Example", country="DE", subject_location="EEA")


def test_special_categories_take_fideslangs_art9_ground() -> None:
    result = _special({"data_categories": ["user.contact.email", "user.health_and_medical"],
                       "processes_special_category_data": True,
                       "special_category_legal_basis": "Health or social care (with a basis in law)"})
    health = result.registry.get("user.health_and_medical")
    assert (health.special.value, health.condition.value) == ("art9", "9-2-h")
    assert result.registry.get("user.contact.email").special is None
    assert any("user.health_and_medical: taken as special-category data of this declaration (an Art. 9(1) kind in "
               "fideslang's taxonomy), ground 9-2-h" in str(n) for n in result.assumptions), "which category is a guess"


@pytest.mark.parametrize(("words", "ground"), [
    ("Explicit consent", "9-2-a"), ("Employment, social security and social protection", "9-2-b"),
    ("Vital interests", "9-2-c"), ("Not-for-profit bodies", "9-2-d"), ("Made public by the data subject", "9-2-e"),
    ("Legal claims or judicial acts", "9-2-f"), ("Reasons of substantial public interest (with a basis in law)", "9-2-g"),
    ("Health or social care (with a basis in law)", "9-2-h"), ("Public health (with a basis in law)", "9-2-i"),
    ("Archiving, research and statistics (with a basis in law)", "9-2-j"),
])
def test_every_fideslang_special_category_basis_is_one_art9_ground(words: str, ground: str) -> None:
    result = _special({"data_categories": ["user.biometric.fingerprint"], "processes_special_category_data": True,
                       "special_category_legal_basis": words})
    assert result.registry.get("user.biometric.fingerprint").condition.value == ground


def test_special_category_data_that_cannot_be_placed_is_listed_not_guessed() -> None:
    unknown = _special({"data_categories": ["user.contact.email", "user.name"], "processes_special_category_data": True,
                        "special_category_legal_basis": "Explicit consent"})
    assert not any(c.special for c in unknown.registry.categories)
    notes = " ".join(str(n) for n in unknown.unmapped)
    assert "processes_special_category_data = True: none of its categories (user.contact.email, user.name) is of " \
           "an Art. 9(1) kind" in notes
    assert "special_category_legal_basis = Explicit consent: the special category it applies to is unknown" in notes
    groundless = _special({"data_categories": ["user.health_and_medical"], "processes_special_category_data": True})
    assert groundless.registry.get("user.health_and_medical").special is None, "art9 needs a ground; none is invented"
    assert "special-category data without its Art. 9(2) ground" in " ".join(str(n) for n in groundless.unmapped)
    odd = _special({"data_categories": ["user.health_and_medical"], "processes_special_category_data": True,
                    "special_category_legal_basis": "Because we can"})
    assert "special_category_legal_basis = Because we can: not one of the GDPR Art. 9(2) grounds" in " ".join(
        str(n) for n in odd.unmapped)
    denied = _special({"data_categories": ["user.health_and_medical"], "processes_special_category_data": False,
                       "special_category_legal_basis": "Explicit consent"})
    assert "says it processes no special-category data: not applied" in " ".join(str(n) for n in denied.unmapped)


def test_an_own_systems_dpo_is_the_organisations_contact_and_conflicts_are_listed() -> None:
    other = {**APP, "fides_key": "crm", "name": "CRM", "dpo": "privacy@example.com", "ingress": [], "egress": [],
             "data_security_practices": "TLS; backups\naccess logging"}
    result = import_fides([("m.yml", {"system": [{**APP, "dpo": "dpo@example.com"}, other]})],
                          organization="Example", country="DE")
    reg = result.registry
    owner = reg.get(reg.get("app").owner)
    assert owner.contact == "dpo@example.com"
    assert reg.get("crm").security_measures == ["TLS", "backups", "access logging"]
    assert any("system[1].dpo = privacy@example.com: organization already has the contact dpo@example.com" in str(n)
               for n in result.unmapped)


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
