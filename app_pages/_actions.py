"""The dashboard's actions. Every write checks the user's role first (`_auth.require`), so a page
that shows a button to the wrong role still cannot write; reads need only a signed-in user.

The change itself is the library's: `registry.registration.add_subprocessor` validates exactly
like a registry file, `Store.propose`/`Store.decide` keep the review trail, and
`lineage.reports` writes the change notice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app_pages._auth import User, require
from lineage.api import Flowreg
from lineage.reports import Report, build_report
from lineage.whatif import WhatIf
from registry.errors import PermissionDenied, RegistryError
from registry.model import SECTIONS, Registry
from registry.registration import add_subprocessor
from registry.revisions import Proposal, diff_contents
from registry.yamlsource import Issue

# registration reports issues by CLI option; the form shows them under its own fields
FIELD_OF_OPTION = {
    "--id": "party_id",
    "--flow-id": "party_id",
    "--name": "name",
    "--country": "country",
    "--kind": "kind",
    "--category": "categories",
    "--from-system": "from_system",
    "--purpose": "purpose",
    "--role": "role",
    "--under": "under",
    "--public-list": "public_list",
    "--source": "source",
}


@dataclass(frozen=True)
class SubprocessorDraft:
    """What the form asks: the fields an engineer knows about a new sub-processor."""

    party_id: str
    name: str
    country: str
    categories: tuple[str, ...]
    from_system: str
    kind: str = "subprocessor"
    purpose: str = ""
    role: str = "subprocessor"
    under: tuple[str, ...] = ()
    public_list: bool | None = None
    source: str = ""

    def missing(self) -> list[Issue]:
        """Required fields left empty (checked before the registry is asked)."""
        issues = []
        for path, value, what in (
            ("--id", self.party_id, "give the new party an id, e.g. speechco"),
            ("--name", self.name, "give the party's legal or trading name"),
            ("--country", self.country, "choose the country of the party's seat"),
            ("--from-system", self.from_system, "choose the system that sends it the data"),
        ):
            if not str(value).strip():
                issues.append(Issue(path, what))
        return issues


@dataclass
class FieldErrors:
    """Validation issues by form field ('form' for anything not tied to one field)."""

    by_field: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, exc: RegistryError) -> FieldErrors:
        out = cls()
        for issue in exc.issues:
            path = getattr(issue, "path", "")
            out.by_field.setdefault(FIELD_OF_OPTION.get(path, "form"), []).append(getattr(issue, "message", str(issue)))
        return out


@dataclass(frozen=True)
class Preview:
    """A validated draft and what it would change on the as-of date; nothing is stored."""

    draft: SubprocessorDraft
    base_revision: int
    added: dict[str, list[dict[str, Any]]]
    whatif: WhatIf


def _apply_draft(registry: Registry, draft: SubprocessorDraft) -> tuple[Registry, dict[str, list[dict[str, Any]]]]:
    """The registry with the draft added (RegistryError naming the form's options otherwise)."""
    missing = draft.missing()
    try:
        updated = _add(registry, draft)
    except RegistryError as exc:
        # every problem at once: empty fields in the form's words, the registry's for the rest
        covered = {issue.path for issue in missing}
        rest = [i for i in exc.issues if getattr(i, "path", None) not in covered]
        raise RegistryError(missing + rest, message="the sub-processor was not added") from None
    if missing:
        raise RegistryError(missing, message="the sub-processor was not added")
    party, flow = updated.parties[-1], updated.flows[-1]
    added = {
        "parties": [party.model_dump(mode="json", by_alias=True, exclude_defaults=True)],
        "flows": [flow.model_dump(mode="json", by_alias=True, exclude_defaults=True)],
    }
    return updated, added


def _add(registry: Registry, draft: SubprocessorDraft) -> Registry:
    return add_subprocessor(
        registry,
        party_id=draft.party_id.strip(),
        name=draft.name.strip(),
        country=draft.country,
        kind=draft.kind,
        categories=list(draft.categories),
        from_system=draft.from_system,
        purpose=draft.purpose.strip() or None,
        role=draft.role or None,
        under=list(draft.under),
        public_list=draft.public_list,
        source=draft.source.strip() or None,
    )


def preview_subprocessor(fr: Flowreg, user: User | None, draft: SubprocessorDraft, day: date, rev: int) -> Preview:
    """Validate the draft against revision `rev` and compute its impact (new hops, their
    statuses, new findings) on `day`. Writes nothing."""
    require(user, "read")
    _, added = _apply_draft(fr.registry(rev), draft)
    return Preview(draft, rev, added, fr.what_if_add(added, day, rev=rev))


def propose_subprocessor(fr: Flowreg, user: User | None, draft: SubprocessorDraft, message: str = "") -> Proposal:
    """Save the draft as a proposal for a privacy officer. Engineers and officers only; the
    draft is validated again against the current head, which becomes the proposal's base."""
    author = require(user, "propose")
    head = fr.revision()
    updated, _ = _apply_draft(fr.registry(head.number), draft)
    text = message.strip() or f"add sub-processor {draft.party_id.strip()}"
    return fr.store.propose(updated.content(), author=author.username, message=text, base_revision=head.number)


@dataclass(frozen=True)
class OpenOverlap:
    """A pending proposal that adds the same party as a draft: `identical` when it adds exactly
    the draft's party and flows (filing the draft again would be a duplicate)."""

    proposal: Proposal
    identical: bool


def open_overlaps(fr: Flowreg, added: dict[str, list[dict[str, Any]]]) -> list[OpenOverlap]:
    """Pending proposals that add the party of `added` (a preview's `added`), oldest first."""
    party = added["parties"][0]
    out = []
    for proposal in fr.store.proposals("pending"):
        theirs = {(section, str(e.get("id"))): e for section in ("parties", "flows")
                  for e in proposal.content.get(section) or [] if isinstance(e, dict)}
        mine = theirs.get(("parties", str(party["id"])))
        if mine is None:
            continue
        same = all(_same(theirs.get((section, str(e["id"]))), e) for section, items in added.items() for e in items)
        out.append(OpenOverlap(proposal, same))
    return out


def _same(stored: dict[str, Any] | None, added: dict[str, Any]) -> bool:
    """Whether a stored element says what an added one says (defaults left out of both)."""
    return stored is not None and {k: v for k, v in stored.items() if v not in (None, [], "")} == {
        k: v for k, v in added.items() if v not in (None, [], "")}


def decide_proposal(fr: Flowreg, user: User | None, proposal_id: int, *, approve: bool, note: str = "") -> Proposal:
    """Approve (a new revision) or reject a pending proposal. Privacy officers only, and never
    their own proposal (four eyes)."""
    reviewer = require(user, "decide")
    proposal = fr.store.get_proposal(proposal_id)
    if proposal.author == reviewer.username:
        raise PermissionDenied("a proposal needs a second pair of eyes: you cannot decide on your own proposal")
    return fr.store.decide(proposal_id, approve=approve, reviewer=reviewer.username, note=note.strip())


def proposal_delta(fr: Flowreg, proposal: Proposal) -> tuple[dict[str, list[dict[str, Any]]], list[str]]:
    """The elements a proposal adds or changes (as a proposal document for what-if), and the ids
    it removes."""
    base = fr.revision(proposal.base_revision).content if proposal.base_revision else {}
    changes = diff_contents(base, proposal.content)
    wanted = {(c.section, c.id) for c in changes if c.kind != "removed" and c.section in SECTIONS}
    delta: dict[str, list[dict[str, Any]]] = {}
    for section in SECTIONS:
        for element in proposal.content.get(section) or []:
            if (section, str(element.get("id"))) in wanted:
                delta.setdefault(section, []).append(element)
    removed = [f"{c.section}/{c.id}" for c in changes if c.kind == "removed"]
    return delta, removed


def proposal_impact(fr: Flowreg, proposal: Proposal, day: date) -> WhatIf:
    delta, _ = proposal_delta(fr, proposal)
    return fr.what_if_add(delta, day, rev=proposal.base_revision)


def change_notice(fr: Flowreg, from_rev: int, to_rev: int) -> Report:
    """The sub-processor change notice between two revisions (lineage.reports)."""
    return build_report(fr, "changes", from_rev=from_rev, to_rev=to_rev)
