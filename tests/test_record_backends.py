"""The complete record on both backends (a real Neo4j 5.26 server from tests/conftest.py; nothing
mocked): the store round-trips every optional key, and the findings, the Art. 30 record and the
transfer register are identical to the embedded engine's on every boundary date, also after a
registration that appends a DPA (the delta path on each store)."""

from __future__ import annotations

from datetime import date

import pytest
from clirun import FIXTURES
from neo4j_parity import EVIL, answers, assert_same, evil_doc
from registry_builders import graph_of

from lineage.api import Flowreg
from lineage.law import load_law
from lineage.reports import build_report
from registry.additions import extend_registry
from registry.errors import FlowregError
from registry.loader import load_registry_data, load_registry_file
from registry.registration import add_subprocessor
from registry.yamlexport import to_yaml

COMPLETE = load_registry_file(FIXTURES / "northwind_complete.yaml")
DAYS = [date(2019, 2, 28), date(2019, 3, 1), date(2020, 7, 15), date(2020, 7, 16), date(2021, 6, 1),
        date(2021, 9, 1), date(2021, 10, 1), date(2023, 10, 1), date(2027, 3, 15)]


LAW = load_law()


def record_answers(fr: Flowreg, rev: int) -> dict:
    out = {}
    for day in DAYS:
        out[("findings", day)] = [f.to_dict() for f in fr.findings(day, rev=rev)]
        for kind in ("ropa", "transfers"):
            out[(kind, day)] = build_report(fr, kind, day, rev=rev).content()["sections"]
    return out


def test_the_record_round_trips_and_answers_alike(backend: Flowreg, tmp_path) -> None:
    from registry.sqlite_store import SqliteStore

    revision = backend.apply(COMPLETE, author="test", message="complete record")
    stored = backend.store.get(revision.number)
    assert stored.content == COMPLETE.content()
    assert to_yaml(stored).split("\n", 2)[2] == to_yaml(COMPLETE).split("\n", 2)[2]
    embedded = Flowreg(SqliteStore(tmp_path / "reference.db"))
    try:
        embedded.apply(COMPLETE, author="test", message="complete record")
        assert record_answers(backend, revision.number) == record_answers(embedded, 1)

        # a registration with its DPA (and an assessment of the new hop) appended to the head
        # (one extension of the head's registry: the embedded store and Neo4j store it as a delta)
        registry = backend.registry(revision.number)
        with_dpa = add_subprocessor(
            registry, party_id="dnsco", name="DNS Co", country="IN", categories=["subscriber.contact.email"],
            from_system="mailer", purpose="bounce handling", under=["scc-bouncer"],
            dpa={"signed": "2021-01-01", "authorisation": "general", "document": "contracts/dnsco.pdf"})
        added = {s: [e.model_dump(mode="json", by_alias=True, exclude_defaults=True)]
                 for s, e in (("parties", with_dpa.parties[-1]), ("flows", with_dpa.flows[-1]),
                              ("agreements", with_dpa.agreements[-1]))}
        added["assessments"] = [{"id": "tia-dnsco", "flows": ["mailer-to-dnsco"], "regime": "eu",
                                 "assessed": "2021-02-01", "outcome": "suspend"}]
        updated = extend_registry(registry, added)
        second = backend.apply(updated, author="test", message="dnsco", expected_head=revision.number)
        assert backend.store.get(second.number).content == updated.content()
        embedded.apply(updated, author="test", message="dnsco", expected_head=1)
        assert record_answers(backend, second.number) == record_answers(embedded, 2)
        suspended = [f for f in backend.findings(date(2021, 10, 1), rev=second.number) if f.flow == "mailer-to-dnsco"]
        assert {f.rule for f in suspended} >= {"tia-suspend"} and "processor-without-dpa" not in {f.rule for f in suspended}
    finally:
        embedded.close()


def test_hostile_ids_in_agreements_and_assessments_answer_alike(backend: Flowreg) -> None:
    """The complete fixture with every id (and every reference to one) made hostile: the
    answers of every question (findings, what-ifs, impact...) match the pure engine's."""
    source = evil_doc(COMPLETE.content())
    assert any(EVIL in a["id"] for a in source["agreements"]) and any(EVIL in f for a in source["assessments"]
                                                                      for f in a["flows"])
    with pytest.raises(FlowregError):  # a file cannot bring such ids; a store written before the pattern can
        load_registry_data(source)
    registry = load_registry_data(source, stored=True)
    backend.apply(registry, author="ana", message="evil ids")
    assert backend.store.get().content == registry.content()
    reference = graph_of(source, stored=True)
    for day in (date(2019, 2, 28), date(2021, 9, 1), date(2023, 10, 1)):
        assert_same(answers(backend, day), answers(reference, day, law=LAW))
