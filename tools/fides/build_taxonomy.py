"""Build registry/fides_taxonomy.json from fideslang's published default taxonomy.

    python tools/fides/build_taxonomy.py FIDESLANG_DATA_FILES_FOLDER [--version 3.1.4a1]

The folder is `data_files/` of the fideslang repository (github.com/ethyca/fideslang), which holds
data_categories.yml, data_uses.yml and data_subjects.yml. Only what the Fides import and export
need is kept: each key, its name and its parent; deprecated keys keep what replaces them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

KINDS = ("data_category", "data_use", "data_subject")
FILES = {"data_category": "data_categories.yml", "data_use": "data_uses.yml", "data_subject": "data_subjects.yml"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--version", required=True, help="the fideslang release the files come from")
    parser.add_argument("-o", "--output", type=Path,
                        default=Path(__file__).resolve().parents[2] / "registry" / "fides_taxonomy.json")
    args = parser.parse_args()
    out: dict = {
        "source": f"fideslang {args.version} default taxonomy (github.com/ethyca/fideslang, data_files/)",
        "licence": "fideslang's repository licence (LICENSE: Creative Commons Attribution 4.0 International; "
                   "package metadata: Apache-2.0); Copyright Ethyca, Inc.",
        "generated_by": "tools/fides/build_taxonomy.py",
    }
    for kind in KINDS:
        items = yaml.safe_load((args.folder / FILES[kind]).read_text(encoding="utf-8"))[kind]
        entries = {}
        for item in sorted(items, key=lambda i: i["fides_key"]):
            entry = {"name": item["name"]}
            if item.get("parent_key"):
                entry["parent"] = item["parent_key"]
            if item.get("version_deprecated"):
                entry["deprecated"] = item["version_deprecated"]
                if item.get("replaced_by"):
                    entry["replaced_by"] = item["replaced_by"]
            entries[item["fides_key"]] = entry
        out[kind] = entries
    args.output.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print({k: len(out[k]) for k in KINDS})


if __name__ == "__main__":
    main()
