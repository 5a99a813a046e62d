"""Shared fixtures: one real Neo4j server per test session, started only when a test needs it, and
`backend`, which runs a test once on the embedded store and once on Neo4j.

Without Java 17+ / Maven the Neo4j tests skip with the reason; with the environment variable CI
set they fail instead, so a CI machine cannot silently stop testing the Neo4j backend.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from lineage.api import Flowreg
from registry.config import Settings
from registry.sqlite_store import SqliteStore

ROOT = Path(__file__).resolve().parents[1]
SERVER_MODULE = ROOT / "tools" / "neo4j" / "neo4j_server.py"


def in_ci() -> bool:
    """True when the environment variable CI is set to something other than a false value."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def neo4j_server_module() -> Any:
    """tools/neo4j/neo4j_server.py, loaded once under the name the server tests use too."""
    name = "neo4j_server"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, SERVER_MODULE)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def neo4j_server() -> Iterator[Any]:
    """A real Neo4j 5.26 server on loopback, shared by the whole session; authentication is on
    (user neo4j, a random password: `server.auth`), so every test also exercises credentials."""
    servers = neo4j_server_module()
    reason = servers.java_available()
    if reason is not None:
        if in_ci():
            pytest.fail(f"CI is set but the Neo4j server cannot run here: {reason}")
        pytest.skip(f"Neo4j server unavailable: {reason}")
    servers.build()
    server = servers.start(timeout=180, password=f"flowreg-{secrets.token_hex(8)}")
    try:
        yield server
    finally:
        server.stop()


def wipe_neo4j(server: Any) -> None:
    """Delete everything in the server's database (in batches; the schema stays)."""
    from neo4j import GraphDatabase

    with GraphDatabase.driver(server.uri, auth=server.auth) as driver, driver.session(database="neo4j") as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()


@pytest.fixture
def neo4j_settings(neo4j_server: Any) -> Settings:
    """Settings for the session's server, whose database has just been emptied."""
    wipe_neo4j(neo4j_server)
    return server_settings(neo4j_server)


def server_settings(server: Any) -> Settings:
    """Settings that reach `server` with its credentials."""
    user, password = server.auth
    return Settings(backend="neo4j", neo4j_uri=server.uri, neo4j_user=user,
                    neo4j_password=SecretStr(password))


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flowreg]:
    """A fresh `Flowreg` on an empty store: the embedded one, then a wiped Neo4j database."""
    if request.param == "embedded":
        store: Any = SqliteStore(tmp_path / "flowreg.db")
    else:
        from registry.neo4j.store import Neo4jStore

        store = Neo4jStore(request.getfixturevalue("neo4j_settings"))
    flowreg = Flowreg(store)
    try:
        yield flowreg
    finally:
        flowreg.close()
