"""The `subprocessor-early-start` finding at its boundaries, on both backends, and in agreement
with what `flowreg publish` shows: notice on 2023-03-01 with a 30-day period allows a start on
2023-03-31 (nothing mocked: real registries, the real engine, a real store and Neo4j server).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from publish_support import dated_store
from registry_builders import flow, party, registry, subjects, system

from lineage.early_start import EARLY_START, early_start_findings
from lineage.findings import NO_NOTICE, Severity, findings
from lineage.graph import build_graph
from lineage.publish.publication import publication
from registry.loader import load_registry_data

NOTICE = date(2023, 3, 1)
ALLOWED = date(2023, 3, 31)


def doc(start: date, *, notice: date | None = NOTICE, role: str | None = None, kind: str = "subprocessor",
        extra_start: date | None = None) -> dict:
    extra = {"notice_given": notice.isoformat()} if notice else {}
    items = [party("me", "NL", "affiliate"), subjects("users", "NL"), system("app", "NL", "me"),
             party("sub", "US", kind, name="Sub Inc.", public_list=True, **extra),
             flow("collect", "users", "app"),
             flow("to-sub", "app", "sub", valid_from=start, **({"role": role} if role else {}))]
    if extra_start is not None:
        items.append(flow("to-sub-2", "app", "sub", "d", valid_from=extra_start))
    return registry(*items, organization="Me", notice_days=30)


def early(start: date, day: date, **kw) -> list:
    rg = build_graph(load_registry_data(doc(start, **kw)))
    return [f for f in findings(rg, day) if f.rule == EARLY_START]


@pytest.mark.parametrize(("start", "expected"), [
    (ALLOWED - timedelta(days=1), True),   # the day before the earliest start allowed
    (ALLOWED, False),                      # the day itself
    (ALLOWED + timedelta(days=1), False),  # the day after
])
def test_the_boundary_of_the_notice_period(start: date, expected: bool) -> None:
    found = early(start, date(2023, 6, 1))
    assert bool(found) is expected
    if expected:
        (f,) = found
        assert f.severity is Severity.HIGH and f.node == "sub" and f.flow == "to-sub" and f.evidence == ("to-sub",)
        assert "2023-03-01" in f.message and str(ALLOWED) in f.message and str(start) in f.message
        assert str(ALLOWED) in f.fix


@pytest.mark.parametrize(("day", "expected"), [
    (date(2023, 3, 29), False),  # the flow has not started: nothing receives data yet
    (date(2023, 3, 30), True),   # its first day
    (date(2023, 3, 31), True),   # the early start stays a finding while the flow runs
])
def test_the_finding_holds_while_the_early_flow_runs(day: date, expected: bool) -> None:
    assert bool(early(date(2023, 3, 30), day)) is expected


def test_notice_period_and_role() -> None:
    # a 10-day period allows 2023-03-11
    content = doc(date(2023, 3, 10))
    content["notice_days"] = 10
    assert [f.flow for f in early_start_findings(build_graph(load_registry_data(content)), date(2023, 4, 1))] == ["to-sub"]
    content["notice_days"] = 9
    assert early_start_findings(build_graph(load_registry_data(content)), date(2023, 4, 1)) == []
    # a service provider receiving data in the role of a sub-processor counts too
    assert early(date(2023, 3, 30), date(2023, 4, 1), kind="service_provider", role="subprocessor")
    assert not early(date(2023, 3, 30), date(2023, 4, 1), kind="service_provider")


def test_without_notice_or_start_it_is_another_finding() -> None:
    rg = build_graph(load_registry_data(doc(date(2023, 3, 30), notice=None)))
    rules = {f.rule for f in findings(rg, date(2023, 4, 1))}
    assert EARLY_START not in rules and NO_NOTICE in rules
    undated = doc(date(2023, 3, 30))
    del undated["flows"][-1]["valid_from"]  # no recorded start: not judged
    assert early_start_findings(build_graph(load_registry_data(undated)), date(2023, 4, 1)) == []


def test_evidence_lists_every_early_flow() -> None:
    found = early(date(2023, 4, 5), date(2023, 5, 1), extra_start=date(2023, 3, 20))
    (f,) = found
    assert f.flow == "to-sub-2" and f.evidence == ("to-sub-2",) and "2023-03-20" in f.message


@pytest.mark.parametrize("start", [ALLOWED - timedelta(days=1), ALLOWED])
def test_the_published_feed_agrees_with_the_finding(tmp_path, start: date) -> None:
    fr = dated_store(tmp_path / "db", ("2023-01-01T00:00:00+00:00", doc(start)))
    pub = publication(fr, date(2023, 6, 1))
    (added,) = [c for c in pub.changes if c.party == "sub"]
    assert (added.notice, added.earliest) == (NOTICE, ALLOWED)
    assert added.early is any(f.rule == EARLY_START for f in fr.findings(date(2023, 6, 1)))
    assert added.early is (start < ALLOWED)


def test_both_backends_give_the_finding(backend) -> None:
    backend.apply(load_registry_data(doc(ALLOWED - timedelta(days=1))), author="t", message="early")
    on = [(f.rule, f.flow, f.severity) for f in backend.findings(date(2023, 4, 1)) if f.rule == EARLY_START]
    assert on == [(EARLY_START, "to-sub", Severity.HIGH)]
    assert not [f for f in backend.findings(date(2023, 3, 29)) if f.rule == EARLY_START]
