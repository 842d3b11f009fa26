"""Wire regressions: inputs the network fuzzer (fuzz/net/) found breaking a server, replayed against the
target under test. Each file in wire_cases/ was written from a reproducer by `make fuzz-target-case`;
it names the requirement it is judged under, the oracle that fired, and where it was found.

Survival cases (the input killed a server, or stopped it answering) are judged under ERR-06: after the
input, a new client still completes a handshake. Protocol cases are judged under the requirement the
oracle checks (a closed session must not answer, what the server sends must be valid Engine.IO).
The fuzzer's executor replays the input; it is imported only when there is a case to run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.targets import health

CASES_DIR = Path(__file__).resolve().parent / "wire_cases"
CASES = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(CASES_DIR.glob("*.json"))]
SURVIVAL = [c for c in CASES if c["judged_by"] == "survival"]
PROTOCOL = [c for c in CASES if c["judged_by"] == "protocol"]


def _replay(target: Any, doc: dict) -> Any:
    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "fuzz" / "net"))
    from wirefuzz.execute import run_program
    from wirefuzz.program import program_from_json

    return run_program(target.host, target.port, program_from_json(doc["program"]))


if SURVIVAL:

    @pytest.mark.parametrize("doc", SURVIVAL, ids=[c["name"] for c in SURVIVAL])
    def test_ERR_06_wire_regression(case: Any, target: Any, doc: dict) -> None:
        transcript = _replay(target, doc)
        status = health(target)
        answers = [r.describe() for r in transcript.received[-8:]]
        case.must(status is None, f"{doc['description']}: a new client still completes a handshake afterwards",
                  "a fresh handshake answered", {"after the input": status, "last answers": answers})  # fmt: skip


def _protocol_test(docs: list[dict]) -> Any:
    @pytest.mark.parametrize("doc", docs, ids=[c["name"] for c in docs])
    def test(case: Any, target: Any, doc: dict) -> None:
        transcript = _replay(target, doc)
        fired = [f"{p.oracle}: {p.detail}" for p in transcript.problems if p.oracle == doc["oracle"]]
        case.check(not fired, f"{doc['description']}: the oracle {doc['oracle']!r} stays silent", [], fired)

    return test


# One test function per requirement, named after it (the catalogue reads the ID from the name).
for _req in sorted({c["requirement"] for c in PROTOCOL}):
    _name = f"test_{_req.replace('-', '_')}_wire_regression"
    globals()[_name] = _protocol_test([c for c in PROTOCOL if c["requirement"] == _req])
    globals()[_name].__name__ = _name
