"""Compatibility matrix: requirements × targets from the JSON indexes written by the harness plugin.

    python conformance/matrix.py --out DIR build/conformance/*/index.json
writes DIR/matrix.md and DIR/matrix.html.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import catalogue  # noqa: E402

VERDICTS = [
    "pass",
    "non-strict",
    "informational",
    "unimplemented",
    "not-applicable",
    "precondition-failed",
    "fail",
    "error",
    "untested",
]
SYMBOL = {
    "pass": "pass",
    "non-strict": "non-strict",
    "informational": "info",
    "unimplemented": "unimpl",
    "not-applicable": "n/a",
    "precondition-failed": "pre-fail",
    "fail": "**FAIL**",
    "error": "**ERROR**",
    "untested": "untested",
}
COLOUR = {
    "pass": "#c8f0c8",
    "non-strict": "#fff0a0",
    "informational": "#dde8ff",
    "unimplemented": "#e8e8e8",
    "not-applicable": "#f4f4f4",
    "precondition-failed": "#ffd8b0",
    "fail": "#ffb0b0",
    "error": "#ff8080",
    "untested": "#ffffff",
}
GROUPS = [
    ("A. Engine.IO packets", "EIO-PKT"),
    ("B. Handshake", "EIO-HS"),
    ("C. Heartbeat", "EIO-HB"),
    ("C. Close", "EIO-CL"),
    ("C. Polling", "EIO-POLL"),
    ("D. Upgrade", "EIO-UP"),
    ("E. Socket.IO packets", "SIO-PKT"),
    ("F. Namespaces", "SIO-NSP"),
    ("F. Rooms", "SIO-ROOM"),
    ("F. Broadcast", "SIO-BC"),
    ("F. Acks", "SIO-ACK"),
    ("F. Disconnect", "SIO-DC"),
    ("F. Recovery", "SIO-CSR"),
    ("G. Errors", "ERR"),
    ("H. WebSocket", "WS"),
]


OUTPUT_TAIL_LINES = 30  # lines of a target run's output shown when its report was cut short


def load(paths: list[Path]) -> list[dict]:
    """The indexes; each one cut short gets the tail of its run's output (output.log beside it, which
    `make server-matrix` keeps) under `output_tail`."""
    out = []
    for p in paths:
        if p.exists():
            index = json.loads(p.read_text(encoding="utf-8"))
            if index.get("cases_missing"):
                index["output_tail"] = output_tail(p.parent / "output.log")
            out.append(index)
    return out


def output_tail(log: Path) -> str:
    if not log.is_file():
        return f"(no {log.name} beside the report)"
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(lines[-OUTPUT_TAIL_LINES:])


def cut_short(index: dict) -> str | None:
    """How a report that holds fewer cases than its run collected falls short, or None."""
    missing = index.get("cases_missing") or []
    if not missing:
        return None
    return (
        f"{len(index.get('cases', []))} of {index.get('cases_collected')} collected cases reported "
        f"(pytest exit status {index.get('exit_status')}); {len(missing)} missing, the first {missing[0]}"
    )


def versions(index: dict) -> str:
    """What the target ran: its protocol packages at their resolved versions (or its implementation)."""
    info = index.get("target_info", {})
    packages = info.get("packages") or {}
    if packages:
        return ", ".join(f"{p} {v}" for p, v in packages.items())
    return info.get("implementation") or info.get("description") or ""


def cell(index: dict, rid: str) -> str:
    return index.get("requirements", {}).get(rid, {}).get("verdict", "untested")


def markdown(indexes: list[dict], reqs: dict) -> str:
    names = [i["target"] for i in indexes]
    lines = [
        "# Compatibility matrix",
        "",
        "One verdict per requirement and target: the worst verdict of the requirement's cases. "
        "Levels and wording: conformance/REQUIREMENTS.md.",
        "",
        "| Totals (requirements) | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for v in VERDICTS:
        counts = [Counter(cell(i, r) for r in reqs)[v] for i in indexes]
        lines.append(f"| {v} | " + " | ".join(str(c) for c in counts) + " |")
    lines.append("| cases run | " + " | ".join(str(len(i.get("cases", []))) for i in indexes) + " |")
    short = [(i, cut_short(i)) for i in indexes if cut_short(i)]
    if short:
        lines += ["", "## Reports cut short", ""]
        lines += ["The verdicts of these targets' missing cases are untested above, not judged."]
        for i, how in short:
            lines += ["", f"**{i['target']}**: {how}. The run's output ends:", "", "```text", i["output_tail"], "```"]
    lines += ["", "## Targets", "", "| target | versions |", "|---|---|"]
    lines += [f"| {i['target']} | {versions(i)} |" for i in indexes]
    for title, prefix in GROUPS:
        ids = [r for r in reqs if r.startswith(prefix + "-")]
        lines += [
            "",
            f"## {title}",
            "",
            "| ID | level | " + " | ".join(names) + " |",
            "|---|---|" + "---|" * len(names),
        ]
        for rid in ids:
            lines.append(f"| {rid} | {reqs[rid].level} | " + " | ".join(SYMBOL[cell(i, rid)] for i in indexes) + " |")
    return "\n".join(lines) + "\n"


def html_page(indexes: list[dict], reqs: dict) -> str:
    names = [i["target"] for i in indexes]
    head = "".join(f"<th>{html.escape(n)}</th>" for n in names)
    rows = []
    for title, prefix in GROUPS:
        rows.append(f'<tr><th colspan="{len(names) + 3}" class="g">{html.escape(title)}</th></tr>')
        for rid in (r for r in reqs if r.startswith(prefix + "-")):
            cells = "".join(f'<td style="background:{COLOUR[cell(i, rid)]}">{cell(i, rid)}</td>' for i in indexes)
            rows.append(
                f"<tr><td>{rid}</td><td>{reqs[rid].level}</td><td class='t'>{html.escape(reqs[rid].text)}</td>{cells}</tr>"
            )
    totals = "".join(
        f"<tr><td colspan='3'>{v}</td>"
        + "".join(f"<td>{Counter(cell(i, r) for r in reqs)[v]}</td>" for i in indexes)
        + "</tr>"
        for v in VERDICTS
    )
    targets = "".join(
        f"<tr><td>{html.escape(i['target'])}</td><td>{html.escape(versions(i))}</td></tr>" for i in indexes
    )
    short = "".join(
        f"<p><b>{html.escape(i['target'])}</b>: {html.escape(how)}. The run's output ends:</p>"
        f"<pre>{html.escape(i['output_tail'])}</pre>"
        for i in indexes
        if (how := cut_short(i))
    )
    if short:
        short = (
            "<h2>Reports cut short</h2><p>The verdicts of these targets' missing cases are untested, not judged.</p>"
            + short
        )
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Socket.IO compatibility matrix</title>
<style>body{{font-family:sans-serif}}table{{border-collapse:collapse}}td,th{{border:1px solid #aaa;padding:2px 6px;font-size:13px}}
th.g{{text-align:left;background:#eee}}td.t{{max-width:40em}}</style></head><body>
<h1>Socket.IO compatibility matrix</h1>
<table><tr><th colspan="3">Totals (requirements)</th>{head}</tr>{totals}</table><p></p>{short}
<table><tr><th>target</th><th>versions</th></tr>{targets}</table><p></p>
<table><tr><th>ID</th><th>level</th><th>requirement</th>{head}</tr>{''.join(rows)}</table></body></html>
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("indexes", nargs="+", type=Path)
    args = ap.parse_args(argv)
    indexes = load(args.indexes)
    if not indexes:
        print("matrix: no index found", file=sys.stderr)
        return 1
    reqs = catalogue.load()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "matrix.md").write_text(markdown(indexes, reqs), encoding="utf-8")
    (args.out / "matrix.html").write_text(html_page(indexes, reqs), encoding="utf-8")
    print(f"matrix: {len(indexes)} target(s) → {args.out / 'matrix.md'}, {args.out / 'matrix.html'}")
    short = [f"{i['target']}: {how}" for i in indexes if (how := cut_short(i))]
    for line in short:
        print(f"matrix: REPORT CUT SHORT {line}", file=sys.stderr)
    return 1 if short else 0


if __name__ == "__main__":
    sys.exit(main())
