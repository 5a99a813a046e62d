"""`extend_registry` validates only what is appended, yet must accept and refuse exactly what
validating the whole appended document does, with the same words."""

from __future__ import annotations

from typing import Any

import pytest

from registry.additions import extend_registry, extension_of
from registry.errors import RegistryError
from registry.loader import load_registry_data, load_registry_file

BASE = load_registry_file("tests/fixtures/northwind.yaml")


def party(pid: str, **extra: Any) -> dict[str, Any]:
    return {"id": pid, "name": pid.title(), "kind": "subprocessor", "country": "FR", **extra}


def flow(fid: str, src: str = "mailer", dst: str = "newco", **extra: Any) -> dict[str, Any]:
    return {"id": fid, "from": src, "to": dst, "carries": ["subscriber.contact.email"], **extra}


VALID = {
    "party and flow": {"parties": [party("newco")], "flows": [flow("to-newco", under=["eu-us-dpf"])]},
    "flow to an existing party": {"flows": [flow("to-bouncer", dst="bouncer")]},
    "system of a new party": {"parties": [party("newco")],
                              "systems": [{"id": "newco-db", "name": "DB", "owner": "newco", "country": "FR"}],
                              "flows": [flow("to-db", dst="newco-db")]},
    "category under a new category": {"categories": [{"id": "extra", "name": "Extra"},
                                                     {"id": "extra.sub", "name": "Sub"}]},
    "mechanism and rule": {"mechanisms": [{"id": "scc-new", "kind": "scc", "version": "2021/914",
                                           "valid_from": "2022-01-01", "members": ["northwind-nl", "bouncer"]}],
                           "rules": [{"id": "r-new", "retention": {"categories": ["subscriber"], "max_days": 30}}]},
    "subject group": {"subjects": [{"id": "subs-ch", "name": "Swiss subscribers", "location": "CH"}]},
    "nothing": {},
    "a DPA and an assessment of an existing flow": {
        "agreements": [{"id": "dpa-new", "kind": "dpa", "parties": ["northwind-inc", "bouncer"], "signed": "2019-01-01"}],
        "assessments": [{"id": "tia-new", "flows": ["mailer-to-bouncer"], "regime": "eu", "assessed": "2021-01-01",
                         "outcome": "proceed"}]},
    "an assessment of a new flow": {"parties": [party("newco")], "flows": [flow("to-newco")],
                                    "assessments": [{"id": "tia-n", "flows": ["to-newco"], "regime": "eu",
                                                     "assessed": "2021-01-01", "outcome": "suspend"}]},
}

INVALID = {
    "bad country": {"parties": [party("newco", country="XX")]},
    "id of an existing element": {"parties": [party("bouncer")]},
    "id twice in the addition": {"parties": [party("newco"), party("newco")]},
    "party id used by a flow": {"parties": [party("signup")]},
    "unknown flow source": {"parties": [party("newco")], "flows": [flow("f", src="nowhere")]},
    "unknown category": {"parties": [party("newco")], "flows": [flow("f", carries=["nope"])]},
    "unknown mechanism": {"parties": [party("newco")], "flows": [flow("f", under=["nope"])]},
    "flow to itself": {"flows": [flow("f", src="mailer", dst="mailer")]},
    "flow to a subject group": {"flows": [flow("f", dst="subscribers-us")]},
    "system of an unknown owner": {"systems": [{"id": "s2", "name": "S", "owner": "nobody", "country": "FR"}]},
    "category with an unknown parent": {"categories": [{"id": "x.y", "name": "Y"}]},
    "bcr with one member": {"mechanisms": [{"id": "b", "kind": "bcr", "regime": "eu", "members": ["bouncer"]}]},
    "rule on an unknown category": {"rules": [{"id": "r", "deny": {"categories": ["nope"], "to": ["adnet"]}}]},
    "unknown key": {"parties": [party("newco", colour="red")]},
    "not a mapping": {"flows": ["just text"]},
    "unknown section": {"widgets": [{"id": "w"}]},
    "agreement with an unknown party": {"agreements": [{"id": "d", "kind": "dpa", "parties": ["bouncer", "nobody"],
                                                        "signed": "2019-01-01"}]},
    "assessment of an unknown flow": {"assessments": [{"id": "t", "flows": ["nope"], "regime": "eu",
                                                       "assessed": "2021-01-01", "outcome": "proceed"}]},
    "assessment of a party, not a flow": {"assessments": [{"id": "t", "flows": ["bouncer"], "regime": "eu",
                                                           "assessed": "2021-01-01", "outcome": "proceed"}]},
    "agreement id used by a party": {"agreements": [{"id": "bouncer", "kind": "dpa", "parties": ["adnet", "bouncer"],
                                                     "signed": "2019-01-01"}]},
}


def whole(additions: dict[str, Any]) -> dict[str, Any]:
    content = BASE.content()
    for section, items in additions.items():
        content.setdefault(section, []).extend(items)
    return content


@pytest.mark.parametrize("additions", VALID.values(), ids=VALID.keys())
def test_valid_additions_give_the_whole_documents_registry(additions):
    extended = extend_registry(BASE, additions)
    assert extended.content() == load_registry_data(whole(additions)).content()
    assert extended.index().keys() == load_registry_data(whole(additions)).index().keys()
    extension = extension_of(extended)
    assert extension is not None and extension.base is BASE
    # The content form of the additions is what the whole registry's content holds for them.
    for section, items in extension.additions.items():
        assert extended.content()[section][-len(items):] == items
    assert BASE.content() == load_registry_file("tests/fixtures/northwind.yaml").content()


@pytest.mark.parametrize("additions", INVALID.values(), ids=INVALID.keys())
def test_invalid_additions_are_refused_in_the_whole_documents_words(additions):
    with pytest.raises(RegistryError) as expected:
        load_registry_data(whole(additions))
    with pytest.raises(RegistryError) as got:
        extend_registry(BASE, additions)
    assert [(i.path, i.message, i.line) for i in got.value.issues] == [
        (i.path, i.message, i.line) for i in expected.value.issues
    ]
    assert got.value.issues  # every case here is a real problem


def test_a_section_that_is_not_a_list_is_named():
    with pytest.raises(RegistryError) as got:
        extend_registry(BASE, {"parties": {"id": "newco"}})
    assert [(i.path, i.message) for i in got.value.issues] == [("parties", "expected a list, got dict")]
