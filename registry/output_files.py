"""Writing an output file (an export, a report, a graph, a key) the one safe way.

Every command that writes a file goes through `write_output`, so they all keep the same promises:
- the open store (and its SQLite companions `-wal`, `-shm`, `-journal`) is never written over,
  not with --force, not through a symbolic or hard link: a report written "into FLOWREG_DB"
  would destroy the history it reports on;
- an existing file is replaced only when the user said so (--force);
- readers never see half a file: the data goes to a temporary file beside the target, which is
  then linked (new file) or renamed (--force) into place.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from registry.errors import FlowregError

STORE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def is_protected(path: Path, protected: Iterable[Path]) -> bool:
    """True when `path` is (or links to) one of `protected`, or one of their SQLite companions."""
    for store in protected:
        for suffix in STORE_COMPANIONS:
            candidate = store.with_name(store.name + suffix)
            if _same_file(path, candidate):
                return True
    return False


def check_target(path: Path, *, force: bool, protected: Iterable[Path] = ()) -> bool:
    """Whether `path` exists; FlowregError when `write_output` would refuse it (so a command can
    refuse before it spends time building the output)."""
    path = Path(path)
    if is_protected(path, list(protected)):
        raise FlowregError(f"refusing to write to {path}: it is the open store (FLOWREG_DB); "
                           "choose another file")
    if path.is_dir():
        raise FlowregError(f"cannot write {path}: it is a directory")
    exists = path.exists() or path.is_symlink()
    if exists and not force:
        raise FlowregError(f"{path} already exists; give --force to replace it")
    return exists


def write_output(
    path: Path,
    data: bytes,
    *,
    force: bool,
    protected: Iterable[Path] = (),
    mode: int | None = None,
) -> None:
    """Write `data` to `path` atomically.

    FlowregError (and nothing written) when `path` is one of the `protected` stores, is a
    directory, or exists and `force` is false. `mode` sets the new file's permissions (default
    0644, or the replaced file's); a key file passes 0o600.
    """
    path = Path(path)
    exists = check_target(path, force=force, protected=protected)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".part")
    except OSError as exc:
        raise FlowregError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if mode is None:
            mode = path.stat().st_mode & 0o777 if exists and path.exists() else 0o644
        os.chmod(tmp, mode)
        if exists:
            os.replace(tmp, path)
        else:
            _link_new(Path(tmp), path)
    except FlowregError:
        raise
    except OSError as exc:
        raise FlowregError(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        Path(tmp).unlink(missing_ok=True)


def _link_new(tmp: Path, path: Path) -> None:
    # A hard link fails if the name was taken meanwhile, where a rename would silently replace
    # a file that appeared after the check above.
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise FlowregError(f"{path} already exists; give --force to replace it") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        os.replace(tmp, path)  # a file system without hard links
