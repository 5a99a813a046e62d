"""The bundled DPV 2.3 vocabulary and the check of each category's `dpv` term against it.

Nothing is mocked: the vocabulary is the bundled file made from the published DPV 2.3 Turtle
files, and `flowreg validate` runs as a real subprocess.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from clirun import SEED, flowreg

from registry.dpv import DATA, personal_data_problem, vocabulary
from registry.errors import RegistryError
from registry.loader import load_registry_file, load_registry_text

REGISTRY = """flowreg: 1
organization: Example
categories:
  - id: customer
    name: Customer data
    dpv: pd:Contact
  - id: customer.email
    name: Email
    dpv: {term}
"""


def test_the_bundle_says_what_it_is_made_from() -> None:
    data = json.loads(DATA.read_text(encoding="utf-8"))
    assert data["version"] == "2.3" and "w3id.org/dpv/2.3" in data["source"]
    assert set(data["files"]) >= {"dpv/dpv.ttl", "pd/pd.ttl", "loc/loc.ttl", "legal/eu/gdpr/eu-gdpr.ttl"}
    assert all(len(digest) == 64 for digest in data["files"].values())
    assert "W3C Software and Document" in (DATA.parent / "SOURCE.md").read_text(encoding="utf-8")


def test_documented_types_and_roles_are_kept() -> None:
    v = vocabulary()
    assert v.is_a("pd:EmailAddress", "dpv:PersonalData") and v.is_a("pd:BrowsingBehaviour", "pd:Behavioural")
    assert v.is_a("eu-gdpr:A49-1-a", "dpv:LegalBasis") and not v.is_a("eu-gdpr:A49-1-a", "dpv:OrganisationalMeasure")
    assert v.is_a("eu-gdpr:SCCByCommission", "dpv:OrganisationalMeasure")
    assert v.is_a("loc:US", "dpv:Country") and v.is_a("loc:EEA", "dpv:SupraNationalUnion")
    assert not v.is_a("loc:EEA", "dpv:Country"), "the EEA is a union, not a country"
    assert v.range_of("dpv:hasLegalBasis") == ["dpv:LegalBasis"]
    assert v.range_of("dpv:hasThirdCountry") == ["dpv:ThirdCountry"]
    assert v.curie("https://w3id.org/dpv/legal/eu/gdpr#A45-3") == "eu-gdpr:A45-3"
    assert not v.has("loc:US-CA"), "subdivisions are not bundled"


@pytest.mark.parametrize(("term", "problem"), [
    ("pd:EmailAddress", None),
    ("https://w3id.org/dpv/pd#EmailAddress", None),
    ("dpv:SensitivePersonalData", None),
    ("pd:TotallyInventedTerm", "unknown DPV 2.3 term 'pd:TotallyInventedTerm'"),
    ("pd:BrowsingBehavior", "did you mean 'pd:BrowsingBehaviour'?"),
    ("dpv:Consent", "not a kind of personal data"),
    ("loc:US", "not a personal-data term"),
    ("EmailAddress", "not a DPV term"),
])
def test_personal_data_terms(term: str, problem: str | None) -> None:
    found = personal_data_problem(term)
    assert (found is None) if problem is None else (problem in (found or ""))


def test_an_unknown_term_is_an_error_with_its_key_path_and_line() -> None:
    assert load_registry_text(REGISTRY.format(term="pd:EmailAddress")).get("customer.email").dpv == "pd:EmailAddress"
    with pytest.raises(RegistryError) as caught:
        load_registry_text(REGISTRY.format(term="pd:TotallyInventedTerm"))
    (issue,) = caught.value.issues
    assert (issue.path, issue.line) == ("categories[1].dpv", 9)
    assert "pd:TotallyInventedTerm" in issue.message


def test_flowreg_validate_rejects_an_unknown_term(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(REGISTRY.format(term="pd:TotallyInventedTerm"), encoding="utf-8")
    result = flowreg("validate", bad, db=tmp_path / "db")
    assert result.code == 1
    assert "categories[1].dpv: unknown DPV 2.3 term 'pd:TotallyInventedTerm' (line 9)" in result.stderr


def test_every_term_of_the_seed_is_a_dpv_personal_data_term() -> None:
    registry = load_registry_file(SEED)
    terms = [c.dpv for c in registry.categories if c.dpv]
    assert len(terms) > 30
    assert [t for t in terms if personal_data_problem(t)] == []
