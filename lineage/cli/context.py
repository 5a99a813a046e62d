"""What several command modules need: the configured store, who is writing, reading a file,
writing an output file."""

from __future__ import annotations

import getpass
import os
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from lineage.api import Flowreg
from lineage.snapshots import snapshots_for
from registry.config import settings_from_env
from registry.errors import FlowregError
from registry.loader import load_registry_file
from registry.model import Registry
from registry.output_files import check_target, write_output
from registry.store import Store, open_store


def store(*, create: bool = False, check_head: bool = True) -> Store:
    """The store FLOWREG_BACKEND / FLOWREG_DB name; use as `with store() as s:`. Only commands
    that write a registry pass `create=True`; for the others a missing store is an error.
    Opening checks the head's hash and signature; `history --verify` reports instead."""
    return open_store(settings_from_env(), create=create, check_head=check_head)


def engine(store: Store) -> Flowreg:
    """The library API over `store`, keeping costly graphs and evaluations for the next command
    where FLOWREG_SNAPSHOTS says (`lineage.snapshots`)."""
    return Flowreg(store, snapshots=snapshots_for(settings_from_env()))


def default_author() -> str:
    """FLOWREG_AUTHOR, else the login name; every revision records who wrote it."""
    explicit = os.environ.get("FLOWREG_AUTHOR", "").strip()
    if explicit:
        return explicit
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (containers without a passwd entry)
        return "unknown"


def read_registry(path: Path) -> Registry:
    """Load and validate a registry file; `-` reads standard input (both bounded by the loader's
    limit). RegistryError on problems."""
    return load_registry_file(path)


def shown_name(path: Path) -> str:
    """How a file is named in messages."""
    return "standard input" if str(path) == "-" else str(path)


# Revision numbers are 64-bit integers in both stores; a larger one is a usage error.
REV_MAX = 2**63 - 1
RevOpt = Annotated[
    int | None,
    typer.Option("--rev", "-r", min=1, max=REV_MAX, help="Revision number; default the head."),
]


def parse_day(value: str | None, option: str) -> date | None:
    """A date option (YYYY-MM-DD, or 'today'); None stays None. FlowregError naming the option."""
    if value is None:
        return None
    if value.strip().lower() == "today":
        return date.today()
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise FlowregError(
            f"{option}: '{value}' is not a date (write YYYY-MM-DD, or 'today')"
        ) from None


def parse_count(value: str | None, option: str) -> int | None:
    """A count option (a non-negative integer); None stays None. FlowregError naming the option."""
    if value is None:
        return None
    text = value.strip()
    if not (text.isascii() and text.isdigit()):
        raise FlowregError(f"{option}: '{value}' is not a non-negative integer")
    return int(text)


ForceOpt = Annotated[
    bool, typer.Option("--force", help="Replace the output file if it exists (never the store).")
]


def write_file(path: Path, data: bytes, *, force: bool, mode: int | None = None) -> None:
    """Write an output file the one safe way (`registry.output_files.write_output`): never over
    the open store, over an existing file only with --force, atomically."""
    settings = settings_from_env()
    write_output(path, data, force=force, protected=[settings.db_path], mode=mode)


def check_output(path: Path | None, *, force: bool) -> None:
    """Refuse an output file `write_file` would refuse, before any work is done."""
    if path is not None and str(path) != "-":
        check_target(path, force=force, protected=[settings_from_env().db_path])
