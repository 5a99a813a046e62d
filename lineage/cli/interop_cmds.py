"""Interop commands: `flowreg export-fides` and `flowreg import-list`.

    flowreg export-fides -o fides/flowreg.yml
    flowreg import-list subprocessors.xlsx --system platform -c account.contact --dry-run
    flowreg import-list subprocessors.md --system platform -c account.contact -o additions.yaml
    flowreg import-list subprocessors.csv --system platform -c account.contact --propose -m "Q3 list"

Both read the registry from the store (the head, or --rev) unless --registry names a file. Both
show what they would change with --dry-run (a diff against the file or registry) and write
nothing then; notes on what could not be carried over go to standard error.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import Annotated

import typer
import yaml

from lineage.cli import context
from lineage.cli.output import note, say
from lineage.cli.registry_cmds import AuthorOpt
from registry.additions import extend_registry
from registry.errors import FlowregError, NotFoundError
from registry.fides_export import export_fides
from registry.model import Registry
from registry.sublist_import import list_additions, read_table
from registry.yamlexport import sections_yaml, to_yaml

RegistryOpt = Annotated[
    Path | None, typer.Option("--registry", help="A registry file to read instead of the store.")
]
RevOpt = Annotated[int | None, typer.Option("--rev", "-r", min=1, help="Revision to read; default the head.")]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Show what would change (a diff); write nothing.")]


def register(app: typer.Typer) -> None:
    """Add `export-fides` and `import-list` to the `flowreg` app."""
    app.command("export-fides")(export_fides_cmd)
    app.command("import-list")(import_list_cmd)


def _registry(path: Path | None, rev: int | None) -> tuple[Registry, int | None]:
    """The registry to work on, and the store revision it is (None for a file)."""
    if path is not None:
        if rev is not None:
            raise FlowregError("--rev reads the store; it cannot be used with --registry")
        return context.read_registry(path), None
    with context.store() as store:
        head = store.head()
        if head is None:
            raise NotFoundError("the store is empty: apply a registry first, or give --registry FILE")
        number = rev or head.number
        return context.engine(store).registry(number), number


def _diff(old: str, new: str, old_name: str, new_name: str) -> str:
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True), old_name, new_name)
    return "".join(lines) or "(no change)\n"


def _write(text: str, output: Path | None, what: str, force: bool) -> None:
    if output is None or str(output) == "-":
        sys.stdout.write(text)
        return
    context.write_file(output, text.encode("utf-8"), force=force)
    note(f"wrote {what} to {output}")


def export_fides_cmd(
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Manifest file; default standard output.")] = None,
    registry_file: RegistryOpt = None,
    rev: RevOpt = None,
    dry_run: DryRunOpt = False,
    force: context.ForceOpt = False,
) -> None:
    """Write the registry as a Fides (fideslang 3) manifest: organisation, systems with privacy
    declarations, egress/ingress with categories, and the categories, uses and subjects they name.

    What fideslang cannot express (countries go in each system's meta; validity windows,
    frameworks, rules...) is listed on standard error and at the top of the file.

    Example: flowreg export-fides -o fides-manifest.yml
    """
    if not dry_run:
        context.check_output(output, force=force)
    registry, number = _registry(registry_file, rev)
    exported = export_fides(registry)
    where = f"revision {number}" if number is not None else str(registry_file)
    header = [f"# Fides manifest (fideslang 3) exported by flowreg from {where} of {registry.organization}"]
    header += [f"# not carried over: {' '.join(n.split())}" for n in exported.notes]
    text = "\n".join(header) + "\n" + yaml.safe_dump(exported.manifest, sort_keys=False, allow_unicode=True, width=100)
    for line in exported.notes:
        note(f"not carried over: {line}")
    if dry_run:
        old = output.read_text(encoding="utf-8") if output is not None and output.exists() else ""
        sys.stdout.write(_diff(old, text, str(output or "(nothing)"), f"{output or 'manifest'} (new)"))
        note("dry run: nothing written")
        return
    _write(text, output, f"the Fides manifest ({len(exported.manifest.get('system', []))} systems)", force)


def _columns(values: list[str]) -> dict[str, str]:
    out = {}
    for value in values:
        for part in value.split(","):
            field, sep, header = part.partition("=")
            if not sep or not field.strip() or not header.strip():
                raise FlowregError(f"--columns: '{part}' is not FIELD=HEADER (e.g. name=Supplier)")
            out[field.strip()] = header.strip()
    return out


def import_list_cmd(
    file: Annotated[Path, typer.Argument(help="The list: a .csv, .xlsx or .md (pipe table) file.")],
    system: Annotated[str, typer.Option("--system", help="The system that sends data to the listed parties.")],
    categories: Annotated[
        list[str], typer.Option("--category", "-c", metavar="CATEGORY", help="A category they receive (repeat).")
    ],
    columns: Annotated[
        list[str] | None,
        typer.Option("--columns", help="FIELD=HEADER pairs (fields: name, purpose, location, mechanism, url); "
                     "the rest are guessed from the headers."),
    ] = None,
    kind: Annotated[str, typer.Option("--kind", help="Party kind of the listed parties.")] = "subprocessor",
    role: Annotated[str, typer.Option("--role", help="Their role on the flows.")] = "subprocessor",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the YAML additions here.")] = None,
    propose: Annotated[bool, typer.Option("--propose", help="Record the change as a proposal for review.")] = False,
    message: Annotated[str | None, typer.Option("--message", "-m", help="Why (for --propose).")] = None,
    author: AuthorOpt = None,
    registry_file: RegistryOpt = None,
    dry_run: DryRunOpt = False,
    force: context.ForceOpt = False,
) -> None:
    """Import a sub-processor list (name, purpose, location, transfer mechanism per row) as
    parties, flows from --system carrying the --category ids, and the SCC/BCR/IDTA mechanisms
    and DPF certifications the rows name.

    The column mapping used is shown; every problem names its row and column, and a list with
    problems adds nothing. Output: the YAML additions (standard output or -o), or with --propose
    a proposal in the store for review in the dashboard.

    \b
    Example:
      flowreg import-list tests/fixtures/sublists/stakater-subprocessors.md \\
        --system comms-records -c usage.metadata --dry-run
    """
    if propose and registry_file is not None:
        raise FlowregError("--propose records a change of the store's registry; it cannot be used with --registry")
    if propose and output is not None:
        raise FlowregError("give either --propose or -o FILE, not both")
    if not dry_run:
        context.check_output(output, force=force)
    registry, number = _registry(registry_file, None)
    table = read_table(file)
    result = list_additions(registry, table, system=system, categories=categories, columns=_columns(columns or []),
                            kind=kind, role=role, source=f"sub-processor list {file.name}")
    note("columns: " + ", ".join(f"{f} = '{h}'" for f, h in result.columns.items()))
    for line in result.skipped + result.notes:
        note(line)
    if not result.additions:
        say("nothing to add: every listed party is already in the registry")
        return
    extended = extend_registry(registry, result.additions)
    counts = ", ".join(f"{len(v)} {k}" for k, v in result.additions.items())
    if dry_run:
        sys.stdout.write(_diff(to_yaml(registry), to_yaml(extended), "registry", "registry + list"))
        note(f"dry run: would add {counts}; nothing written")
        return
    if propose:
        with context.store() as store:
            proposal = store.propose(extended.content(), author=author or context.default_author(),
                                     message=message or f"import-list {file.name}", base_revision=number)
        say(f"proposal {proposal.id}: adds {counts} (review it in the dashboard or with the store's review commands)")
        return
    header = f"# Additions from the sub-processor list {file.name} (merge into the registry, then flowreg apply)\n"
    _write(header + sections_yaml(result.additions), output, f"the additions ({counts})", force)
