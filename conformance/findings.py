"""Findings a maintainer can act on, generated from the harness's JSON reports (never written by hand).

    python conformance/findings.py --out docs/findings build/conformance/*/index.json

For every target except the project's reference server, each `fail` and `non-strict` case becomes one
finding in <out>/<target>.md: the requirement and its level, what REQUIREMENTS.md says, the check that
decided (expected and actual), the wire transcript of the case when the report has one, a one-line
command that reproduces it, and the upstream issue when one is known. Beside each page,
<out>/<target>.json keeps the exact case records the page was made from, so the page can be checked
against its source (`--check` regenerates every page from those records and compares).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import catalogue  # noqa: E402

REFERENCE_TARGETS = {"reference", "reference-eio3"}
REPORTED = ("fail", "non-strict")
TRANSCRIPT_LINES = 60  # per finding; the JSON record keeps them all

# Upstream reports of the same behaviour, by implementation family and requirement. An entry is
# added only after reading the issue: it must describe what the case observes.
FAMILIES = {
    "socketioxide": "socketioxide",
    "socketioxide-v4": "socketioxide",
    "zishang520-socketio": "zishang520",
    "zishang520-socketio-eio3": "zishang520",
    "netty-socketio": "netty-socketio",
    "socketio-bun": "bun-engine",
}
UPSTREAM: dict[tuple[str, str], str] = {
    ("socketioxide", "EIO-HS-16"): "Totodore/socketioxide#117 (open: one socket id per namespace, like Node)",
    ("socketioxide", "SIO-NSP-03"): "Totodore/socketioxide#117 (open: one socket id per namespace, like Node)",
    (
        "socketioxide",
        "SIO-DC-01",
    ): "Totodore/socketioxide#117 (the socket id is the Engine.IO sid, so a rejoin keeps it)",
    ("socketioxide", "EIO-HB-01"): "Totodore/socketioxide#437 (merged: the heartbeat starts without the initial delay)",
}


def load(paths: list[Path]) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in paths if p.is_file()]


def selected(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's fail and non-strict cases, fails first, each group in case order."""
    cases = [c for c in report.get("cases", []) if c.get("verdict") in REPORTED]
    return sorted(cases, key=lambda c: (REPORTED.index(c["verdict"]), c["case"]))


def reproduce(target: str, case: str) -> str:
    return (
        f"make thirdparty-{target} && cd conformance && ../build/venv/bin/python -m pytest -q -p no:cacheprovider "
        f"--target {target} '{case}'"
        if FAMILIES.get(target)
        else f"cd conformance && ../build/venv/bin/python -m pytest -q -p no:cacheprovider --target {target} '{case}'"
    )


def transcript_lines(case: dict[str, Any]) -> list[str]:
    """The case's wire transcript as the report keeps it: one line per message (time, connection,
    direction, bytes shown as text with control bytes escaped)."""
    out = []
    for m in case.get("transcript") or []:
        t = "       " if m.get("t") is None else f"{m['t']:7.3f}"
        out.append(f"{t} #{m.get('conn', 0)} {m.get('dir', '?')} {m.get('text', '')}")
    return out


def fence(text: str) -> str:
    body = text.replace("```", "` ` `")
    return f"```\n{body}\n```"


def finding(target: str, n: int, case: dict[str, Any], reqs: dict[str, catalogue.Requirement]) -> str:
    rid = case.get("requirement") or "?"
    req = reqs.get(rid)
    family = FAMILIES.get(target, target)
    lines = [f"### {n}. {rid} · {case['verdict']} · `{case['case']}`", ""]
    lines.append(
        f"- **Requirement** ({req.level if req else case.get('level')}): {req.text if req else 'not in REQUIREMENTS.md'}"
    )
    upstream = UPSTREAM.get((family, rid))
    lines.append(f"- **Upstream**: {upstream}" if upstream else "- **Upstream**: none known")
    lines.append(f"- **Reproduce**: `{reproduce(target, case['case'])}`")
    lines += ["", "What the case reported:", "", fence((case.get("message") or "").strip() or "(no message)")]
    if case.get("expected") is not None or case.get("actual") is not None:
        lines += ["", f"Expected: `{case.get('expected')}`  ", f"Actual: `{case.get('actual')}`"]
    wire = transcript_lines(case)
    if wire:
        shown = wire[:TRANSCRIPT_LINES]
        more = len(wire) - len(shown)
        lines += ["", "Wire transcript (`>` sent by the suite, `<` received, `!` connection events):", ""]
        lines.append(fence("\n".join(shown) + (f"\n… {more} more lines in {target}.json" if more else "")))
    else:
        lines += ["", "Wire transcript: not in this report (the harness that wrote it kept none)."]
    return "\n".join(lines)


def page(source: dict[str, Any], reqs: dict[str, catalogue.Requirement]) -> str:
    target = source["target"]
    cases = source["cases"]
    counts = {v: sum(1 for c in cases if c["verdict"] == v) for v in REPORTED}
    head = [
        f"# Findings: {target}",
        "",
        f"{source.get('description') or target}. Generated by `make findings` from the report of "
        f"{source.get('generated', '?')} (totals: "
        + ", ".join(f"{k} {v}" for k, v in source.get("totals", {}).items() if v)
        + "). Do not edit: the page is rebuilt from "
        f"[{target}.json]({target}.json), which holds the case records it quotes.",
        "",
        f"{counts['fail']} `fail` (a MUST broken) and {counts['non-strict']} `non-strict` (a SHOULD missed, "
        "or a MUST the reference implementation tolerates). A failure may follow from an earlier one "
        "(a session the target closed, a ping the suite did not expect): read them in order.",
    ]
    body = [finding(target, i + 1, c, reqs) for i, c in enumerate(cases)]
    return "\n".join(head) + "\n\n" + "\n\n".join(body) + "\n"


def source_of(report: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "target": report["target"],
        "description": description,
        "generated": report.get("generated"),
        "totals": report.get("totals", {}),
        "cases": selected(report),
    }


def describe(target: str) -> str:
    from harness import targets

    spec = targets.REGISTRY.get(target)
    return spec.description if spec else target


def write(out: Path, reports: list[dict[str, Any]]) -> list[Path]:
    reqs = catalogue.load()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for report in reports:
        target = report["target"]
        if target in REFERENCE_TARGETS or target.startswith("http://"):
            continue
        source = source_of(report, describe(target))
        (out / f"{target}.json").write_text(json.dumps(source, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        md = out / f"{target}.md"
        md.write_text(page(source, reqs), encoding="utf-8")
        written.append(md)
    return written


def check(out: Path) -> list[str]:
    """Every page equals what its committed source regenerates; returns the differences."""
    reqs = catalogue.load()
    problems = []
    for src in sorted(out.glob("*.json")):
        source = json.loads(src.read_text(encoding="utf-8"))
        md = src.with_suffix(".md")
        if not md.is_file() or md.read_text(encoding="utf-8") != page(source, reqs):
            problems.append(f"{md}: differs from what {src.name} generates (edited by hand, or stale)")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--check", action="store_true", help="compare the pages in --out with their sources")
    ap.add_argument("indexes", nargs="*", type=Path)
    args = ap.parse_args(argv)
    if args.check:
        problems = check(args.out)
        for p in problems:
            print(p, file=sys.stderr)
        return 1 if problems else 0
    reports = load(args.indexes)
    if not reports:
        print("findings: no report found", file=sys.stderr)
        return 1
    for md in write(args.out, reports):
        print(f"findings: {md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
