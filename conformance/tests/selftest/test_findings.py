"""Self-tests of conformance/findings.py and of the committed docs/findings pages (servers, and clients
under docs/findings/clients/): every page is what its source records generate, every finding names a
case the suite has, and every transcript line a page quotes comes from the report it was made from. No
target or client is needed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import findings

CONFORMANCE = Path(__file__).resolve().parents[2]
FINDINGS = CONFORMANCE.parent / "docs" / "findings"
SECTION = re.compile(r"^## (?P<rid>\S+) · (?P<level>\S+) · (?P<tally>.+)$", re.M)
SHOWN = re.compile(r"^### (?P<verdict>fail|non-strict) · `(?P<case>[^`]+)`$", re.M)
LISTED = re.compile(r"^- (?P<verdict>fail|non-strict) · `(?P<case>[^`]+)`: Actual", re.M)
LINE_CUT = re.compile(r" … \d+ more characters, whole transcript in \S+$")


def suite_cases(folder: str = "tests/protocol", at_least: int = 200) -> set[str]:
    """The node ids of every case under `folder` (the protocol cases, or the client suite's), as pytest
    collects them."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", folder],
        cwd=CONFORMANCE,
        capture_output=True,
        text=True,
        check=False,
    )
    ids = {line.strip() for line in proc.stdout.splitlines() if line.startswith(folder + "/")}
    assert len(ids) > at_least, proc.stdout[-2000:] + proc.stderr[-2000:]
    return ids


def quoted_transcripts(md: str) -> list[list[str]]:
    """The transcript blocks of a page, one list of lines per section, cut marks kept."""
    return [block.splitlines() for block in re.findall(r"Wire transcript \(`>`[^\n]*\n\n```\n(.*?)\n```", md, re.S)]


def named_cases(md: str) -> list[tuple[str, str, str]]:
    """(requirement, verdict, case) for every case a page names, in page order."""
    out = []
    sections = list(SECTION.finditer(md))
    for i, sec in enumerate(sections):
        text = md[sec.end() : sections[i + 1].start() if i + 1 < len(sections) else len(md)]
        for m in sorted([*SHOWN.finditer(text), *LISTED.finditer(text)], key=lambda m: m.start()):
            out.append((sec["rid"], m["verdict"], m["case"]))
    return out


def from_source(quoted: list[str], source: list[str]) -> bool:
    """Whether a quoted transcript is the source's, as findings.cut_transcript cuts it: its first lines
    and, after a `… N more messages` mark, its last ones (N of them left out); a line cut at the end
    with `… N more characters` is the start of the source line, N characters short of it."""

    def same(shown: str, line: str) -> bool:
        cut = LINE_CUT.search(shown)
        if cut is None:
            return shown == line
        kept = shown[: cut.start()]
        more = int(cut.group(0).split()[1])
        return line.startswith(kept) and len(line) == len(kept) + more

    marks = [i for i, line in enumerate(quoted) if line.startswith("… ") and "more messages" in line]
    if not marks:
        return len(quoted) == len(source) and all(map(same, quoted, source))
    if len(marks) != 1:
        return False
    head, tail = quoted[: marks[0]], quoted[marks[0] + 1 :]
    left_out = int(quoted[marks[0]].split()[1])
    return (
        len(head) + left_out + len(tail) == len(source)
        and all(map(same, head, source[: len(head)]))
        and all(map(same, tail, source[len(source) - len(tail) :]))
    )


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
    named = [case for _, _, case in named_cases(md)]
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


def test_one_section_per_requirement_its_most_telling_case_shown_the_others_listed(tmp_path):
    report = sample_report()
    fail, non_strict = report["cases"][0], report["cases"][1]
    # The case shown is the first in case order, whatever the length of its transcript (which varies
    # from run to run with retries and pings): the same verdicts give the same page.
    short_fail = dict(fail, case=fail["case"] + "[short]", transcript=fail["transcript"][:1])
    fail["transcript"] = fail["transcript"] * 3
    second = dict(non_strict, case=non_strict["case"] + "[again]", actual="x" * 500)
    report["cases"] = [short_fail, second, fail, non_strict]
    md = findings.write(tmp_path, [report])[0].read_text(encoding="utf-8")
    assert [m["rid"] for m in SECTION.finditer(md)] == ["EIO-HS-01", "EIO-HS-07"]  # requirements with a fail first
    assert [m["case"] for m in SHOWN.finditer(md)] == [fail["case"], non_strict["case"]]
    assert [m["case"] for m in LISTED.finditer(md)] == [short_fail["case"], second["case"]]
    assert f"`{'x' * findings.ACTUAL_CHARS} … {500 - findings.ACTUAL_CHARS} more characters`" in md


def test_long_transcripts_are_cut_and_say_where_the_rest_is():
    lines = [f"  0.{i:03d} #1 > ws text [3] m{i:02d}" for i in range(40)]
    lines[2] = "  0.002 #1 > " + "y" * 500
    shown = findings.cut_transcript(lines, "t.json")
    assert len(shown) == findings.HEAD_LINES + 1 + findings.TAIL_LINES
    assert (
        shown[findings.HEAD_LINES]
        == f"… {40 - findings.HEAD_LINES - findings.TAIL_LINES} more messages, whole transcript in t.json"
    )
    assert shown[2].endswith(f" … {len(lines[2]) - findings.LINE_CHARS} more characters, whole transcript in t.json")
    assert from_source(shown, lines)
    assert not from_source(shown, lines[1:])  # a line missing from the source is caught
    assert not from_source([*shown[:2], shown[2].replace("yyy", "yzy", 1), *shown[3:]], lines)
    assert findings.cut_transcript(lines[:5], "t.json") == lines[:2] + [shown[2]] + lines[3:5]


# Pages in docs/findings/ that conformance/findings.py does not write: the wire fuzzer's page is generated
# from fuzz/net/findings/ (`make fuzz-target-findings`) and checked by the fuzzer's self-test.
OTHER_PAGES = {"wire-fuzzing.md"}


def test_client_reports_get_client_pages_with_the_client_reproduction_and_its_upstream_issue(tmp_path):
    report = sample_report()
    fail = report["cases"][0]
    crash = dict(
        fail,
        case="conformance/tests/client/test_cerr_bad_server_input.py::test_CERR_04_attachment_errors[attachment-alone]",
        requirement="CERR-04",
        actual="an uncaught exception was printed on stderr",
        fixture={
            "stderr_tail": "\n".join(f"at /somewhere/checkout/conformance/clients/x/F.java:{i}" for i in range(20))
        },
    )
    client = {"target": "java", "catalogue": "client", "target_info": {"description": "the Java client"}}
    reports = [
        report | client | {"cases": [crash]},
        report | client | {"target": "reference", "cases": [crash]},  # the project's own client: no page
        report | client | {"target": "./my-fixture --flag", "cases": [crash]},  # someone's own fixture: no page
    ]
    written = findings.write(tmp_path, reports)
    assert [p.relative_to(tmp_path).as_posix() for p in written] == ["clients/java.md"]
    md = written[0].read_text(encoding="utf-8")
    case = "tests/client/test_cerr_bad_server_input.py::test_CERR_04_attachment_errors[attachment-alone]"
    assert named_cases(md) == [("CERR-04", "fail", case)]  # the node id as pytest names it from conformance/
    pytest = "../build/venv/bin/python -m pytest -q -p no:cacheprovider"
    assert f"make clients-java && cd conformance && {pytest} --catalogue client --client java '{case}'" in md
    assert "socketio/socket.io-client-java#797" in md  # conformance/clients/known-issues.json
    assert "the Java client" in md and "Attachment errors" in md  # the client catalogue's text
    assert "at conformance/clients/x/F.java:19" in md and "/somewhere" not in md  # the checkout's path left out
    assert "at conformance/clients/x/F.java:4\n" not in md  # the stderr tail's last lines only
    assert from_source(quoted_transcripts(md)[0], findings.transcript_lines(crash))
    assert findings.check(tmp_path) == []
    written[0].write_text(md.replace("F.java:19", "F.java:18"), encoding="utf-8")
    assert findings.check(tmp_path) != []


def test_committed_findings_are_generated_and_name_real_cases():
    pages = sorted(p for p in FINDINGS.glob("*.md") if p.name not in OTHER_PAGES)
    client_pages = sorted((FINDINGS / findings.CLIENT_PAGES).glob("*.md"))
    assert pages, "docs/findings has no page: run make matrix, then make findings"
    assert client_pages, "docs/findings/clients has no page: run make client-matrix"
    assert findings.check(FINDINGS) == []
    cases = suite_cases() | suite_cases("tests/client", at_least=100)
    for md_path in [*pages, *client_pages]:
        source = json.loads(md_path.with_suffix(".json").read_text(encoding="utf-8"))
        md = md_path.read_text(encoding="utf-8")
        named = named_cases(md)
        records = {r["case"]: r for r in source["cases"]}
        assert sorted(case for _, _, case in named) == sorted(records), md_path  # every case named, once
        for rid, verdict, case in named:
            assert case in cases, (md_path, case)
            assert (rid, verdict) == (records[case]["requirement"], records[case]["verdict"]), (md_path, case)
        shown = [m["case"] for m in SHOWN.finditer(md)]
        quoted = iter(quoted_transcripts(md))
        for case in shown:
            if records[case].get("transcript"):
                assert from_source(next(quoted), findings.transcript_lines(records[case])), (md_path, case)
