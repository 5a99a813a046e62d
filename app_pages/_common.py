"""What every page shares: the cached Flowreg, a per-run snapshot (head revision and as-of date),
cached answers per revision hash and date, and safe display helpers.

Escaping rule: registry values are user text. They are shown only through elements that
display plain text (st.dataframe, st.text, st.code, widget options, Plotly text after
`html.escape`, the graph component after `graph_safe`), or through `literal()`, which escapes
every Markdown and HTML character, where a coloured box (st.error, st.success) is needed.
Never pass registry text to st.markdown, st.metric, headers, captions or labels unescaped:
those render Markdown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Any

import pandas as pd
import streamlit as st

from app_pages import _heap
from app_pages._words import (  # noqa: F401  (re-exported)
    KIND_SINGULAR,
    KIND_TITLES,
    MECHANISM_WORDS,
    SECTION_WORDS,
    SEVERITY_TINTS,
    SEVERITY_WORDS,
    STATUS_COLOURS,
    STATUS_MEANINGS,
    STATUS_TINTS,
    STATUS_WORDS,
    country_name,
    kind_word,
    regime_name,
    role_word,
    rule_word,
    status_word,
    tool_names,
)
from lineage.api import Flowreg
from lineage.findings import Finding
from lineage.graph import RegistryGraph
from lineage.status import HopStatus
from registry.config import Settings, settings_from_env
from registry.errors import FlowregError, MissingStoreError, RegistryError
from registry.model import Registry
from registry.revisions import RevisionInfo

AS_OF_KEY = "as_of"

# The colour and word tables live in _words; re-exported because every page reads them here.
STYLE_ROW_LIMIT = 3000  # colouring more cells than this costs more time than it is worth
PAGE_ROWS = 50  # rows per page of a long table: every page is coloured, whatever the total

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~:$&=\"'/^%@;,?])")


def literal(text: object) -> str:
    """`text` as Markdown that displays exactly those characters: every ASCII punctuation
    character is backslash-escaped (CommonMark), so no tag, link, image, colour or formula can
    form, and line breaks become spaces.

    >>> literal("<img src=x onerror=alert(1)>")
    '\\\\<img src\\\\=x onerror\\\\=alert\\\\(1\\\\)\\\\>'
    """
    flat = " ".join(str(text).split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", flat)


# --- the store and cached answers ----------------------------------------------------------------
def _settings_key(settings: Settings) -> str:
    return "|".join(
        str(x) for x in (settings.backend, settings.db_path, settings.neo4j_uri,
                         settings.neo4j_user, settings.neo4j_database)
    )


@st.cache_resource(show_spinner=False)
def _open(key: str, _settings: Settings) -> Flowreg:
    """One Flowreg per store for the whole server: sessions share its graph and evaluation
    caches (keyed by revision hash, so a new revision is never answered from stale data)."""
    return Flowreg.open(_settings)


def flowreg() -> Flowreg:
    """The Flowreg of the configured store; a missing store shows how to make one and stops."""
    settings = settings_from_env()
    try:
        return _open(_settings_key(settings), settings)
    except MissingStoreError as exc:
        st.info(f"The registry is empty: {exc.message}. Load the Twilio seed with `make seed` "
                "(or any registry file with `flowreg apply FILE`), then reload this page.")
        st.stop()
        raise  # st.stop() does not return


def store_key() -> str:
    return _settings_key(settings_from_env())


# Sizes: a 100k-flow registry's hops or findings of one date take about 100 MB; these hold a
# few dates per revision (shared by every session), category answers a few dozen.
@st.cache_resource(max_entries=8, show_spinner=False)
def _hops(_fr: Flowreg, key: str, rev_hash: str, rev: int, day: date) -> list[HopStatus]:
    out = _fr.hops(day, rev=rev)
    _heap.freeze()
    return out


@st.cache_resource(max_entries=8, show_spinner=False)
def _findings(_fr: Flowreg, key: str, rev_hash: str, rev: int, day: date) -> list[Finding]:
    out = _fr.findings(day, rev=rev)
    _heap.freeze()
    return out


@st.cache_resource(max_entries=32, show_spinner=False)
def _flows(_fr: Flowreg, key: str, rev_hash: str, rev: int, day: date, category: str,
           start: str | None) -> list[HopStatus]:
    out = _fr.flows(category, day, from_node=start, rev=rev)
    _heap.freeze()
    return out


@st.cache_resource(max_entries=8, show_spinner=False)
def _names(_fr: Flowreg, key: str, rev_hash: str, rev: int) -> dict[str, str]:
    reg = _fr.registry(rev)
    out: dict[str, str] = {}
    for section in ("categories", "subjects", "parties", "systems", "mechanisms"):
        for element in getattr(reg, section):
            out[element.id] = getattr(element, "name", None) or element.id
    return out


@st.cache_resource(max_entries=8, show_spinner=False)
def _tools(_fr: Flowreg, key: str, rev_hash: str, rev: int, _names: dict[str, str]) -> dict[str, str]:
    return tool_names(_fr.registry(rev), _fr.law, _names)


@st.cache_resource(max_entries=8, show_spinner=False)
def _findings_by_flow(_fr: Flowreg, key: str, rev_hash: str, rev: int, day: date,
                      _findings: list[Finding]) -> dict[str, list[Finding]]:
    out: dict[str, list[Finding]] = {}
    for f in _findings:
        if f.flow:
            out.setdefault(f.flow, []).append(f)
    _heap.freeze()
    return out


@dataclass(frozen=True)
class Snapshot:
    """One page run's view: the head revision read once at the start, and the as-of date.
    Every answer is cached per store, revision hash and date, shared by all sessions."""

    fr: Flowreg
    key: str
    head: RevisionInfo
    day: date

    @property
    def rev(self) -> int:
        return self.head.number

    def at(self, day: date) -> Snapshot:
        """The same revision on another date."""
        return Snapshot(self.fr, self.key, self.head, day)

    def graph(self) -> RegistryGraph:
        return self.fr.graph(self.rev)

    def registry(self) -> Registry:
        return self.fr.registry(self.rev)

    def hops(self) -> list[HopStatus]:
        return _hops(self.fr, self.key, self.head.hash, self.rev, self.day)

    def findings(self) -> list[Finding]:
        return _findings(self.fr, self.key, self.head.hash, self.rev, self.day)

    def findings_of(self, flow: str) -> list[Finding]:
        """The findings on this date whose subject is `flow`."""
        found = self.findings()
        return _findings_by_flow(self.fr, self.key, self.head.hash, self.rev, self.day, found).get(flow, [])

    def flows(self, category: str, start: str | None = None) -> list[HopStatus]:
        """The hops carrying `category` (from `start`), with that category's statuses."""
        return _flows(self.fr, self.key, self.head.hash, self.rev, self.day, category, start)

    # Read once per run: a page names thousands of things, and every call of a cached function
    # hashes its arguments again.
    @cached_property
    def _name_map(self) -> dict[str, str]:
        return _names(self.fr, self.key, self.head.hash, self.rev)

    @cached_property
    def _tool_map(self) -> dict[str, str]:
        return _tools(self.fr, self.key, self.head.hash, self.rev, self._name_map)

    def names(self) -> dict[str, str]:
        return self._name_map

    def name(self, element_id: str | None) -> str:
        return "" if element_id is None else self._name_map.get(element_id, element_id)

    def tool(self, basis: str) -> str:
        """A transfer tool (mechanism, framework) by its readable name; adequacy decisions are
        relied on by their title already."""
        return self._tool_map.get(basis, basis)

    def tools(self, bases: Iterable[str]) -> str:
        return "; ".join(dict.fromkeys(self.tool(b) for b in bases))

    def regime(self, regime: str) -> str:
        return regime_name(self.fr.law, regime, self.day)

    def countries(self, node: str) -> str:
        rg = self.graph()
        return ", ".join(rg.countries(node)) if node in rg.graph else ""

    def node_label(self, node: str) -> str:
        """'Name (US)': a node's name and where it is."""
        return f"{self.name(node)} ({self.countries(node) or 'location unknown'})"


def as_of() -> date:
    value = st.session_state.get(AS_OF_KEY)
    return value if isinstance(value, date) else date.today()


def snapshot() -> Snapshot:
    """The head and date for this run; an empty store shows how to load one and stops."""
    fr = flowreg()
    head = fr.store.head()
    if head is None:
        st.info(
            "The registry is empty. Load the Twilio seed with `make seed` (or any registry file "
            "with `flowreg apply FILE`), then reload this page."
        )
        st.stop()
    _heap.seen_revision(head.hash)
    return Snapshot(fr, store_key(), head, as_of())


# --- display -----------------------------------------------------------------------------------
def joined(value: Any) -> Any:
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(map(str, value))
    return value


def _tint(mapping: Mapping[str, str]) -> Any:
    def style(value: Any) -> str:
        key = str(value).lower().replace(" ", "_")
        for word, status in ((w.lower(), s) for s, w in STATUS_WORDS.items()):
            if key == word.replace(" ", "_"):
                key = status
        colour = mapping.get(key)
        return f"background-color: {colour}" if colour else ""

    return style


def table(
    rows: Sequence[Mapping[str, Any]] | pd.DataFrame,
    *,
    status: Iterable[str] = (),
    severity: Iterable[str] = (),
    height: int | str | None = None,
    key: str | None = None,
    column_config: Mapping[str, Any] | None = None,
    on_select: Any = "ignore",
    selection_mode: str = "single-row",
    row_height: int | None = None,
) -> Any:
    """A plain-text table (user text is safe in st.dataframe); `status` / `severity` columns are
    tinted by their value (up to STYLE_ROW_LIMIT rows; page longer tables with `paged`)."""
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame([{k: joined(v) for k, v in r.items()} for r in rows])
    if frame.empty:
        st.caption("None.")
        return None
    data: Any = frame
    status, severity = [c for c in status if c in frame], [c for c in severity if c in frame]
    if (status or severity) and 0 < len(frame) <= STYLE_ROW_LIMIT:
        styler = frame.style
        if status:
            styler = styler.map(_tint(STATUS_TINTS), subset=status)
        if severity:
            styler = styler.map(_tint(SEVERITY_TINTS), subset=severity)
        data = styler
    kwargs: dict[str, Any] = {"hide_index": True, "width": "stretch", "key": key,
                              "column_config": column_config, "placeholder": ""}
    if height is not None:
        kwargs["height"] = height
    if row_height is not None:
        kwargs["row_height"] = row_height
    if on_select != "ignore":
        kwargs.update(on_select=on_select, selection_mode=selection_mode)
    return st.dataframe(data, **kwargs)


def paged(items: Sequence[Any], key: str, page_rows: int = PAGE_ROWS, noun: str = "rows") -> Sequence[Any]:
    """One page of `items` and, when there is more than one, a page picker with the count, so a
    long table is sent, coloured and read a page at a time."""
    pages = max(1, -(-len(items) // page_rows))
    if pages == 1:
        return items
    left, right = st.columns([1, 5], vertical_alignment="bottom")
    page = left.number_input(f"Page (of {pages})", min_value=1, max_value=pages, value=1, step=1, key=key)
    page = min(int(page), pages)
    first = (page - 1) * page_rows
    right.caption(f"{noun} {first + 1:,}–{min(first + page_rows, len(items)):,} of {len(items):,}")
    return items[first : first + page_rows]


def hop_rows(snap: Snapshot, hops: Iterable[HopStatus]) -> list[dict[str, Any]]:
    """One row per hop, the columns a privacy officer reads: its status, where the data comes
    from and goes to (with countries), the tool it relies on by name, and why."""
    return [
        {
            "status": status_word(h.status),
            "from": f"{snap.name(h.source)} ({', '.join(h.source_countries) or 'location unknown'})",
            "to": f"{snap.name(h.target)} ({', '.join(h.target_countries) or 'location unknown'})",
            "relies on": snap.tools(h.basis),
            "reason": h.reason,
        }
        for h in hops
    ]


# Widths that fit the main column at 1440 px (sidebar open) without scrolling sideways; the
# reason takes what is left and wraps (tables of hops use a three-line row height).
# (No labels: a config is reused for other columns, e.g. "before" and "after" are statuses.)
HOP_COLUMNS = {
    "status": st.column_config.TextColumn(width=92),
    "from": st.column_config.TextColumn(width=170),
    "to": st.column_config.TextColumn(width=170),
    "relies on": st.column_config.TextColumn(width=170),
    "reason": st.column_config.TextColumn(width=330),
}
FINDING_COLUMNS = {
    "severity": st.column_config.TextColumn(width=76),
    "check": st.column_config.TextColumn(width=170),
    "where": st.column_config.TextColumn(width=220),
    "regime": st.column_config.TextColumn(width=84),
    "finding": st.column_config.TextColumn(width=300),
    "fix": None,
}
FINDING_ROW_HEIGHT = 66  # titles wrap onto a second line


def finding_rows(findings: Iterable[Finding], snap: Snapshot | None = None) -> list[dict[str, Any]]:
    """One row per finding: severity, what (the rule in words), where, the finding itself."""
    registry = snap.registry() if snap is not None else None
    rows = []
    for f in findings:
        where = ""
        if snap is not None and f.flow and f.flow in snap.graph().flows:
            flow = snap.graph().flows[f.flow]
            where = f"{snap.name(flow.from_)} → {snap.name(flow.to)}"
        elif snap is not None and f.node:
            where = snap.name(f.node)
        rows.append({
            "severity": SEVERITY_WORDS.get(f.severity.value, f.severity.value),
            "check": rule_word(f.rule, registry),
            "where": where or (f.flow or f.node or ""),
            "regime": regime_name(snap.fr.law, f.regime, snap.day) if snap is not None and f.regime else (f.regime or ""),
            "finding": f.title,
            "fix": f.fix,
        })
    return rows


def show_error(exc: FlowregError, heading: str | None = None) -> None:
    """A user-facing error: a fixed heading, then each message escaped (never a traceback)."""
    if isinstance(exc, RegistryError) and exc.issues:
        lines = [f"{getattr(i, 'path', '')}: {getattr(i, 'message', i)}" for i in exc.issues]
        st.error((heading or "The change was refused.") + "  \n" + "  \n".join(literal(x) for x in lines))
    else:
        st.error((heading + "  \n" if heading else "") + literal(exc.message))


def category_options(reg: Registry) -> list[str]:
    """Category ids in tree order (parents before children, siblings in file order)."""
    ids = [c.id for c in reg.categories]
    position = {c: i for i, c in enumerate(ids)}

    def path_key(cid: str) -> tuple[int, ...]:
        parts = cid.split(".")
        return tuple(position.get(".".join(parts[: i + 1]), -1) for i in range(len(parts)))

    return sorted(ids, key=path_key)


def tree_label(snap: Snapshot, category: str) -> str:
    """'│  └ Email address  ·  account.contact.email': indentation shows the tree."""
    depth = category.count(".")
    indent = "\u2003" * depth + ("└ " if depth else "")
    return f"{indent}{snap.name(category)}  ·  {category}"


def flat_label(snap: Snapshot, category: str) -> str:
    """'Email address · account.contact.email' (for chips, where indentation would look odd)."""
    return f"{snap.name(category)} · {category}"


def page_header(title: str, subtitle: str, snap: Snapshot | None = None) -> None:
    """A page title (fixed text only) and a caption with the pinned revision and date."""
    st.title(title)
    pinned = f" · as of **{snap.day:%d %b %Y}** · revision **{snap.rev}** (`{snap.head.hash[:12]}`)" if snap else ""
    st.caption(subtitle + pinned)
