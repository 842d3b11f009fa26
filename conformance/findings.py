"""Findings a maintainer can act on, generated from the harness's JSON reports (never written by hand).

    python conformance/findings.py --out docs/findings build/conformance/*/index.json build/conformance-client/*/index.json

For every target except the project's reference server, the `fail` and `non-strict` cases go into
<out>/<target>.md, one section per requirement: its level and what REQUIREMENTS.md says, the upstream
issue when one is known, one case shown whole (a `fail` before a `non-strict`, then the first in case
order: its check, expected and actual, the command that reproduces it, its wire transcript cut to a
readable length, every cut marked), and the requirement's other cases, each with its actual and its
one-line reproduction. Beside each page, <out>/<target>.json keeps the exact case records the page was
made from, so the page can be checked against its source (`--check` regenerates every page from those records and compares).

Client reports (the suite playing the server, conformance/CLIENT-REQUIREMENTS.md) get the same pages
under <out>/clients/<client>.md and .json, with the client's reproduction command, the upstream issues of
conformance/clients/known-issues.json, and the fixture's stderr tail when the client printed one (an
uncaught exception is a `fail` by the crash rule: its stack says where).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import catalogue  # noqa: E402

REFERENCE_TARGETS = {"reference", "reference-eio3"}  # the project's own server, and its own client
CLIENT_PAGES = "clients"  # client findings: <out>/clients/<client>.md
CLIENT_ISSUES = Path(__file__).resolve().parent / "clients" / "known-issues.json"
STDERR_LINES = 15  # of a client's stderr tail on a page
REPORTED = ("fail", "non-strict")
# A page shows one transcript per requirement, cut to what a reader takes in: its first HEAD_LINES and
# last TAIL_LINES messages (the handshake, and where it went wrong), each message to LINE_CHARS
# characters. Every cut says how much it left out; the page's source JSON keeps every byte.
HEAD_LINES = 4
TAIL_LINES = 16
LINE_CHARS = 160
ACTUAL_CHARS = 160  # the one-line Actual of a case listed under another's transcript
CUT = "… "  # how every cut mark starts; no transcript line starts so

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
    (
        "netty-socketio",
        "SIO-NSP-01",
    ): "mrniko/netty-socketio#909 (open draft: drop the implicit connection to the default namespace, for protocol v5)",
    (
        "netty-socketio",
        "SIO-NSP-11",
    ): "mrniko/netty-socketio#909 (open draft: `/` is joined before the client's CONNECT, whose payload then comes too late for the connect handler)",
}


def side_of(report: dict[str, Any]) -> str:
    """Which catalogue a report's cases judge: "server" (REQUIREMENTS.md), "client" or "cluster" (a
    report written before reports said so is a client one when its cases are the client suite's)."""
    named = report.get("catalogue") or report.get("side")
    if named:
        return str(named)
    cases = report.get("cases") or []
    return "client" if cases and all("tests/client/" in c.get("case", "") for c in cases) else "server"


def requirements(side: str) -> dict[str, catalogue.Requirement]:
    return catalogue.load(catalogue.CLIENT_PATH if side == "client" else catalogue.PATH)


# A client's stack traces name its files by the absolute path of the checkout that ran it; a page names
# them from the repository's root, so that it reads (and regenerates) the same wherever it is built.
CHECKOUT_PATH = re.compile(r"(?:/[^\s/'\"()]+)+?/(?=(?:conformance|build)/(?:clients|targets)/)")


def tidy(value: Any, side: str) -> str:
    return CHECKOUT_PATH.sub("", str(value)) if side == "client" else str(value)


def client_issues() -> dict[str, dict[str, str]]:
    """Public issues matching a client finding, by client and requirement."""
    if not CLIENT_ISSUES.is_file():
        return {}
    return dict(json.loads(CLIENT_ISSUES.read_text(encoding="utf-8")).get("by-client", {}))


def upstream_of(side: str, target: str, rid: str) -> str:
    if side == "client":
        return client_issues().get(target.partition("@")[0], {}).get(rid, "")
    return UPSTREAM.get((FAMILIES.get(target, target), rid), "")


def load(paths: list[Path]) -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in paths if p.is_file()]


def selected(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's fail and non-strict cases, fails first, each group in case order."""
    cases = [c for c in report.get("cases", []) if c.get("verdict") in REPORTED]
    return sorted(cases, key=lambda c: (REPORTED.index(c["verdict"]), c["case"]))


def reproduce(target: str, case: str, side: str = "server") -> str:
    if side == "client":
        from clientside import agents

        spec = agents.REGISTRY.get(target.partition("@")[0])
        install = f"make {spec.install} && " if spec and spec.install else ""
        return (
            f"{install}cd conformance && ../build/venv/bin/python -m pytest -q -p no:cacheprovider "
            f"--catalogue client --client {target} '{case}'"
        )
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


def cut_transcript(lines: list[str], source: str) -> list[str]:
    """`lines` as a page shows them: the first HEAD_LINES and the last TAIL_LINES when there are more,
    each line cut at LINE_CHARS; every cut is marked with what it left out and where the rest is."""

    def short(line: str) -> str:
        if len(line) <= LINE_CHARS:
            return line
        return f"{line[:LINE_CHARS]} {CUT}{len(line) - LINE_CHARS} more characters, whole transcript in {source}"

    if len(lines) <= HEAD_LINES + TAIL_LINES:
        return [short(line) for line in lines]
    left_out = len(lines) - HEAD_LINES - TAIL_LINES
    return [
        *(short(line) for line in lines[:HEAD_LINES]),
        f"{CUT}{left_out} more messages, whole transcript in {source}",
        *(short(line) for line in lines[-TAIL_LINES:]),
    ]


def fence(text: str) -> str:
    body = text.replace("```", "` ` `")
    return f"```\n{body}\n```"


def one_line(value: Any, limit: int = ACTUAL_CHARS) -> str:
    text = " ".join(str(value).split()).replace("`", "'")
    return text if len(text) <= limit else f"{text[:limit]} {CUT}{len(text) - limit} more characters"


def telling(cases: list[dict[str, Any]]) -> dict[str, Any]:
    """The case whose transcript a requirement's section shows: a `fail` before a `non-strict`, then the
    first in case order. Only the verdict and the case id decide, so two runs with the same verdicts show
    the same case (the length of a transcript varies with the retries and pings of each run)."""
    return min(cases, key=lambda c: (REPORTED.index(c["verdict"]), c["case"]))


def section(
    target: str, rid: str, cases: list[dict[str, Any]], reqs: dict[str, catalogue.Requirement], side: str = "server"
) -> str:
    """One requirement: what it says, the case `telling` picks with its cut transcript, the other cases."""
    req = reqs.get(rid)
    shown = telling(cases)
    verdicts = ", ".join(
        f"{sum(1 for c in cases if c['verdict'] == v)} {v}" for v in REPORTED if any(c["verdict"] == v for c in cases)
    )
    lines = [f"## {rid} · {req.level if req else shown.get('level')} · {verdicts}", ""]
    lines.append(req.text if req else f"Not in {'CLIENT-' if side == 'client' else ''}REQUIREMENTS.md.")
    upstream = upstream_of(side, target, rid)
    lines += ["", f"Upstream: {upstream}." if upstream else "Upstream: none known."]
    lines += ["", f"### {shown['verdict']} · `{shown['case']}`", ""]
    check = next(
        (line.strip() for line in (shown.get("message") or "").splitlines() if line.strip().startswith("check:")), ""
    )
    if check:
        lines.append(f"- Check: {check.removeprefix('check:').strip()}")
    lines += [
        f"- Expected: `{one_line(tidy(shown.get('expected'), side), 400)}`",
        f"- Actual: `{one_line(tidy(shown.get('actual'), side), 400)}`",
        f"- Reproduce: `{reproduce(target, shown['case'], side)}`",
    ]
    wire = transcript_lines(shown)
    if wire:
        lines += ["", "Wire transcript (`>` sent by the suite, `<` received, `!` connection events):", ""]
        lines.append(fence("\n".join(cut_transcript(wire, f"{target}.json"))))
    else:
        lines += ["", "Wire transcript: not in this report (the harness that wrote it kept none)."]
    stderr = tidy((shown.get("fixture") or {}).get("stderr_tail") or "", side).splitlines()
    if side == "client" and stderr:
        kept = stderr[-STDERR_LINES:]
        cut = [f"{CUT}{len(stderr) - len(kept)} earlier lines in {target}.json"] if len(stderr) > len(kept) else []
        lines += ["", "The client's stderr (last lines):", "", fence("\n".join([*cut, *kept]))]
    others = [c for c in cases if c is not shown]
    if others:
        lines += ["", f"Other cases of {rid}, each with its Actual and the command that reproduces it:", ""]
        for c in others:
            lines.append(f"- {c['verdict']} · `{c['case']}`: Actual `{one_line(tidy(c.get('actual'), side))}`")
            lines.append(f"  `{reproduce(target, c['case'], side)}`")
    return "\n".join(lines)


def grouped(
    cases: list[dict[str, Any]], reqs: dict[str, catalogue.Requirement]
) -> list[tuple[str, list[dict[str, Any]]]]:
    """The cases by requirement: requirements with a `fail` first, then the others, each part in the
    catalogue's order; a requirement's cases in case order."""
    by_req: dict[str, list[dict[str, Any]]] = {}
    for c in cases:
        by_req.setdefault(c.get("requirement") or "?", []).append(c)
    order = {rid: i for i, rid in enumerate(reqs)}
    return sorted(
        by_req.items(),
        key=lambda item: (
            0 if any(c["verdict"] == "fail" for c in item[1]) else 1,
            order.get(item[0], len(order)),
            item[0],
        ),
    )


def page(source: dict[str, Any], reqs: dict[str, catalogue.Requirement]) -> str:
    target = source["target"]
    side = side_of(source)
    cases = source["cases"]
    groups = grouped(cases, reqs)
    counts = {v: sum(1 for c in cases if c["verdict"] == v) for v in REPORTED}
    head = [
        f"# Findings: {target}",
        "",
        f"{source.get('description') or target}. Generated by `make findings` from the report of "
        f"{source.get('generated', '?')} (totals: "
        + ", ".join(f"{k} {v}" for k, v in source.get("totals", {}).items() if v)
        + "). Do not edit: the page is rebuilt from "
        f"[{target}.json]({target}.json), which holds the case records it quotes, every transcript whole.",
        "",
        f"{counts['fail']} `fail` (a MUST broken) and {counts['non-strict']} `non-strict` (a SHOULD missed, "
        f"or a MUST the reference implementation tolerates) cases, under {len(groups)} requirements. Each "
        "requirement shows the transcript of one case (a `fail` before a `non-strict`, then the first in "
        "case order) and lists its other cases with their Actual and the command that "
        "reproduces each. A failure may follow from another requirement's (a session the target closed, "
        "a ping the suite did not expect): the check and the transcript say which.",
        "",
        "| requirement | level | cases | upstream |",
        "|---|---|---|---|",
    ]
    for rid, group in groups:
        req = reqs.get(rid)
        tally = ", ".join(
            f"{sum(1 for c in group if c['verdict'] == v)} {v}"
            for v in REPORTED
            if any(c["verdict"] == v for c in group)
        )
        upstream = upstream_of(side, target, rid).split(" (")[0]
        head.append(f"| {rid} | {req.level if req else '?'} | {tally} | {upstream} |")
    body = [section(target, rid, group, reqs, side) for rid, group in groups]
    return "\n".join(head) + "\n\n" + "\n\n".join(body) + "\n"


def source_of(report: dict[str, Any], description: str) -> dict[str, Any]:
    source = {
        "target": report["target"],
        "description": description,
        "generated": report.get("generated"),
        "totals": report.get("totals", {}),
        "cases": selected(report),
    }
    if side_of(report) == "client":
        # Node ids as pytest names them from conformance/ (a run started elsewhere prefixes its path).
        source["side"] = "client"
        source["cases"] = [c | {"case": "tests/" + c["case"].partition("tests/")[2]} for c in source["cases"]]
    return source


def describe(target: str) -> str:
    from harness import targets

    spec = targets.REGISTRY.get(target)
    return spec.description if spec else target


def shipped_client(target: str) -> bool:
    """A registry client (at any version), not the command line of someone's own fixture."""
    from clientside import agents

    return target.partition("@")[0] in agents.REGISTRY


def write(out: Path, reports: list[dict[str, Any]]) -> list[Path]:
    written = []
    for report in reports:
        target, side = report["target"], side_of(report)
        if target in REFERENCE_TARGETS or target.startswith("http://") or side not in ("server", "client"):
            continue
        if side == "client" and not shipped_client(target):
            continue
        info = report.get("target_info") or {}
        description = (info.get("description") or target) if side == "client" else describe(target)
        source = source_of(report, description)
        folder = out / CLIENT_PAGES if side == "client" else out
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{target}.json").write_text(
            json.dumps(source, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        md = folder / f"{target}.md"
        md.write_text(page(source, requirements(side)), encoding="utf-8")
        written.append(md)
    return written


def check(out: Path) -> list[str]:
    """Every page equals what its committed source regenerates; returns the differences."""
    problems = []
    for src in sorted([*out.glob("*.json"), *(out / CLIENT_PAGES).glob("*.json")]):
        source = json.loads(src.read_text(encoding="utf-8"))
        md = src.with_suffix(".md")
        if not md.is_file() or md.read_text(encoding="utf-8") != page(source, requirements(side_of(source))):
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
