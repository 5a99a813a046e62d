"""`flowreg publish`: the public sub-processor site, read back by real parsers.

Nothing is mocked: stores are real SQLite files (revisions dated with `adopt`, as a history
copy writes them), the engine judges every hop, and every file is parsed back: the Atom feed by
feedparser and by ElementTree against RFC 4287's required elements, the pages by html5lib in
strict mode (an HTML parse error fails the test), the JSON against its JSON Schema.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import date
from pathlib import Path

import feedparser
import jsonschema
import pytest
from clirun import flowreg
from publish_support import (
    ATOM,
    EXPECTED_CHANGES,
    EXPECTED_LISTS,
    GENERATED,
    come_and_go,
    come_and_go_store,
    dated_store,
    parse_html,
    rfc4287_problems,
    tag,
    text_of,
)
from registry_builders import flow, party, registry, subjects, system
from report_support import twilio_store

from lineage.api import Flowreg
from lineage.graph import build_graph
from lineage.publish.html_pages import SORT_JS
from lineage.publish.listing import SubprocessorHistory
from lineage.publish.publication import Publication, publication
from lineage.publish.site import FILES, SCHEMA_FILE, site_archive, site_files, site_zip, write_site
from lineage.reports.subprocessors import subprocessor_entries
from registry.errors import FlowregError
from registry.loader import load_registry_data, load_registry_file

SCHEMA = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
DAYS = sorted(EXPECTED_LISTS)


@pytest.fixture(scope="module")
def acme(tmp_path_factory: pytest.TempPathFactory) -> Flowreg:
    return come_and_go_store(tmp_path_factory.mktemp("acme") / "flowreg.db")


def publish(fr: Flowreg, day: date, **kw) -> tuple[Publication, dict[str, bytes]]:
    pub = publication(fr, day, generated_at=GENERATED, **kw)
    return pub, site_files(pub)


def feed_of(files: dict[str, bytes]) -> feedparser.FeedParserDict:
    parsed = feedparser.parse(files["changes.atom"])
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    return parsed


def row_headers(page: bytes, section: str) -> list[str]:
    """The row headers (sub-processor names) of the table in `<section aria-labelledby=...>`."""
    root = parse_html(page)
    for element in root.iter(tag("section")):
        if element.get("aria-labelledby") == section:
            return [text_of(th) for th in element.iter(tag("th")) if th.get("scope") == "row"]
    return []


# --- the list on any day --------------------------------------------------------------------
@pytest.mark.parametrize("day", DAYS)
def test_the_list_holds_exactly_who_receives_data_that_day(acme: Flowreg, day: date) -> None:
    subprocessors, affiliates = EXPECTED_LISTS[day]
    pub, files = publish(acme, day)
    assert sorted(e.party for e in pub.subprocessors) == subprocessors
    assert sorted(e.party for e in pub.affiliates) == affiliates
    listed = json.loads(files["subprocessors.json"])["subprocessors"]
    assert sorted(e["id"] for e in listed) == sorted(subprocessors + affiliates)
    names = {e.party: e.name for e in pub.entries}
    assert row_headers(files["index.html"], "subprocessors") == sorted(
        (names[p] for p in subprocessors), key=str.casefold)
    assert row_headers(files["index.html"], "affiliates") == sorted((names[p] for p in affiliates), key=str.casefold)


def test_dated_entries_agree_with_the_engine(acme: Flowreg) -> None:
    """Where the head dates every flow (all but epsilon, dated by revisions), the list is the
    set of parties with an active sub-processor flow in the engine's own graph."""
    from lineage.notice import subprocessor_of

    rg = build_graph(load_registry_data(come_and_go(zeta=True)))
    for day in DAYS:
        engine = {p.id for f in rg.active_flows(day) if (p := subprocessor_of(rg, f)) is not None}
        listed = {e.party for e in publish(acme, day)[0].entries} - {"epsilon"}
        assert listed == engine, day


def test_entries_say_what_where_and_which_tool(acme: Flowreg) -> None:
    pub, files = publish(acme, date(2022, 6, 1))
    entries = {e["id"]: e for e in json.loads(files["subprocessors.json"])["subprocessors"]}
    gamma = entries["gamma"]
    assert gamma["country"] == "FR" and gamma["processing_locations"] == ["US"]
    assert gamma["purposes"] == ["delivery"] and gamma["categories"] == [{"id": "mail", "name": "mail"}]
    assert gamma["since"] == "2019-06-15"
    assert gamma["tools"] == {"eu": "standard contractual clauses (Decision 2021/914, scc-gamma)"}
    beta = entries["beta"]
    assert beta["tools"]["eu"].startswith("no valid transfer tool (the EU-US Privacy Shield")
    assert entries["delta"]["affiliate"] is True and entries["delta"]["tools"] == {"eu": "no transfer tool"}
    assert pub.since["delta"] == date(2021, 1, 1)
    # on the engine's word: DPF-certified from 2023-10-02
    later = {e.party: e for e in publish(acme, date(2023, 10, 2))[0].entries}
    assert dict(later["beta"].tools) == {"eu": "the EU-US Data Privacy Framework (adequacy for certified recipients)"}


# --- the changes up to any day ----------------------------------------------------------------
@pytest.mark.parametrize("day", [*DAYS, date(2024, 5, 15), date(2030, 1, 1)])
def test_the_feed_has_one_dated_entry_per_change_up_to_the_day(acme: Flowreg, day: date) -> None:
    expected = [e for e in EXPECTED_CHANGES if e.announced <= day]
    pub, files = publish(acme, day)
    got = [(c.day, c.kind, c.party, c.notice, c.earliest, c.early) for c in pub.changes]
    assert got == [(e.day, e.kind, e.party, e.notice, e.earliest, e.early) for e in expected]
    for change, want in zip(pub.changes, expected, strict=True):
        assert all(field in change.what for field in want.fields), change.what
    feed = feed_of(files)
    assert len(feed.entries) == len(expected)
    by_id = {e.id: e for e in feed.entries}
    for change, want in zip(pub.changes, expected, strict=True):
        entry = by_id[f"urn:uuid:{change.uid('Acme Mail')}"]
        effective = want.day if want.day <= day else want.announced
        assert entry.updated == f"{effective.isoformat()}T00:00:00Z"
        assert entry.published == f"{want.announced.isoformat()}T00:00:00Z"
        assert entry.tags[0].term == want.kind
        assert want.day.isoformat() in entry.summary
    # changes.html: the same changes, one row each, newest first among those in effect
    rows = [r for r in parse_html(files["changes.html"]).iter(tag("tr")) if (r.get("id") or "").startswith("change-")]
    assert len(rows) == len(expected)
    in_effect = [e for e in expected if e.day <= day]
    history = row_headers(files["changes.html"], "history")
    assert len(history) == len(in_effect)


def test_announced_changes_are_listed_apart(acme: Flowreg) -> None:
    pub, files = publish(acme, date(2024, 6, 1))
    assert [(c.party, c.day) for c in pub.announced] == [("zeta", date(2024, 7, 1))]
    assert "zeta" not in {e.party for e in pub.entries}
    doc = json.loads(files["subprocessors.json"])
    assert [(a["subprocessor"], a["takes_effect"], a["notice_given"], a["earliest_start"]) for a in doc["announced"]] == [
        ("zeta", "2024-07-01", "2024-05-01", "2024-05-31")]
    assert row_headers(files["index.html"], "announced") == ["Zeta Backup Lda"]
    assert row_headers(files["changes.html"], "announced") == ["Zeta Backup Lda"]
    titles = [e.title for e in feed_of(files).entries]
    assert "Added: Zeta Backup Lda (from 2024-07-01)" in titles


def test_early_starts_are_marked(acme: Flowreg) -> None:
    pub, files = publish(acme, date(2024, 7, 1))
    early = sorted(c.party for c in pub.changes if c.early)
    assert early == ["epsilon", "gamma"]
    rows = [r for r in parse_html(files["changes.html"]).iter(tag("tr")) if r.get("id")]
    marked = [text_of(r) for r in rows if "before the notice period has run" in text_of(r)]
    assert len(marked) == 2 and any("Gamma Mail SAS" in m for m in marked)
    summaries = [e.summary for e in feed_of(files).entries if "before the notice period has run" in e.summary]
    assert len(summaries) == 2


def test_entry_ids_are_stable_across_publications(acme: Flowreg) -> None:
    first = {e.title: e.id for e in feed_of(publish(acme, date(2016, 3, 1))[1]).entries}
    later = {e.title: e.id for e in feed_of(publish(acme, date(2024, 7, 1))[1]).entries}
    assert first["Added: Alpha Hosting GmbH"] == later["Added: Alpha Hosting GmbH"]
    assert feed_of(publish(acme, date(2016, 3, 1))[1]).feed.id == feed_of(publish(acme, date(2030, 1, 1))[1]).feed.id


def test_the_same_revision_and_day_give_the_same_files(acme: Flowreg) -> None:
    _, a = publish(acme, date(2024, 6, 1))
    _, b = publish(acme, date(2024, 6, 1))
    assert a == b
    assert list(a) == list(FILES)


# --- revisions date what the registry leaves undated --------------------------------------------
def test_undated_edits_take_effect_on_their_revision_day(tmp_path: Path) -> None:
    def doc(country: str, start: str) -> dict:
        return registry(party("me", "NL", "affiliate"), subjects("users", "NL"), system("app", "NL", "me"),
                        party("host", "DE", "subprocessor", name="Host GmbH"), system("host-dc", country, "host"),
                        party("mailer", "DE", "subprocessor", name="Mailer GmbH"),
                        flow("collect", "users", "app"), flow("to-host", "app", "host-dc"),
                        flow("to-mailer", "app", "mailer", valid_from=start), organization="Me")

    fr = dated_store(tmp_path / "db", ("2020-01-01T10:00:00+00:00", doc("DE", "2020-06-01")),
                     ("2021-05-01T10:00:00+00:00", doc("US", "2020-03-01")))
    # The host's data centre moved by an undated edit: DE until the revision's day, US from it.
    before = {e.party: e for e in publish(fr, date(2021, 4, 30))[0].entries}
    after = {e.party: e for e in publish(fr, date(2021, 5, 1))[0].entries}
    assert before["host"].locations == ("DE",) and after["host"].locations == ("US",)
    pub = publish(fr, date(2021, 5, 1))[0]
    moved = [c for c in pub.changes if c.party == "host"]
    assert [(c.day, c.kind, c.notice, c.earliest, c.early) for c in moved] == [
        (date(2021, 5, 1), "changed", date(2021, 5, 1), date(2021, 5, 31), True)]
    assert "processing locations: added US; removed DE" in moved[0].what
    # A dated fact is trusted as the newest revision writes it: the corrected start holds.
    assert "mailer" in {e.party for e in publish(fr, date(2020, 4, 1))[0].entries}
    assert [c.day for c in pub.changes if c.party == "mailer"] == [date(2020, 3, 1)]
    # The undated host was there before the record began: no addition, no start.
    assert pub.since["host"] is None and pub.record_start == date(2020, 1, 1)


def test_data_arriving_upstream_changes_the_tool_that_day(tmp_path: Path) -> None:
    """Regimes travel with the data: when EEA customers' data first reaches the US system that
    feeds a US sub-processor, the sub-processor's EU GDPR tool becomes due on that very day."""
    doc = registry(party("me", "US", "affiliate"), subjects("us-users", "US"), subjects("eu-users", "NL"),
                   system("crm", "US", "me"), party("sub", "IN", "subprocessor", name="Sub Pvt. Ltd."),
                   system("hr", "US", "me"), flow("collect-us", "us-users", "crm"),
                   flow("to-sub", "crm", "sub", valid_from="2020-01-01"),
                   flow("collect-eu", "eu-users", "crm", valid_from="2022-03-01"),
                   flow("unrelated", "eu-users", "hr", valid_from="2021-05-05"), organization="Me")
    fr = dated_store(tmp_path / "db", ("2019-01-01T00:00:00+00:00", doc))
    pub = publish(fr, date(2023, 1, 1))[0]
    sub = [(c.day, c.kind, c.what) for c in pub.changes if c.party == "sub"]
    assert sub == [(date(2020, 1, 1), "added", "new sub-processor"),
                   (date(2022, 3, 1), "changed", "EU GDPR transfer tool: does not apply \u2192 no transfer tool")]
    # the HR flow cannot bring data to the sub-processor's source: its date is no boundary
    boundaries = SubprocessorHistory.load(fr).boundaries()
    assert date(2022, 3, 1) in boundaries and date(2021, 5, 5) not in boundaries


def test_a_dropped_subprocessor_is_removed_on_the_revision_day(acme: Flowreg) -> None:
    pub = publish(acme, date(2024, 5, 1))[0]
    removal = [c for c in pub.changes if c.party == "epsilon" and c.kind == "removed"]
    assert removal and removal[0].day == date(2024, 5, 1) and removal[0].revision == 3
    # an older revision published as it stood: epsilon still runs
    older = publish(acme, date(2024, 6, 1), rev=2)[0]
    assert "epsilon" in {e.party for e in older.entries}


# --- the Twilio seed --------------------------------------------------------------------------
def test_the_seed_publishes_its_subprocessors_and_affiliates(tmp_path: Path) -> None:
    seed = load_registry_file(Path(__file__).resolve().parents[1] / "seeds" / "twilio.yaml")
    fr = dated_store(tmp_path / "db", ("2019-02-01T12:00:00+00:00", seed.content()))
    day = date(2018, 12, 27)
    pub, files = publish(fr, day)
    report = {e.party for e in subprocessor_entries(build_graph(seed), day)}
    assert {e.party for e in pub.entries} == report  # the seed dates none of these flows
    assert sorted(e.party for e in pub.affiliates) == ["twilio-group-apac", "twilio-ireland"]
    assert sorted(e.party for e in pub.subprocessors) == ["infra-provider", "infra-provider-edge", "transcription-provider"]
    edge = next(e for e in pub.entries if e.party == "infra-provider-edge")
    assert dict(edge.tools)["eu"].startswith("standard contractual clauses (Decision 2010/87")
    assert pub.changes == () and feed_of(files).entries == []
    assert rfc4287_problems(files["changes.atom"]) == []
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(
        json.loads(files["subprocessors.json"]))
    assert "not recorded" in text_of(parse_html(files["index.html"]))  # no start before the record


def test_a_registration_after_the_seed_is_an_addition(tmp_path_factory: pytest.TempPathFactory) -> None:
    fr = twilio_store(tmp_path_factory)  # revision 2 adds speechco, both written today
    today = fr.revision().created_at.date()
    pub, files = publish(fr, today)
    assert [(c.kind, c.party, c.day, c.notice) for c in pub.changes] == [("added", "speechco", today, today)]
    assert pub.changes[0].early  # registered without a start date: used at once, no notice period
    assert [e.title for e in feed_of(files).entries] == ["Added: SpeechCo Transcription Inc."]


# --- the files ----------------------------------------------------------------------------------
@pytest.mark.parametrize("day", [date(2016, 2, 1), date(2019, 6, 20), date(2024, 6, 1)])
def test_the_feed_meets_rfc_4287(acme: Flowreg, day: date) -> None:
    _, files = publish(acme, day, base_url="https://acme.example/subprocessors")
    assert rfc4287_problems(files["changes.atom"]) == []
    feed = feed_of(files)
    assert feed.feed.title == "Sub-processor changes of Acme Mail"
    assert feed.feed.id.startswith("urn:uuid:") and feed.feed.updated
    assert feed.feed.author == "Acme Mail"
    links = {link.rel: link.href for link in feed.feed.links}
    assert links == {"alternate": "https://acme.example/subprocessors/changes.html",
                     "self": "https://acme.example/subprocessors/changes.atom"}
    for entry in feed.entries:
        assert entry.id.startswith("urn:uuid:") and entry.title and entry.updated
        assert entry.link.startswith("https://acme.example/subprocessors/changes.html#change-")


@pytest.mark.parametrize("day", [date(2015, 12, 31), date(2019, 6, 20), date(2024, 6, 1)])
def test_the_json_meets_its_schema(acme: Flowreg, day: date) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    _, files = publish(acme, day)
    doc = json.loads(files["subprocessors.json"])
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)
    assert doc["as_of"] == day.isoformat() and json.loads(files["subprocessors.schema.json"]) == SCHEMA


def test_the_schema_rejects_what_the_format_forbids() -> None:
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    entry = {"id": "x", "name": "X", "kind": "subprocessor", "affiliate": False, "country": "US",
             "processing_locations": [], "purposes": [], "categories": [{"id": "c", "name": "C"}],
             "since": None, "tools": {}, "url": "javascript:alert(1)", "notice_given": None}
    doc = {"format": 1, "organization": "o", "as_of": "2024-01-01", "generated_at": "2024-01-01T00:00:00Z",
           "revision": 1, "revision_hash": "0" * 64, "notice_days": 30, "record_start": "2024-01-01",
           "feed": "urn:uuid:x", "regimes": {}, "subprocessors": [entry], "announced": []}
    assert [e.json_path for e in validator.iter_errors(doc)] == ["$.subprocessors[0].url"]
    del entry["since"]
    entry["url"] = None
    assert [e.message for e in validator.iter_errors(doc)] == ["'since' is a required property"]


@pytest.mark.parametrize("page", ["index.html", "changes.html"])
def test_the_pages_are_accessible_offline_html(acme: Flowreg, page: str) -> None:
    _, files = publish(acme, date(2024, 6, 1))
    root = parse_html(files[page])  # strict: any parse error raises
    html = root if root.tag == tag("html") else root.find(tag("html"))
    assert html is not None and html.get("lang") == "en"
    assert len(list(root.iter(tag("h1")))) == 1 and list(root.iter(tag("h2")))
    assert root.find(f".//{tag('title')}").text
    assert root.find(f".//{tag('main')}") is not None and root.find(f".//{tag('nav')}") is not None
    csp = [m.get("content") for m in root.iter(tag("meta")) if m.get("http-equiv") == "Content-Security-Policy"]
    assert csp and "default-src 'none'" in csp[0]
    tables = list(root.iter(tag("table")))
    assert tables
    for table in tables:
        assert table.find(tag("caption")) is not None
        heads = table.find(tag("thead")).iter(tag("th"))
        assert all(th.get("scope") == "col" for th in heads)
        for row in table.find(tag("tbody")).iter(tag("tr")):
            assert [c.get("scope") for c in row if c.tag == tag("th")] == ["row"]
    scripts = list(root.iter(tag("script")))
    assert len(scripts) == 1 and scripts[0].text == SORT_JS and scripts[0].get("src") is None
    # offline: nothing to fetch (the only links point at the site's own files or http(s) pages)
    assert not [e for e in root.iter() if e.get("src")]
    assert not [e for e in root.iter(tag("link")) if e.get("rel") == "stylesheet"]
    assert any(e.get("type") == "application/atom+xml" for e in root.iter(tag("link")))
    styles = list(root.iter(tag("style")))
    assert len(styles) == 1 and "@media print" in styles[0].text


# --- hostile registry text ---------------------------------------------------------------------
EVIL_NAME = "<script>alert(1)</script>"
EVIL_ORG = 'Evil "Quotes" & <Co> \'single\''
EVIL_PURPOSE = "]]> <img src=x onerror=alert(1)> &amp; &"
EVIL_CATEGORY = "<b onmouseover=alert(1)>bold</b>"


def hostile() -> dict:
    return registry(
        party("me", "NL", "affiliate"), subjects("users", "NL"), system("app", "NL", "me"),
        party("evil", "US", "subprocessor", name=EVIL_NAME, url="javascript:alert(1)", notice_given="2024-01-01"),
        party("odd", "DE", "subprocessor", name="Odd\x0bName\u2028Ltd", url=" https://odd.example"),
        party("fine", "FR", "subprocessor", name="Fine & Sons", url="https://fine.example/?a=1&b=\"2\""),
        ("categories", {"id": "c", "name": EVIL_CATEGORY}),
        flow("collect", "users", "app"),
        flow("to-evil", "app", "evil", purpose=EVIL_PURPOSE, valid_from="2024-02-01"),
        flow("to-odd", "app", "odd", purpose="javascript:alert(2)", valid_from="2024-02-01"),
        flow("to-fine", "app", "fine", valid_from="2024-02-01"),
        organization=EVIL_ORG,
    )


def _no_active_content(root) -> None:
    for element in root.iter():
        local = element.tag.split("}")[-1]
        assert local not in ("img", "iframe", "object", "embed", "b"), local
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (local, name)
            if name in ("href", "src", "action"):
                assert value.strip().lower().startswith(("https://", "http://", "changes", "index", "subprocessors", "#")), value


def test_hostile_names_render_as_text(tmp_path: Path) -> None:
    fr = dated_store(tmp_path / "db", ("2023-12-01T00:00:00+00:00", hostile()))
    pub, files = publish(fr, date(2024, 3, 1))
    assert {e.party for e in pub.entries} == {"evil", "odd", "fine"} and len(pub.changes) == 3
    for page in ("index.html", "changes.html"):
        root = parse_html(files[page])
        _no_active_content(root)
        scripts = list(root.iter(tag("script")))
        assert [s.text for s in scripts] == [SORT_JS]
        text = " ".join(root.itertext())
        assert EVIL_NAME in text and EVIL_ORG in text
        links = [a.get("href") for a in root.iter(tag("a"))]
        if page == "index.html":
            assert EVIL_PURPOSE in text and EVIL_CATEGORY in text
            assert "https://fine.example/?a=1&b=\"2\"" in links
        assert not any("odd.example" in (h or "") for h in links)  # not a clean absolute URL: text only
    # Atom: the raw XML holds the names as text nodes, and the HTML content as escaped text
    raw = files["changes.atom"]
    assert rfc4287_problems(raw) == []
    import xml.etree.ElementTree as ET

    xml = ET.fromstring(raw)
    titles = [e.findtext(f"{ATOM}title") for e in xml.iter(f"{ATOM}entry")]
    assert f"Added: {EVIL_NAME}" in titles
    assert xml.findtext(f"{ATOM}author/{ATOM}name") == EVIL_ORG
    for content in xml.iter(f"{ATOM}content"):
        fragment = parse_html(f"<!DOCTYPE html><title>x</title>{content.text}".encode())
        _no_active_content(fragment)
        assert not list(fragment.iter(tag("script")))
    assert any(EVIL_NAME in " ".join(parse_html(f"<!DOCTYPE html><title>x</title>{c.text}".encode()).itertext())
               for c in xml.iter(f"{ATOM}content"))
    for link in xml.iter(f"{ATOM}link"):
        assert not link.get("href", "").lower().startswith("javascript")
    feed = feed_of(files)
    assert any(e.title == f"Added: {EVIL_NAME}" for e in feed.entries)
    # JSON: the exact text, and no link made of a javascript: URL
    doc = json.loads(files["subprocessors.json"])
    evil = next(e for e in doc["subprocessors"] if e["id"] == "evil")
    assert evil["name"] == EVIL_NAME and evil["url"] is None and evil["purposes"] == [EVIL_PURPOSE]
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(doc)


# --- writing ------------------------------------------------------------------------------------
def test_write_site_and_zip(acme: Flowreg, tmp_path: Path) -> None:
    pub, files = publish(acme, date(2024, 6, 1))
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "keep.txt").write_text("mine")
    written = write_site(files, tmp_path / "site")
    assert [p.name for p in written] == list(FILES)
    assert all((tmp_path / "site" / n).read_bytes() == data for n, data in files.items())
    assert (tmp_path / "site" / "keep.txt").read_text() == "mine"
    with zipfile.ZipFile(io.BytesIO(site_zip(files, pub))) as archive:
        assert {n: archive.read(n) for n in archive.namelist()} == {
            f"subprocessors-2024-06-01/{n}": data for n, data in files.items()}
    with pytest.raises(FlowregError, match="exists and is not a folder"):
        write_site(files, tmp_path / "site" / "keep.txt")
    # the dashboard's download: the same files for the revision and day
    with zipfile.ZipFile(io.BytesIO(site_archive(acme, date(2024, 6, 1), rev=3))) as archive:
        names = sorted(n.split("/", 1)[1] for n in archive.namelist())
        assert names == sorted(FILES)
        assert archive.read("subprocessors-2024-06-01/changes.atom") == files["changes.atom"]


def test_a_base_url_must_be_http(acme: Flowreg) -> None:
    with pytest.raises(FlowregError, match="--base-url"):
        publication(acme, date(2024, 1, 1), base_url="javascript:alert(1)")


# --- the command --------------------------------------------------------------------------------
def test_publish_command(tmp_path: Path) -> None:
    db = tmp_path / "flowreg.db"
    come_and_go_store(db).close()
    out = tmp_path / "site"
    result = flowreg("publish", "--as-of", "2024-06-01", "-o", out, db=db)
    assert result.code == 0, result.stderr
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    assert "published 2 sub-processor(s), 1 affiliate(s)" in result.stderr
    assert json.loads((out / "subprocessors.json").read_bytes())["as_of"] == "2024-06-01"
    older = flowreg("publish", "--as-of", "2024-06-01", "--rev", "2", "-o", tmp_path / "r2", db=db)
    assert older.code == 0, older.stderr
    ids = [e["id"] for e in json.loads((tmp_path / "r2" / "subprocessors.json").read_bytes())["subprocessors"]]
    assert "epsilon" in ids


def test_publishing_again_needs_force_and_never_touches_the_store(tmp_path: Path) -> None:
    db = tmp_path / "flowreg.db"
    come_and_go_store(db).close()
    out = tmp_path / "site"
    assert flowreg("publish", "--as-of", "2024-06-01", "-o", out, db=db).code == 0
    before = (out / "subprocessors.json").read_bytes()
    again = flowreg("publish", "--as-of", "2020-01-01", "-o", out, db=db)
    assert again.code == 1 and "give --force" in again.stderr, again.stderr
    assert (out / "subprocessors.json").read_bytes() == before  # nothing replaced
    forced = flowreg("publish", "--as-of", "2020-01-01", "-o", out, "--force", db=db)
    assert forced.code == 0, forced.stderr
    assert json.loads((out / "subprocessors.json").read_bytes())["as_of"] == "2020-01-01"
    stored = db.read_bytes()
    # a folder holding the store: the files of the site may be written, the store never is
    link = tmp_path / "trap"
    link.mkdir()
    (link / "index.html").symlink_to(db)
    trapped = flowreg("publish", "-o", link, "--force", db=db)
    assert trapped.code == 1 and "open store" in trapped.stderr, trapped.stderr
    assert db.read_bytes() == stored


@pytest.mark.parametrize(("args", "message"), [
    (["--as-of", "2024-13-01"], "--as-of: '2024-13-01' is not a date"),
    (["--base-url", "javascript:alert(1)"], "--base-url: 'javascript:alert(1)' is not an absolute http(s) address"),
    (["--rev", "9"], "revision 9"),
])
def test_publish_rejects_bad_input_and_writes_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    db = tmp_path / "flowreg.db"
    come_and_go_store(db).close()
    result = flowreg("publish", *args, "-o", tmp_path / "site", db=db)
    assert result.code == 1 and message in result.stderr, result.stderr
    assert not (tmp_path / "site").exists()


def test_publish_on_an_empty_store_or_into_a_file(tmp_path: Path) -> None:
    result = flowreg("publish", "-o", tmp_path / "site", db=tmp_path / "missing.db")
    assert result.code == 1 and "no flowreg store" in result.stderr
    assert not (tmp_path / "missing.db").exists()  # a read command creates no store
    db = tmp_path / "flowreg.db"
    come_and_go_store(db).close()
    (tmp_path / "file").write_text("x")
    result = flowreg("publish", "-o", tmp_path / "file", db=db)
    assert result.code == 1 and "exists and is not a folder" in result.stderr
    assert (tmp_path / "file").read_text() == "x"
    missing = flowreg("publish", db=db)
    assert missing.code == 1 and "--output" in missing.stderr


@pytest.mark.neo4j
def test_neo4j_publishes_the_same_site(acme: Flowreg, neo4j_settings) -> None:
    """The same history copied into Neo4j (`flowreg neo4j push`'s path) gives the same files."""
    from registry.history_copy import copy_history
    from registry.neo4j.store import Neo4jStore

    with Neo4jStore(neo4j_settings) as store:
        copy_history(acme.store, store)
        on_neo4j = Flowreg(store)
        for day in (date(2019, 6, 20), date(2024, 6, 1)):
            assert publish(on_neo4j, day)[1] == publish(acme, day)[1]


# --- the change list judges only the parties whose day it is ------------------------------------
def replay_problems(history: SubprocessorHistory) -> list[str]:
    """Apply the change list day by day to the list of the day before the record: on every
    boundary day the result must be the list judged whole (`entries(day)`)."""
    from lineage.days import add_days
    from lineage.publish.changes import list_changes

    changes: dict[date, list] = {}
    for change in list_changes(history):
        changes.setdefault(change.day, []).append(change)
    listed = history.entries(add_days(history.record_start, -1))
    problems = []
    for day in (d for d in history.boundaries() if d >= history.record_start):
        for change in changes.pop(day, []):
            if change.after is None:
                listed.pop(change.party)
            else:
                listed[change.party] = change.after
        whole = history.entries(day)
        if listed != whole:
            differ = sorted(p for p in {*listed, *whole} if listed.get(p) != whole.get(p))
            problems.append(f"{day}: {differ}")
    return problems + [f"changes on non-boundary days: {sorted(changes)}"] * bool(changes)


def test_the_change_list_replays_to_every_days_list(acme: Flowreg, tmp_path: Path) -> None:
    assert replay_problems(SubprocessorHistory.load(acme)) == []
    # A generated registry: hundreds of parties, chains of onward flows with windows, retention,
    # tools and certifications that begin and end; a second revision ends and adds flows.
    from bench.generator import generate

    first = generate(400, seed=11)
    second = {**first, "flows": [f for f in first["flows"][40:]] + [
        {**{k: v for k, v in f.items() if k != "valid_until"}, "id": f["id"] + "-again", "valid_from": "2025-02-01"}
        for f in first["flows"][:20]]}
    fr = dated_store(tmp_path / "generated.db", ("2023-01-10T09:00:00+00:00", first),
                     ("2025-01-15T09:00:00+00:00", second))
    history = SubprocessorHistory.load(fr)
    assert len(history.party_days()) >= 10 and len(history.boundaries()) > 100
    assert replay_problems(history) == []
