"""The lineage check (shared/lineage-map.md): on Marquez's real sample events the movements
and exactly the findings the fixture was built for; events made to hit each finding and each
rule of what counts as a movement; coverage that accounts for everything read; a proposal
that, once approved through the dashboard's review action, makes its findings disappear; the
same answers on Neo4j. Nothing is mocked: real events, real stores, the real engine."""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from clirun import REPO, flowreg

from lineage.api import Flowreg
from lineage.discovery.check import LineageCheck, check_revision
from lineage.discovery.event_files import Source, sources_from_paths
from registry.lineage_map import load_lineage_map_file, load_lineage_map_text
from registry.loader import load_registry_data, load_registry_file
from registry.sqlite_store import SqliteStore

if str(REPO) not in sys.path:  # app_pages is beside app.py, not an installed package
    sys.path.insert(0, str(REPO))

from app_pages import _actions, _auth  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "openlineage"
REGISTRY_FILE = FIXTURES / "food_delivery.yaml"
MAP_FILE = FIXTURES / "food_delivery.map.yaml"
FOOD = FIXTURES / "marquez-food-delivery.json"
AS_OF = "2020-03-01"
OFFICER = _auth.User("dana", "Dana (privacy officer)", _auth.Role.OFFICER)
TEST_MAP = """openlineage_map: 1
datasets:
  - {match: "pg://nl/agg.*", system: orders-db, personal: false}
  - {match: "pg://nl/*", system: orders-db}
  - {match: "pg://crm/*", system: crm-nl}
  - {match: "bq://us/*", system: analytics}
  - {match: "s3://promo/*", party: promo-agency}
  - {match: "zendesk://fd/*", party: helpdesk-vendor}
fields:
  - {match: "*email*", category: customer.contact.email}
  - {match: "*address*", category: customer.contact.address}
  - {match: "*phone*", category: customer.contact.phone}
  - {match: "contact", category: customer.contact}
"""


def registry_with_crm() -> Any:
    """The fixture registry plus a CRM in the Netherlands run by the same company (a hop to it
    is not a transfer)."""
    content = load_registry_file(REGISTRY_FILE).content()
    content["systems"].append({"id": "crm-nl", "name": "CRM", "owner": "fooddelivery-nl", "country": "NL"})
    return load_registry_data(content)


@pytest.fixture
def fr(tmp_path: Path) -> Any:
    flow_reg = Flowreg(SqliteStore(tmp_path / "flowreg.db"))
    flow_reg.apply(registry_with_crm(), author="seed", message="fixture")
    yield flow_reg
    flow_reg.close()


def run(start: str, end: str | None, inputs: list[tuple[str, tuple[str, ...] | None]],
        outputs: list[tuple[str, tuple[str, ...] | None]], *, n: int, job: str = "etl") -> list[dict[str, Any]]:
    """The events of one run: START with its datasets (and schemas), then END (or none)."""
    run_id = f"{n:08d}-0000-4000-8000-000000000000"

    def dataset(key: str, fields: tuple[str, ...] | None) -> dict[str, Any]:
        namespace, _, name = key.rpartition("/")
        out: dict[str, Any] = {"namespace": namespace, "name": name}
        if fields is not None:
            out["facets"] = {"schema": {"_producer": "p", "_schemaURL": "s", "fields": [{"name": f} for f in fields]}}
        return out

    base = {"run": {"runId": run_id}, "job": {"namespace": "pipelines", "name": job},
            "producer": "https://example.com/test", "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json"}
    events = [{**base, "eventType": "START", "eventTime": f"{start}T08:00:00Z",
               "inputs": [dataset(k, f) for k, f in inputs], "outputs": [dataset(k, f) for k, f in outputs]}]
    if end is not None:
        state, _, day = end.partition("@")
        events.append({**base, "eventType": state, "eventTime": f"{day}T09:00:00Z"})
    return events


def check(fr: Flowreg, events: list[dict[str, Any]], as_of: str = AS_OF, since: str | None = None) -> LineageCheck:
    data = "".join(json.dumps(e) + "\n" for e in events).encode()
    lineage_map = load_lineage_map_text(TEST_MAP, fr.registry())
    return check_revision(fr, lineage_map, [Source("events.jsonl", data=data)], date.fromisoformat(as_of),
                          date.fromisoformat(since) if since else None)


def summary(result: LineageCheck) -> list[tuple[Any, ...]]:
    return [(f.rule, f.severity, f.source, f.target, f.flow, tuple(f.categories)) for f in result.findings]


# --- the real sample -------------------------------------------------------------------------
def test_marquez_sample_gives_its_movements_and_exactly_its_findings(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    assert flowreg("apply", REGISTRY_FILE, db=db).code == 0
    result = flowreg("lineage-check", FOOD, "--map", MAP_FILE, "--as-of", AS_OF, "--format", "json", db=db)
    assert result.code == 0, result.stderr
    out = result.json()
    assert out["movements"] == [
        {"from": "analytics", "to": "promo-agency", "categories": ["customer.contact.email"],
         "jobs": ["food_delivery/delivery_times_7_days"], "first_seen": "2020-02-22", "last_seen": "2020-02-22",
         "flow": None, "runs": 1, "compared": True},
        {"from": "orders-db", "to": "analytics",
         "categories": ["customer.contact", "customer.contact.address", "customer.contact.email"],
         "jobs": ["food_delivery/etl_delivery_7_days", "food_delivery/etl_orders_7_days",
                  "food_delivery/orders_popular_day_of_week"],
         "first_seen": "2020-02-22", "last_seen": "2020-02-22", "flow": "orders-to-analytics", "runs": 3,
         "compared": True},
    ]
    found = [{k: f[k] for k in ("rule", "severity", "from", "to", "flow", "categories")} for f in out["findings"]]
    assert found == [
        {"rule": "flow-undeclared", "severity": "high", "from": "analytics", "to": "promo-agency", "flow": None,
         "categories": ["customer.contact.email"]},
        {"rule": "category-undeclared", "severity": "medium", "from": "orders-db", "to": "analytics",
         "flow": "orders-to-analytics", "categories": ["customer.contact.address"]},
        {"rule": "flow-unobserved", "severity": "low", "from": "orders-db", "to": "helpdesk-vendor",
         "flow": "orders-to-helpdesk", "categories": ["customer.contact"]},
    ]
    undeclared = out["findings"][0]
    assert undeclared["status"] == "uncovered" and "IN is not adequate for EU GDPR" in undeclared["reason"]
    assert undeclared["jobs"] == ["food_delivery/delivery_times_7_days"] and undeclared["judged_on"] == AS_OF
    coverage = out["coverage"]
    assert coverage["events"] == {"read": 26, "run_events": 26, "malformed": 0, "dataset_events": 0, "job_events": 0}
    assert coverage["runs"]["compared"] == 13 and coverage["datasets"] == {
        "read": 13, "personal": 5, "not_personal": 8, "unmapped": 0}
    assert [p["message"] for p in out["problems"]] == ["read, but schemaURL: required by the spec, missing"]
    assert "warning:" in result.stderr and "(26 events)" in result.stderr
    # The table view says the same, for people.
    table = flowreg("lineage-check", FOOD, "--map", MAP_FILE, "--as-of", AS_OF, db=db)
    assert table.code == 0 and "flow-undeclared" in table.stdout and "uncovered" in table.stdout
    assert "events: 26 read from 1 file" in table.stdout


# --- each finding, made to happen -------------------------------------------------------------
def test_undeclared_hops_are_judged_by_the_engine(fr: Flowreg) -> None:
    events = (run("2020-02-10", "COMPLETE@2020-02-10", [("bq://us/orders", None)], [("s3://promo/list", ("email",))], n=1)
              + run("2020-02-11", "COMPLETE@2020-02-11", [("pg://nl/customers", None)], [("pg://crm/contacts", ("email",))], n=2))
    assert summary(check(fr, events))[:2] == [
        ("flow-undeclared", "high", "analytics", "promo-agency", None, ("customer.contact.email",)),
        ("flow-undeclared", "medium", "orders-db", "crm-nl", None, ("customer.contact.email",)),
    ]
    low = check(fr, events).findings[1]
    assert low.status == "not_required" and low.reason == "EU GDPR: stays inside NL"


def test_categories_declared_by_part_or_whole_and_those_not(fr: Flowreg) -> None:
    # orders-to-analytics carries customer.contact.email
    events = (run("2020-02-10", "COMPLETE@2020-02-10", [("pg://nl/c", None)], [("bq://us/a", ("contact",))], n=1)
              + run("2020-02-12", "COMPLETE@2020-02-12", [("pg://nl/c", None)], [("bq://us/b", ("email", "phone"))], n=2,
                    job="phones"))
    result = check(fr, events)
    assert summary(result) == [
        ("category-undeclared", "medium", "orders-db", "analytics", "orders-to-analytics", ("customer.contact.phone",)),
        ("flow-unobserved", "low", "orders-db", "helpdesk-vendor", "orders-to-helpdesk", ("customer.contact",)),
    ]
    assert result.findings[0].jobs == ["pipelines/phones"]
    assert result.findings[0].first_seen == date(2020, 2, 12)


def test_a_flow_not_active_on_the_date_does_not_declare_the_movement(fr: Flowreg) -> None:
    # orders-to-analytics is valid from 2019-06-01: a run on 2019-05-20 is undeclared
    events = run("2019-05-20", "COMPLETE@2019-05-20", [("pg://nl/c", None)], [("bq://us/a", ("email",))], n=1)
    result = check(fr, events, as_of="2019-07-01")
    assert [(f.rule, f.source, f.target) for f in result.findings] == [
        ("flow-undeclared", "orders-db", "analytics"), ("flow-unobserved", "orders-db", "helpdesk-vendor")]
    proposed = result.plan.document["flows"][0]
    # it would run until the registered flow takes over, so it is judged on the date it was seen
    assert (proposed["valid_from"], proposed["valid_until"]) == ("2019-05-20", "2019-06-01")
    assert result.findings[0].judged_on == date(2019, 5, 20)


def test_registered_flows_never_seen_and_the_since_window(fr: Flowreg) -> None:
    events = (run("2020-01-05", "COMPLETE@2020-01-05", [("pg://nl/c", None)], [("zendesk://fd/tickets", ("email",))], n=1)
              + run("2020-02-05", "COMPLETE@2020-02-05", [("pg://nl/c", None)], [("bq://us/a", ("email",))], n=2))
    assert summary(check(fr, events)) == []
    after = check(fr, events, since="2020-02-01")
    assert summary(after) == [
        ("flow-unobserved", "low", "orders-db", "helpdesk-vendor", "orders-to-helpdesk", ("customer.contact",))]
    assert after.coverage.runs["before_since"] == 1 and after.coverage.runs["compared"] == 1
    assert [(m.source, m.target) for m in after.movements] == [("orders-db", "analytics")]
    # a run dated after --as-of is not compared either
    later = check(fr, events, as_of="2020-01-31")
    assert later.coverage.runs["after_as_of"] == 1 and [(m.source, m.target) for m in later.movements] == [
        ("orders-db", "helpdesk-vendor")]


def test_what_counts_as_a_movement(fr: Flowreg) -> None:
    events = (
        # no category anywhere: a movement, listed, not compared
        run("2020-02-01", "COMPLETE@2020-02-01", [("pg://nl/menus", ("id", "name"))], [("s3://promo/menus", ("id",))], n=1)
        # the output says nothing personal: the input's categories travel
        + run("2020-02-02", "COMPLETE@2020-02-02", [("pg://crm/people", ("email",))], [("s3://promo/x", ("id",))], n=2)
        # an aggregate marked personal: false takes nothing from its inputs
        + run("2020-02-03", "COMPLETE@2020-02-03", [("bq://us/people", ("phone",))], [("pg://nl/agg.daily", ("n",))], n=3)
        # failed, aborted and unfinished runs move nothing
        + run("2020-02-04", "FAIL@2020-02-04", [("pg://nl/c", ("email",))], [("zendesk://fd/t", ("email",))], n=4)
        + run("2020-02-04", "ABORT@2020-02-04", [("pg://nl/c", ("email",))], [("zendesk://fd/t", ("email",))], n=5)
        + run("2020-02-04", None, [("pg://nl/c", ("email",))], [("zendesk://fd/t", ("email",))], n=6)
        # inside one node, and from or to an unmapped dataset: no movement
        + run("2020-02-05", "COMPLETE@2020-02-05", [("pg://nl/a", ("email",)), ("kafka://x/topic", None)],
              [("pg://nl/b", ("email",)), ("hdfs://lake/raw", None)], n=7)
    )
    result = check(fr, events)
    moved = {(m.source, m.target): (m.compared, tuple(m.categories)) for m in result.movements}
    assert moved == {
        ("orders-db", "promo-agency"): (False, ()),
        ("crm-nl", "promo-agency"): (True, ("customer.contact.email",)),
        ("analytics", "orders-db"): (False, ()),
    }
    assert [(f.rule, f.source, f.target) for f in result.findings] == [
        ("flow-undeclared", "crm-nl", "promo-agency"),
        ("flow-unobserved", "orders-db", "analytics"),
        ("flow-unobserved", "orders-db", "helpdesk-vendor"),
    ]
    cov = result.coverage
    assert cov.runs == {"read": 7, "completed": 4, "compared": 4, "before_since": 0, "after_as_of": 0,
                        "failed": 1, "aborted": 1, "not_completed": 1}
    statuses = {d.dataset: d.status for d in cov.datasets}
    assert statuses["kafka://x/topic"] == "unmapped" and statuses["hdfs://lake/raw"] == "unmapped"
    assert statuses["pg://nl/agg.daily"] == "not_personal" and statuses["pg://crm/people"] == "personal"


def test_everything_read_is_accounted_for(fr: Flowreg) -> None:
    events = run("2020-02-01", "COMPLETE@2020-02-01", [("pg://nl/c", ("email",))], [("bq://us/x", ("email",))], n=1)
    data = ("".join(json.dumps(e) + "\n" for e in events) + "{broken\n"
            + json.dumps({"dataset": {"namespace": "a", "name": "b"}, "eventTime": "2020-01-01T00:00:00Z"}) + "\n"
            + json.dumps({**events[0], "run": {"runId": "nope"}}) + "\n").encode()
    lineage_map = load_lineage_map_text(TEST_MAP, fr.registry())
    result = check_revision(fr, lineage_map, [Source("e.jsonl", data=data)], date(2020, 3, 1))
    ev, runs, ds = result.coverage.events, result.coverage.runs, result.coverage.summary()
    assert ev == {"read": 5, "run_events": 2, "malformed": 2, "dataset_events": 1, "job_events": 0}
    assert ev["read"] == ev["run_events"] + ev["malformed"] + ev["dataset_events"] + ev["job_events"]
    assert runs["read"] == runs["completed"] + runs["failed"] + runs["aborted"] + runs["not_completed"]
    assert runs["completed"] == runs["compared"] + runs["before_since"] + runs["after_as_of"]
    assert ds["read"] == ds["personal"] + ds["not_personal"] + ds["unmapped"]
    assert [(p.line, p.severity) for p in result.problems] == [(3, "error"), (5, "error")]


# --- the proposal, end to end -----------------------------------------------------------------
def test_an_approved_proposal_makes_its_findings_disappear(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    assert flowreg("apply", REGISTRY_FILE, db=db).code == 0
    proposed = flowreg("lineage-check", FOOD, "--map", MAP_FILE, "--as-of", AS_OF, "--format", "json",
                       "--propose", "--author", "erin", db=db)
    assert proposed.code == 0, proposed.stderr
    proposal_id = proposed.json()["proposed"]["id"]
    with SqliteStore(db) as store:
        assert len(store.history()) == 1  # nothing changes before a privacy officer approves
    fr = Flowreg(SqliteStore(db))
    try:
        proposal = fr.store.get_proposal(proposal_id)
        assert proposal.author == "erin" and proposal.status == "pending"
        # the review page's impact: the new hop, with the status the finding reported
        impact = _actions.proposal_impact(fr, proposal, date.fromisoformat(AS_OF))
        hops = {h.flow: h.after for h in impact.changed_hops}
        assert hops.get("analytics-to-promo-agency") == "uncovered"
        decided = _actions.decide_proposal(fr, OFFICER, proposal_id, approve=True, note="seen in Marquez")
        assert decided.status == "approved" and decided.applied_revision == 2
        added = fr.registry().get("analytics-to-promo-agency")
        assert added is not None and added.valid_from == date(2020, 2, 22)
        assert "customer.contact.address" in fr.registry().get("orders-to-analytics").carries
        status = {h.flow: h.status.value for h in fr.hops(date.fromisoformat(AS_OF))}
        assert status["analytics-to-promo-agency"] == "uncovered"
    finally:
        fr.close()
    again = flowreg("lineage-check", FOOD, "--map", MAP_FILE, "--as-of", AS_OF, "--format", "json", "--propose", db=db)
    out = again.json()
    assert [f["rule"] for f in out["findings"]] == ["flow-unobserved"]
    assert {m["flow"] for m in out["movements"]} == {"analytics-to-promo-agency", "orders-to-analytics"}
    assert out["proposed"] is None and out["revision"] == 2


def test_a_proposal_is_made_on_the_head_only(tmp_path: Path) -> None:
    db = tmp_path / "f.db"
    assert flowreg("apply", REGISTRY_FILE, db=db).code == 0
    result = flowreg("lineage-check", FOOD, "--map", MAP_FILE, "--as-of", AS_OF, "--propose", "--rev", "1", db=db)
    assert result.code == 1 and "leave out --rev" in result.stderr


@pytest.mark.parametrize("args, message", [
    (["--as-of", "2020-13-01"], "--as-of: '2020-13-01' is not a date"),
    (["--as-of", "2020-03-01", "--since", "2020-04-01"], "--since: 2020-04-01 is after --as-of 2020-03-01"),
    (["--as-of", "2020-03-01", "--format", "xml"], "xml"),
])
def test_bad_arguments_are_clear_errors(tmp_path: Path, args: list[str], message: str) -> None:
    db = tmp_path / "f.db"
    assert flowreg("apply", REGISTRY_FILE, db=db).code == 0
    result = flowreg("lineage-check", FOOD, "--map", MAP_FILE, *args, db=db)
    assert result.code == 1 and message in result.stderr and result.stdout == ""
    missing = flowreg("lineage-check", tmp_path / "none.jsonl", "--map", MAP_FILE, "--as-of", AS_OF, db=db)
    assert missing.code == 1 and "no such file or folder" in missing.stderr
    empty = flowreg("lineage-check", FOOD, "--map", MAP_FILE, "--as-of", AS_OF, db=tmp_path / "empty.db")
    assert empty.code == 1 and "no flowreg store" in empty.stderr


# --- both backends ------------------------------------------------------------------------------
def test_same_answer_on_both_backends(backend: Flowreg) -> None:
    backend.apply(load_registry_file(REGISTRY_FILE), author="seed", message="fixture", expected_head=None)
    lineage_map = load_lineage_map_file(MAP_FILE, backend.registry())
    result = check_revision(backend, lineage_map, sources_from_paths([FOOD]), date.fromisoformat(AS_OF))
    assert [(f.rule, f.severity, f.source, f.target, f.status) for f in result.findings] == [
        ("flow-undeclared", "high", "analytics", "promo-agency", "uncovered"),
        ("category-undeclared", "medium", "orders-db", "analytics", None),
        ("flow-unobserved", "low", "orders-db", "helpdesk-vendor", None),
    ]


def test_tags_producers_attach_map_to_categories(fr: Flowreg) -> None:
    """Beyond version 1 of the map: a field entry may match the `tags` dataset facet. The facet
    below is the OpenLineage spec's own example (OpenLineage/OpenLineage,
    spec/tests/TagsDatasetFacet/1.json, Apache-2.0)."""
    spec_example = {
        "_producer": "https://github.com/OpenLineage/OpenLineage/tree/1.27.0/client/python",
        "_schemaURL": "https://openlineage.io/spec/facets/1-0-0/TagsDatasetFacet.json#/$defs/TagsDatasetFacet",
        "tags": [{"key": "test_tag", "value": "test_value", "field": "email", "source": "test_source"},
                 {"key": "test_tag2", "value": "test_value2"}],
    }
    events = run("2020-02-10", "COMPLETE@2020-02-10", [("pg://nl/c", None)], [("zendesk://fd/t", None)], n=1)
    events[0]["outputs"][0]["facets"] = {"tags": spec_example}
    tagged_map = TEST_MAP + "  - {tag: 'test_tag:test_*', category: customer.contact.phone}\n"
    data = "".join(json.dumps(e) + "\n" for e in events).encode()
    lineage_map = load_lineage_map_text(tagged_map, fr.registry())
    result = check_revision(fr, lineage_map, [Source("tags.jsonl", data=data)], date(2020, 3, 1))
    assert [(m.source, m.target, m.categories) for m in result.movements] == [
        ("orders-db", "helpdesk-vendor", ["customer.contact.phone"])]
    assert [(f.rule, f.flow) for f in result.findings] == [("flow-unobserved", "orders-to-analytics")]
    assert result.problems == []
    bad = {**spec_example, "tags": [{"value": "x"}]}
    events[0]["outputs"][0]["facets"] = {"tags": bad}
    data = "".join(json.dumps(e) + "\n" for e in events).encode()
    broken = check_revision(fr, lineage_map, [Source("tags.jsonl", data=data)], date(2020, 3, 1))
    assert [str(p) for p in broken.problems] == ["tags.jsonl:1: skipped: outputs[0].facets.tags.tags[0].key: required key is missing"]
