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
from typing import Any

import pandas as pd
import streamlit as st

from lineage.api import Flowreg
from lineage.findings import Finding
from lineage.graph import RegistryGraph
from lineage.status import HopStatus, Status
from registry.config import Settings, settings_from_env
from registry.errors import FlowregError, MissingStoreError, RegistryError
from registry.model import Registry
from registry.revisions import RevisionInfo

AS_OF_KEY = "as_of"

# Solid colours for charts, light tints for table cells; best to worst.
STATUS_COLOURS: dict[str, str] = {
    "not_required": "#98A2B3",
    "adequate": "#2F9E62",
    "covered": "#2F6FD0",
    "derogation": "#E8A317",
    "invalid": "#D64545",
    "uncovered": "#9C1C4A",
    "unknown": "#7B5CD6",
}
STATUS_TINTS: dict[str, str] = {
    "not_required": "#F2F4F7",
    "adequate": "#DCF3E5",
    "covered": "#DDE9FB",
    "derogation": "#FDF0D2",
    "invalid": "#FBDADA",
    "uncovered": "#F6D3DF",
    "unknown": "#E9E2FA",
}
STATUS_WORDS: dict[str, str] = {
    "not_required": "no transfer",
    "adequate": "adequate",
    "covered": "covered",
    "derogation": "derogation",
    "invalid": "INVALID",
    "uncovered": "UNCOVERED",
    "unknown": "unknown",
}
SEVERITY_TINTS = {"high": "#FBDADA", "medium": "#FDF0D2", "low": "#F2F4F7"}
KIND_TITLES = {
    "affiliate": "Affiliates",
    "subprocessor": "Sub-processors",
    "service_provider": "Service providers",
    "carrier": "Carriers",
    "ott_provider": "OTT providers",
    "addon_partner": "Add-on partners",
    "authority": "Authorities",
    "data_source": "Data sources",
    "other": "Other recipients",
}
KIND_SINGULAR = {
    "affiliate": "Affiliate",
    "subprocessor": "Sub-processor",
    "service_provider": "Service provider",
    "carrier": "Carrier",
    "ott_provider": "OTT provider",
    "addon_partner": "Add-on partner",
    "authority": "Authority",
    "data_source": "Data source",
    "other": "Other",
}
STYLE_ROW_LIMIT = 3000  # colouring more cells than this costs more time than it is worth

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


@st.cache_resource(max_entries=32, show_spinner=False)
def _hops(_fr: Flowreg, key: str, rev_hash: str, rev: int, day: date) -> list[HopStatus]:
    return _fr.hops(day, rev=rev)


@st.cache_resource(max_entries=32, show_spinner=False)
def _findings(_fr: Flowreg, key: str, rev_hash: str, rev: int, day: date) -> list[Finding]:
    return _fr.findings(day, rev=rev)


@st.cache_resource(max_entries=64, show_spinner=False)
def _flows(_fr: Flowreg, key: str, rev_hash: str, rev: int, day: date, category: str,
           start: str | None) -> list[HopStatus]:
    return _fr.flows(category, day, from_node=start, rev=rev)


@st.cache_resource(max_entries=8, show_spinner=False)
def _names(_fr: Flowreg, key: str, rev_hash: str, rev: int) -> dict[str, str]:
    reg = _fr.registry(rev)
    out: dict[str, str] = {}
    for section in ("categories", "subjects", "parties", "systems", "mechanisms"):
        for element in getattr(reg, section):
            out[element.id] = getattr(element, "name", None) or element.id
    return out


@dataclass(frozen=True)
class Snapshot:
    """One page run's view: the head revision read once at the start, and the as-of date."""

    fr: Flowreg
    key: str
    head: RevisionInfo
    day: date

    @property
    def rev(self) -> int:
        return self.head.number

    def graph(self) -> RegistryGraph:
        return self.fr.graph(self.rev)

    def registry(self) -> Registry:
        return self.fr.registry(self.rev)

    def hops(self) -> list[HopStatus]:
        return _hops(self.fr, self.key, self.head.hash, self.rev, self.day)

    def findings(self) -> list[Finding]:
        return _findings(self.fr, self.key, self.head.hash, self.rev, self.day)

    def flows(self, category: str, start: str | None = None) -> list[HopStatus]:
        """The hops carrying `category` (from `start`), with that category's statuses."""
        return _flows(self.fr, self.key, self.head.hash, self.rev, self.day, category, start)

    def names(self) -> dict[str, str]:
        return _names(self.fr, self.key, self.head.hash, self.rev)

    def name(self, element_id: str | None) -> str:
        return "" if element_id is None else self.names().get(element_id, element_id)

    def node_label(self, node: str) -> str:
        """'Name (US)': a node's name and where it is."""
        rg = self.graph()
        where = ",".join(rg.countries(node)) if node in rg.graph else ""
        return f"{self.name(node)} ({where or '?'})"


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
) -> Any:
    """A plain-text table (user text is safe in st.dataframe); `status` / `severity` columns are
    tinted by their value."""
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
                              "column_config": column_config}
    if height is not None:
        kwargs["height"] = height
    if on_select != "ignore":
        kwargs.update(on_select=on_select, selection_mode="single-row")
    return st.dataframe(data, **kwargs)


def status_word(status: Status | str) -> str:
    return STATUS_WORDS.get(str(getattr(status, "value", status)), str(status))


def hop_rows(snap: Snapshot, hops: Iterable[HopStatus]) -> list[dict[str, Any]]:
    """One row per hop: where it goes, its status, the reason and what it relies on."""
    rows = []
    for h in hops:
        rows.append({
            "status": status_word(h.status),
            "flow": h.flow,
            "from": snap.name(h.source),
            "from country": joined(h.source_countries),
            "to": snap.name(h.target),
            "to country": joined(h.target_countries),
            "carries": joined(h.carries),
            "relies on": joined(h.basis) or "",
            "reason": h.reason,
            "regimes": ", ".join(f"{r}: {status_word(v.status)}" for r, v in h.regimes.items()),
            "purpose": h.purpose or "",
            "recipient kind": h.recipient_kind or "",
        })
    return rows


def finding_rows(findings: Iterable[Finding]) -> list[dict[str, Any]]:
    return [
        {"severity": f.severity.value, "rule": f.rule, "title": f.title, "flow": f.flow or "",
         "node": f.node or "", "regime": f.regime or "", "fix": f.fix}
        for f in findings
    ]


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
