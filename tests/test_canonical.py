"""`CanonicalText` against the full serialisation (hypothesis).

A revision's content hash is the sha256 of `canonical_json(content)`; `CanonicalText` computes
it from shared pieces instead. For random content (top-level keys with list, scalar and nested
values, non-ASCII strings, empty lists) the pieces must stand for exactly that text, appending
must give exactly the text of the extended content without touching the original, and text
that is not canonical must be refused rather than split into pieces that hash to something
else.
"""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry.canonical import CanonicalText
from registry.revisions import canonical_json, content_hash

PROPERTY = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Strings: mostly short ASCII (ids, names), often non-ASCII (accents, CJK, emoji, controls).
TEXT = st.text(max_size=8) | st.text(st.characters(max_codepoint=127), max_size=8) | st.sampled_from(
    ["", "Café", "Zürich", "東京", "😀", 'quote " and \\ slash', "tab\tnew\nline", "\u2028", "\x00"]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=20,
)
# Elements of a section: registry elements are objects, but any JSON value must work.
ELEMENTS = st.dictionaries(TEXT, VALUES, max_size=4) | VALUES
TOP_VALUES = st.lists(ELEMENTS, max_size=5) | st.just([]) | VALUES


@st.composite
def contents(draw: st.DrawFn, min_size: int = 0) -> dict[str, Any]:
    """A content mapping with sorted keys, as a stored revision holds."""
    drawn = draw(st.dictionaries(TEXT, TOP_VALUES, min_size=min_size, max_size=6))
    return {key: drawn[key] for key in sorted(drawn)}


@st.composite
def contents_and_additions(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Content plus element lists to append: to its list keys and to keys it does not have."""
    content = draw(contents())
    lists = [key for key, value in content.items() if isinstance(value, list)]
    targets = draw(st.lists(st.sampled_from(lists), unique=True)) if lists else []
    new_keys = draw(st.lists(TEXT.filter(lambda k: k not in content), unique=True, max_size=3))
    additions = {key: draw(st.lists(ELEMENTS, max_size=4)) for key in [*targets, *new_keys]}
    return content, additions


def extended(content: dict[str, Any], additions: dict[str, list[Any]]) -> dict[str, Any]:
    """`content` with the lists of `additions` appended (an empty addition adds no key)."""
    out = dict(content)
    for key, elements in additions.items():
        if elements:
            out[key] = [*content.get(key, []), *elements]
    return out


def texts(additions: dict[str, list[Any]]) -> dict[str, list[str]]:
    return {key: [canonical_json(e) for e in elements] for key, elements in additions.items()}


@PROPERTY
@given(contents())
def test_parse_gives_the_content_and_its_exact_text(content: dict[str, Any]) -> None:
    text = canonical_json(content)
    parsed, pieces = CanonicalText.parse(text)
    assert parsed == content
    assert list(parsed) == sorted(content)
    assert pieces.text() == text
    assert pieces.sha256() == content_hash(content)
    # one piece per non-empty top-level value, whatever the text's encoding
    assert pieces.piece_count() == sum(1 for v in content.values() if v != [])


@PROPERTY
@given(contents_and_additions(), st.data())
def test_appending_equals_serialising_the_extended_content(
    case: tuple[dict[str, Any], dict[str, list[Any]]], data: st.DataObject
) -> None:
    content, additions = case
    text = canonical_json(content)
    _, pieces = CanonicalText.parse(text)

    bigger = pieces.appended(texts(additions))
    expected = extended(content, additions)
    assert bigger.text() == canonical_json(expected)
    assert bigger.sha256() == content_hash(expected)
    assert json.loads(bigger.text()) == expected
    assert pieces.text() == text, "the original is unchanged"
    assert pieces.sha256() == content_hash(content)

    # Appending again to the result (a chain of registrations) keeps both earlier texts.
    more = {key: data.draw(st.lists(ELEMENTS, min_size=1, max_size=2)) for key in additions}
    biggest = bigger.appended(texts(more))
    assert biggest.text() == canonical_json(extended(expected, more))
    assert bigger.text() == canonical_json(expected)
    assert pieces.text() == text
    # The appended text reads back as pieces of the same text.
    reparsed, again = CanonicalText.parse(biggest.text())
    assert reparsed == extended(expected, more)
    assert again.sha256() == biggest.sha256()


def test_appending_to_a_scalar_is_refused() -> None:
    _, pieces = CanonicalText.parse('{"flowreg":1,"parties":[]}')
    with pytest.raises(ValueError, match="'flowreg' is not a list"):
        pieces.appended({"flowreg": ["2"]})
    assert pieces.appended({"parties": ['{"id":"a"}']}).text() == '{"flowreg":1,"parties":[{"id":"a"}]}'
    assert pieces.appended({"parties": []}).text() == '{"flowreg":1,"parties":[]}'


def variants(content: dict[str, Any], rng: random.Random) -> list[str]:
    """Other JSON texts of `content`: spacing, escaping, key order, at the top and inside."""
    shuffled = list(content.items())
    rng.shuffle(shuffled)
    out = [
        json.dumps(content, sort_keys=True),  # ", " and ": "
        json.dumps(content, sort_keys=True, separators=(",", ":")),  # escaped non-ASCII
        json.dumps(content, sort_keys=True, indent=1, ensure_ascii=False),
        json.dumps(dict(shuffled), separators=(",", ":"), ensure_ascii=False),
        " " + canonical_json(content),
        canonical_json(content) + "\n",
    ]
    # Canonical at the top level, but one value written differently inside.
    for key, value in content.items():
        inner = [
            json.dumps(value, ensure_ascii=False),
            json.dumps(value, separators=(",", ":")),
            json.dumps(reversed_keys(value), separators=(",", ":"), ensure_ascii=False),
        ]
        for written in inner:
            out.append(canonical_json(content).replace(
                json.dumps(key, ensure_ascii=False) + ":" + canonical_json(value),
                json.dumps(key, ensure_ascii=False) + ":" + written,
                1,
            ))
    return out


def reversed_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: reversed_keys(value[k]) for k in sorted(value, reverse=True)}
    if isinstance(value, list):
        return [reversed_keys(v) for v in value]
    return value


@PROPERTY
@given(contents(min_size=1), st.integers())
def test_parse_refuses_text_that_is_not_canonical(content: dict[str, Any], seed: int) -> None:
    canonical = canonical_json(content)
    checked = 0
    for text in variants(content, random.Random(seed)):
        if text == canonical:
            continue  # this way of writing happens to be the canonical one for this content
        checked += 1
        with pytest.raises(ValueError):
            CanonicalText.parse(text)
    assert checked >= 3  # the top-level whitespace variants always differ


@PROPERTY
@given(contents(min_size=1))
def test_parse_refuses_truncated_text(content: dict[str, Any]) -> None:
    text = canonical_json(content)
    for end in {0, 1, len(text) // 2, len(text) - 2, len(text) - 1}:
        with pytest.raises(ValueError):
            CanonicalText.parse(text[:end])


@pytest.mark.parametrize(
    "text",
    [
        '{"b":1,"a":2}',  # unsorted keys
        '{"a":1,"a":2}',  # a repeated key
        '{"a": 1}',
        '{ "a":1}',
        '{"a":1 }',
        '{"a" :1}',
        '{"a":1} ',
        '{"a":1,}',
        '{"a":[1, 2]}',  # whitespace inside a value
        '{"a":{"d":1,"c":2}}',  # unsorted keys inside a value
        '{"a":"\\u00e9"}',  # an escape canonical JSON writes as the character
        '{"a":1E2}',
        '{"a":1',
        '[1,2]',
        '{1:2}',
        '',
    ],
)
def test_parse_refuses_examples(text: str) -> None:
    with pytest.raises(ValueError):
        CanonicalText.parse(text)


def test_parse_accepts_the_empty_object_and_empty_values() -> None:
    for content in ({}, {"a": []}, {"a": {}}, {"a": "", "b": [], "c": None}):
        parsed, pieces = CanonicalText.parse(canonical_json(content))
        assert parsed == content
        assert pieces.text() == canonical_json(content)
