"""Self-test of the report path with pytest-xdist workers: the same cases run in-process and in two
workers give one JSON index each, with the same cases and the same verdicts. Needs
build/reference-server (the test-conformance-harness make target builds it)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

CONFORMANCE = Path(__file__).resolve().parents[2]
# A handful of quick cases, with transports and a non-pass verdict (SIO-PKT-04's ack id with leading
# zeros is non-strict on the reference server), so verdicts other than pass travel too.
SELECTION = [
    "--req",
    "EIO-HS-01",
    "--req",
    "EIO-PKT-01",
    "--req",
    "SIO-ACK-01",
    "--req",
    "ERR-04",
    "--req",
    "SIO-PKT-04",
]


def _run(tmp: Path, workers: int) -> dict:
    out = tmp / f"index-{workers}.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "tests/protocol",
            "-q",
            "-n",
            str(workers),
            "--target",
            "reference",
            "--report-json",
            str(out),
            *SELECTION,
        ],
        cwd=CONFORMANCE,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8"))


def test_two_workers_give_the_same_index_as_one_process(tmp_path):
    alone, split = _run(tmp_path, 0), _run(tmp_path, 2)
    verdicts_alone = {c["case"]: c["verdict"] for c in alone["cases"]}
    verdicts_split = {c["case"]: c["verdict"] for c in split["cases"]}
    assert len(verdicts_alone) >= 8
    assert len(split["cases"]) == len(verdicts_split), "a case reported twice"
    assert verdicts_split == verdicts_alone
    assert "non-strict" in verdicts_alone.values()
    assert split["totals"] == alone["totals"]
    assert split["requirements"] == alone["requirements"]
    assert [c["case"] for c in split["cases"]] == sorted(verdicts_split)
