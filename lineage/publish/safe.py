"""Registry text made safe for the published pages and feed: always text, never markup or code.

Escaping itself is the renderers' (html.escape, ElementTree); this module removes what no
escaping can carry (characters XML 1.0 and HTML forbid) and decides which registry URLs may
become links: absolute http(s) addresses only, so `javascript:` or `data:` never do.
"""

from __future__ import annotations

import re
from html import escape
from urllib.parse import urlsplit

import pycountry

# XML 1.0 Char production, less the C1 controls and noncharacters HTML calls parse errors.
_FORBIDDEN = re.compile(
    "[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufdcf\ufdf0-\ufffd\U00010000-\U0010ffff]"
    "|[\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0003fffe\U0003ffff\U0004fffe\U0004ffff"
    "\U0005fffe\U0005ffff\U0006fffe\U0006ffff\U0007fffe\U0007ffff\U0008fffe\U0008ffff"
    "\U0009fffe\U0009ffff\U000afffe\U000affff\U000bfffe\U000bffff\U000cfffe\U000cffff"
    "\U000dfffe\U000dffff\U000efffe\U000effff\U000ffffe\U000fffff\U0010fffe\U0010ffff]"
)


def clean(value: object) -> str:
    """`value` as text, each character XML or HTML cannot hold replaced by U+FFFD.

    >>> clean("a\\x00b\\x1bc")
    'a\\ufffdb\\ufffdc'
    """
    return _FORBIDDEN.sub("\ufffd", "" if value is None else str(value))


def esc(value: object) -> str:
    """Text for HTML content or a quoted attribute value."""
    return escape(clean(value), quote=True)


def link_target(url: str | None) -> str | None:
    """`url` when it is an absolute http or https address, else None (shown as text, not linked).

    >>> link_target("https://example.com/privacy"), link_target("javascript:alert(1)")
    ('https://example.com/privacy', None)
    """
    if not url or url != url.strip() or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def country_name(code: str | None) -> str:
    """'United States (US)' for 'US'; the code alone when pycountry does not know it."""
    if not code:
        return "not recorded"
    if code == "EEA":
        return "European Economic Area (EEA)"
    country = pycountry.countries.get(alpha_2=code)
    name = getattr(country, "common_name", None) or getattr(country, "name", None)
    return f"{name} ({code})" if name else code
