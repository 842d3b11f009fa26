#!/usr/bin/env python3
"""Runs the server matrix (`make server-matrix`) N times and compares the verdict of every case on
every target.

    python3 scripts/repeat_matrix.py --runs 20 [--out build/matrix-repeat] [--targets "a b"]

Each run's reports (build/conformance/<target>/index.json) are copied to <out>/run-NN/, and the
matrix pages of each run are written there too (not to docs/). The client matrix, which `make matrix`
adds, is not run: its verdicts are not compared here, and it writes its pages into docs/. Each run
prints its time per target; at the end every (target, case) whose verdict differs between runs is
listed with its verdict per run. Each target's output (the end of it, build/conformance/<target>/
output.log) is kept beside its report as <target>.output.log. A report that holds fewer cases than
its run collected is cut short: listed with the end of that output. The exit status is 1 when there is
any such difference, when a run left no report for a target or a report cut short, else 0.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def slug(target: str) -> str:
    return target.replace(":", "_").replace("/", "_").replace(".", "_")


OUTPUT_TAIL_LINES = 20  # lines of a target's output printed for a report cut short or missing


def verdicts(index: Path) -> dict[str, str]:
    data = json.loads(index.read_text())
    return {c["case"]: c["verdict"] for c in data["cases"]}


def cut_short(index: Path) -> str | None:
    """How a report holding fewer cases than its run collected falls short, or None."""
    data = json.loads(index.read_text())
    missing = data.get("cases_missing") or []
    if not missing:
        return None
    return (
        f"{len(data['cases'])} of {data.get('cases_collected')} collected cases reported, pytest exit status "
        f"{data.get('exit_status')}, first missing {missing[0]}"
    )


def output_tail(log: Path) -> str:
    if not log.is_file():
        return "        (no output kept)"
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()[-OUTPUT_TAIL_LINES:]
    return "\n".join("        | " + line for line in lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--out", default="build/matrix-repeat")
    ap.add_argument("--targets", default="", help="space-separated; default: the Makefile's CONF_MATRIX")
    args = ap.parse_args()
    if args.runs < 2:
        ap.error("--runs must be at least 2 to compare anything")

    out = ROOT / args.out
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    make_vars = [f"CONF_MATRIX={args.targets}"] if args.targets else []
    targets = args.targets.split() if args.targets else None

    runs: list[dict[tuple[str, str], str]] = []
    missing: list[str] = []
    short: list[str] = []
    for n in range(1, args.runs + 1):
        run_dir = out / f"run-{n:02d}"
        run_dir.mkdir()
        for old in (ROOT / "build" / "conformance").glob("*/index.json"):
            old.unlink()
        start = time.monotonic()
        proc = subprocess.run(
            ["make", "-s", "server-matrix", f"MATRIX_OUT={run_dir}"] + make_vars,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        (run_dir / "make.log").write_text(proc.stdout + proc.stderr)
        if targets is None:
            targets = [
                line.split(": ", 1)[1].strip()
                for line in proc.stdout.splitlines()
                if line.startswith("== conformance: ")
            ]
        seen: dict[tuple[str, str], str] = {}
        for t in targets:
            index = ROOT / "build" / "conformance" / slug(t) / "index.json"
            output = ROOT / "build" / "conformance" / slug(t) / "output.log"
            if output.is_file():
                shutil.copy(output, run_dir / f"{slug(t)}.output.log")
            if not index.is_file():
                missing.append(f"run {n}: no report for {t}\n" + output_tail(output))
                continue
            shutil.copy(index, run_dir / f"{slug(t)}.json")
            how = cut_short(index)
            if how:
                short.append(f"run {n}: {t}: {how}\n" + output_tail(output))
            for case, verdict in verdicts(index).items():
                seen[(t, case)] = verdict
        runs.append(seen)
        counts: dict[str, int] = {}
        for v in seen.values():
            counts[v] = counts.get(v, 0) + 1
        print(
            f"run {n:2d}/{args.runs}: {time.monotonic() - start:6.1f} s, {len(seen)} cases, "
            + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())),
            flush=True,
        )
        # The server matrix prints `   <target>: <seconds> s` after each target.
        times = [line.strip() for line in proc.stdout.splitlines() if line.startswith("   ") and line.endswith(" s")]
        print("        " + ", ".join(times), flush=True)

    keys = sorted(set().union(*runs))
    unstable = [k for k in keys if len({r.get(k, "(absent)") for r in runs}) > 1]
    for t, case in unstable:
        per_run = " ".join(r.get((t, case), "(absent)") for r in runs)
        print(f"UNSTABLE {t} {case}: {per_run}")
    for m in missing:
        print(f"MISSING {m}")
    for m in short:
        print(f"CUT SHORT {m}")
    print(
        f"{args.runs} runs, {len(targets or [])} targets, {len(keys)} (target, case) pairs, "
        f"{len(unstable)} with differing verdicts, {len(missing)} missing reports, {len(short)} reports cut short"
    )
    return 1 if unstable or missing or short or not keys else 0


if __name__ == "__main__":
    sys.exit(main())
