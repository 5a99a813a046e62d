"""Build registry/dpv/vocabulary-2.3.json from the published W3C DPV 2.3 Turtle files.

    python tools/dpv/build_vocabulary.py DPV_2.3_FOLDER [-o registry/dpv/vocabulary-2.3.json]

DPV_2.3_FOLDER is the `2.3/` folder of the W3C DPV repository (github.com/w3c/dpv), which holds
the files published at https://w3id.org/dpv/2.3/ (dpv/dpv.ttl, pd/pd.ttl, loc/loc.ttl,
legal/eu/gdpr/eu-gdpr.ttl, legal/eu/legal-eu.ttl, legal/gb/legal-gb.ttl). The output keeps, per
term, only what flowreg checks against: its types, its broader concepts, for a property its
documented range, domain and parent properties, its label, and its status when it is not
"accepted". Locations are kept down to countries and supranational unions (subdivisions such as
loc:US-CA are left out). The result is deterministic: the same files give the same bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from rdflib import RDF, RDFS, Graph, Namespace, URIRef
from rdflib.namespace import SKOS

VERSION = "2.3"
# (prefix, namespace IRI, file under the 2.3 folder)
MODULES = (
    ("dpv", "https://w3id.org/dpv#", "dpv/dpv.ttl"),
    ("pd", "https://w3id.org/dpv/pd#", "pd/pd.ttl"),
    ("eu-gdpr", "https://w3id.org/dpv/legal/eu/gdpr#", "legal/eu/gdpr/eu-gdpr.ttl"),
    ("legal-eu", "https://w3id.org/dpv/legal/eu#", "legal/eu/legal-eu.ttl"),
    ("legal-gb", "https://w3id.org/dpv/legal/gb#", "legal/gb/legal-gb.ttl"),
    ("loc", "https://w3id.org/dpv/loc#", "loc/loc.ttl"),
)
DCAM = Namespace("http://purl.org/dc/dcam/")
SCHEMA = Namespace("https://schema.org/")
SW = Namespace("http://www.w3.org/2003/06/sw-vocab-status/ns#")
# Types every DPV term has; they say nothing about its role.
GENERIC_TYPES = {str(RDFS.Class), str(SKOS.Concept), "http://www.w3.org/2002/07/owl#Class"}
KEPT_LOCATIONS = {"https://w3id.org/dpv#Country", "https://w3id.org/dpv#SupraNationalUnion"}


def curie(iri: str, prefixes: dict[str, str]) -> str | None:
    """The CURIE of `iri` in one of the kept namespaces, longest namespace first."""
    for prefix, ns in sorted(prefixes.items(), key=lambda p: -len(p[1])):
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return None


def build(folder: Path) -> dict:
    prefixes = {prefix: ns for prefix, ns, _ in MODULES}
    files = {}
    terms: dict[str, dict] = {}
    for prefix, ns, name in MODULES:
        path = folder / name
        raw = path.read_bytes()
        files[name] = hashlib.sha256(raw).hexdigest()
        g = Graph().parse(data=raw, format="turtle")
        for subject in sorted(set(g.subjects(RDF.type, None))):
            if not isinstance(subject, URIRef) or not str(subject).startswith(ns) or str(subject) == ns:
                continue
            key = curie(str(subject), prefixes)
            local = str(subject)[len(ns):]
            if key is None or not local or local[0] in "#/" or "serialisation-" in local or local.endswith("-classes") \
                    or local.endswith("-properties"):
                continue
            types = sorted(str(t) for t in g.objects(subject, RDF.type))
            if (SKOS.ConceptScheme in g.objects(subject, RDF.type)
                    or "http://www.w3.org/ns/dx/prof/ResourceDescriptor" in types):
                continue
            if prefix == "loc" and not (set(types) & KEPT_LOCATIONS):
                continue  # subdivisions and cities: not what a flowreg registry locates
            entry: dict = {}

            def names(values) -> list[str]:
                return sorted({c for c in (curie(str(v), prefixes) for v in values if isinstance(v, URIRef)) if c})

            kinds = names(URIRef(t) for t in types if t not in GENERIC_TYPES)
            if str(RDF.Property) in types:
                kinds.append("rdf:Property")
            if kinds:
                entry["t"] = kinds
            broader = names(g.objects(subject, SKOS.broader))
            if broader:
                entry["b"] = broader
            if str(RDF.Property) in types:
                ranges = names([*g.objects(subject, DCAM.rangeIncludes), *g.objects(subject, SCHEMA.rangeIncludes),
                                *g.objects(subject, RDFS.range)])
                domains = names([*g.objects(subject, DCAM.domainIncludes), *g.objects(subject, SCHEMA.domainIncludes),
                                 *g.objects(subject, RDFS.domain)])
                parents = names(g.objects(subject, RDFS.subPropertyOf))
                if ranges:
                    entry["r"] = ranges
                if domains:
                    entry["d"] = domains
                if parents:
                    entry["p"] = parents
            labels = [str(v) for v in g.objects(subject, SKOS.prefLabel) if getattr(v, "language", None) in ("en", None)]
            if labels:
                entry["l"] = sorted(labels)[0]
            status = [str(v) for v in g.objects(subject, SW.term_status)]
            if status and status[0] not in ("accepted", "modified"):
                entry["s"] = status[0]
            terms[key] = entry
    return {
        "version": VERSION,
        "source": "W3C Data Privacy Vocabularies and Controls (DPV) 2.3, https://w3id.org/dpv/2.3/ "
                  "(github.com/w3c/dpv, folder 2.3/)",
        "licence": "W3C Software and Document License (2023), https://www.w3.org/copyright/software-license-2023/",
        "generated_by": "tools/dpv/build_vocabulary.py",
        "files": files,
        "prefixes": prefixes,
        "terms": dict(sorted(terms.items())),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the 2.3/ folder of the DPV repository")
    parser.add_argument("-o", "--output", type=Path,
                        default=Path(__file__).resolve().parents[2] / "registry" / "dpv" / f"vocabulary-{VERSION}.json")
    args = parser.parse_args()
    data = build(args.folder)
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=False)
    # One term a line: reviewable diffs when DPV changes, still compact.
    text = text.replace(',"terms":{', ',\n"terms":{\n').replace('},"', '},\n"')
    args.output.write_text(text + "\n", encoding="utf-8")
    print(f"{len(data['terms'])} terms -> {args.output}")


if __name__ == "__main__":
    main()
