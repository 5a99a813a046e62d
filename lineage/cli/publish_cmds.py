"""`flowreg publish`: the public sub-processor site, written into a folder.

    flowreg publish --as-of 2024-06-01 -o site/
    flowreg publish -o site/ --base-url https://example.com/subprocessors/

The folder gets index.html (the list), changes.html and changes.atom (the change history and
its Atom feed), subprocessors.json and its JSON Schema. Everything is built before anything is
written, and each file is replaced atomically; other files in the folder are left alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from lineage.cli import context
from lineage.cli.output import note
from lineage.publish.publication import publication
from lineage.publish.site import site_files, write_site
from registry.config import settings_from_env

OUTPUT_OPTION = typer.Option(..., "--output", "-o", help="Folder to write the site into (created if missing).")


def register(app: typer.Typer) -> None:
    """Add `publish` to the `flowreg` app."""
    app.command("publish")(publish)


def publish(
    output: Path = OUTPUT_OPTION,
    as_of: str | None = typer.Option(None, "--as-of", help="The day the list holds on (YYYY-MM-DD); default today (UTC)."),
    rev: int | None = typer.Option(None, "--rev", "-r", min=1, max=context.REV_MAX,
                                   help="Registry revision to publish; default the head."),
    base_url: str | None = typer.Option(
        None, "--base-url", help="Where the site will be served (http or https); makes the feed's links absolute."
    ),
    force: context.ForceOpt = False,
) -> None:
    """Write the public sub-processor site: the list, its changes and an Atom feed, and JSON.

    The list holds the sub-processors receiving personal data on the day (affiliates acting as
    sub-processors in a section of their own), with what each does, the categories it receives,
    where, the transfer tool relied on per regime and since when. The changes come from the
    registry's windows and revisions, each with its notice date and the earliest start the
    notice period (notice_days) allows.

    Files of an earlier publication in the folder are replaced only with --force.

    Example: flowreg publish --as-of 2018-12-27 -o site/
    """
    day = context.parse_day(as_of, "--as-of") or datetime.now(UTC).date()
    with context.store() as store:
        pub = publication(context.engine(store), day, rev=rev, base_url=base_url)
        files = site_files(pub)
    written = write_site(files, output, force=force, protected=[settings_from_env().db_path])
    note(
        f"published {len(pub.subprocessors)} sub-processor(s), {len(pub.affiliates)} affiliate(s) and "
        f"{len(pub.changes)} change(s) as of {day} (revision {pub.revision.number}) to {output}: "
        + ", ".join(p.name for p in written)
    )
