"""Reading OpenLineage run events: real ones from Marquez (tests/fixtures/openlineage, with
their source), every file layout, malformed events (file and line, skipped, never fatal),
omissions real producers make (read, with a warning), and the run cycle (union of a run's
events, dated by COMPLETE in UTC, FAIL and ABORT move nothing). Nothing is mocked: events are
parsed by the openlineage-python models."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from openlineage.client.event_v2 import RunEvent

from lineage.discovery import runs as runs_mod
from lineage.discovery.event_files import Source, sources_from_paths, split_lines
from lineage.discovery.event_model import ModelBuilder
from lineage.discovery.runs import read_runs
from registry.errors import FlowregError

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "openlineage"
FOOD = FIXTURES / "marquez-food-delivery.json"
APPLES = FIXTURES / "marquez-apples"
RUN = "4d3b8069-69b6-4708-ade0-3275112c9f04"


def event(state: str | None = "COMPLETE", *, run_id: str = RUN, time: str = "2024-03-01T10:00:00Z",
          inputs: tuple[str, ...] = (), outputs: tuple[str, ...] = (), fields: tuple[str, ...] | None = None,
          job: str = "etl") -> dict:
    def dataset(key: str) -> dict:
        namespace, _, name = key.partition("/")
        out: dict = {"namespace": namespace, "name": name}
        if fields is not None:
            out["facets"] = {"schema": {"_producer": "p", "_schemaURL": "s", "fields": [{"name": f} for f in fields]}}
        return out

    raw = {"eventTime": time, "run": {"runId": run_id}, "job": {"namespace": "ns", "name": job},
           "inputs": [dataset(k) for k in inputs], "outputs": [dataset(k) for k in outputs],
           "producer": "https://example.com/producer", "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json"}
    if state is not None:
        raw["eventType"] = state
    return raw


def lines(*items: object) -> bytes:
    return "".join((json.dumps(i) if not isinstance(i, str) else i) + "\n" for i in items).encode()


# --- real events -----------------------------------------------------------------------------
def test_marquez_sample_is_read_with_the_openlineage_models() -> None:
    builder = ModelBuilder()
    raw = json.loads(FOOD.read_text())
    parsed = builder.run_event(raw[0], [])
    assert isinstance(parsed, RunEvent) and parsed.run.runId == RUN
    log = read_runs(sources_from_paths([FOOD]))
    assert (log.files, log.values, log.run_events, log.malformed) == (1, 26, 26, 0)
    assert len(log.runs) == 13 and all(r.state == "completed" for r in log.runs.values())
    # Marquez sends inputs and outputs on START only: the run holds them all the same.
    delivery = next(r for r in log.runs.values() if r.job == "food_delivery/etl_delivery_7_days")
    assert set(delivery.inputs) == {f"food_delivery/public.{t}" for t in
                                    ("orders_7_days", "customers", "order_status", "drivers", "restaurants")}
    assert delivery.completed is not None and delivery.completed.date() == date(2020, 2, 22)
    assert "customer_email" in (delivery.outputs["food_delivery/public.delivery_7_days"] or ())
    # The sample has no top-level schemaURL: one warning for the file, counted, at the first event.
    assert [(p.severity, p.line, p.count) for p in log.problems] == [("warning", 2, 26)]
    assert "schemaURL" in log.problems[0].message


def test_a_folder_of_json_files_is_read_and_runs_are_dated_in_utc() -> None:
    log = read_runs(sources_from_paths([APPLES]))
    assert log.files == 8 and log.run_events == 8 and log.malformed == 0
    gather = {r.run_id: r for r in log.runs.values() if r.job == "grandmas.kitchen/gather_apples"}
    # 2020-08-30T09:00+10:00 is 2020-08-29 in UTC: the date a movement gets
    assert gather["fc57cd10-90ce-49aa-ac91-29d222d66fdf"].completed.date() == date(2020, 8, 29)
    assert {p.message for p in log.problems} == {"read, but schemaURL: required by the spec, missing"}


def test_missing_paths_are_a_clear_error() -> None:
    with pytest.raises(FlowregError, match="EVENTS: no such file or folder 'nope.json'"):
        sources_from_paths(["nope.json"])


# --- malformed events ------------------------------------------------------------------------
def test_malformed_events_are_reported_with_file_and_line_and_skipped() -> None:
    good = event("COMPLETE", inputs=("db/a",), outputs=("db/b",))
    data = lines(
        good,                                                   # 1
        "{not json",                                            # 2
        "",                                                     # 3 (blank: ignored)
        [1, 2],                                                 # 4
        {**good, "run": {"runId": "not-a-uuid"}},               # 5
        {**good, "eventTime": "2024-03-01"},                    # 6
        {**good, "eventType": "DONE"},                          # 7
        {**good, "inputs": {"namespace": "x"}},                 # 8
        {**good, "outputs": [{"namespace": "db"}]},             # 9
        {k: v for k, v in good.items() if k != "job"},          # 10
        {"dataset": {"namespace": "db", "name": "a"}, "eventTime": "2024-03-01T00:00:00Z"},  # 11
        {"job": {"namespace": "ns", "name": "j"}, "eventTime": "2024-03-01T00:00:00Z"},       # 12
        {**good, "run": {"runId": "43d7db3b-8984-4cda-b237-8c6919b36670"}},                   # 13
    )
    log = read_runs([Source("events.jsonl", data=data)])
    errors = [(p.line, p.message) for p in log.problem_list() if p.severity == "error"]
    assert errors[0][0] == 2 and errors[0][1].startswith("skipped: not valid JSON: ")  # orjson's words
    assert errors[1:] == [
        (4, "skipped: an event is a JSON object, not a list"),
        (5, "skipped: run.runId: 'not-a-uuid' is not a UUID"),
        (6, "skipped: eventTime: '2024-03-01' is not an ISO 8601 date and time "
            "(Parsed date-time has to contain time: 2024-03-01)"),
        (7, "skipped: eventType: 'DONE' is not one of START, RUNNING, COMPLETE, ABORT, FAIL, OTHER"),
        (8, "skipped: inputs: expected a list, got an object"),
        (9, "skipped: outputs[0].name: required key is missing"),
        (10, "skipped: job: required key is missing"),
    ]
    assert log.values == 12 and log.malformed == 8 and log.run_events == 2
    assert dict(log.not_run_events) == {"dataset event": 1, "job event": 1}
    assert set(log.runs) == {RUN, "43d7db3b-8984-4cda-b237-8c6919b36670"}


def test_array_files_give_each_element_its_line() -> None:
    good = event("COMPLETE")
    text = "[\n" + json.dumps(good, indent=2) + ",\n" + json.dumps({**good, "run": {"runId": "x"}}, indent=2) + "\n]\n"
    log = read_runs([Source("events.json", data=text.encode())])
    second_line = 2 + json.dumps(good, indent=2).count("\n") + 1
    assert [(p.line, p.message) for p in log.problems] == [(second_line, "skipped: run.runId: 'x' is not a UUID")]
    # a broken array: what precedes the break is read, the break is reported where it is
    broken = "[\n" + json.dumps(good) + ",\n{\"eventType\": \n"
    log = read_runs([Source("broken.json", data=broken.encode())])
    assert log.run_events == 1 and log.malformed == 1
    assert log.problems[0].line == 4 and "the rest of the file was skipped" in log.problems[0].message


def test_two_files_of_one_name_keep_their_own_lines() -> None:
    data = lines(event("COMPLETE"), "{broken")
    log = read_runs([Source("events.jsonl", data=data), Source("events.jsonl", data=data)])
    assert [(p.file, p.line) for p in log.problems if p.severity == "error"] == [
        ("events.jsonl", 2), ("events.jsonl", 2)]


def test_a_single_pretty_document_and_a_broken_one() -> None:
    good = json.dumps(event("COMPLETE"), indent=2)
    assert read_runs([Source("one.json", data=("\n\n" + good).encode())]).run_events == 1
    log = read_runs([Source("bad.json", data=good[:-3].encode())])
    assert log.run_events == 0 and log.malformed == 1 and log.problems[0].severity == "error"
    assert log.problems[0].line is not None and log.problems[0].line > 1


def test_omissions_real_producers_make_are_warnings() -> None:
    raw = event("COMPLETE", outputs=("db/b",), fields=("email",))
    del raw["schemaURL"], raw["producer"]
    del raw["outputs"][0]["facets"]["schema"]["_schemaURL"]
    raw["eventTime"] = "2024-03-01T23:30:00"  # no zone: UTC
    log = read_runs([Source("e.jsonl", data=lines(raw, raw))])
    assert log.run_events == 2 and log.malformed == 0
    assert sorted((p.message, p.count) for p in log.problems) == [
        ("read, but eventTime: no time zone; read as UTC", 2),
        ("read, but outputs[0].facets.schema._schemaURL: required by the spec, missing", 2),
        ("read, but producer: required by the spec, missing", 2),
        ("read, but schemaURL: required by the spec, missing", 2),
    ]
    assert log.runs[RUN].completed.date() == date(2024, 3, 1)


# --- the run cycle ---------------------------------------------------------------------------
def test_runs_join_their_events_and_only_complete_ones_count() -> None:
    other, failed, aborted = ("11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222",
                              "33333333-3333-4333-8333-333333333333")
    data = lines(
        event("START", inputs=("db/a",), outputs=("db/b",), fields=("email",)),
        event("RUNNING", inputs=("db/c",)),
        event("COMPLETE", time="2024-03-02T01:00:00+02:00"),            # 2024-03-01 23:00 UTC
        event("START", run_id=failed, inputs=("db/a",), outputs=("db/b",)),
        event("FAIL", run_id=failed),
        event("START", run_id=aborted, inputs=("db/a",)),
        event("ABORT", run_id=aborted),
        event("START", run_id=other, inputs=("db/a",)),                    # never ends
        event(None, run_id=other, outputs=("db/z",)),                      # no eventType: still the run's
    )
    log = read_runs([Source("e.jsonl", data=data)])
    states = {run_id: r.state for run_id, r in log.runs.items()}
    assert states == {RUN: "completed", failed: "failed", aborted: "aborted", other: "not_completed"}
    run = log.runs[RUN]
    assert set(run.inputs) == {"db/a", "db/c"} and set(run.outputs) == {"db/b"}
    assert run.completed.date() == date(2024, 3, 1) and run.events == 3
    assert set(log.runs[other].outputs) == {"db/z"}


def test_many_processes_read_exactly_what_one_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A large JSON-lines file is cut into pieces read in parallel: same runs, same problems,
    same lines (problems in later pieces are numbered file-wide)."""
    items: list[object] = []
    for i in range(400):
        run_id = f"{i:08d}-1111-4111-8111-111111111111"
        items.append(event("START", run_id=run_id, inputs=(f"db/t{i % 7}",), outputs=("s3/out",), fields=("email", "id")))
        items.append(event("COMPLETE", run_id=run_id, time=f"2024-03-{1 + i % 28:02d}T10:00:00Z"))
        if i % 97 == 0:
            items.append("{broken")
        if i % 89 == 0:
            items.append({k: v for k, v in event("COMPLETE", run_id=run_id).items() if k != "schemaURL"})
    path = tmp_path / "events.jsonl"
    path.write_bytes(lines(*items))
    source = sources_from_paths([path])
    pieces = split_lines(source[0], 20_000)
    assert len(pieces) > 3 and b"".join(p.read() for p in pieces) == path.read_bytes()
    one = read_runs(source, workers=1)
    monkeypatch.setattr(runs_mod, "PARALLEL_BYTES", 1000)
    monkeypatch.setattr(runs_mod, "PIECE_BYTES", 20_000)
    many = read_runs(source, workers=3)  # three pieces: this process and two workers
    assert one.runs == many.runs and one.schemas == many.schemas
    assert one.problem_list() == many.problem_list()
    assert (one.values, one.run_events, one.malformed) == (many.values, many.run_events, many.malformed)
    broken = [p.line for p in one.problem_list() if p.severity == "error"]
    text = path.read_text().splitlines()
    assert broken and all(text[line - 1] == "{broken" for line in broken)
