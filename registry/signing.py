"""Signed revisions: an optional Ed25519 signature on each revision's chain hash.

The hash chain shows that history was not edited, but only to someone who cannot recompute it:
whoever can write the store file can rewrite a revision, re-hash every revision after it and
pass `history --verify`. A signature closes that gap. The writer holds a private key
(`FLOWREG_SIGNING_KEY` or `FLOWREG_SIGNING_KEY_FILE`) and signs each revision's `hash`; anyone
with the public key alone (`FLOWREG_VERIFY_KEY` or `FLOWREG_VERIFY_KEY_FILE`) checks it. The
hash covers the parent's hash, so one valid signature vouches for the whole history before it.

The rules a verifier with a key applies (`check_signatures`):
- every signature present must verify under one of the keys;
- from the first signed revision on, every revision must be signed (an unsigned tail is
  exactly what a forger without the key would write);
- at least one revision must be signed (a rewritten history has no valid signature left).
Revisions written before signing started are covered by the first signature, through the chain.
Cutting off the newest revisions leaves a validly signed shorter history: only a pinned head
(`flowreg history --verify --head HASH`, `check_pin`) shows that.

Key formats: a private key is PKCS#8 PEM (`openssl genpkey -algorithm ed25519`, or
`flowreg keygen`) or the base64 of its 32-byte seed; a public key is `ed25519:` + the base64 of
its 32 bytes (as `flowreg keygen` prints it), its bare base64, or PEM (`openssl pkey -pubout`).
Signatures are made with the well-kept `cryptography` package; the signed message is
`flowreg-revision-signature/1` + a newline + the revision's hex hash.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from registry.errors import FlowregError, RegistryError, TamperError
from registry.revisions import RevisionInfo
from registry.yamlsource import read_source

CONTEXT = b"flowreg-revision-signature/1\n"
PUBLIC_PREFIX = "ed25519:"
MIN_PIN = 12  # hex characters: what `flowreg history` prints
KEY_FILE_BYTES = 64 * 1024  # a key file is a few hundred bytes (several public keys at most)
_PEM = re.compile(r"-----BEGIN ([A-Z ]+)-----.*?-----END \1-----", re.S)


def key_id(public: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its sha256."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_text(public: Ed25519PublicKey) -> str:
    """The public key as flowreg prints it: `ed25519:` + base64 of its 32 bytes."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PUBLIC_PREFIX + base64.b64encode(raw).decode("ascii")


def _message(revision_hash: str) -> bytes:
    return CONTEXT + revision_hash.encode("ascii")


@dataclass(frozen=True)
class Signer:
    """A private key that signs revisions."""

    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        return key_id(self.public)

    def sign(self, revision_hash: str) -> tuple[str, str]:
        """(signature as base64, key id) for a revision's chain hash."""
        signature = self.private.sign(_message(revision_hash))
        return base64.b64encode(signature).decode("ascii"), self.key_id


@dataclass(frozen=True)
class VerifyKeys:
    """The public keys a verifier trusts, by key id. `required`: the user named them
    (FLOWREG_VERIFY_KEY), so an unsigned head is refused when a store is opened."""

    keys: Mapping[str, Ed25519PublicKey]
    required: bool = False

    def problem(self, info: RevisionInfo) -> str | None:
        """Why `info`'s signature does not hold, or None when it verifies (or is absent)."""
        if info.signature is None:
            return None
        public = self.keys.get(info.signer or "")
        if public is None:
            return (f"revision {info.number}: signed by key {info.signer or '?'}, which is not a "
                    "verify key given here")
        try:
            public.verify(base64.b64decode(info.signature, validate=True), _message(info.hash))
        except (InvalidSignature, binascii.Error, ValueError):
            return f"revision {info.number}: its signature does not verify (forged or edited)"
        return None


@dataclass
class Findings:
    """What a check found: problems (verification fails) and notes (worth saying, not failing)."""

    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# --- reading keys ------------------------------------------------------------------------------
def _b64_bytes(text: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise FlowregError(f"{what}: not a key flowreg can read (expected PEM or base64)") from None
    if len(raw) != 32:
        raise FlowregError(f"{what}: an Ed25519 key is 32 bytes, this one is {len(raw)}")
    return raw


def read_private_key(text: str, what: str) -> Signer:
    """A signing key from PEM (PKCS#8, unencrypted) or the base64 of its 32-byte seed."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_private_key(text.encode("ascii"), password=None)
        except TypeError:
            raise FlowregError(f"{what}: the key is encrypted; give an unencrypted PKCS#8 key "
                               "(keep the file private instead: mode 0600)") from None
        except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError):
            raise FlowregError(f"{what}: not a PEM private key flowreg can read") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise FlowregError(f"{what}: not an Ed25519 key (flowreg signs with Ed25519)")
        return Signer(key)
    return Signer(Ed25519PrivateKey.from_private_bytes(_b64_bytes(text, what)))


def read_public_keys(text: str, what: str) -> list[Ed25519PublicKey]:
    """Public keys from text: PEM blocks and/or `ed25519:BASE64` (or bare base64) tokens,
    separated by white space or commas."""
    keys: list[Ed25519PublicKey] = []
    for block in _PEM.finditer(text):
        try:
            key = serialization.load_pem_public_key(block.group(0).encode("ascii"))
        except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError):
            raise FlowregError(f"{what}: not a PEM public key flowreg can read") from None
        if not isinstance(key, Ed25519PublicKey):
            raise FlowregError(f"{what}: not an Ed25519 public key")
        keys.append(key)
    rest = _PEM.sub(" ", text)
    for token in re.split(r"[\s,]+", rest.strip()):
        if token:
            raw = _b64_bytes(token.removeprefix(PUBLIC_PREFIX), what)
            keys.append(Ed25519PublicKey.from_public_bytes(raw))
    if not keys:
        raise FlowregError(f"{what}: no public key in it")
    return keys


def _file_text(path: Path, what: str) -> str:
    try:
        return read_source(path, limit=KEY_FILE_BYTES).decode("ascii")
    except RegistryError as exc:
        reason = "; ".join(issue.message for issue in exc.issues)
        raise FlowregError(f"{what}: {reason}") from None
    except UnicodeDecodeError:
        raise FlowregError(f"{what} {path} is not a key file (not ASCII text)") from None


def load_signer(key: str | None, key_file: Path | None) -> Signer | None:
    """The signer configured by FLOWREG_SIGNING_KEY (text) or FLOWREG_SIGNING_KEY_FILE."""
    if key:
        return read_private_key(key, "FLOWREG_SIGNING_KEY")
    if key_file:
        return read_private_key(_file_text(key_file, "the signing key file"),
                                f"FLOWREG_SIGNING_KEY_FILE ({key_file})")
    return None


def load_verify_keys(
    key: str | None, key_file: Path | None, signer: Signer | None = None
) -> VerifyKeys | None:
    """The keys FLOWREG_VERIFY_KEY / FLOWREG_VERIFY_KEY_FILE name, plus the signer's own public
    key; None when there are none."""
    publics: list[Ed25519PublicKey] = []
    if key:
        publics += read_public_keys(key, "FLOWREG_VERIFY_KEY")
    if key_file:
        publics += read_public_keys(_file_text(key_file, "the verify key file"),
                                    f"FLOWREG_VERIFY_KEY_FILE ({key_file})")
    required = bool(publics)
    if signer is not None:
        publics.append(signer.public)
    if not publics:
        return None
    return VerifyKeys({key_id(p): p for p in publics}, required=required)


def new_signer() -> Signer:
    """A fresh random signing key."""
    return Signer(Ed25519PrivateKey.generate())


def private_pem(signer: Signer) -> bytes:
    """The signing key as unencrypted PKCS#8 PEM (keep the file private)."""
    return signer.private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


# --- checking a history ------------------------------------------------------------------------
def check_opened_head(head: RevisionInfo | None, keys: VerifyKeys | None) -> None:
    """What opening a store checks, cheaply: the head's signature, when keys are given (its own
    hash is checked by the read that produced it). TamperError when a signature present does
    not verify, or when the head is unsigned and the user asked for signatures."""
    if head is None or keys is None:
        return
    problem = keys.problem(head)
    if problem is None and head.signature is None and keys.required:
        problem = (f"the head, revision {head.number}, is not signed, and FLOWREG_VERIFY_KEY asks "
                   "for signed revisions")
    if problem:
        raise TamperError(f"{problem}; `flowreg history --verify` lists every problem")



def check_signatures(infos: Sequence[RevisionInfo], keys: VerifyKeys | None) -> Findings:
    """The signature rules of this module's docstring over a history (oldest first)."""
    found = Findings()
    signed = [info for info in infos if info.signature is not None]
    if keys is None:
        if signed:
            found.notes.append(f"{_revisions(len(signed))} signed; set FLOWREG_VERIFY_KEY to "
                               "check the signatures")
        return found
    if not infos:
        return found
    if not signed:
        found.problems.append("no revision is signed: with a verify key given, the history must "
                              "carry signatures (a rewritten history has none left)")
        return found
    first = signed[0].number
    for info in infos:
        problem = keys.problem(info)
        if problem:
            found.problems.append(problem)
        elif info.signature is None and info.number > first:
            found.problems.append(f"revision {info.number} is not signed, though revision "
                                  f"{first} and later ones must be")
    if first > 1:
        found.notes.append(f"revisions 1-{first - 1} predate signing; the signature of revision "
                           f"{first} covers them through the hash chain")
    if not found.problems:
        signers = sorted({info.signer or "?" for info in signed})
        found.notes.append(f"signatures verify: {_revisions(len(signed))} signed by key "
                           f"{', '.join(signers)}")
    return found


def _revisions(n: int) -> str:
    return f"{n} revision{'' if n == 1 else 's'}"


def normalise_pin(pin: str) -> str:
    """A pinned head as lowercase hex; FlowregError when it cannot be one."""
    text = pin.strip().lower()
    if not re.fullmatch(r"[0-9a-f]+", text) or len(text) > 64:
        raise FlowregError(f"--head: '{pin}' is not a revision hash (hex digits, as `flowreg "
                           "history` or a report prints it)")
    if len(text) < MIN_PIN:
        raise FlowregError(f"--head: give at least {MIN_PIN} hex digits of the hash (the full 64 "
                           "are safest)")
    return text


def check_pin(infos: Iterable[RevisionInfo], pin: str) -> Findings:
    """Whether the history still holds the head a verifier trusts (its hash, or a prefix of it).

    A rewritten history changes that revision's hash and a cut-off one lacks it; revisions
    written after it are fine (and said).
    """
    found = Findings()
    pin = normalise_pin(pin)
    infos = list(infos)
    matches = [info for info in infos if info.hash.startswith(pin)]
    if not matches:
        found.problems.append(f"the pinned head {pin} is not in this history: it was rewritten or "
                              "cut short")
        return found
    if len(matches) > 1:
        found.problems.append(f"the pinned head {pin} matches {len(matches)} revisions; give more "
                              "of its hash")
        return found
    match = matches[0]
    head = infos[-1].number if infos else match.number
    later = f"; revisions {match.number + 1}-{head} were written after it" if head > match.number else ""
    found.notes.append(f"the pinned head is revision {match.number} ({match.hash[:12]}){later}")
    if len(pin) < 64:
        found.notes.append(f"pinned by a {len(pin)}-digit prefix ({len(pin) * 4} bits); the full "
                           "64-digit hash (in every report) resists a deliberate forger")
    return found
