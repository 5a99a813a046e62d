"""One documented id pattern (registry/ids.py) for YAML files, CLI options and the dashboard's
register form: ASCII letters, digits, '.', '_' and '-', starting with a letter or digit. Ids
that look alike are the same id: zero-width, bidi, C1 and look-alike letters are refused with a
message that names the key (or option, or field) and the reason. Stored revisions written
before the pattern still read as they were.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from app_support import fill_register, open_app, proposals, seeded_env
from clirun import NORTHWIND, SEED, invoke

from registry.errors import RegistryError
from registry.ids import ID_PATTERN, check_category_id, check_id
from registry.loader import load_registry_data, load_registry_file, load_registry_text
from registry.model import Registry

REFUSED = {
    "Vox Scribe!": "' ' is not allowed",
    "bouncer\u200b": "U+200B",           # zero-width space
    "bouncer\u202e": "U+202E",           # right-to-left override
    "bouncer\u2066x": "U+2066",          # left-to-right isolate
    "bouncer\x85": "U+0085",             # C1 next line
    "bouncer\x9b": "U+009B",             # C1 control sequence introducer
    "b\u043euncer": "U+043E",            # Cyrillic o, looks like a Latin o
    "-bouncer": "start with a letter or digit",
    "bouncer ": "white space",
    "": "may not be empty",
    "x" * 201: "at most 200",
}


@pytest.mark.parametrize("value", list(REFUSED), ids=lambda v: repr(v)[:20])
def test_the_pattern_refuses_ids_that_hide_or_mislead(value: str) -> None:
    with pytest.raises(ValueError, match=REFUSED[value].replace("(", r"\(").replace("+", r"\+")):
        check_id(value)


def test_the_pattern_accepts_ordinary_ids() -> None:
    for value in ("speechco", "eu-us-dpf", "scc_2021", "twilio.ireland", "A1", "9to5"):
        assert check_id(value) == value
    assert check_category_id("account.contact.email") == "account.contact.email"
    for bad in ("account..email", "account.", ".account", "account.-x"):
        with pytest.raises(ValueError):
            check_category_id(bad)
    assert ID_PATTERN.startswith("[A-Za-z0-9]")


def test_yaml_names_the_key_and_the_reason() -> None:
    doc = yaml.safe_load(NORTHWIND.read_text(encoding="utf-8"))
    doc["parties"].append({"id": "bouncer\u200b", "name": "Twin", "kind": "subprocessor", "country": "US"})
    doc["parties"].append({"id": "Vox Scribe!", "name": "Vox", "kind": "subprocessor", "country": "US"})
    with pytest.raises(RegistryError) as caught:
        load_registry_text(yaml.safe_dump(doc, allow_unicode=False))
    text = str(caught.value)
    n = len(doc["parties"])
    assert f"parties[{n - 2}].id: 'bouncer\\u200b' is not a valid id" in text, text
    assert f"parties[{n - 1}].id: 'Vox Scribe!' is not a valid id" in text, text


def test_bouncer_and_its_invisible_twin_cannot_coexist() -> None:
    doc = load_registry_file(NORTHWIND).content()
    twin = copy.deepcopy(next(p for p in doc["parties"] if p["id"] == "bouncer"))
    twin["id"] = "bouncer\u200b"
    doc["parties"].append(twin)
    with pytest.raises(RegistryError, match="U\\+200B"):
        load_registry_data(doc)


def test_references_follow_the_pattern_too() -> None:
    doc = load_registry_file(NORTHWIND).content()
    doc["flows"][0]["to"] = "mailer\u200b"
    with pytest.raises(RegistryError, match=r"flows\[0\]\.to: 'mailer\\u200b' is not a valid id"):
        load_registry_data(doc)


def test_stored_revisions_written_before_the_pattern_still_read() -> None:
    doc = load_registry_file(NORTHWIND).content()
    doc["parties"].append({"id": "Legacy Party", "name": "Legacy", "kind": "other"})
    assert Registry.from_content(doc).get("Legacy Party") is not None
    with pytest.raises(RegistryError):
        load_registry_data(doc)  # but a change must bring valid ids


def test_a_change_keeps_the_ids_its_registry_holds() -> None:
    """A registry stored before the pattern can still change: its ids stay, new ones must fit."""
    from lineage.whatif import merge
    from registry.registration import add_subprocessor

    doc = load_registry_file(NORTHWIND).content()
    doc["systems"].append({"id": "Legacy System", "name": "Legacy", "owner": "northwind-nl", "country": "NL"})
    legacy = Registry.from_content(doc)
    added = add_subprocessor(legacy, party_id="acme", name="Acme", country="FI",
                             categories=["subscriber"], from_system="Legacy System")
    assert added.flows[-1].from_ == "Legacy System"
    with pytest.raises(RegistryError, match="--id: 'Acme Two' is not a valid id"):
        add_subprocessor(legacy, party_id="Acme Two", name="Acme", country="FI",
                         categories=["subscriber"], from_system="Legacy System")
    assert merge(legacy, {"parties": [{"id": "p2", "name": "P", "kind": "other"}]}).get("Legacy System")


def test_cli_names_the_option(tmp_path: Path) -> None:
    db = tmp_path / "flowreg.db"
    assert invoke("apply", SEED, "-m", "seed", db=db).code == 0
    result = invoke("subprocessor", "add", "--id", "Vox Scribe!", "--name", "Vox Scribe", "--country", "FI",
                    "-c", "content.voice.recording", "--from-system", "comms-records", db=db)
    assert result.code == 1
    lines = [line.strip() for line in result.stderr.splitlines()[1:]]
    assert lines == ["--id: 'Vox Scribe!' is not a valid id: ' ' is not allowed; ids are ASCII letters, "
                     "digits, '.', '_' and '-', starting with a letter or digit (e.g. speechco, eu-us-dpf)"], lines
    zero_width = invoke("subprocessor", "add", "--id", "speechco\u200b", "--name", "S", "--country", "FI",
                        "-c", "content.voice.recording", "--from-system", "comms-records", db=db)
    assert zero_width.code == 1 and "--id: 'speechco\\u200b' is not a valid id" in zero_width.stderr


@pytest.fixture
def app_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    yield from seeded_env(tmp_path, monkeypatch)


def test_dashboard_form_shows_the_rule_under_the_id_field(app_db: Path) -> None:
    at = open_app("engineer", "register")
    fill_register(at, party_id="Vox Scribe!", name="Vox Scribe")
    errors = [e.value.replace("\\", "") for e in at.error]  # shown as literal Markdown
    assert any("'Vox Scribe!' is not a valid id" in e and "letters, digits" in e for e in errors), errors
    assert not any("-to-Vox" in e for e in errors), "the derived flow id is not a second complaint"
    assert not [b for b in at.button if b.label == "Submit for approval"], "no preview, nothing to submit"
    assert proposals(app_db) == []
