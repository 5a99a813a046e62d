"""A registry (or a stored revision's content) back to YAML a person can review in git.

The promise is exactness: `load_registry_text(to_yaml(r)).content() == r.content()`, so an
export re-applies to the same content hash. Readability comes second but matters: keys in the
order people think of them (id, name, kind first; validity windows and sources last), dates
unquoted, lists of ids in flow style, one blank line between sections, and the same text for
the same content every time (no export timestamp), so exports diff cleanly.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import yaml

from registry.model import SECTIONS, Registry
from registry.revisions import Revision, RevisionInfo

HEADER_KEYS = ("flowreg", "organization", "source", "notice_days")
# Fields in reading order; a key not listed (a future extension) goes after the listed main
# fields, before the validity window and the source.
FIELD_ORDER = (
    "id",
    "name",
    "kind",
    "framework",
    "description",
    "address",
    "contact",
    "dpo",
    "representative",
    "categories",
    "max_days",  # rule bodies
    "from",
    "to",
    "to_kinds",
    "roles",
    "purposes",
    "carries",
    "flows",
    "owner",
    "country",
    "location",
    "regime",
    "assessed",
    "review_by",
    "outcome",
    "measures",
    "version",
    "module",
    "members",
    "parties",
    "signed",
    "authorisation",
    "objection_days",
    "ground",
    "purpose",
    "role",
    "legal_basis",
    "under",
    "frequency",
    "retention_days",
    "special",
    "condition",
    "deny",
    "retention",
    "dpv",
    "certifications",
    "public_list",
    "notice_given",
    "url",
    "security_measures",
    "document",
)
TAIL_ORDER = ("valid_from", "valid_until", "source")
# Unknown keys rank len(FIELD_ORDER): after the listed fields, before the tail.
_RANK = {key: i for i, key in enumerate(FIELD_ORDER)} | {
    key: len(FIELD_ORDER) + 1 + i for i, key in enumerate(TAIL_ORDER)
}
DATE_KEYS = frozenset({"valid_from", "valid_until", "notice_given", "signed", "assessed", "review_by"})
# Lists of small mappings written one per line, like the format's own example.
FLOW_MAPPING_LISTS = frozenset({"certifications"})


class _FlowList(list):
    """A list of scalars, written `[a, b]`."""


class _FlowMap(dict):
    """A mapping of scalars, written `{framework: eu-us-dpf, valid_from: 2023-10-02}`."""


class _Dumper(yaml.SafeDumper):
    """SafeDumper that indents block lists under their key and never writes anchors."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # PyYAML's default puts `- id:` flush with its parent key; the format writes it indented.
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        # Equal lists must not become `&id001` / `*id001`: reviewers read every value in place.
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style: str | None = None
    if any(ch in value for ch in _UNICODE_BREAKS) or _keeps_breaks(value):
        # Escaped in double quotes these survive; PyYAML's own choice would lose them (see
        # `_UNICODE_BREAKS` and `_keeps_breaks`).
        style = '"'
    elif "\n" in value:
        # Multi-line text reads best as a literal block; PyYAML falls back to quoting by itself
        # when a block cannot hold the exact value (e.g. trailing spaces).
        style = "|"
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


# YAML 1.1 line breaks besides \n: PyYAML writes them raw inside single quotes, where reading
# folds them into a space.
_UNICODE_BREAKS = "\x85\u2028\u2029"


def _keeps_breaks(value: str) -> bool:
    # A block ending in two breaks needs "keep" chomping (`|+`), after which PyYAML ends the
    # document with `...`; the sections are dumped one by one, so that would cut the file short.
    return value.endswith("\n") and (len(value) == 1 or value[-2] in "\n\r")


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(
    _FlowList, lambda d, v: d.represent_sequence("tag:yaml.org,2002:seq", v, flow_style=True)
)
_Dumper.add_representer(
    _FlowMap, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", v.items(), flow_style=True)
)


def to_yaml(
    registry_or_content: Registry | dict[str, Any] | Revision,
    *,
    revision: RevisionInfo | None = None,
) -> str:
    """Readable registry YAML that re-applies to the identical content.

    Takes a `Registry`, its `content()` dict, or a stored `Revision` (whose number and hash then
    go into the header comment, as does `revision` when given).
    """
    if isinstance(registry_or_content, Registry):
        content = registry_or_content.content()
    elif isinstance(registry_or_content, Revision):
        revision = revision or registry_or_content
        content = registry_or_content.content
    else:
        content = registry_or_content

    parts = [_header(content, revision)]
    header = {key: content[key] for key in HEADER_KEYS if key in content}
    others = {
        key: value
        for key, value in content.items()
        if key not in HEADER_KEYS and key not in SECTIONS
    }
    # Nested blocks (the controller's details) in reading order too, however the content was stored.
    parts.append(_dump({**header, **{key: _element(value) for key, value in others.items()}}))
    parts.append(sections_yaml(content))
    return "\n".join(part for part in parts if part)


def sections_yaml(content: dict[str, Any]) -> str:
    """Only the element sections of `content` (e.g. the elements a change adds), as YAML."""
    return "\n".join(
        _dump({section: [_element(e) for e in content[section]]})
        for section in SECTIONS
        if section in content
    )


def _header(content: dict[str, Any], revision: RevisionInfo | None) -> str:
    lines = [f"# flowreg registry of {_comment_safe(str(content.get('organization', '?')))}"]
    if revision is not None:
        lines.append(
            f"# exported from revision {revision.number} ({_comment_safe(str(revision.hash))}), "
            f"written {revision.created_at:%Y-%m-%d %H:%M} UTC "
            f"by {_comment_safe(revision.author)}: {_comment_safe(revision.message)}"
        )
    else:
        lines.append("# not (yet) a stored revision")
    lines.append("# Edit and re-apply with: flowreg apply FILE")
    return "\n".join(lines) + "\n"


def _comment_safe(text: str, limit: int = 120) -> str:
    # A comment ends at any YAML line break, and the YAML reader refuses control characters
    # anywhere in the stream, so both become spaces; a name can never spill into the document.
    cleaned = "".join(ch if ch.isprintable() else " " for ch in text)
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 3] + "..."


def _dump(value: dict[str, Any]) -> str:
    return yaml.dump(
        _prepare(value),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=1 << 16,  # never fold a value over lines: one value, one line, clean diffs
    )


def _element(element: Any) -> Any:
    """`element` with the keys of it and of every mapping inside it in reading order."""
    if isinstance(element, list):
        return [_element(item) for item in element]
    if not isinstance(element, dict):
        return element
    return {
        key: _element(element[key])
        for key in sorted(element, key=lambda k: _RANK.get(k, len(FIELD_ORDER)))
    }


def _prepare(value: Any, key: str | None = None) -> Any:
    """Mark flow-style lists and turn stored ISO date text back into dates (written unquoted)."""
    if isinstance(value, dict):
        return {k: _prepare(v, k) for k, v in value.items()}
    if isinstance(value, list):
        if all(not isinstance(item, dict | list) for item in value):
            return _FlowList(_prepare(item, key) for item in value)
        items = [_prepare(item) for item in value]
        if key in FLOW_MAPPING_LISTS:
            return [_FlowMap(i) if _is_flat(i) else i for i in items]
        return items
    if key in DATE_KEYS and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value  # not a date after all: written as the text it is
    return value


def _is_flat(value: Any) -> bool:
    return isinstance(value, dict) and all(not isinstance(v, dict | list) for v in value.values())
