#!/usr/bin/env python3
"""Replays every seed and every regression input through every fuzz target (replay build,
ASan+UBSan) and checks that each target's own seeds reach its parser.

A seed "reaches" its parser when the target called fuzz_reached() for it; a y_ seed must also
be accepted and an n_ seed rejected, unless its vector sets decoder options (see gen_seeds.py).
That proves the seed generator routed and wrapped the vector for the right parser.
Prints one line per problem and a closing "fuzz-replay: N passed, N failed".
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path


def manifest(seeds: Path) -> dict[tuple[str, str], tuple[str, bool]]:
    out: dict[tuple[str, str], tuple[str, bool]] = {}
    path = seeds / "manifest.tsv"
    if path.exists():
        for line in path.read_text().splitlines():
            target, name, verdict, has_options = line.split("\t")
            out[(target, name)] = (verdict, has_options == "1")
    return out


def replay(binary: Path, inputs: list[Path]) -> tuple[int, list[tuple[Path, bool, bool]], str]:
    """Runs one replay binary over all inputs; returns status, per-input report, stderr."""
    proc = subprocess.run(
        [str(binary), "--report", *map(str, inputs)], capture_output=True, text=True, errors="replace", timeout=900
    )
    rows = []
    for line in proc.stdout.splitlines():
        parts = line.rsplit("\t", 2)
        if len(parts) == 3:  # a crash may leave a partial line behind; the status tells
            rows.append((Path(parts[0]), parts[1] == "1", parts[2] == "1"))
    return proc.returncode, rows, proc.stderr


def check_target(
    target: str, rows: list[tuple[Path, bool, bool]], expected: dict[tuple[str, str], tuple[str, bool]]
) -> tuple[int, int, list[str]]:
    """Counts the target's own seeds checked and the verdicts compared; lists the problems."""
    checked, verdicts, problems = 0, 0, []
    for path, reached, accepted in rows:
        if path.parent.name != target or path.parent.parent.name != "seeds":
            continue
        verdict, has_options = expected.get((target, path.name), ("-", False))
        checked += 1
        verdicts += verdict in "yn" and not has_options
        if not reached:
            problems.append(f"{target}: seed {path.name} never reached the parser")
        elif verdict == "y" and not has_options and not accepted:
            problems.append(f"{target}: y_ seed {path.name} was rejected")
        elif verdict == "n" and not has_options and accepted:
            problems.append(f"{target}: n_ seed {path.name} was accepted")
    return checked, verdicts, problems


def open_findings(regressions: Path) -> dict[str, str]:
    """fuzz/regressions/OPEN: "<target>/<file>  <reason>" per line."""
    path = regressions / "OPEN"
    out = {}
    for line in path.read_text().splitlines() if path.exists() else []:
        if line.strip() and not line.startswith("#"):
            name, _, why = line.partition(" ")
            out[name] = why.strip()
    return out


def replay_open(args: argparse.Namespace, known: dict[str, str]) -> tuple[int, int]:
    """Each open finding alone: still failing is expected; passing means it was fixed."""
    still = fixed = 0
    for name, why in sorted(known.items()):
        target = name.split("/")[0]
        if target not in args.targets:
            continue
        proc = subprocess.run([str(args.bin / target), str(args.regressions / name)], capture_output=True, timeout=300)
        if proc.returncode != 0:
            still += 1
            print(f"open finding (still fails, expected): {name}: {why}")
        else:
            fixed += 1
            print(f"fixed: {name} passes now; remove its line from {args.regressions}/OPEN")
    return still, fixed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--bin", type=Path, required=True, help="folder of replay binaries")
    ap.add_argument("--seeds", type=Path, required=True)
    ap.add_argument("--regressions", type=Path, required=True)
    ap.add_argument("targets", nargs="*")
    args = ap.parse_args()
    expected = manifest(args.seeds)
    known = open_findings(args.regressions)
    inputs = sorted(p for p in args.seeds.iterdir() if p.is_dir()) if args.seeds.exists() else []
    for folder in sorted(p for p in args.regressions.iterdir() if p.is_dir()) if args.regressions.exists() else []:
        inputs += sorted(f for f in folder.iterdir() if f.is_file() and f"{folder.name}/{f.name}" not in known)
    passed = failed = 0
    for target in args.targets:
        rc, rows, err = replay(args.bin / target, inputs)
        if rc != 0:
            failed += 1
            print(f"{target}: replay failed (exit {rc}):\n{err[-4000:]}")
            continue
        checked, verdicts, problems = check_target(target, rows, expected)
        for p in problems:
            print(p)
        failed += len(problems)
        passed += 1 + checked - len(problems)
        print(
            f"{target}: {len(rows)} inputs replayed, {checked} own seeds reach the parser "
            f"({verdicts} with the vector's verdict)"
        )
    still, fixed = replay_open(args, known)
    print(
        f"fuzz-replay: {passed + fixed} passed, {failed} failed"
        + (f" ({still} known open findings, listed in {args.regressions}/OPEN)" if still else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
