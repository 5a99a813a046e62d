"""Reading YAML, the one way flowreg reads it: bounded, UTF-8, line numbers and duplicates kept.

PyYAML silently keeps the last of two equal mapping keys; a registry reviewer would never see the
first one vanish, so a duplicate key is an issue here. Every value's key path maps to its line.

Every YAML flowreg reads from outside (registry files, proposals, Fides manifests, the users
file, standard input) goes through `load_yaml_file`, so the same limits hold everywhere: at most
MAX_FILE_BYTES read (a read is bounded even on /dev/zero or an endless pipe), UTF-8 only, no
alias expansion beyond MAX_ALIAS_GROWTH values ("billion laughs"), no nesting beyond what
libyaml and the interpreter can walk.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from typing import Any

import yaml

from registry.errors import RegistryError

try:  # libyaml is an order of magnitude faster on large registries.
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

Path = tuple[str | int, ...]
# How many more values than it literally contains a document may stand for through aliases.
MAX_ALIAS_GROWTH = 100_000
# The largest file read (a generated registry of a million flows is about 300 MB of YAML).
MAX_FILE_BYTES = 512 * 1024 * 1024
_CHUNK = 1024 * 1024


def format_path(path: Path) -> str:
    """Render a key path the way users read it.

    >>> format_path(("flows", 3, "carries", 0))
    'flows[3].carries[0]'
    """
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


@dataclass(frozen=True)
class Issue:
    """One problem in a registry: where it is and why."""

    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f" (line {self.line})" if self.line else ""
        return f"{self.path}: {self.message}{where}"

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "message": self.message, "line": self.line}


@dataclass
class ParsedYaml:
    """The plain value of a YAML document, the line of every key path, and parse issues."""

    value: Any = None
    lines: dict[Path, int] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)

    def line_of(self, path: Path) -> int | None:
        """The line of `path`, or of its nearest ancestor the YAML gives a line for."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)


def parse_yaml(text: str) -> ParsedYaml:
    """Parse one YAML document into plain values, recording lines and duplicate keys.

    >>> parsed = parse_yaml("a: 1\\na: 2\\n")
    >>> [str(i) for i in parsed.issues]
    ["a: duplicate key 'a' (first at line 1) (line 2)"]
    """
    result = ParsedYaml()
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark else None
            reason = exc.problem or exc.context or "invalid YAML"
            result.issues.append(Issue("(file)", f"YAML syntax error: {reason}", line))
            return result
        except yaml.YAMLError as exc:
            result.issues.append(Issue("(file)", f"YAML error: {exc}".splitlines()[0]))
            return result
        if node is None:
            return result
        distinct: dict[int, int] = {}
        try:
            expanded = _expanded_size(node, distinct)
        except _Recursive:
            result.issues.append(Issue("(file)", "an alias is used inside its own anchor", 1))
            return result
        except RecursionError:
            result.issues.append(Issue("(file)", "the document is nested too deeply", 1))
            return result
        if expanded > 4 * len(distinct) + MAX_ALIAS_GROWTH:
            # A few nested aliases can stand for billions of values ("billion laughs"); building
            # them would hang and exhaust memory long before any check could run.
            result.issues.append(
                Issue("(file)", f"aliases expand to {expanded} values; refusing to expand them", 1)
            )
            return result
        result.value = _build(loader, node, (), result)
        return result
    finally:
        loader.dispose()


class _Recursive(Exception):
    """A node that contains itself through an alias; it would expand forever."""


def _expanded_size(node: yaml.Node, sizes: dict[int, int]) -> int:
    """How many values `node` stands for once every alias is expanded; `sizes` memoises per
    distinct node, so this is linear in the document's size even when the result is huge."""
    key = id(node)
    if key in sizes:
        if sizes[key] < 0:
            raise _Recursive
        return sizes[key]
    sizes[key] = -1  # being measured: meeting it again below means it contains itself
    if isinstance(node, yaml.MappingNode):
        total = 1 + sum(_expanded_size(k, sizes) + _expanded_size(v, sizes) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        total = 1 + sum(_expanded_size(item, sizes) for item in node.value)
    else:
        total = 1
    sizes[key] = total
    return total


def _build(loader: Any, node: yaml.Node, path: Path, result: ParsedYaml) -> Any:
    result.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)  # resolve YAML merge keys (<<) first
        mapping: dict[Any, Any] = {}
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str | int | bool) or key is None:
                result.issues.append(Issue(format_path(path), f"unsupported key {key!r}", line))
                continue
            if key in first_line:
                result.issues.append(
                    Issue(
                        format_path(path + (str(key),)),
                        f"duplicate key '{key}' (first at line {first_line[key]})",
                        line,
                    )
                )
                continue
            first_line[key] = line
            mapping[key] = _build(loader, value_node, path + (str(key),), result)
            result.lines[path + (str(key),)] = line
        return mapping
    if isinstance(node, yaml.SequenceNode):
        return [_build(loader, item, path + (i,), result) for i, item in enumerate(node.value)]
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, OverflowError, yaml.YAMLError) as exc:
        # PyYAML resolves `2019-02-30` as a timestamp and then fails to build it (a ValueError,
        # not a YAMLError). Keep the text: the model then says why it is not a date, with the
        # key's path. Any other value that fails its (explicit) tag is an issue of its own.
        if node.tag == "tag:yaml.org,2002:timestamp":
            return node.value
        result.issues.append(
            Issue(
                format_path(path),
                f"cannot read {node.value!r} as {node.tag}: {exc}",
                result.lines[path],
            )
        )
        return None


def shown_source(source: str | os.PathLike[str]) -> str:
    """How a source is named in messages: `-` is standard input."""
    return "standard input" if str(source) == "-" else str(source)


def read_source(source: str | os.PathLike[str], *, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a file, or of standard input for `-`, reading at most `limit` of them.

    RegistryError (path `(file)`) when it cannot be read or holds more than `limit` bytes: the
    read stops there, so /dev/zero or an endless pipe cannot exhaust memory or time.
    """
    name = shown_source(source)
    chunks: list[bytes] = []
    size = 0
    try:
        handle = sys.stdin.buffer if str(source) == "-" else open(source, "rb")  # noqa: SIM115
        try:
            while size <= limit:
                chunk = handle.read(min(_CHUNK, limit + 1 - size))
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
        finally:
            if handle is not sys.stdin.buffer:
                handle.close()
    except IsADirectoryError:
        raise RegistryError([Issue("(file)", f"{name} is a directory, not a file")]) from None
    except OSError as exc:
        raise RegistryError([Issue("(file)", f"cannot read {name}: {exc.strerror or exc}")]) from None
    if size > limit:
        raise RegistryError([Issue("(file)", f"{name} is larger than {limit} bytes, the limit for "
                                   "a file flowreg reads")])
    return b"".join(chunks)


def decode_text(raw: bytes) -> str:
    """UTF-8 text (with or without a byte-order mark); RegistryError naming the line otherwise."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise RegistryError(
            [Issue("(file)", f"not UTF-8 text (byte {exc.start}: {exc.reason})", line)]
        ) from None


def load_yaml_file(source: str | os.PathLike[str], *, limit: int = MAX_FILE_BYTES) -> ParsedYaml:
    """Read (bounded), decode and parse one YAML document; `-` is standard input.

    Reading and decoding problems raise RegistryError; YAML problems (syntax, duplicate keys,
    alias bombs, nesting) are the returned document's `issues`, as from `parse_yaml`.
    """
    return parse_yaml(decode_text(read_source(source, limit=limit)))
