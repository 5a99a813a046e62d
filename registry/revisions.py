"""Revision records, the hash chain that makes history tamper-evident, and content diffs.

Everything here is pure (no I/O), so every backend stores and checks revisions the same way.
A revision's `content_hash` is the sha256 of its canonical JSON; its `hash` covers its number,
time, author, message, content hash and its parent's hash, so editing any revision breaks its
own hash or its successor's parent link.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from registry.errors import FlowregError, NotFoundError, TamperError

# Part of every chain hash, so a future change of the hashed fields cannot collide with this one.
CHAIN_FORMAT = "flowreg-revision/1"


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return iso_utc(value) if value.tzinfo is not None else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def canonical_json(obj: Any) -> str:
    """The one JSON text of `obj`: sorted keys, no spaces, UTF-8 characters kept, dates as ISO.

    Raises TypeError for values JSON cannot hold and ValueError for NaN or infinity (they have
    no JSON form, and a hash over an unreadable value would be worthless).
    """
    return json.dumps(
        obj,
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        allow_nan=False,
        default=_json_default,
    )


def sha256_text(text: str) -> str:
    """sha256 hex digest of `text` encoded as UTF-8."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_hash(content: Any) -> str:
    """sha256 hex digest of the canonical JSON of `content`."""
    return sha256_text(canonical_json(content))



def now() -> str:
    """The current time as the stores record it (UTC, microseconds)."""
    return iso_utc(datetime.now(UTC))


def require_text(value: str, what: str) -> str:
    """`value` stripped; FlowregError naming `what` when it is empty."""
    if not isinstance(value, str) or not value.strip():
        raise FlowregError(f"{what} must not be empty")
    return value.strip()


def encode(content: Mapping[str, Any]) -> str:
    """The canonical JSON text of registry content; FlowregError when it has none."""
    if not isinstance(content, Mapping):
        raise FlowregError(f"registry content must be a mapping, not {type(content).__name__}")
    try:
        return canonical_json(content)
    except (TypeError, ValueError) as exc:
        raise FlowregError(f"registry content cannot be stored as JSON: {exc}") from None


def as_utc(value: datetime) -> datetime:
    """`value` in UTC; a naive datetime is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def iso_utc(value: datetime | str) -> str:
    """UTC ISO 8601 with microseconds, e.g. `2024-05-01T10:00:00.000000+00:00`.

    A fixed width and offset make the text itself sort and hash the same everywhere.
    """
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return as_utc(value).isoformat(timespec="microseconds")


def chain_hash(
    number: int,
    created_at: datetime | str,
    author: str,
    message: str,
    content_hash: str,
    parent_hash: str | None,
) -> str:
    """The hash of one revision, linking it to its content and to its parent."""
    payload = {
        "format": CHAIN_FORMAT,
        "number": number,
        "created_at": iso_utc(created_at),
        "author": author,
        "message": message,
        "content_hash": content_hash,
        "parent_hash": parent_hash,
    }
    return sha256_text(canonical_json(payload))


class RevisionInfo(BaseModel):
    """A revision without its content: who changed the registry, when, why, and the hashes."""

    model_config = ConfigDict(frozen=True)

    number: int = Field(ge=1, description="Position in history; the first revision is 1.")
    created_at: datetime = Field(description="When the revision was written (UTC).")
    author: str = Field(description="Who wrote the revision.")
    message: str = Field(description="Why the registry changed.")
    content_hash: str = Field(description="sha256 hex of the canonical JSON of the content.")
    parent_hash: str | None = Field(
        description="`hash` of the previous revision; None for revision 1."
    )
    hash: str = Field(description="Chain hash over this revision's fields and `parent_hash`.")
    signature: str | None = Field(
        default=None,
        description="Ed25519 signature of `hash` (base64), when the writer had a signing key "
        "(registry.signing); not part of the hash, which it signs.",
    )
    signer: str | None = Field(
        default=None, description="Key id (16 hex digits) of the key that made `signature`."
    )

    @field_validator("created_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return as_utc(value)

    @field_serializer("created_at")
    def _iso(self, value: datetime) -> str:
        return iso_utc(value)

    def expected_hash(self) -> str:
        """The chain hash these fields should have."""
        return chain_hash(
            self.number,
            self.created_at,
            self.author,
            self.message,
            self.content_hash,
            self.parent_hash,
        )


MAX_NUMBER = 2**63 - 1  # revision numbers are 64-bit integers in SQLite and Neo4j


def asked_number(number: int | None) -> int | None:
    """A revision number asked for, or NotFoundError when no store could hold it."""
    if number is not None and not 1 <= number <= MAX_NUMBER:
        raise NotFoundError(f"revision {number} does not exist (revision numbers are 1 to "
                            f"{MAX_NUMBER})")
    return number


def checked(info: RevisionInfo) -> RevisionInfo:
    """`info`, once its own chain hash matches its fields; TamperError otherwise.

    Cheap (one sha256 of a few hundred bytes), so every read checks the revisions it hands out:
    an author or message edited behind flowreg's back never reaches a user unnoticed.
    """
    if info.hash != info.expected_hash():
        raise TamperError(
            f"revision {info.number} was changed outside flowreg: its hash does not match its "
            "number, time, author, message or content hash (`flowreg history --verify` lists "
            "every problem)"
        )
    return info


class Revision(RevisionInfo):
    """One immutable version of the whole registry, as a plain JSON-able dict."""

    content: dict[str, Any] = Field(description="The registry document (JSON-able).")

    def info(self) -> RevisionInfo:
        """This revision without its content."""
        return RevisionInfo(**{name: getattr(self, name) for name in RevisionInfo.model_fields})


def verify_chain(revisions: Sequence[RevisionInfo]) -> list[str]:
    """Every problem in a history, in words; an empty list means the chain is intact.

    Checks numbering (starts at 1, no gaps or repeats), each parent link and chain hash, and,
    for full `Revision`s, that the content matches its content hash. A `RevisionInfo` skips the
    content check, so a store can check content on its raw text and pass infos here.
    Cutting off the newest revisions leaves a valid shorter chain: only a head hash recorded
    elsewhere (a report, an export) can show that.
    """
    problems: list[str] = []
    ordered = sorted(revisions, key=lambda r: r.number)
    previous: RevisionInfo | None = None
    for rev in ordered:
        n = rev.number
        if previous is None:
            if n != 1:
                problems.append(f"history starts at revision {n}, not 1")
        elif n == previous.number:
            problems.append(f"revision {n} appears more than once")
        elif n != previous.number + 1:
            missing = f"{previous.number + 1}" + (
                f"-{n - 1}" if n - 1 > previous.number + 1 else ""
            )
            problems.append(
                f"revision {missing} is missing (gap between {previous.number} and {n})"
            )
        if isinstance(rev, Revision):
            try:
                actual = content_hash(rev.content)
            except (TypeError, ValueError):
                actual = None
            if actual != rev.content_hash:
                problems.append(f"revision {n}: content does not match its content hash")
        if rev.hash != rev.expected_hash():
            problems.append(f"revision {n}: chain hash is wrong (its fields or hash were edited)")
        expected_parent = None if previous is None else previous.hash
        if previous is None and n == 1 and rev.parent_hash is not None:
            problems.append("revision 1: has a parent hash but is the first revision")
        elif previous is not None and rev.parent_hash != expected_parent:
            problems.append(
                f"revision {n}: parent hash does not match the hash of revision {previous.number}"
            )
        previous = rev
    return problems


ChangeKind = Literal["added", "removed", "changed"]


class Change(BaseModel):
    """One difference between two registry contents."""

    model_config = ConfigDict(frozen=True)

    section: str = Field(
        description="Section name (e.g. `flows`), or the top-level key for a top-level value."
    )
    id: str | None = Field(
        description="Element id within the section (`#N` for an element without an id); "
        "None for a top-level value."
    )
    kind: ChangeKind = Field(description="added, removed or changed.")
    fields: list[str] = Field(
        default_factory=list, description="Names of the element's fields that changed (sorted)."
    )

    def __str__(self) -> str:
        where = self.section if self.id is None else f"{self.section}/{self.id}"
        detail = f" ({', '.join(self.fields)})" if self.fields else ""
        return f"{where}: {self.kind}{detail}"


def _is_section(*values: Any) -> bool:
    """A top-level value is a section when it is a list of mappings (or absent) on both sides."""
    present = [v for v in values if v is not None]
    return bool(present) and all(
        isinstance(v, list) and all(isinstance(item, Mapping) for item in v) for v in present
    )


def _index(elements: list[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Elements by id; elements without an id (or repeated ids) get a positional key."""
    indexed: dict[str, Mapping[str, Any]] = {}
    for position, element in enumerate(elements):
        raw = element.get("id")
        key = str(raw) if raw is not None else f"#{position}"
        if key in indexed:
            key = f"{key}#{position}"
        indexed[key] = element
    return indexed


def _changed_fields(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    # A missing key and an explicit null mean the same for an optional field, so dumps with and
    # without exclude_none do not show spurious changes.
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def diff_contents(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> list[Change]:
    """What changed from content `a` to content `b` (None for no content, e.g. before revision 1).

    Sections (top-level lists of mappings) are compared element by element, matched by `id`;
    other top-level values are compared whole. Order: sections and elements as they appear in
    `b`, then those only in `a`.
    """
    a = a or {}
    b = b or {}
    changes: list[Change] = []
    keys = list(b) + [k for k in a if k not in b]
    for key in keys:
        old, new = a.get(key), b.get(key)
        if _is_section(old, new):
            before, after = _index(old or []), _index(new or [])
            for eid, element in after.items():
                if eid not in before:
                    changes.append(Change(section=key, id=eid, kind="added"))
                else:
                    fields = _changed_fields(before[eid], element)
                    if fields:
                        changes.append(Change(section=key, id=eid, kind="changed", fields=fields))
            changes.extend(
                Change(section=key, id=eid, kind="removed") for eid in before if eid not in after
            )
        elif old != new:
            kind: ChangeKind = "added" if old is None else "removed" if new is None else "changed"
            changes.append(Change(section=key, id=None, kind=kind))
    return changes


ProposalStatus = Literal["pending", "approved", "rejected"]


class Proposal(BaseModel):
    """A change waiting for review: approving it appends its content as a new revision."""

    id: int = Field(ge=1, description="Proposal number, unique within the store.")
    base_revision: int | None = Field(
        description="The head the content was edited from (None for an empty registry); "
        "approval fails if the head has moved since."
    )
    created_at: datetime = Field(description="When the proposal was made (UTC).")
    author: str = Field(description="Who proposed the change.")
    message: str = Field(description="Why the change is proposed.")
    content: dict[str, Any] = Field(description="The whole proposed registry document.")
    status: ProposalStatus = Field(default="pending", description="pending, approved or rejected.")
    reviewer: str | None = Field(default=None, description="Who approved or rejected it.")
    decided_at: datetime | None = Field(default=None, description="When it was decided (UTC).")
    decision_note: str = Field(default="", description="The reviewer's note.")
    applied_revision: int | None = Field(
        default=None, description="The revision its approval created."
    )

    @field_validator("created_at", "decided_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        return None if value is None else as_utc(value)

    @field_serializer("created_at", "decided_at")
    def _iso(self, value: datetime | None) -> str | None:
        return None if value is None else iso_utc(value)
