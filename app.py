"""flowreg dashboard, first version: the current registry at a glance.

Run with `make run` (or `streamlit run app.py`). It reads the store FLOWREG_DB names, the same
one the CLI writes. Registry values are user text, so they are only ever shown through widgets
that display plain text (st.dataframe, st.metric values, st.text, st.code), never as Markdown.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from registry.config import settings_from_env
from registry.errors import FlowregError
from registry.model import SECTIONS
from registry.revisions import Revision
from registry.store import open_store


def _joined(value: Any) -> Any:
    return ", ".join(map(str, value)) if isinstance(value, list) else value


def _rows(elements: list[dict[str, Any]], columns: list[str]) -> list[dict[str, Any]]:
    """One row per element with exactly `columns` (lists shown comma-separated)."""
    return [{column: _joined(e.get(column)) for column in columns} for e in elements]


def _load() -> tuple[str, Revision | None]:
    settings = settings_from_env()
    with open_store(settings) as store:
        head = store.head()
        return str(settings.db_path), store.get(head.number) if head else None


def main() -> None:
    st.set_page_config(page_title="flowreg", layout="wide")
    st.title("flowreg")
    try:
        db_path, revision = _load()
    except FlowregError as exc:
        st.error("The registry store cannot be opened.")
        st.text(str(exc))
        return
    if revision is None:
        st.info(
            "The registry is empty. Load the Twilio seed with `make seed`, "
            "or any registry file with `flowreg apply FILE`, then reload this page."
        )
        st.text(f"store: {db_path}")
        return

    content = revision.content
    left, middle, right = st.columns(3)
    left.metric("Organization", content.get("organization"))
    middle.metric("Head revision", revision.number)
    right.metric("Flows", len(content.get("flows") or []))
    st.text(
        f"revision hash {revision.hash}\n"
        f"written {revision.created_at:%Y-%m-%d %H:%M} UTC by {revision.author}: {revision.message}"
    )

    st.subheader("Elements by kind")
    counts = [{"section": s, "count": len(content.get(s) or [])} for s in SECTIONS]
    parties = content.get("parties") or []
    kinds: dict[str, int] = {}
    for party in parties:
        kinds[party.get("kind", "?")] = kinds.get(party.get("kind", "?"), 0) + 1
    a, b = st.columns(2)
    a.dataframe(counts, hide_index=True)
    b.dataframe([{"party kind": k, "count": n} for k, n in sorted(kinds.items())], hide_index=True)

    st.subheader("Parties")
    st.dataframe(
        _rows(parties, ["id", "name", "kind", "country", "public_list", "source"]),
        hide_index=True,
    )
    st.subheader("Systems")
    st.dataframe(
        _rows(content.get("systems") or [], ["id", "name", "owner", "country", "retention_days"]),
        hide_index=True,
    )
    st.subheader("Flows")
    flow_columns = ["id", "from", "to", "carries", "purpose", "role", "under"]
    st.dataframe(
        _rows(content.get("flows") or [], [*flow_columns, "valid_from", "valid_until"]),
        hide_index=True,
    )


main()
