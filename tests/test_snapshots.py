"""Snapshots kept between runs (`lineage.snapshots`): a later run reads what an earlier one
built and answers exactly as a run that builds everything afresh; a snapshot of another
revision, code or law, or one changed or cut short on disk, is never served.

The registries are the benchmark's synthetic ones at a small size, with `min_seconds=0` so
that everything is kept.
"""

from __future__ import annotations

import pickle
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bench.generator import build
from lineage import snapshots as snapshots_mod
from lineage.api import Flowreg
from lineage.holdings import Holdings, Labels
from lineage.law import Law, load_law
from lineage.snapshots import Snapshots, snapshots_for
from registry.config import settings_from_env
from registry.loader import load_registry_data
from registry.registration import add_subprocessor
from registry.sqlite_store import SqliteStore

LAW = load_law()
DAYS = [date(2019, 3, 1), date(2024, 6, 30)]


@pytest.fixture(scope="module")
def synthetic() -> tuple[Any, dict[str, Any]]:
    made = build(400, seed=5)
    return load_registry_data(made.registry), dict(made.probes)


@pytest.fixture
def db(tmp_path: Path, synthetic: tuple[Any, dict[str, Any]]) -> Path:
    path = tmp_path / "flowreg.db"
    Flowreg(SqliteStore(path)).apply(synthetic[0], author="test", message="synthetic")
    return path


def answers(fr: Flowreg, probes: dict[str, Any], day: date) -> dict[str, Any]:
    """Every kind of answer that reads the graph, the holdings or the evaluation."""
    root = probes["roots"][0]
    return {
        "hops": [h.to_dict() for h in fr.hops(day)],
        "flows": [h.to_dict() for h in fr.flows(root, day)],
        "recipients": [r.party for r in fr.recipients(root, day)],
        "findings": [f.to_dict() for f in fr.findings(day)],
        "impact": [(i.nodes, i.categories, i.hops_in, i.hops_out, i.downstream_hops)
                   for i in [fr.impact(probes["vendors"][0], day)]],
    }


def fresh(db: Path, probes: dict[str, Any], day: date) -> dict[str, Any]:
    return answers(Flowreg(SqliteStore(db)), probes, day)


def test_a_later_run_reads_the_graph_and_evaluations_kept_and_answers_the_same(
    db: Path, tmp_path: Path, synthetic: tuple[Any, dict[str, Any]]
) -> None:
    probes = synthetic[1]
    first = Snapshots(tmp_path / "snaps", min_seconds=0)
    before = answers(Flowreg(SqliteStore(db), snapshots=first), probes, DAYS[0])
    assert first.saved == {"graph": 1, "holdings": 1, "evaluation": 1, "findings": 1}
    assert first.loaded == {"graph": 0, "holdings": 0, "evaluation": 0, "findings": 0}

    later = Snapshots(tmp_path / "snaps", min_seconds=0)
    fr = Flowreg(SqliteStore(db), snapshots=later)
    assert answers(fr, probes, DAYS[0]) == before == fresh(db, probes, DAYS[0])
    # Every answer came from the kept statuses and findings: nothing read the holdings.
    assert later.loaded == {"graph": 1, "holdings": 0, "evaluation": 1, "findings": 1}
    assert later.saved == {"graph": 0, "holdings": 0, "evaluation": 0, "findings": 0}
    # A date no run evaluated yet: judged afresh on the holdings read from their snapshot.
    assert answers(fr, probes, DAYS[1]) == fresh(db, probes, DAYS[1])
    assert later.loaded["holdings"] == 1 and later.saved["holdings"] == 0
    assert later.loaded["holdings"] == 1 and later.saved["evaluation"] == later.saved["findings"] == 1


def with_vendor(registry: Any, probes: dict[str, Any]) -> Any:
    carried = sorted({c for f in registry.flows if f.from_ == probes["register_from"] for c in f.carries})
    return add_subprocessor(registry, party_id="snapshot-vendor", name="Snapshot Vendor", country="US",
                            categories=carried[:1], from_system=probes["register_from"])


def test_a_snapshot_serves_only_its_own_revision(
    db: Path, tmp_path: Path, synthetic: tuple[Any, dict[str, Any]]
) -> None:
    probes = synthetic[1]
    answers(Flowreg(SqliteStore(db), snapshots=Snapshots(tmp_path / "snaps", min_seconds=0)), probes, DAYS[0])
    writer = Flowreg(SqliteStore(db))
    writer.apply(with_vendor(writer.registry(), probes), author="test", message="a vendor")

    later = Snapshots(tmp_path / "snaps", min_seconds=0)
    got = answers(Flowreg(SqliteStore(db), snapshots=later), probes, DAYS[0])
    assert later.loaded == {"graph": 0, "holdings": 0, "evaluation": 0, "findings": 0}
    assert got == fresh(db, probes, DAYS[0])
    assert any(h["to"] == "snapshot-vendor" for h in got["hops"])


def test_a_registration_in_a_process_that_keeps_snapshots_answers_as_a_fresh_open(
    db: Path, tmp_path: Path, synthetic: tuple[Any, dict[str, Any]]
) -> None:
    probes = synthetic[1]
    fr = Flowreg(SqliteStore(db), snapshots=Snapshots(tmp_path / "snaps", min_seconds=0))
    answers(fr, probes, DAYS[0])
    fr.apply(with_vendor(fr.registry(), probes), author="test", message="a vendor")  # extends in memory
    for day in DAYS:
        assert answers(fr, probes, day) == fresh(db, probes, day)
    later = Snapshots(tmp_path / "snaps", min_seconds=0)
    for day in DAYS:  # what that process kept of the new revision
        assert answers(Flowreg(SqliteStore(db), snapshots=later), probes, day) == fresh(db, probes, day)
    assert later.loaded["evaluation"] >= 1


def test_a_snapshot_of_other_code_or_another_law_is_not_served(
    db: Path, tmp_path: Path, synthetic: tuple[Any, dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    probes = synthetic[1]
    answers(Flowreg(SqliteStore(db), snapshots=Snapshots(tmp_path / "snaps", min_seconds=0)), probes, DAYS[0])

    renamed = LAW.data.frameworks[0].model_copy(update={"name": "Renamed"})
    other_law = Law(LAW.data.model_copy(update={"frameworks": [renamed, *LAW.data.frameworks[1:]]}))
    snaps = Snapshots(tmp_path / "snaps", min_seconds=0)
    Flowreg(SqliteStore(db), law=other_law, snapshots=snaps).hops(DAYS[0])
    assert snaps.loaded == {"graph": 1, "holdings": 0, "evaluation": 0, "findings": 0}
    assert snaps.saved == {"graph": 0, "holdings": 1, "evaluation": 1, "findings": 0}

    monkeypatch.setattr(snapshots_mod, "code_version", lambda: "other-code")
    snaps = Snapshots(tmp_path / "snaps", min_seconds=0)
    assert answers(Flowreg(SqliteStore(db), snapshots=snaps), probes, DAYS[0]) == fresh(db, probes, DAYS[0])
    assert snaps.loaded == {"graph": 0, "holdings": 0, "evaluation": 0, "findings": 0}


@pytest.mark.parametrize("damage", ["flip a byte", "cut short", "another key"])
def test_a_damaged_or_foreign_snapshot_is_never_unpickled_and_is_rebuilt(
    damage: str, db: Path, tmp_path: Path, synthetic: tuple[Any, dict[str, Any]]
) -> None:
    probes = synthetic[1]
    directory = tmp_path / "snaps"
    answers(Flowreg(SqliteStore(db), snapshots=Snapshots(directory, min_seconds=0)), probes, DAYS[0])
    kept = sorted(directory.glob("*.pickle"))
    assert len(kept) == 4
    for path in kept:
        data = bytearray(path.read_bytes())
        if damage == "flip a byte":
            data[len(data) // 2] ^= 0x01
        elif damage == "cut short":
            del data[len(data) // 3:]
        path.write_bytes(bytes(data))
    if damage == "another key":
        (directory / "key").write_bytes(b"k" * 32)

    snaps = Snapshots(directory, min_seconds=0)
    assert answers(Flowreg(SqliteStore(db), snapshots=snaps), probes, DAYS[0]) == fresh(db, probes, DAYS[0])
    assert snaps.loaded == {"graph": 0, "holdings": 0, "evaluation": 0, "findings": 0}
    assert snaps.saved == {"graph": 1, "holdings": 1, "evaluation": 1, "findings": 1}  # built again, kept again


def test_quick_builds_write_nothing(db: Path, tmp_path: Path, synthetic: tuple[Any, dict[str, Any]]) -> None:
    snaps = Snapshots(tmp_path / "snaps", min_seconds=3600)
    answers(Flowreg(SqliteStore(db), snapshots=snaps), synthetic[1], DAYS[0])
    assert not (tmp_path / "snaps").exists()


def test_a_directory_that_cannot_be_written_costs_nothing_but_the_snapshot(
    db: Path, tmp_path: Path, synthetic: tuple[Any, dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    snaps = Snapshots(blocked / "snaps", min_seconds=0)
    got = answers(Flowreg(SqliteStore(db), snapshots=snaps), synthetic[1], DAYS[0])
    assert got == fresh(db, synthetic[1], DAYS[0])
    assert snaps.saved == {"graph": 0, "holdings": 0, "evaluation": 0, "findings": 0}
    assert "could not keep a graph snapshot" in caplog.text


def test_a_failed_write_leaves_no_file_and_only_the_newest_are_kept(tmp_path: Path) -> None:
    snaps = Snapshots(tmp_path / "snaps", min_seconds=0, keep=2)
    assert not snaps._save("graph", "r0", lambda: None)  # a lambda cannot be pickled
    assert [p.name for p in (tmp_path / "snaps").iterdir()] == ["key"]
    for number in range(3):
        assert snaps._save("graph", f"r{number}", {"n": number})
    assert snaps._load("graph", "r0") is None
    assert snaps._load("graph", "r1") == {"n": 1} and snaps._load("graph", "r2") == {"n": 2}
    assert len(list((tmp_path / "snaps").glob("graph-*.pickle"))) == 2


def test_settings_name_the_directory_or_turn_snapshots_off(tmp_path: Path) -> None:
    db = tmp_path / "store" / "flowreg.db"
    beside = snapshots_for(settings_from_env({"FLOWREG_DB": str(db)}))
    assert beside is not None and beside.directory == tmp_path / "store" / "flowreg.db.snapshots"
    named = snapshots_for(settings_from_env({"FLOWREG_DB": str(db), "FLOWREG_SNAPSHOTS": str(tmp_path / "s")}))
    assert named is not None and named.directory == tmp_path / "s"
    for off in ("off", "OFF", "0", "false"):
        assert snapshots_for(settings_from_env({"FLOWREG_DB": str(db), "FLOWREG_SNAPSHOTS": off})) is None
    assert snapshots_for(settings_from_env({"FLOWREG_BACKEND": "neo4j"})) is None


def test_label_numbers_depend_on_the_law_alone(db: Path) -> None:
    """Kept holdings name labels by number, so two processes must number them alike whatever
    places each met first."""
    one, two = Labels(LAW), Labels(LAW)
    one.of_countries(("US",))
    two.of_countries(("JP", "GB", "CH"))
    assert one.defined() == two.defined()
    rg = Flowreg(SqliteStore(db)).graph()
    kept = Holdings(rg, one)
    kept.of(sorted(rg.used)[0])
    data = kept.exported()
    assert Holdings.restored(rg, two, data) is not None
    data["labels"] = list(reversed(data["labels"]))
    assert Holdings.restored(rg, two, data) is None  # numbered otherwise: computed again


class _MovingHead:
    """A store whose head moves right after a reader reads it: another writer commits then."""

    def __init__(self, store: SqliteStore, change: Any) -> None:
        self.store, self.change = store, change

    def head(self) -> Any:
        found = self.store.head()
        if self.change is not None:
            change, self.change = self.change, None
            Flowreg(self.store).apply(change, author="other", message="meanwhile")
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


def test_an_answer_keyed_by_a_revision_is_built_from_that_revision(
    db: Path, synthetic: tuple[Any, dict[str, Any]]
) -> None:
    """The head moves between reading its hash and reading its content: the graph and the
    evaluation cached (and kept) under revision 1's hash must still be revision 1's."""
    registry, probes = synthetic
    fr = Flowreg(_MovingHead(SqliteStore(db), with_vendor(registry, probes)))  # type: ignore[arg-type]
    ev = fr.evaluation(DAYS[1])
    assert fr.store.head().number == 2
    assert ev.rg is fr.graph(1) and fr.evaluation(DAYS[1], 1) is ev
    assert "snapshot-vendor" not in ev.rg.graph
    assert "snapshot-vendor" in fr.graph().graph


def test_warm_keeps_what_later_commands_read(tmp_path: Path) -> None:
    """`flowreg warm` keeps the graph and each date's statuses and findings however quick they
    were; a later command reads them and answers as without them."""
    from clirun import SEED, flowreg

    db, kept = tmp_path / "flowreg.db", tmp_path / "kept"
    assert flowreg("apply", SEED, db=db).code == 0
    first = flowreg("warm", "--as-of", "2018-12-27", "--as-of", "2024-06-30", "--format", "json",
                    db=db, FLOWREG_SNAPSHOTS=str(kept))
    assert first.code == 0, first.stderr
    report = first.json()
    assert report["kept"] == {"graph": 1, "holdings": 1, "evaluation": 2, "findings": 2}
    assert [d["as_of"] for d in report["dates"]] == ["2018-12-27", "2024-06-30"]
    again = flowreg("warm", "--as-of", "2018-12-27", "--format", "json", db=db, FLOWREG_SNAPSHOTS=str(kept)).json()
    assert again["read"] == {"graph": 1, "evaluation": 1, "findings": 1} and again["kept"] == {}
    with_kept = flowreg("findings", "--as-of", "2018-12-27", "--format", "json", db=db, FLOWREG_SNAPSHOTS=str(kept))
    without = flowreg("findings", "--as-of", "2018-12-27", "--format", "json", db=db, FLOWREG_SNAPSHOTS="off")
    assert with_kept.code == 0 and with_kept.stdout == without.stdout

    off = flowreg("warm", db=db, FLOWREG_SNAPSHOTS="off")
    assert off.code == 1 and "FLOWREG_SNAPSHOTS is off" in off.stderr
    bad = flowreg("warm", "--as-of", "2018-13-01", db=db, FLOWREG_SNAPSHOTS=str(kept))
    assert bad.code == 1 and "--as-of: '2018-13-01' is not a date" in bad.stderr


def test_a_registration_extends_an_evaluation_read_from_a_snapshot(
    db: Path, tmp_path: Path, synthetic: tuple[Any, dict[str, Any]]
) -> None:
    """A process that read a date's statuses from a snapshot registers a sub-processor: the
    date's evaluation is extended (complete, every old hop reused), not judged again."""
    probes = synthetic[1]
    answers(Flowreg(SqliteStore(db), snapshots=Snapshots(tmp_path / "snaps", min_seconds=0)), probes, DAYS[1])
    snaps = Snapshots(tmp_path / "snaps", min_seconds=0)
    fr = Flowreg(SqliteStore(db), snapshots=snaps)
    before = fr.evaluation(DAYS[1])
    old = {h.flow: h for h in before.hops()}
    assert snaps.loaded["evaluation"] == 1
    fr.apply(with_vendor(fr.registry(), probes), author="test", message="a vendor", expected_head=1)
    after = fr.evaluation(DAYS[1])
    assert after is not before and after.complete and after.rg is fr.graph(2)
    assert all(after._hops[flow] is hop for flow, hop in old.items())  # reused, not judged again
    assert snaps.loaded["holdings"] == 1
    assert answers(fr, probes, DAYS[1]) == fresh(db, probes, DAYS[1])


def test_kept_holdings_are_read_one_category_at_a_time(db: Path) -> None:
    """A query about one category unpickles that category's holdings, not the registry's."""
    rg = Flowreg(SqliteStore(db)).graph()
    computed = Holdings(rg, Labels(LAW))
    for category in rg.used:
        computed.of(category)
    restored = Holdings.restored(rg, Labels(LAW), pickle.loads(pickle.dumps(computed.exported())))
    assert restored is not None and len(restored._kept) == len(rg.used)
    first = sorted(rg.used)[0]
    assert restored.of(first) == computed.of(first)
    assert first not in restored._kept and len(restored._kept) == len(rg.used) - 1
    assert all(restored.mask(node, first, DAYS[1].toordinal()) == computed.mask(node, first, DAYS[1].toordinal())
               for node in computed.of(first))
