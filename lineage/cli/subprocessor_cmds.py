"""`flowreg subprocessor add`: register a new recipient and the flow that feeds it.

The change itself is `registry.registration.add_subprocessor`; this module only turns options
into its arguments and a result into words. It is written by `registry.rebase.write_change`:
when another writer commits first, the change is made and checked again on the new head, so a
registration that still applies is written and one that no longer does says why.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from lineage.cli import context
from lineage.cli.output import Format, FormatOpt, emit_json, say
from lineage.cli.registry_cmds import AuthorOpt
from registry.errors import RegistryError
from registry.ids import PartyKind, Role
from registry.model import Registry
from registry.rebase import write_change
from registry.registration import add_subprocessor
from registry.yamlexport import sections_yaml

subprocessor_app = typer.Typer(
    help="Register a sub-processor and its flow without editing the registry file.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Add `flowreg subprocessor ...` to the app."""
    app.add_typer(subprocessor_app, name="subprocessor")


def _certifications(values: list[str]) -> list[dict[str, Any]]:
    """`FRAMEWORK[:VALID_FROM]` texts as certification mappings (checked by the model later)."""
    out = []
    for value in values:
        framework, _, since = value.partition(":")
        out.append({"framework": framework, **({"valid_from": since} if since else {})})
    return out


def _dpa(signed: str | None, valid_until: str | None, authorisation: str | None, document: str | None) -> dict[str, Any] | None:
    """The DPA options as an agreement's fields, or None when none is given (a DPA option
    without --dpa-signed is reported as its missing date)."""
    given = {"signed": signed, "valid_until": valid_until, "authorisation": authorisation, "document": document}
    return {k: v for k, v in given.items() if v is not None} or None


@subprocessor_app.command("add")
def add(
    party_id: Annotated[str, typer.Option("--id", help="Id of the new party, e.g. speechco.")],
    name: Annotated[str, typer.Option("--name", help="Its legal or trading name.")],
    country: Annotated[
        str, typer.Option("--country", help="ISO 3166-1 alpha-2 code of its seat, e.g. US.")
    ],
    categories: Annotated[
        list[str],
        typer.Option(
            "--category",
            "-c",
            metavar="CATEGORY",
            help="A category id it receives (repeat for several).",
        ),
    ],
    from_system: Annotated[
        str, typer.Option("--from-system", help="The system (or party) that sends it the data.")
    ],
    kind: Annotated[
        str, typer.Option("--kind", help=f"Party kind: {', '.join(k.value for k in PartyKind)}.")
    ] = "subprocessor",
    purpose: Annotated[
        str | None, typer.Option("--purpose", help="Why it receives the data.")
    ] = None,
    role: Annotated[
        str, typer.Option("--role", help=f"Its role: {', '.join(r.value for r in Role)}.")
    ] = "subprocessor",
    under: Annotated[
        list[str] | None,
        typer.Option(
            "--under", help="A claimed mechanism id or framework (repeatable), e.g. eu-us-dpf."
        ),
    ] = None,
    certification: Annotated[
        list[str] | None,
        typer.Option(
            "--certification",
            metavar="FRAMEWORK[:VALID_FROM]",
            help="FRAMEWORK[:VALID_FROM] it is certified under (repeatable), e.g. eu-us-dpf:2023-10-02.",
        ),
    ] = None,
    public_list: Annotated[
        bool | None,
        typer.Option(
            "--public-list/--not-public-list",
            help="Whether it is on the public sub-processor list.",
        ),
    ] = None,
    flow_id: Annotated[
        str | None, typer.Option("--flow-id", help="Id of the new flow; default FROM-to-ID.")
    ] = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help="Where the facts come from (a contract, a notice)."),
    ] = None,
    dpa_signed: Annotated[
        str | None,
        typer.Option("--dpa-signed", metavar="DATE",
                     help="Date the processor contract (DPA) with it was signed; records the DPA."),
    ] = None,
    dpa_valid_until: Annotated[
        str | None, typer.Option("--dpa-valid-until", metavar="DATE", help="First day the DPA no longer applies.")
    ] = None,
    dpa_authorisation: Annotated[
        str | None,
        typer.Option("--dpa-authorisation", help="Sub-processor authorisation in the DPA: general or specific."),
    ] = None,
    dpa_document: Annotated[
        str | None, typer.Option("--dpa-document", help="Where the signed DPA is.")
    ] = None,
    author: AuthorOpt = None,
    message: Annotated[
        str | None, typer.Option("--message", "-m", help="Why; default 'add sub-processor ID'.")
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Validate and show what would be added; write nothing."),
    ] = False,
    fmt: FormatOpt = Format.TABLE,
) -> None:
    """Add a party and one flow to it from a system, as a new revision.

    Validated exactly like a registry file; errors name the option at fault
    (`--country: 'XX' is not an ISO 3166-1 alpha-2 country code`) and nothing is written.

    \b
    Example:
      flowreg subprocessor add --id speechco --name "SpeechCo Oy" \\
        --country FI --category content.voice.recording \\
        --from-system comms-records --purpose transcription \\
        -m "second transcription vendor"
    """

    def change(registry: Registry) -> Registry:
        try:
            return add_subprocessor(
                registry,
                party_id=party_id,
                name=name,
                country=country,
                kind=kind,
                categories=categories,
                from_system=from_system,
                purpose=purpose,
                role=role,
                under=under or (),
                certifications=_certifications(certification or []),
                public_list=public_list,
                flow_id=flow_id,
                source=source,
                dpa=_dpa(dpa_signed, dpa_valid_until, dpa_authorisation, dpa_document),
            )
        except RegistryError as exc:
            raise RegistryError(exc.issues, message="the sub-processor was not added") from None

    with context.store() as store:
        # Made on the head; made again on a newer head if another writer commits first.
        written = write_change(
            store,
            change,
            author=author or context.default_author(),
            message=message or f"add sub-processor {party_id}",
            dry_run=dry_run,
        )
    revision, updated = written.revision, written.registry
    party, flow = updated.parties[-1], updated.flows[-1]
    added = {
        "parties": [party.model_dump(mode="json", by_alias=True, exclude_defaults=True)],
        "flows": [flow.model_dump(mode="json", by_alias=True, exclude_defaults=True)],
    }
    if _dpa(dpa_signed, dpa_valid_until, dpa_authorisation, dpa_document) is not None:
        added["agreements"] = [updated.agreements[-1].model_dump(mode="json", exclude_defaults=True)]
    if fmt is Format.JSON:
        emit_json(
            {
                "dry_run": dry_run,
                "revision": revision.number if revision else None,
                "hash": revision.hash if revision else None,
                **added,
            }
        )
        return
    if revision is None:
        say(f"valid; would add to revision {written.base} (nothing written):\n")
        say(sections_yaml(added).rstrip())
        return
    say(
        f"revision {revision.number} written ({revision.hash[:12]}): added party {party.id} "
        f"({party.kind.value}, {party.country}) and flow {flow.id} "
        f"({flow.from_} -> {flow.to}: {', '.join(flow.carries)})"
    )
