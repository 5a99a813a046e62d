"""Spreadsheet formula neutralisation (CSV injection, OWASP): registry text is never a formula.

A spreadsheet treats a cell that starts with `=`, `+`, `-` or `@` (and, in some programs, a tab
or carriage return) as a formula; a party named `=HYPERLINK(...)` would run when an auditor opens
the export. Such text gets a leading apostrophe, which spreadsheets show as text. Numbers are
written as numbers and need nothing.

A CSV cell is only a cell if the reader splits where the writer did. A spreadsheet set to split
on `;` (the default in much of Europe), tab or `|` cuts `Acme;=2+3` into `Acme` and a live
`=2+3`, and a reader that ignores quotes starts a cell after every line break. So
`neutralise_cell` also puts the apostrophe before a formula character that follows any of those
separators (or a quote), spaces allowed in between: whatever a reader splits on, no cell starts
a formula.
"""

from __future__ import annotations

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Characters after which some reader may start a new cell: the delimiters spreadsheets offer,
# line breaks, and the quote (a reader that meets `"` mid-cell may start a quoted cell there).
SEPARATORS = frozenset(",;\t|\"\r\n")


def neutralise(text: str) -> str:
    """`text` with a leading apostrophe when a spreadsheet would read it as a formula.

    >>> neutralise("=1+1"), neutralise("-5 days"), neutralise("plain")
    ("'=1+1", "'-5 days", 'plain')
    """
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def neutralise_cell(text: str) -> str:
    """`text` as a CSV cell: an apostrophe before every formula character that starts a cell
    for some reader (at the start, or after a separator, quote or line break and any spaces).

    >>> neutralise_cell("Acme;=2+3;"), neutralise_cell("a, -b"), neutralise_cell("EU-US")
    ("Acme;'=2+3;", "a, '-b", 'EU-US')
    """
    out: list[str] = []
    at_start = True
    for ch in text:
        if at_start and ch in FORMULA_STARTS:
            out.append("'")
        out.append(ch)
        # Spaces keep a cell "at its start": readers may skip them (skipinitialspace).
        at_start = ch in SEPARATORS or (at_start and ch == " ")
    return "".join(out)
