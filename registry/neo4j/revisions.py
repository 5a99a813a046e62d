"""Reading and writing revisions on the Neo4j store: whole revisions and revisions stored as the
elements they add to their parent (`registry.delta_revisions`).

A mixin of `Neo4jStore`, kept apart so each module stays one idea: it relies on the store's
`read`, `write`, `_write_revision`, `_after_write` and `_errors`. A revision node holds `content`
(the whole canonical JSON, or a delta's `{"add": ...}`) and `base` (null for a whole revision,
else the number of the revision the delta extends, always its parent). Writes hold the single
store lock (`LOCK`) for the whole transaction, as every other write does.

The revision last read or written is kept in memory with its canonical text in pieces (`_last`),
so the next registration extends it without reading 18 MB back from the server; it is adopted
only after the transaction that wrote it commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import EllipsisType
from typing import Any

from pydantic import ValidationError

from registry.delta_revisions import (
    SNAPSHOT_EVERY,
    Materialised,
    appended,
    from_snapshot,
    read_delta,
    replay,
    verify_content,
)
from registry.errors import NotFoundError, StaleHeadError, StoreError, TamperError
from registry.neo4j.schema import (
    HEAD,
    INFO_FIELDS,
    LOCK,
    REVISION_FIELDS,
    encode,
    now,
    require_text,
)
from registry.revisions import (
    Revision,
    RevisionInfo,
    asked_number,
    chain_hash,
    checked,
    sha256_text,
)

ROW = "MATCH (r:Revision {number: $n}) RETURN r.content_hash AS content_hash, r.base AS base"
CONTENT = "MATCH (r:Revision {number: $n}) RETURN r.content_hash AS content_hash, r.content AS content"
# The revisions a delta revision is rebuilt from: the last whole one at or before it, and after.
LAST_SNAPSHOT = ("MATCH (r:Revision) WHERE r.number <= $n AND r.base IS NULL"
                 " RETURN r.number AS n ORDER BY r.number DESC LIMIT 1")
DELTAS = ("MATCH (r:Revision) WHERE r.number > $start AND r.number <= $n"
          " RETURN r.number AS number, r.base AS base, r.content AS content ORDER BY r.number")
CREATE = ("CREATE (r:Revision) SET r = $values, r.content = $content, r.base = $base,"
          " r.graph = 'pending'")


class RevisionsMixin:
    """head / revision_info / get / history / append / append_additions / adopt of the `Store`
    protocol, and the content half of `verify`."""

    read: Any
    write: Any
    driver: Any
    database: str
    uri: str
    _errors: Any
    _write_revision: Any
    _after_write: Any
    # The revision last read or written (see the module docstring).
    _last: Materialised | None = None

    @staticmethod
    def _info(record: Mapping[str, Any]) -> RevisionInfo:
        data = {name: record[name] for name in INFO_FIELDS}
        try:
            return RevisionInfo.model_validate(data)
        except ValidationError as exc:
            fields = ", ".join(str(error["loc"][0]) for error in exc.errors())
            raise TamperError(f"revision {data['number']}: malformed record ({fields})") from None

    @staticmethod
    def _missing(number: int | None, record: Any, head: Any) -> None:
        if record is None:
            if head is None:
                raise NotFoundError("the registry has no revisions yet")
            raise NotFoundError(f"revision {number} does not exist (the head is {head['number']})")

    def head(self) -> RevisionInfo | None:
        """The newest revision (its own hash checked), or None when the store is empty."""
        record = self.read(lambda tx: tx.run(HEAD).single())
        return checked(self._info(record)) if record else None

    def history(self, *, check: bool = True) -> list[RevisionInfo]:
        """All revisions, oldest first, without content; each one's own hash checked unless
        `check` is false (`verify` reports what is wrong instead)."""
        records = self.read(lambda tx: list(tx.run(
            "MATCH (r:Revision) RETURN " + REVISION_FIELDS + " ORDER BY r.number")))
        infos = [self._info(record) for record in records]
        return [checked(info) for info in infos] if check else infos

    def get(self, number: int | None = None) -> Revision:
        """Revision `number` (None: the head), its content checked against its hash.

        A delta revision is rebuilt from the last whole revision before it (or from the one in
        memory) and its rebuilt text checked against its content hash. The content's lists are
        shared with the revision kept in memory: treat it as read-only.
        """
        number = asked_number(number)

        def work(tx: Any) -> tuple[Any, Any, Materialised | None]:
            head = tx.run(HEAD).single()
            if head is None:
                return None, None, None
            found = tx.run("MATCH (r:Revision {number: $n}) RETURN " + REVISION_FIELDS,
                           n=head["number"] if number is None else number).single()
            if found is None:
                return None, head, None
            self._info(found)  # a malformed record is refused before its content is read
            return found, head, self._materialised(tx, found["number"])

        record, head, made = self.read(work)
        self._missing(number, record, head)
        assert made is not None
        return Revision(**checked(self._info(record)).model_dump(), content=made.content)

    def _materialised(self, tx: Any, number: int) -> Materialised:
        """Revision `number`'s content and pieces: from memory when it is the one last read or
        written, else read whole or rebuilt from its snapshot and the deltas after it."""
        row = tx.run(ROW, n=number).single()
        if row is None:
            raise NotFoundError(f"revision {number} does not exist")
        last = self._last
        if last is not None and last.number == number and last.content_hash == row["content_hash"]:
            return last
        if row["base"] is None:
            stored = tx.run(CONTENT, n=number).single()
            made = from_snapshot(number, stored["content_hash"], stored["content"])
        else:
            snapshot = tx.run(LAST_SNAPSHOT, n=number).single()
            start_number = snapshot["n"] if snapshot else None
            if last is not None and (start_number or 0) <= last.number < number:
                start = last  # replay from what is in memory, not from the snapshot
            elif start_number is None:
                raise TamperError(f"revision {number} was changed outside flowreg: "
                                  "no full revision precedes it")
            else:
                stored = tx.run(CONTENT, n=start_number).single()
                start = from_snapshot(start_number, stored["content_hash"], stored["content"])
            deltas = [(r["number"], r["base"], r["content"])
                      for r in tx.run(DELTAS, start=start.number, n=number)]
            made = replay(start, deltas, number, row["content_hash"])
        self._last = made
        return made

    def revision_additions(self, number: int) -> tuple[Revision, dict[str, list[dict[str, Any]]]] | None:
        """A delta revision and the elements it appends to its parent, per section (checked
        against its content); None when the revision is stored whole."""
        def work(tx: Any) -> tuple[Any, Any, Materialised | None]:
            found = tx.run("MATCH (r:Revision {number: $n}) RETURN " + REVISION_FIELDS
                           + ", r.base AS base, r.content AS content", n=number).single()
            if found is None or found["base"] is None:
                return found, None, None
            return found, read_delta(number, found["content"]), self._materialised(tx, number)

        record, additions, made = self.read(work)
        if record is None:
            raise NotFoundError(f"revision {number} does not exist")
        if additions is None or made is None:
            return None
        for section, elements in additions.items():
            # The revision in memory may predate a change of the stored delta.
            if elements and made.content.get(section, [])[-len(elements):] != elements:
                raise TamperError(f"revision {number} was changed outside flowreg: its stored "
                                  "change is not its content; run verify")
        return Revision(**self._info(record).model_dump(), content=made.content), additions

    # --- writes --------------------------------------------------------------------------------
    def _create(self, tx: Any, head: Any, made: Materialised, stored: str, base: int | None,
                author: str, message: str) -> Revision:
        """Create revision `made` (stored as `stored`: its whole text, or a delta on `base`)
        after `head`; returns it with its content."""
        values = {
            "number": made.number, "created_at": now(), "author": author, "message": message,
            "content_hash": made.content_hash, "parent_hash": head["hash"] if head else None,
        }
        values["hash"] = chain_hash(**values)
        signer = getattr(self, "signer", None)
        if signer is not None:
            values["signature"], values["signer"] = signer.sign(values["hash"])
        tx.run(CREATE, values=values, content=stored, base=base).consume()
        return Revision(**values, content=made.content)

    @staticmethod
    def _locked_head(tx: Any, expected_head: int | None | EllipsisType) -> Any:
        """Take the store's write lock, then read the head; StaleHeadError when it is not the
        one the writer expects."""
        tx.run(LOCK).consume()
        head = tx.run(HEAD).single()
        head_number = head["number"] if head else None
        if expected_head is not Ellipsis and expected_head != head_number:
            raise StaleHeadError(expected_head, head_number)
        return head

    def _append_made(self, tx: Any, text: str, author: str, message: str,
                     expected_head: int | None | EllipsisType) -> tuple[Revision, Materialised]:
        """Append `text` (a whole registry's canonical JSON) as the next revision."""
        head = self._locked_head(tx, expected_head)
        number = (head["number"] if head else 0) + 1
        made = from_snapshot(number, sha256_text(text), text, written=True)
        return self._create(tx, head, made, text, None, author, message), made

    def _append_tx(self, tx: Any, text: str, author: str, message: str,
                   expected_head: int | None | EllipsisType) -> Revision:
        return self._append_made(tx, text, author, message, expected_head)[0]

    def append(
        self,
        content: dict[str, Any],
        *,
        author: str,
        message: str,
        expected_head: int | None | EllipsisType = ...,
    ) -> Revision:
        """Write `content` as the next revision in one transaction, then materialise its graph."""
        text = encode(content)
        author = require_text(author, "author")
        revision, made = self._write_revision(self._append_made, text, author, message or "",
                                              expected_head)
        self._last = made  # committed
        self._after_write(revision.number)
        return revision

    def append_additions(
        self,
        additions: Mapping[str, list[dict[str, Any]]],
        *,
        author: str,
        message: str,
        expected_head: int,
    ) -> Revision:
        """Write revision `expected_head` + 1: the head with `additions` appended to its sections,
        then materialise its graph (only its new elements, where `registry.neo4j.graph_delta` can).

        The same revision `append` would write for the extended content (same content hash),
        stored as a delta, so the cost grows with the change, not the registry. `additions` must
        come from a validated change of that head: this only stores. StaleHeadError when the
        head is no longer `expected_head`.
        """
        author = require_text(author, "author")
        additions = {k: [dict(e) for e in v] for k, v in additions.items() if v}

        def work(tx: Any) -> tuple[Revision, Materialised]:
            head = self._locked_head(tx, expected_head)
            base = self._materialised(tx, expected_head)
            made, stored, base_number = appended(base, expected_head + 1, additions,
                                                 snapshot_every=SNAPSHOT_EVERY)
            return self._create(tx, head, made, stored, base_number, author, message or ""), made

        revision, made = self._write_revision(work)
        self._last = made  # committed
        self._after_write(revision.number)
        return revision

    def adopt(self, revision: Revision) -> bool:
        """Append `revision` exactly as it is (number, time, author, hashes), stored whole: how
        `flowreg neo4j push` moves a history. False when this store already holds it;
        StoreError when the revision is damaged, does not extend the head, or the histories
        diverge."""
        text = encode(revision.content)
        if sha256_text(text) != revision.content_hash or revision.hash != revision.expected_hash():
            raise StoreError(f"revision {revision.number} does not match its hashes; not copied")

        def work(tx: Any) -> bool:
            tx.run(LOCK).consume()
            same = tx.run("MATCH (r:Revision {number: $n}) RETURN r.hash AS hash",
                          n=revision.number).single()
            if same is not None:
                if same["hash"] != revision.hash:
                    raise StoreError(f"the histories diverge at revision {revision.number}")
                return False
            head = tx.run(HEAD).single()
            if (head["number"] if head else 0) + 1 != revision.number or (
                    head["hash"] if head else None) != revision.parent_hash:
                raise StoreError(f"revision {revision.number} does not extend the head")
            values = revision.info().model_dump(mode="json")
            tx.run(CREATE, values={k: v for k, v in values.items() if v is not None},
                   content=text, base=None).consume()
            return True

        return self.write(work)

    def _verify_revisions(self, problems: list[str]) -> list[RevisionInfo]:
        """Check every revision's stored content against its hash (a delta by replaying it on
        its parent), adding what is wrong to `problems`; returns the revisions' infos."""
        infos: list[RevisionInfo] = []
        with self._errors("verifying"), self.driver.session(database=self.database) as session:
            # Streamed: one revision's content (and, for a delta, its parent's) is in memory.
            previous: Materialised | None = None
            for record in session.run("MATCH (r:Revision) RETURN " + REVISION_FIELDS
                                      + ", r.content AS content, r.base AS base ORDER BY r.number"):
                previous = verify_content(record["number"], record["content_hash"],
                                          record["content"], record["base"], previous, problems)
                try:
                    infos.append(self._info(record))
                except TamperError as exc:
                    problems.append(exc.message)
        return infos

