"""Changes as pure functions: add_subprocessor and apply_change on the Northwind example."""

from __future__ import annotations

import pytest
from clirun import NORTHWIND

from registry.errors import RegistryError
from registry.loader import load_registry_file
from registry.model import Registry
from registry.registration import add_subprocessor, apply_change


@pytest.fixture(scope="module")
def northwind() -> Registry:
    return load_registry_file(NORTHWIND)


def test_add_subprocessor_returns_a_new_registry_and_leaves_the_old_one(
    northwind: Registry,
) -> None:
    before = northwind.content()
    updated = add_subprocessor(
        northwind,
        party_id="speechco",
        name="SpeechCo Oy",
        country="fi",
        categories=["subscriber.content"],
        from_system="mailer",
        under=["scc-bouncer"],
        certifications=[{"framework": "eu-us-dpf", "valid_from": "2023-10-02"}],
        public_list=True,
        source="DPA of 2024-01-05",
    )
    assert northwind.content() == before
    party, flow = updated.get("speechco"), updated.flows[-1]
    assert (party.country, party.kind.value, party.public_list) == ("FI", "subprocessor", True)
    assert party.certifications[0].valid_from.isoformat() == "2023-10-02"
    assert (flow.id, flow.from_, flow.to, flow.carries) == (
        "mailer-to-speechco",
        "mailer",
        "speechco",
        ["subscriber.content"],
    )
    assert (flow.role.value, flow.under, flow.source) == (
        "subprocessor",
        ["scc-bouncer"],
        "DPA of 2024-01-05",
    )


def test_the_default_flow_id_is_made_unique(northwind: Registry) -> None:
    # The flow id the default would pick is taken by a party here.
    taken = apply_change(
        northwind, add={"parties": [{"id": "mailer-to-speechco", "name": "x", "kind": "other"}]}
    )
    updated = add_subprocessor(
        taken,
        party_id="speechco",
        name="S",
        country="FI",
        categories=["subscriber"],
        from_system="mailer",
    )
    assert updated.flows[-1].id == "mailer-to-speechco-2"


def test_add_subprocessor_errors_name_options_not_document_paths(northwind: Registry) -> None:
    with pytest.raises(RegistryError) as caught:
        add_subprocessor(
            northwind,
            party_id="bouncer",
            name="B",
            country="QQ",
            categories=[],
            from_system="subscribers-eea",
            role="boss",
            flow_id="signup",
        )
    lines = [str(issue) for issue in caught.value.issues]
    assert lines == [
        "--id: 'bouncer' is already used by a party",
        "--country: 'QQ' is not an ISO 3166-1 alpha-2 country code",
        "--category: give at least one category the sub-processor receives",
        "--from-system: 'subscribers-eea' is a subject, not a system or party",
        "--role: 'boss' is not one of 'processor', 'subprocessor', 'controller', "
        "'joint_controller' or 'third_party'",
        "--flow-id: 'signup' is already used by a flow",
    ]


def test_apply_change_adds_removes_and_edits(northwind: Registry) -> None:
    updated = apply_change(
        northwind,
        add={
            "parties": [{"id": "adnet", "name": "AdNet Europe", "kind": "other", "country": "IE"}],
            "categories": [{"id": "subscriber.contact.phone", "name": "Phone"}],
        },
        remove=["adnet", "mailer-to-bouncer"],
    )
    assert updated.get("adnet").country == "IE"  # edited: removed, then added anew
    assert updated.get("mailer-to-bouncer") is None
    assert updated.kind_of("subscriber.contact.phone") == "category"
    assert len(updated.flows) == len(northwind.flows) - 1


def test_apply_change_refuses_what_it_cannot_do(northwind: Registry) -> None:
    with pytest.raises(RegistryError) as caught:
        apply_change(northwind, add={"widgets": [{}]}, remove=["nothing-here"])
    assert [issue.path for issue in caught.value.issues] == ["add.widgets", "remove[0]"]

    # Removal does not cascade: the flows that still name the party are reported.
    with pytest.raises(RegistryError) as dangling:
        apply_change(northwind, remove=["bouncer"])
    messages = [str(issue) for issue in dangling.value.issues]
    assert any("unknown system or party 'bouncer'" in m for m in messages)
    assert any("mechanisms[1].members[1]: unknown party 'bouncer'" in m for m in messages)


def test_removing_the_last_element_of_a_section_keeps_the_content_canonical(
    northwind: Registry,
) -> None:
    updated = apply_change(northwind, remove=["no-message-content-to-ads"])
    assert "rules" not in updated.content()
    assert updated.content() == Registry.from_content(updated.content()).content()
