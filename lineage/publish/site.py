"""The public sub-processor site as files.

`site_files` renders a `Publication` (`lineage.publish.publication`) (index.html, changes.html,
changes.atom, subprocessors.json and its schema); `write_site` writes them into a folder and
`site_zip` packs them for a download. The same revision and day give the same files, apart
from the generation time they state.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from datetime import UTC, date
from pathlib import Path

from lineage.api import Flowreg
from lineage.publish import atom, html_pages, machine
from lineage.publish.publication import Publication, publication
from registry.errors import FlowregError
from registry.output_files import check_target, write_output

SCHEMA_FILE = Path(__file__).with_name("subprocessors.schema.json")
FILES = ("index.html", "changes.html", "changes.atom", "subprocessors.json", "subprocessors.schema.json")


def site_archive(fr: Flowreg, day: date, *, rev: int | None = None) -> bytes:
    """The site of revision `rev` (default the head) on `day`, as a zip (the dashboard's download)."""
    pub = publication(fr, day, rev=rev)
    return site_zip(site_files(pub), pub)


def site_files(pub: Publication) -> dict[str, bytes]:
    """File name -> bytes of every file of the site."""
    return {
        "index.html": html_pages.index_page(pub),
        "changes.html": html_pages.changes_page(pub),
        "changes.atom": atom.feed(pub),
        "subprocessors.json": machine.subprocessors_json(pub),
        "subprocessors.schema.json": SCHEMA_FILE.read_bytes(),
    }


def write_site(files: dict[str, bytes], directory: Path, *, force: bool = False,
               protected: Iterable[Path] = ()) -> list[Path]:
    """Write the files into `directory` (created if missing), each atomically, by the one safe
    way of writing an output file (`registry.output_files`): a file of the site already there is
    replaced only with `force`, and never one of the `protected` stores. Every target is checked
    before anything is written. Other files in the folder are left alone. Returns the paths
    written; FlowregError when the folder cannot be used."""
    if directory.exists() and not directory.is_dir():
        raise FlowregError(f"-o: {directory} exists and is not a folder")
    targets = {directory / name: data for name, data in files.items()}
    existing = [t for t in targets if t.exists() or t.is_symlink()]
    if existing and not force:
        raise FlowregError(f"{directory} already holds {', '.join(t.name for t in existing)}; "
                           "give --force to replace the published files")
    for target in targets:
        check_target(target, force=force, protected=protected)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FlowregError(f"-o: cannot create {directory}: {exc.strerror or exc}") from None
    for target, data in targets.items():
        write_output(target, data, force=force, protected=protected)
    return list(targets)


def site_zip(files: dict[str, bytes], pub: Publication) -> bytes:
    """The site as a zip archive in one folder, every entry stamped with the generation time
    (so the bytes depend only on the files and that time)."""
    folder = f"subprocessors-{pub.day.isoformat()}"
    stamp = pub.generated_at.astimezone(UTC).timetuple()[:6]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            info = zipfile.ZipInfo(f"{folder}/{name}", date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return out.getvalue()
