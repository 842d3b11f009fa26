"""Wire regressions: inputs the network fuzzer (fuzz/net/) found breaking a server, replayed against the
target under test. Each file in wire_cases/ was written from a reproducer by `make fuzz-target-case`;
it names the requirement it is judged under, the oracle that fired, and where it was found.

Survival cases (the input killed a server, or stopped it answering) are judged under ERR-06: after the
input, a new client still completes a handshake. Protocol cases are judged under the requirement the
oracle checks (a closed session must not answer, what the server sends must be valid Engine.IO).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "fuzz" / "net"))

from wirefuzz.execute import run_program  # noqa: E402
from wirefuzz.oracles import SURVIVAL_ORACLES  # noqa: E402
from wirefuzz.program import program_from_json  # noqa: E402
from wirefuzz.repro import CASES_DIR, load_cases  # noqa: E402

from harness.targets import health

CASES = load_cases(CASES_DIR)
SURVIVAL = [c for c in CASES if c["oracle"] in SURVIVAL_ORACLES]


def _replay(target, doc: dict):  # noqa: ANN001, ANN202 (harness Target, wirefuzz Transcript)
    return run_program(target.host, target.port, program_from_json(doc["program"]))


if SURVIVAL:

    @pytest.mark.parametrize("doc", SURVIVAL, ids=[c["name"] for c in SURVIVAL])
    def test_ERR_06_wire_regression(case, target, doc) -> None:
        transcript = _replay(target, doc)
        status = health(target)
        answers = [r.describe() for r in transcript.received[-8:]]
        case.must(status is None, f"{doc['description']}: a new client still completes a handshake afterwards",
                  "a fresh handshake answered", {"after the input": status, "last answers": answers})  # fmt: skip


def _protocol_test(requirement: str, docs: list[dict]):  # noqa: ANN202
    @pytest.mark.parametrize("doc", docs, ids=[c["name"] for c in docs])
    def test(case, target, doc) -> None:  # noqa: ANN001
        transcript = _replay(target, doc)
        fired = [f"{p.oracle}: {p.detail}" for p in transcript.problems if p.oracle == doc["oracle"]]
        case.check(not fired, f"{doc['description']}: the oracle {doc['oracle']!r} stays silent", [], fired)

    return test


# One test function per requirement, named after it (the catalogue reads the ID from the name).
for _req in sorted({c["requirement"] for c in CASES if c["oracle"] not in SURVIVAL_ORACLES}):
    _docs = [c for c in CASES if c["requirement"] == _req and c["oracle"] not in SURVIVAL_ORACLES]
    _name = f"test_{_req.replace('-', '_')}_wire_regression"
    globals()[_name] = _protocol_test(_req, _docs)
    globals()[_name].__name__ = _name
