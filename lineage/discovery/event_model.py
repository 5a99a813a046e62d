"""A decoded JSON value as an OpenLineage run event: the OpenLineage project's own Python models
(`openlineage.client.event_v2`, `facet_v2`), built from the value and checked by their
validators (event time, run id, event type).

The client has no reader of its own, so this module hands each piece of the JSON to the model
that describes it, and names the key when a piece does not fit (`run.runId: 'x' is not a
UUID`). It builds the facets the check reads (`schema`, with nested fields); others are kept
out of the model, as they change nothing here.

Real producers leave out keys the spec requires but the check does not need (`schemaURL`,
`producer`, a facet's `_producer` or `_schemaURL`): such an event is read, with a warning.
Dataset and job events (no `run`) are valid OpenLineage but say nothing about runs; they are
counted, not read.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import schema_dataset, tags_dataset

_STATES = {state.value: state for state in RunState}


class Tag(NamedTuple):
    """A tag of a dataset's `tags` facet: "key" or "key:value", and the field it is on."""

    label: str
    field: str | None = None


class EventError(ValueError):
    """The value cannot be read as a run event; the message names the key at fault."""


class NotARunEvent(Exception):
    """A dataset or job event: valid OpenLineage, nothing about runs. `kind` says which."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass
class ModelBuilder:
    """Builds `RunEvent`s; datasets and schema facets that repeat (the same table in many runs)
    are built once and shared, as the models are values."""

    _datasets: dict[tuple[Any, ...], Any] = field(default_factory=dict)
    _jobs: dict[tuple[str, str], Job] = field(default_factory=dict)
    _runs: dict[str, Run] = field(default_factory=dict)
    # by id() of each dataset made (kept alive by `_datasets`): its key and its field names
    _names: dict[int, tuple[str, tuple[str | Tag, ...] | None]] = field(default_factory=dict)

    def run_event(self, raw: Any, warnings: list[str]) -> RunEvent:
        """`raw` as a RunEvent; EventError or NotARunEvent otherwise. Omissions of
        spec-required keys the check does not need are added to `warnings`."""
        if not isinstance(raw, dict):
            raise EventError(f"an event is a JSON object, not {_json_type(raw)}")
        run = raw.get("run")
        if run is None:
            if "dataset" in raw:
                raise NotARunEvent("dataset event")
            if "job" in raw:
                raise NotARunEvent("job event")
            raise EventError("run: required key is missing (not an OpenLineage run event)")
        if not isinstance(run, dict):
            raise EventError(f"run: expected an object, got {_json_type(run)}")
        run_id = run.get("runId")
        if type(run_id) is not str or not run_id:  # the usual case costs one test; else say why
            run_id = _text(run, "runId", "run.runId")
        run_model = self._runs.get(run_id)  # a run's events share one (validated) Run
        if run_model is None:
            try:
                run_model = self._runs[run_id] = Run(runId=run_id)
            except ValueError:
                raise EventError(f"run.runId: {run_id!r} is not a UUID") from None
        job = raw.get("job")
        job_key = (job.get("namespace"), job.get("name")) if type(job) is dict else None
        job_model = self._jobs.get(job_key)  # type: ignore[arg-type]
        if job_model is None:
            job = _object(raw, "job", "job")
            job_key = (_text(job, "namespace", "job.namespace"), _text(job, "name", "job.name"))
            job_model = self._jobs[job_key] = Job(namespace=job_key[0], name=job_key[1])
        event_time = raw.get("eventTime")
        if type(event_time) is not str or not event_time:
            event_time = _text(raw, "eventTime", "eventTime")
        state = raw.get("eventType")
        if state is not None and state not in _STATES:
            raise EventError(f"eventType: {state!r} is not one of {', '.join(_STATES)}")
        producer = raw.get("producer")
        if producer is None:
            warnings.append("producer: required by the spec, missing")
            producer = ""
        elif not isinstance(producer, str):
            raise EventError(f"producer: expected text, got {_json_type(producer)}")
        if "schemaURL" not in raw:
            warnings.append("schemaURL: required by the spec, missing")
        inputs = [self._dataset(d, "inputs", i, InputDataset, warnings) for i, d in enumerate(_list(raw, "inputs"))]
        outputs = [self._dataset(d, "outputs", i, OutputDataset, warnings) for i, d in enumerate(_list(raw, "outputs"))]
        try:
            return RunEvent(
                eventTime=event_time, producer=producer or "", run=run_model, job=job_model,
                eventType=_STATES[state] if state is not None else None, inputs=inputs, outputs=outputs,
            )
        except ValueError as exc:  # the models' own validators: the event time, the producer URI
            raise EventError(f"eventTime: {event_time!r} is not an ISO 8601 date and time ({exc})") from None

    def _dataset(self, raw: Any, side: str, index: int, model: type, warnings: list[str]) -> Any:
        if type(raw) is not dict:
            raise EventError(f"{side}[{index}]: expected an object, got {_json_type(raw)}")
        namespace, name, facets = raw.get("namespace"), raw.get("name"), raw.get("facets")
        schema = facets.get("schema") if type(facets) is dict else None
        tags = facets.get("tags") if type(facets) is dict else None
        # The facets' own JSON text is the cache key: a table's schema repeats run after run.
        key = (model, namespace, name, orjson.dumps(schema) if schema is not None else None,
               orjson.dumps(tags) if tags is not None else None)
        dataset = self._datasets.get(key)
        if dataset is None:
            dataset = self._datasets[key] = self._new_dataset(raw, f"{side}[{index}]", model)
        if schema is not None and not ("_producer" in schema and "_schemaURL" in schema):
            for missing in ("_producer", "_schemaURL"):
                if missing not in schema:
                    warnings.append(f"{side}[{index}].facets.schema.{missing}: required by the spec, missing")
        return dataset

    def _new_dataset(self, raw: dict[str, Any], where: str, model: type) -> Any:
        namespace, name = _text(raw, "namespace", f"{where}.namespace"), _text(raw, "name", f"{where}.name")
        facets = raw.get("facets")
        if facets is not None and not isinstance(facets, dict):
            raise EventError(f"{where}.facets: expected an object, got {_json_type(facets)}")
        schema = (facets or {}).get("schema")
        made = {}
        if schema is not None:
            if not isinstance(schema, dict):
                raise EventError(f"{where}.facets.schema: expected an object, got {_json_type(schema)}")
            fields = _fields_key(schema.get("fields"), f"{where}.facets.schema.fields")
            made["schema"] = _schema_facet((fields, str(schema.get("_producer") or "")))
        tags = (facets or {}).get("tags")
        if tags is not None:
            made["tags"] = _tags_facet(tags, f"{where}.facets.tags")
        dataset = model(namespace=namespace, name=name, facets=made)
        names = schema_field_names(dataset)
        labels = dataset_tags(dataset)
        if labels:
            names = (names or ()) + labels
        self._names[id(dataset)] = (f"{namespace}/{name}", names)
        return dataset

    def describe(self, dataset: Any) -> tuple[str, tuple[str | Tag, ...] | None]:
        """A dataset this builder made: its "namespace/name", and its schema's field names and
        its tags (None when it has neither facet)."""
        return self._names[id(dataset)]


def schema_field_names(dataset: Any) -> tuple[str, ...] | None:
    """The names of a dataset model's schema fields, nested ones included (None without a
    schema facet)."""
    facets = dataset.facets or {}
    schema = facets.get("schema")
    if schema is None:
        return None
    names: list[str] = []
    stack = list(reversed(schema.fields or []))
    while stack:
        item = stack.pop()
        names.append(item.name)
        stack.extend(reversed(item.fields or []))
    return tuple(names)


def dataset_tags(dataset: Any) -> tuple[Tag, ...]:
    """The tags of a dataset model's `tags` facet."""
    facet = (dataset.facets or {}).get("tags")
    if facet is None:
        return ()
    return tuple(Tag(f"{t.key}:{t.value}" if t.value else t.key, t.field) for t in facet.tags or ())


def _tags_facet(raw: Any, where: str) -> tags_dataset.TagsDatasetFacet:
    if not isinstance(raw, dict):
        raise EventError(f"{where}: expected an object, got {_json_type(raw)}")
    items = raw.get("tags") or []
    if not isinstance(items, list):
        raise EventError(f"{where}.tags: expected a list, got {_json_type(items)}")
    made = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise EventError(f"{where}.tags[{i}]: expected an object, got {_json_type(item)}")
        value, on = item.get("value"), item.get("field")
        if value is not None and not isinstance(value, str):
            raise EventError(f"{where}.tags[{i}].value: expected text, got {_json_type(value)}")
        if on is not None and not isinstance(on, str):
            raise EventError(f"{where}.tags[{i}].field: expected text, got {_json_type(on)}")
        made.append(tags_dataset.TagsDatasetFacetFields(
            key=_text(item, "key", f"{where}.tags[{i}].key"), value=value or "",
            source=item.get("source") if isinstance(item.get("source"), str) else None, field=on))
    return tags_dataset.TagsDatasetFacet(tags=made, producer=str(raw.get("_producer") or ""))


def _schema_facet(key: tuple[Any, ...]) -> schema_dataset.SchemaDatasetFacet:
    fields, producer = key
    return schema_dataset.SchemaDatasetFacet(fields=[_field_model(f) for f in fields], producer=producer)


def _field_model(key: tuple[Any, ...]) -> schema_dataset.SchemaDatasetFacetFields:
    name, kind, nested = key
    return schema_dataset.SchemaDatasetFacetFields(name=name, type=kind, fields=[_field_model(n) for n in nested])


def _fields_key(raw: Any, where: str) -> tuple[Any, ...]:
    """A schema's fields as a hashable value: (name, type, nested fields) each."""
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise EventError(f"{where}: expected a list, got {_json_type(raw)}")
    try:  # the usual shape, checked in one pass; anything else is looked at field by field
        key = tuple((item["name"], item.get("type"), ()) for item in raw if "fields" not in item)
        if len(key) == len(raw) and all(type(n) is str and n and (t is None or type(t) is str) for n, t, _ in key):
            return key
    except (TypeError, KeyError, AttributeError):
        pass
    out = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise EventError(f"{where}[{i}]: expected an object, got {_json_type(item)}")
        name = _text(item, "name", f"{where}[{i}].name")
        kind = item.get("type")
        out.append((name, kind if isinstance(kind, str) else None, _fields_key(item.get("fields"), f"{where}[{i}].fields")))
    return tuple(out)


def _object(raw: Mapping[str, Any], key: str, where: str) -> dict[str, Any]:
    value = raw.get(key)
    if value is None:
        raise EventError(f"{where}: required key is missing")
    if not isinstance(value, dict):
        raise EventError(f"{where}: expected an object, got {_json_type(value)}")
    return value


def _text(raw: Mapping[str, Any], key: str, where: str) -> str:
    value = raw.get(key)
    if value is None:
        raise EventError(f"{where}: required key is missing")
    if not isinstance(value, str) or not value:
        raise EventError(f"{where}: expected non-empty text, got {_json_type(value)}")
    return value


def _list(raw: Mapping[str, Any], key: str) -> list[Any]:
    value = raw.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise EventError(f"{key}: expected a list, got {_json_type(value)}")
    return value


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, str):
        return "empty text" if not value else "text"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
