"""Spreadsheet formula neutralisation (CSV injection, OWASP): registry text is never a formula.

A spreadsheet treats a cell that starts with `=`, `+`, `-` or `@` (and, in some programs, a tab
or carriage return) as a formula; a party named `=HYPERLINK(...)` would run when an auditor opens
the export. Such text gets a leading apostrophe, which spreadsheets show as text. Numbers are
written as numbers and need nothing.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """`text` with a leading apostrophe when a spreadsheet would read it as a formula.

    >>> neutralise("=1+1"), neutralise("-5 days"), neutralise("plain")
    ("'=1+1", "'-5 days", 'plain')
    """
    return "'" + text if text.startswith(FORMULA_STARTS) else text
