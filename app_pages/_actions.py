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
from registry.registration import add_subprocessor, apply_change, free_id
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
    "--dpa-signed": "dpa",
    "--dpa-valid-until": "dpa",
    "--dpa-authorisation": "dpa",
    "--dpa-document": "dpa",
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
    # The processor contract (DPA) with it: recorded when it has a signature date.
    dpa_signed: date | None = None
    dpa_authorisation: str = ""
    dpa_document: str = ""

    def dpa(self) -> dict[str, Any] | None:
        """The DPA fields for `add_subprocessor`, or None when the form gives none."""
        given = {"signed": self.dpa_signed.isoformat() if self.dpa_signed else None,
                 "authorisation": self.dpa_authorisation or None, "document": self.dpa_document.strip() or None}
        return {k: v for k, v in given.items() if v is not None} or None

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
    if len(updated.agreements) > len(registry.agreements):
        added["agreements"] = [updated.agreements[-1].model_dump(mode="json", exclude_defaults=True)]
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
        dpa=draft.dpa(),
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


# --- processor contracts (DPA) ------------------------------------------------------------------
@dataclass(frozen=True)
class DpaDraft:
    """A processor contract between a party and a counterpart, as the third-party page asks it;
    `replaces` names the agreement it supersedes (an edit), or is empty for a new one."""

    party: str
    counterpart: str
    signed: date | None
    valid_until: date | None = None
    authorisation: str = ""
    document: str = ""
    replaces: str = ""
    agreement_id: str = ""


def dpa_change(registry: Registry, draft: DpaDraft) -> tuple[Registry, dict[str, Any]]:
    """`registry` with the draft's agreement added (and the one it replaces removed), validated
    like a file; RegistryError with issues by form field ('signed', 'counterpart', ...)."""
    issues = []
    if draft.signed is None:
        issues.append(Issue("signed", "give the date the DPA was signed"))
    if not draft.counterpart:
        issues.append(Issue("counterpart", "choose the organisation it is signed with"))
    if issues:
        raise RegistryError(issues, message="the DPA was not recorded")
    agreement_id = draft.agreement_id.strip() or draft.replaces or free_id(registry, f"dpa-{draft.party}-{draft.counterpart}")
    agreement: dict[str, Any] = {"id": agreement_id, "kind": "dpa", "parties": [draft.counterpart, draft.party],
                                 "signed": draft.signed.isoformat()}  # type: ignore[union-attr]
    if draft.valid_until is not None:
        agreement["valid_until"] = draft.valid_until.isoformat()
    if draft.authorisation:
        agreement["authorisation"] = draft.authorisation
    if draft.document.strip():
        agreement["document"] = draft.document.strip()
    try:
        updated = apply_change(registry, add={"agreements": [agreement]}, remove=[draft.replaces] if draft.replaces else [])
    except RegistryError as exc:
        raise RegistryError([_by_field(i) for i in exc.issues], message="the DPA was not recorded") from None
    return updated, agreement


def _by_field(issue: Any) -> Issue:
    """An issue on the new agreement named by its form field (`agreements[4].signed` -> `signed`)."""
    path = getattr(issue, "path", "")
    if path.startswith("agreements["):
        tail = path.split("]", 1)[1].lstrip(".").split("[", 1)[0] or "id"
        field_name = {"parties": "counterpart", "id": "agreement_id"}.get(tail, tail)
        return Issue(field_name, getattr(issue, "message", str(issue)))
    return issue


def propose_dpa(fr: Flowreg, user: User | None, draft: DpaDraft, message: str = "") -> Proposal:
    """Save a new or edited DPA as a proposal for a privacy officer (engineers and officers only),
    validated against the current head."""
    author = require(user, "propose")
    head = fr.revision()
    updated, agreement = dpa_change(fr.registry(head.number), draft)
    verb = f"replace {draft.replaces} by" if draft.replaces else "record"
    text = message.strip() or f"{verb} DPA {agreement['id']} between {draft.counterpart} and {draft.party}"
    return fr.store.propose(updated.content(), author=author.username, message=text, base_revision=head.number)
