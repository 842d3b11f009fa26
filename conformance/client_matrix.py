"""Client matrix from the client side's JSON indexes; or a check of one index against recorded verdicts.

    python conformance/client_matrix.py --out docs build/conformance-client/*/index.json
writes docs/client-matrix.md and docs/client-matrix.html. The findings of each client come from the
same indexes through conformance/findings.py (docs/findings/clients/<client>.md).

    python conformance/client_matrix.py --check EXPECTED.json INDEX.json   (--record EXPECTED.json INDEX.json writes it)
exits 1 when any case's verdict differs from the recorded one (a new finding, a fixed one, or a
change in the suite), listing each difference.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from matrix import COLOUR, SYMBOL, VERDICTS, cell, load  # noqa: E402  (the server matrix's vocabulary)

from harness import catalogue  # noqa: E402

GROUPS = [
    ("Engine.IO handshake", "CEIO-HS"),
    ("Heartbeat", "CEIO-HB"),
    ("Upgrade", "CEIO-UP"),
    ("Long-polling", "CEIO-POLL"),
    ("Namespaces", "CSIO-NSP"),
    ("Events", "CSIO-EV"),
    ("Acknowledgements", "CSIO-ACK"),
    ("Binary", "CSIO-BIN"),
    ("Reconnection", "CSIO-RC"),
    ("Buffering", "CSIO-BUF"),
    ("Bad server input", "CERR"),
]


def totals(index: dict[str, Any], reqs: dict[str, catalogue.Requirement]) -> Counter[str]:
    return Counter(cell(index, r) for r in reqs)


def versions(index: dict[str, Any]) -> str:
    """The resolved version of the client package and of its protocol dependencies, as the report
    records them (from the lock or the build's metadata when the run started)."""
    found = index.get("target_info", {}).get("packages") or {}
    return ", ".join(f"{p} {v}" for p, v in found.items()) or "not recorded"


def agent(index: dict[str, Any]) -> str:
    return index.get("target_info", {}).get("agent") or "not recorded"


def markdown(indexes: list[dict[str, Any]], reqs: dict[str, catalogue.Requirement]) -> str:
    names = [i["target"] for i in indexes]
    lines = [
        "# Client matrix",
        "",
        "One verdict per requirement and client: the worst verdict of the requirement's cases, from "
        "`make client-matrix`. Requirements: conformance/CLIENT-REQUIREMENTS.md; findings per client: "
        "docs/findings/clients/.",
        "",
        "| Totals (requirements) | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for v in VERDICTS:
        lines.append(f"| {v} | " + " | ".join(str(totals(i, reqs)[v]) for i in indexes) + " |")
    lines.append("| cases run | " + " | ".join(str(len(i.get("cases", []))) for i in indexes) + " |")
    lines += ["", "## Clients", "", "| client | versions | agent (the fixture's own line) |", "|---|---|---|"]
    for i in indexes:
        lines.append(f"| {i['target']} | {versions(i)} | {agent(i)} |")
    for title, prefix in GROUPS:
        lines += [
            "",
            f"## {title}",
            "",
            "| ID | level | " + " | ".join(names) + " |",
            "|---|---|" + "---|" * len(names),
        ]
        for rid in (r for r in reqs if r.startswith(prefix + "-")):
            lines.append(f"| {rid} | {reqs[rid].level} | " + " | ".join(SYMBOL[cell(i, rid)] for i in indexes) + " |")
    return "\n".join(lines) + "\n"


def html_page(indexes: list[dict[str, Any]], reqs: dict[str, catalogue.Requirement]) -> str:
    names = [i["target"] for i in indexes]
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    rows = []
    for title, prefix in GROUPS:
        rows.append(f'<tr><th colspan="{len(names) + 3}" class="g">{html.escape(title)}</th></tr>')
        for rid in (r for r in reqs if r.startswith(prefix + "-")):
            cells = "".join(f'<td style="background:{COLOUR[cell(i, rid)]}">{cell(i, rid)}</td>' for i in indexes)
            rows.append(
                f"<tr><td>{rid}</td><td>{reqs[rid].level}</td><td class='t'>{html.escape(reqs[rid].text)}</td>"
                f"{cells}</tr>"
            )
    tot = "".join(
        f"<tr><td colspan='3'>{v}</td>" + "".join(f"<td>{totals(i, reqs)[v]}</td>" for i in indexes) + "</tr>"
        for v in VERDICTS
    )
    clients = "".join(
        f"<tr><td>{html.escape(i['target'])}</td><td>{html.escape(versions(i))}</td><td>{html.escape(agent(i))}</td></tr>"
        for i in indexes
    )
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Socket.IO client matrix</title>
<style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}td,th{{border:1px solid #aaa;padding:2px 6px;font-size:13px}}
th.g{{text-align:left;background:#eee}}td.t{{max-width:40em}}</style></head><body>
<h1>Socket.IO client matrix</h1>
<p>The suite plays the server; each client runs its fixture (conformance/CLIENT-FIXTURE.md). Requirements:
conformance/CLIENT-REQUIREMENTS.md.</p>
<table><tr><th colspan="3">Totals (requirements)</th>{head}</tr>{tot}</table><p></p>
<table><tr><th>client</th><th>versions</th><th>agent (the fixture's own line)</th></tr>{clients}</table><p></p>
<table><tr><th>ID</th><th>level</th><th>requirement</th>{head}</tr>{''.join(rows)}</table></body></html>
"""


def check(expected_path: Path, index_path: Path) -> int:
    recorded = json.loads(expected_path.read_text(encoding="utf-8"))
    expected = recorded["verdicts"]
    # Cases whose verdict rests on the client's timers measured from outside: on a loaded machine a
    # SHOULD-level timing may be missed, so either of the listed verdicts is accepted (never `fail`).
    timing: dict[str, list[str]] = recorded.get("timing", {})
    if not index_path.exists():
        print(f"client check: no report at {index_path}", file=sys.stderr)
        return 1
    got = {c["case"].split("::")[-1]: c["verdict"] for c in json.loads(index_path.read_text())["cases"]}
    diffs = [
        (k, expected.get(k, "(no such case)"), got.get(k, "(not run)"))
        for k in sorted(set(expected) | set(got))
        if expected.get(k) != got.get(k) and got.get(k) not in timing.get(k, [])
    ]
    for name, want, seen in diffs:
        print(f"client check: {name}: recorded {want}, now {seen}", file=sys.stderr)
    counts = Counter(got.values())
    print(
        f"client check: {len(got)} cases, {len(diffs)} verdicts differ from {expected_path.name} ("
        + ", ".join(f"{v} {counts[v]}" for v in VERDICTS if counts.get(v))
        + ")"
    )
    return 1 if diffs else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--check", type=Path, help="recorded verdicts (JSON) to compare one index with")
    ap.add_argument("--record", type=Path, help="write one index's verdicts as the recorded ones (JSON)")
    ap.add_argument("indexes", nargs="+", type=Path)
    args = ap.parse_args(argv)
    if args.check:
        return check(args.check, args.indexes[0])
    if args.record:
        index = json.loads(args.indexes[0].read_text(encoding="utf-8"))
        doc = {
            "client": index["target"],
            "note": "recorded with client_matrix.py --record; checked by make test",
            "verdicts": {c["case"].split("::")[-1]: c["verdict"] for c in index["cases"]},
        }
        if args.record.exists():  # the accepted timing verdicts are kept
            doc["timing"] = json.loads(args.record.read_text(encoding="utf-8")).get("timing", {})
        args.record.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return 0
    indexes = load(args.indexes)
    if not indexes or args.out is None:
        print("client matrix: no index found (or no --out)", file=sys.stderr)
        return 1
    reqs = catalogue.load(catalogue.CLIENT_PATH)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "client-matrix.md").write_text(markdown(indexes, reqs), encoding="utf-8")
    (args.out / "client-matrix.html").write_text(html_page(indexes, reqs), encoding="utf-8")
    print(f"client matrix: {len(indexes)} client(s) → {args.out / 'client-matrix.md'}, .html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
