"""`flowreg keygen`: make the Ed25519 key pair that signs revisions (registry.signing)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from lineage.cli import context
from lineage.cli.output import note, say
from registry.signing import new_signer, private_pem, public_text


def register(app: typer.Typer) -> None:
    """Add `keygen` to the `flowreg` app."""
    app.command("keygen")(keygen)


def keygen(
    output: Annotated[
        Path,
        typer.Option("--output", "-o", metavar="FILE",
                     help="Where to write the private key (PEM, readable by you only)."),
    ],
    force: context.ForceOpt = False,
) -> None:
    """Make a signing key pair: the private key goes to FILE, the public key to standard output.

    Writers sign every revision with the private key (FLOWREG_SIGNING_KEY_FILE=FILE); anyone
    checks the history with the public key alone (FLOWREG_VERIFY_KEY=ed25519:...). Keep FILE
    private and out of the repository; publish the public key where auditors find it.

    \b
    Example:
      flowreg keygen -o signing-key.pem > signing-key.pub
    """
    signer = new_signer()
    context.write_file(output, private_pem(signer), force=force, mode=0o600)
    say(public_text(signer.public))
    note(f"wrote the private key to {output} (mode 0600); key id {signer.key_id}")
    note(f"sign with:   export FLOWREG_SIGNING_KEY_FILE={output}")
    note(f"verify with: export FLOWREG_VERIFY_KEY={public_text(signer.public)}")
