"""Which backend to use and where its data lives, from the environment.

Choosing the backend is configuration, never code: `FLOWREG_BACKEND` picks it, `FLOWREG_DB`
names the embedded store, `NEO4J_*` reach a Neo4j server, `FLOWREG_SIGNING_KEY(_FILE)` and
`FLOWREG_VERIFY_KEY(_FILE)` sign and check revisions (registry.signing). Neo4j credentials may also come from a
file of `KEY=VALUE` lines named by `FLOWREG_SECRETS_FILE`, so they need not sit in a shell
history or a process listing; a variable set in the environment wins over the file.
`FLOWREG_SNAPSHOTS` names where the embedded store's built graphs are kept between runs
(`lineage.snapshots`; default beside the store, `off` keeps none).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from registry.errors import FlowregError, RegistryError
from registry.yamlsource import read_source

Backend = Literal["sqlite", "neo4j"]
BACKENDS: tuple[Backend, ...] = ("sqlite", "neo4j")
DEFAULT_DB = Path(".flowreg") / "flowreg.db"
SNAPSHOTS_OFF = ("off", "0", "no", "false", "none")
# Only these may come from the secrets file; other keys there are ignored, so one shared
# .env-style file can serve several tools.
SECRET_KEYS = ("NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "NEO4J_DATABASE")
SECRETS_FILE_BYTES = 64 * 1024  # a few lines of KEY=VALUE; a bound, like every file read


class Settings(BaseModel):
    """Store configuration. Build it with `settings_from_env()` or directly in tests."""

    model_config = ConfigDict(frozen=True)

    backend: Backend = Field(default="sqlite", description="`sqlite` (embedded) or `neo4j`.")
    db_path: Path = Field(
        default_factory=lambda: Path.cwd() / DEFAULT_DB,
        description="The embedded store's SQLite file (FLOWREG_DB).",
    )
    neo4j_uri: str | None = Field(
        default=None, description="Neo4j server, e.g. bolt://localhost:7687 (NEO4J_URI)."
    )
    neo4j_user: str | None = Field(default=None, description="Neo4j user name (NEO4J_USER).")
    neo4j_password: SecretStr | None = Field(
        default=None, description="Neo4j password (NEO4J_PASSWORD); never shown."
    )
    neo4j_database: str = Field(
        default="neo4j", description="Neo4j database name (NEO4J_DATABASE)."
    )
    secrets_file: Path | None = Field(
        default=None,
        description="File of KEY=VALUE lines the Neo4j settings were read from "
        "(FLOWREG_SECRETS_FILE).",
    )
    signing_key: SecretStr | None = Field(
        default=None,
        description="Ed25519 private key that signs new revisions (FLOWREG_SIGNING_KEY: PEM or "
        "base64); never shown.",
    )
    signing_key_file: Path | None = Field(
        default=None, description="File holding that key instead (FLOWREG_SIGNING_KEY_FILE)."
    )
    verify_key: str | None = Field(
        default=None,
        description="Public key(s) revisions must be signed with (FLOWREG_VERIFY_KEY).",
    )
    verify_key_file: Path | None = Field(
        default=None, description="File holding those public keys (FLOWREG_VERIFY_KEY_FILE)."
    )

    snapshots: bool = Field(
        default=True,
        description="Keep costly built graphs and evaluations between runs (FLOWREG_SNAPSHOTS=off: "
        "never).",
    )
    snapshot_dir: Path | None = Field(
        default=None,
        description="Where they are kept (FLOWREG_SNAPSHOTS=DIR); default: the store's file name "
        "plus `.snapshots`, beside it.",
    )

    def __repr__(self) -> str:
        password = "set" if self.neo4j_password else "unset"
        return (
            f"Settings(backend={self.backend!r}, db_path={str(self.db_path)!r}, "
            f"neo4j_uri={self.neo4j_uri!r}, neo4j_user={self.neo4j_user!r}, "
            f"neo4j_password=<{password}>, neo4j_database={self.neo4j_database!r}, "
            f"secrets_file={str(self.secrets_file) if self.secrets_file else None!r}, "
            f"signing_key=<{'set' if self.signing_key or self.signing_key_file else 'unset'}>, "
            f"verify_key=<{'set' if self.verify_key or self.verify_key_file else 'unset'}>)"
        )

    __str__ = __repr__


def read_secrets_file(path: Path) -> dict[str, str]:
    """The Neo4j settings in a KEY=VALUE file (blank lines, `#` comments and `export ` allowed).

    Errors name the line but never echo its value, which may be a password.
    """
    try:
        text = read_source(path, limit=SECRETS_FILE_BYTES).decode("utf-8")
    except RegistryError as exc:
        reason = "; ".join(issue.message for issue in exc.issues)
        raise FlowregError(f"the secrets file (FLOWREG_SECRETS_FILE): {reason}") from None
    except UnicodeDecodeError:
        raise FlowregError(f"the secrets file {path} is not UTF-8 text") from None
    values: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key:
            raise FlowregError(f"{path}, line {number}: expected KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if key in SECRET_KEYS:
            values[key] = value
    return values


def settings_from_env(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from `env` (default: the process environment); a relative FLOWREG_DB is taken
    relative to the current directory."""
    env = os.environ if env is None else env

    def get(key: str) -> str | None:
        value = env.get(key, "").strip()
        return value or None

    backend = (get("FLOWREG_BACKEND") or "sqlite").lower()
    if backend not in BACKENDS:
        raise FlowregError(f"FLOWREG_BACKEND must be one of {', '.join(BACKENDS)}, not {backend!r}")
    db = get("FLOWREG_DB")
    db_path = Path(db).expanduser() if db else DEFAULT_DB
    if not db_path.is_absolute():
        db_path = Path.cwd() / db_path

    secrets_name = get("FLOWREG_SECRETS_FILE")
    secrets_file = Path(secrets_name).expanduser() if secrets_name else None
    secrets = read_secrets_file(secrets_file) if secrets_file else {}

    def neo4j(key: str) -> str | None:
        return get(key) or secrets.get(key) or None

    password = neo4j("NEO4J_PASSWORD")
    snapshots = get("FLOWREG_SNAPSHOTS")
    off = snapshots is not None and snapshots.lower() in SNAPSHOTS_OFF
    return Settings(
        backend=backend,  # type: ignore[arg-type]  # checked against BACKENDS above
        db_path=db_path,
        neo4j_uri=neo4j("NEO4J_URI"),
        neo4j_user=neo4j("NEO4J_USER"),
        neo4j_password=SecretStr(password) if password else None,
        neo4j_database=neo4j("NEO4J_DATABASE") or "neo4j",
        secrets_file=secrets_file,
        signing_key=SecretStr(signing) if (signing := get("FLOWREG_SIGNING_KEY")) else None,
        signing_key_file=_path(get("FLOWREG_SIGNING_KEY_FILE")),
        verify_key=get("FLOWREG_VERIFY_KEY"),
        verify_key_file=_path(get("FLOWREG_VERIFY_KEY_FILE")),
        snapshots=not off,
        snapshot_dir=None if off else _path(snapshots),
    )


def _path(value: str | None) -> Path | None:
    return Path(value).expanduser() if value else None
