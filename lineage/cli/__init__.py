"""The `flowreg` command.

Each command module has a `register(app)` function; adding a module of commands is one line in
`_MODULES`. `main()` is the console script: it maps every user error to exit code 1 with a
message on stderr and never lets a traceback reach the user (set FLOWREG_DEBUG=1 to see one for
an unexpected error).
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Sequence

import typer

from lineage.cli import (
    discovery_cmds,
    interop_cmds,
    neo4j_cmds,
    publish_cmds,
    query_cmds,
    registry_cmds,
    report_cmds,
    signing_cmds,
    snapshot_cmds,
    subprocessor_cmds,
)
from lineage.cli.output import error, terminal_text
from registry.errors import FlowregError

app = typer.Typer(
    name="flowreg",
    help="flowreg: a registry of where personal data goes and which safeguard covers each hop.\n\n"
    "The registry lives in the store named by FLOWREG_DB (default .flowreg/flowreg.db).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain click help: predictable in pipes and 80 columns, and `[brackets]` stay literal.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_MODULES = (
    registry_cmds, subprocessor_cmds, query_cmds, neo4j_cmds, report_cmds, interop_cmds,
    discovery_cmds, publish_cmds, signing_cmds, snapshot_cmds,
)
for _module in _MODULES:
    _module.register(app)


def main(argv: Sequence[str] | None = None) -> None:
    """Run flowreg with `argv` (default the process arguments) and exit with its status."""
    sys.exit(run(argv))


def _all_missing(exc: Exception, args: list[str]) -> Exception:
    """Click names the first missing parameter only; this names every one (options, then
    arguments), so a user fixes the command in one go."""
    ctx = getattr(exc, "ctx", None)
    if ctx is None:
        return exc
    rest = list(args)
    for name in ctx.command_path.split()[1:]:  # the tokens up to this command
        if name not in rest:
            return exc
        rest = rest[rest.index(name) + 1 :]
    try:
        probe = ctx.command.make_context(ctx.info_name, rest, parent=ctx.parent,
                                         resilient_parsing=True)
    except typer.TyperException:
        return exc
    missing = [p for p in ctx.command.params
               if p.required and probe.params.get(p.name) in (None, (), [])]
    options = [p.opts[0] for p in missing if p.param_type_name == "option"]
    arguments = [(p.metavar or p.name or "").upper() for p in missing
                 if p.param_type_name == "argument"]
    parts = []
    for kind, names in (("option", options), ("argument", arguments)):
        if names:
            listed = ", ".join(f"'{n}'" for n in names)
            parts.append(f"Missing {kind}{'s' if len(names) > 1 else ''} {listed}")
    if not parts:
        return exc
    usage_error = next(k for k in type(exc).__mro__ if k.__name__ == "UsageError")
    return usage_error("; ".join(parts) + ".", ctx)


def run(argv: Sequence[str] | None = None) -> int:
    """Run flowreg and return the exit status instead of exiting (0 ok, 1 user error)."""
    args = list(argv) if argv is not None else sys.argv[1:]
    try:
        result = app(args=args, prog_name="flowreg", standalone_mode=False)
    except FlowregError as exc:
        error(str(exc))
        return 1
    except typer.Abort:
        typer.echo("aborted", err=True)
        return 1
    except typer.TyperException as exc:
        # Click's classes, matched by name: typer may bring its own copy of click.
        kinds = {kind.__name__ for kind in type(exc).__mro__}
        if "NoArgsIsHelpError" in kinds:
            # `flowreg` (or `flowreg what-if`) alone asks what there is: the help, and success.
            ctx = getattr(exc, "ctx", None)
            typer.echo(ctx.get_help() if ctx is not None else "")
            return 0
        if "MissingParameter" in kinds:
            exc = _all_missing(exc, args)
        # Usage errors are user errors: exit 1 like every other one (click would use 2).
        show = getattr(exc, "show", None)
        if callable(show):
            shown = io.StringIO()
            show(file=shown)  # usage line, hint and the message (which may quote the input)
            typer.echo(terminal_text(shown.getvalue()), err=True, nl=False)
        else:
            error(exc.format_message())
        return 1
    except KeyboardInterrupt:
        typer.echo("interrupted", err=True)
        return 130
    except BrokenPipeError:
        # The reader went away (`flowreg export | head`): stop quietly, and point stdout at
        # /dev/null so the interpreter's final flush does not complain either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:
        where = f"{exc.filename} " if exc.filename else ""
        error(f"{where}{exc.strerror or exc}")
        return 1
    except Exception as exc:  # noqa: BLE001 - the last line of defence against tracebacks
        if os.environ.get("FLOWREG_DEBUG") == "1":
            raise
        error(
            f"unexpected {type(exc).__name__}: {exc} (a bug in flowreg; "
            "FLOWREG_DEBUG=1 shows the traceback)".replace("\n", " ")
        )
        return 1
    # With standalone_mode=False click returns the code of a typer.Exit, or the command's value.
    return result if isinstance(result, int) else 0
