"""Graph exports (GraphML, node-link JSON, W3C DPV JSON-LD queried with SPARQL), the diagram
layout, and the `flowreg report` / `export-graph` commands.
"""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest
import typer
from rdflib import Graph
from report_support import (
    GENERATED,
    NORTHWIND,
    NW_DAY,
    TW_DAY,
    northwind_store,
    read_back,
    tools_of,
    twilio_store,
    with_new_subprocessor,
)
from typer.testing import CliRunner

from lineage.api import Flowreg
from lineage.cli import registry_cmds, report_cmds
from lineage.reports import build_report
from lineage.reports.diagram import layout
from lineage.reports.dpv import dpv_graph, jsonld_bytes
from lineage.reports.graph_export import export_graph, graphml_bytes, node_link_bytes
from registry.errors import FlowregError
from registry.loader import load_registry_file


@pytest.fixture(scope="module")
def northwind(tmp_path_factory: pytest.TempPathFactory) -> Flowreg:
    return northwind_store(tmp_path_factory)


@pytest.fixture(scope="module")
def twilio(tmp_path_factory: pytest.TempPathFactory) -> Flowreg:
    return twilio_store(tmp_path_factory)


# --- graph exports --------------------------------------------------------------------------
def test_graphml_and_node_link_read_back(tmp_path: Path, northwind: Flowreg) -> None:
    graph = export_graph(northwind, NW_DAY, rev=1, generated_at=GENERATED)
    path = tmp_path / "g.graphml"
    path.write_bytes(graphml_bytes(graph))
    back = nx.read_graphml(path, force_multigraph=True)
    assert back.graph["revision_hash"] == northwind.revision(1).hash
    assert back.graph["as_of"] == "2020-08-01"
    edges = {k: d for _, _, k, d in back.edges(keys=True, data=True)}
    assert edges["mailer-to-bouncer"]["status"] == "invalid"
    assert edges["web-to-mailer"]["relied_on"] == "BCR 'northwind-bcr'"
    assert back.nodes["bouncer"]["countries"] == "BR" and back.nodes["bouncer"]["party_kind"] == "subprocessor"
    data = json.loads(node_link_bytes(graph))
    rebuilt = nx.node_link_graph(data)
    assert rebuilt.number_of_edges() == 3 and data["graph"]["generated_at"].startswith("2026-01-02")
    assert {edge["key"] for edge in data["edges"]} == {"signup", "web-to-mailer", "mailer-to-bouncer"}


def test_graphml_and_node_link_hold_the_same_values_with_networkx_defaults(tmp_path: Path, twilio: Flowreg) -> None:
    graph = export_graph(twilio, TW_DAY, rev=1, generated_at=GENERATED)
    path = tmp_path / "g.graphml"
    path.write_bytes(graphml_bytes(graph))
    from_graphml = nx.read_graphml(path)  # networkx defaults: no force_multigraph, no edges=
    from_json = nx.node_link_graph(json.loads(node_link_bytes(graph)))
    assert from_json.is_multigraph() and from_json.is_directed()
    assert dict(from_graphml.nodes(data=True)) == dict(from_json.nodes(data=True))
    assert from_graphml.is_multigraph(), "the seed has parallel flows, so GraphML reads back as a multigraph"
    by_id_graphml = {k: d for _, _, k, d in from_graphml.edges(keys=True, data=True)}
    by_id_json = {k: d for _, _, k, d in from_json.edges(keys=True, data=True)}
    assert by_id_graphml == by_id_json and len(by_id_json) == graph.number_of_edges()
    graphml_meta = {k: v for k, v in from_graphml.graph.items() if k not in ("node_default", "edge_default")}
    assert graphml_meta == from_json.graph
    # One list separator everywhere: a node in several countries and a flow of several categories.
    several = [d["countries"] for _, d in from_json.nodes(data=True) if ";" in d.get("countries", "")]
    assert several and not any("," in c for c in several)
    assert any(";" in d["carries"] for d in by_id_json.values())


def test_dpv_jsonld_sparql_finds_the_transfer_tool(northwind: Flowreg) -> None:
    data = jsonld_bytes(dpv_graph(northwind, NW_DAY, rev=1, generated_at=GENERATED))
    graph = Graph().parse(data=data, format="json-ld")
    assert tools_of(graph, "web-to-mailer") == ["https://w3id.org/dpv/legal/eu/gdpr#BindingCorporateRules"]
    assert tools_of(graph, "mailer-to-bouncer") == [], "an invalid tool is claimed, not relied on"
    claimed = graph.query("""
        PREFIX dct: <http://purl.org/dc/terms/> PREFIX flowreg: <https://w3id.org/flowreg#>
        PREFIX dpv: <https://w3id.org/dpv#>
        SELECT ?tool ?status ?country WHERE {
          ?hop dct:identifier "mailer-to-bouncer" ; flowreg:hasAssessment ?a .
          ?a flowreg:claimedTool ?tool ; flowreg:status ?status ; dpv:hasThirdCountry ?country . }""")
    assert [(str(t), str(s), str(c)) for t, s, c in claimed] == [
        ("https://w3id.org/dpv/legal/eu/gdpr#SCCByCommission", "invalid", "https://w3id.org/dpv/loc#BR")
    ]
    exporter = graph.query("""
        PREFIX dct: <http://purl.org/dc/terms/> PREFIX dpv: <https://w3id.org/dpv#>
        SELECT ?name WHERE { ?hop dct:identifier "web-to-mailer" ; dpv:hasDataExporter ?e ;
                             dpv:hasDataImporter ?i ; dpv:hasPersonalData ?pd . ?e dpv:hasName ?name . }""")
    assert {str(r.name) for r in exporter} == {"Northwind B.V."}
    revision = graph.query("""PREFIX flowreg: <https://w3id.org/flowreg#>
        SELECT ?hash WHERE { ?r a flowreg:RegistryRevision ; flowreg:revisionHash ?hash }""")
    assert [str(r.hash) for r in revision] == [northwind.revision(1).hash]


def test_dpv_uses_project_iris_where_dpv_has_none(twilio: Flowreg) -> None:
    graph = Graph().parse(data=jsonld_bytes(dpv_graph(twilio, TW_DAY, rev=1)), format="json-ld")
    assert tools_of(graph, "ireland-to-crm") == [
        "https://w3id.org/flowreg#EUUSPrivacyShield", "https://w3id.org/flowreg#SwissUSPrivacyShield",
    ]
    assert tools_of(graph, "platform-to-addon-ca") == [
        "https://w3id.org/dpv/legal/eu#Adequacy-EU-CA", "https://w3id.org/flowreg#Adequacy-CH-CA",
    ]
    assert "https://w3id.org/dpv/legal/eu/gdpr#A49-1-b" in tools_of(graph, "platform-to-carrier-row")
    labelled = graph.query("""PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        SELECT ?label WHERE { <https://w3id.org/flowreg#EUUSPrivacyShield> skos:prefLabel ?label }""")
    assert [str(r.label) for r in labelled] == ["EU-US Privacy Shield"]
    collections = graph.query("""PREFIX dpv: <https://w3id.org/dpv#> PREFIX dct: <http://purl.org/dc/terms/>
        SELECT ?f WHERE { ?h a dpv:Collect ; dct:identifier ?f }""")
    assert "end-users-eea-platform" in {str(r.f) for r in collections}



def test_diagram_layout_is_stable_and_breaks_cycles(twilio: Flowreg) -> None:
    report = build_report(twilio, "flows", TW_DAY, rev=1)
    assert report.diagram is not None
    first, second = layout(report.diagram), layout(report.diagram)
    assert first == second
    assert first.back_edges, "carriers send data back to the platform: a cycle"
    assert first.nodes["end-users-eea"].column == 0



# --- the command line -----------------------------------------------------------------------
@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    app = typer.Typer()
    registry_cmds.register(app)
    report_cmds.register(app)
    monkeypatch.setenv("FLOWREG_DB", str(tmp_path / "cli.db"))
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=True)

    assert invoke("apply", str(NORTHWIND), "-m", "northwind").exit_code == 0
    return invoke


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "json", "md", "html", "pdf"])
def test_cli_report_writes_each_format(cli, tmp_path: Path, suffix: str) -> None:
    out = tmp_path / f"flows.{suffix}"
    result = cli("report", "flows", "--as-of", "2020-08-01", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "mailer-to-bouncer" in read_back(out.read_bytes(), suffix)


def test_cli_changes_and_errors(cli, tmp_path: Path) -> None:
    registry = load_registry_file(NORTHWIND)
    updated = with_new_subprocessor(
        registry, party_id="acme-dns", name="Acme DNS Ltd", country="CA", categories=["subscriber.contact.email"],
        from_system="mailer",
    )
    path = tmp_path / "v2.yaml"
    from registry.yamlexport import to_yaml

    path.write_text(to_yaml(updated))
    assert cli("apply", str(path)).exit_code == 0
    result = cli("report", "changes", "--from", "1", "--to", "2", "--as-of", "2025-05-01", "--notice-days", "10", "-f", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    rows = data["sections"][0]["rows"]
    assert [(r["party"], r["objection_deadline"]) for r in rows] == [("acme-dns", "2025-05-11")]
    bad = cli("report", "nonsense")
    assert isinstance(bad.exception, FlowregError)
    bad = cli("report", "flows", "--as-of", "2020-02-30")
    assert isinstance(bad.exception, FlowregError) and "--as-of" in str(bad.exception)
    bad = cli("report", "ropa", "-f", "pdf")
    assert isinstance(bad.exception, FlowregError) and "-o FILE" in str(bad.exception)


@pytest.mark.parametrize("fmt", ["graphml", "json", "jsonld"])
def test_cli_export_graph(cli, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"graph.{fmt}"
    result = cli("export-graph", "--format", fmt, "--as-of", "2020-08-01", "-o", str(out))
    assert result.exit_code == 0, result.output
    if fmt == "graphml":
        assert {k for _, _, k in nx.read_graphml(out, force_multigraph=True).edges(keys=True)} >= {"web-to-mailer"}
    elif fmt == "json":
        assert {edge["key"] for edge in json.loads(out.read_text())["edges"]} >= {"web-to-mailer"}
    else:
        assert tools_of(Graph().parse(out, format="json-ld"), "web-to-mailer")


def test_reports_never_leave_a_partial_file(cli, tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    out.write_text("old")
    assert cli("report", "ropa", "--as-of", "2020-08-01", "-o", str(out)).exit_code != 0, "needs --force"
    assert out.read_text() == "old"
    assert cli("report", "ropa", "--as-of", "2020-08-01", "-o", str(out), "--force").exit_code == 0
    assert json.loads(out.read_text())["report"] == "ropa"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".r.json")]


