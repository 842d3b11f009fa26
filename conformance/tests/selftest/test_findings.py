"""Self-tests of conformance/findings.py and of the committed docs/findings pages: every page is what
its source records generate, every finding names a case the suite has, and every transcript line a
page quotes comes from the report it was made from. No target is needed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import findings

CONFORMANCE = Path(__file__).resolve().parents[2]
FINDINGS = CONFORMANCE.parent / "docs" / "findings"
CASE_HEADING = re.compile(r"^### \d+\. (?P<rid>\S+) · (?P<verdict>fail|non-strict) · `(?P<case>[^`]+)`$", re.M)


def suite_cases() -> set[str]:
    """The node ids of every protocol case, as pytest collects them."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "tests/protocol"],
        cwd=CONFORMANCE,
        capture_output=True,
        text=True,
        check=False,
    )
    ids = {line.strip() for line in proc.stdout.splitlines() if line.startswith("tests/protocol/")}
    assert len(ids) > 200, proc.stdout[-2000:] + proc.stderr[-2000:]
    return ids


def quoted_transcripts(md: str) -> list[list[str]]:
    """The transcript blocks of a page, one list of lines per finding."""
    out = []
    for block in re.findall(r"Wire transcript \(`>`[^\n]*\n\n```\n(.*?)\n```", md, re.S):
        out.append([line for line in block.splitlines() if not line.startswith("… ")])
    return out


def sample_report() -> dict:
    """A report in the harness's format: one fail with a transcript, one non-strict without, one pass."""
    wire = [
        {
            "t": 0.001,
            "conn": 1,
            "dir": ">",
            "text": "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\\r\\n…",
            "bytes": 80,
        },
        {"t": 0.004, "conn": 1, "dir": "<", "text": 'HTTP/1.1 200 OK\\r\\n…0{"sid":"x"}', "bytes": 120},
        {"t": 0.500, "conn": 1, "dir": "!", "text": "end of stream from the target"},
    ]
    cases = [
        {
            "case": "tests/protocol/test_b_handshake.py::test_EIO_HS_01_polling_handshake",
            "requirement": "EIO-HS-01",
            "level": "MUST",
            "verdict": "fail",
            "expected": "'maxPayload'",
            "actual": "'absent'",
            "message": "EIO-HS-01 [MUST] …",
            "duration": 0.5,
            "transcript": wire,
        },
        {
            "case": "tests/protocol/test_b_handshake.py::test_EIO_HS_07_websocket_transport_without_upgrade",
            "requirement": "EIO-HS-07",
            "level": "SHOULD",
            "verdict": "non-strict",
            "expected": "400",
            "actual": "404",
            "message": "EIO-HS-07 [SHOULD] …",
            "duration": 0.1,
        },
        {
            "case": "tests/protocol/test_b_handshake.py::test_EIO_HS_02_websocket_handshake",
            "requirement": "EIO-HS-02",
            "level": "MUST",
            "verdict": "pass",
            "expected": None,
            "actual": None,
            "message": "",
            "duration": 0.1,
            "transcript": [{"t": 0.0, "conn": 1, "dir": ">", "text": "never quoted", "bytes": 12}],
        },
    ]
    return {"target": "socketioxide", "generated": "2026-01-01T00:00:00Z", "totals": {"fail": 1}, "cases": cases}


def test_generator_quotes_only_fail_and_non_strict_with_their_own_transcript(tmp_path):
    report = sample_report()
    reference = dict(report, target="reference")
    written = findings.write(tmp_path, [report, reference])
    assert [p.name for p in written] == ["socketioxide.md"]  # the reference server gets no findings page
    md = written[0].read_text(encoding="utf-8")
    named = [m["case"] for m in CASE_HEADING.finditer(md)]
    assert named == [report["cases"][0]["case"], report["cases"][1]["case"]]
    blocks = quoted_transcripts(md)
    assert len(blocks) == 1
    assert [line.split(maxsplit=2)[-1] for line in blocks[0]] == [
        f"{m['dir']} {m['text']}" for m in report["cases"][0]["transcript"]
    ]
    assert "never quoted" not in md
    assert "Totodore/socketioxide#" not in md  # no upstream issue is known for these two requirements
    assert "make thirdparty-socketioxide" in md
    assert findings.check(tmp_path) == []
    written[0].write_text(md.replace("404", "405"), encoding="utf-8")  # a page edited by hand is caught
    assert findings.check(tmp_path) != []


# Pages in docs/findings/ that conformance/findings.py does not write: the wire fuzzer's page is generated
# from fuzz/net/findings/ (`make fuzz-target-findings`) and checked by the fuzzer's self-test.
OTHER_PAGES = {"wire-fuzzing.md"}


def test_committed_findings_are_generated_and_name_real_cases():
    pages = sorted(p for p in FINDINGS.glob("*.md") if p.name not in OTHER_PAGES)
    assert pages, "docs/findings has no page: run make matrix, then make findings"
    assert findings.check(FINDINGS) == []
    cases = suite_cases()
    for md_path in pages:
        source = json.loads(md_path.with_suffix(".json").read_text(encoding="utf-8"))
        md = md_path.read_text(encoding="utf-8")
        headings = list(CASE_HEADING.finditer(md))
        assert len(headings) == len(source["cases"]), md_path
        for m, record in zip(headings, source["cases"], strict=True):
            assert m["case"] == record["case"] and m["case"] in cases, (md_path, m["case"])
            assert m["verdict"] == record["verdict"] and m["rid"] == record["requirement"]
        quoted = iter(quoted_transcripts(md))
        for record in source["cases"]:
            if record.get("transcript"):
                lines = next(quoted)
                assert lines == findings.transcript_lines(record)[: len(lines)], (md_path, record["case"])
