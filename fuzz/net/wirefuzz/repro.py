"""Reproducers: a finding saved as a JSON file, replayed against any target, and turned into a
regression case of the conformance suite.

A reproducer (`format` wirefuzz-reproducer/1) holds the finding (oracle, one-line summary, the key that
tells it from others), the target it was found on (name, protocol package versions, the tail of its
output), how it was found (seed, input index, operators, inputs and seconds before it), the minimised
program and the original one, and the target's answers to the minimised program.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import ROOT
from .oracles import SURVIVAL_ORACLES
from .program import Program, program_from_json, program_to_json

if TYPE_CHECKING:
    from .oracles import Evidence
    from .target import Handle

FORMAT = "wirefuzz-reproducer/1"
CASE_FORMAT = "wire-regression/1"
CASES_DIR = ROOT / "conformance" / "tests" / "protocol" / "wire_cases"
# The requirement a regression case is judged under, by oracle.
REQUIREMENT = {
    "crash": "ERR-06",
    "hang": "ERR-06",
    "rss": "ERR-06",
    "invalid-http": "EIO-PKT-01",
    "invalid-eio": "EIO-PKT-01",
    "invalid-ws": "EIO-PKT-01",
    "bad-accept": "EIO-PKT-01",
    "frame-after-close": "EIO-PKT-01",
    "closed-answers": "ERR-01",
}


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def save_reproducer(out: Path, h: Handle, evidence: Evidence, key: str, program: Program, original: Program | None,
                    found: dict, minimised: dict | None) -> Path:  # fmt: skip
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{evidence.oracle}-{hashlib.sha256(key.encode()).hexdigest()[:10]}.json"
    doc: dict[str, Any] = {
        "format": FORMAT,
        "finding": {"oracle": evidence.oracle, "summary": evidence.summary, "key": key},
        "target": {"name": h.name, "description": h.target.description, "version": h.version,
                   "eio": list(h.profile.versions)},
        # Paths in the target's output are shown relative to the repository, wherever it was checked out.
        "output_tail": [ln.replace(f"{ROOT}/", "") for ln in evidence.stderr],
        "found": found,
        "minimised": minimised,
        "program": program_to_json(program),
        "answers": evidence.transcript,
        "replay": f"make fuzz-target-replay FILE={_rel(path)} TARGET={h.name}",
    }  # fmt: skip
    if original is not None:
        doc["original"] = program_to_json(original)
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def load(path: Path) -> dict:
    doc = json.loads(path.read_text(encoding="utf-8"))
    if doc.get("format") not in (FORMAT, CASE_FORMAT):
        raise SystemExit(f"{path}: not a reproducer ({FORMAT}) or a regression case ({CASE_FORMAT})")
    return doc


def program_of(doc: dict) -> Program:
    return program_from_json(doc["program"])


def oracle_of(doc: dict) -> str:
    return str(doc["oracle"] if doc.get("format") == CASE_FORMAT else doc["finding"]["oracle"])


def case_name(doc: dict, name: str | None) -> str:
    if name:
        base = name
    else:
        f = doc["finding"]
        base = f"{doc['target']['name']}-{f['oracle']}-{hashlib.sha256(f['key'].encode()).hexdigest()[:8]}"
    return re.sub(r"[^a-z0-9-]+", "-", base.lower()).strip("-")


def to_case(path: Path, name: str | None = None, cases_dir: Path = CASES_DIR) -> Path:
    """Writes the reproducer as a case file that the conformance suite runs against every target."""
    doc = load(path)
    if doc.get("format") != FORMAT:
        raise SystemExit(f"{path}: already a regression case")
    finding = doc["finding"]
    oracle = finding["oracle"]
    if oracle not in REQUIREMENT:
        raise SystemExit(f"{path}: no requirement is known for the oracle {oracle!r}")
    if doc.get("minimised") is None:
        raise SystemExit(f"{path}: this finding was not reproduced by one input alone; it cannot become a case")
    versions = ", ".join(f"{k} {v}" for k, v in doc["target"]["version"].items())
    case = {
        "format": CASE_FORMAT,
        "name": case_name(doc, name),
        "requirement": REQUIREMENT[oracle],
        "oracle": oracle,
        "judged_by": "survival" if oracle in SURVIVAL_ORACLES else "protocol",
        "description": f"{finding['summary']} on {doc['target']['name']} ({versions}); found by the wire fuzzer "
        f"(seed {doc['found'].get('seed')}, input {doc['found'].get('index')})",
        "found_on": {"target": doc["target"]["name"], "version": doc["target"]["version"],
                     "output_tail": doc.get("output_tail", [])[-12:]},
        "program": doc["program"],
    }  # fmt: skip
    cases_dir.mkdir(parents=True, exist_ok=True)
    out = cases_dir / f"{case['name']}.json"
    out.write_text(json.dumps(case, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return out
