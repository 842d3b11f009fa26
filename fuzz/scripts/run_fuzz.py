#!/usr/bin/env python3
"""Runs each libFuzzer target for a bounded time, one at a time, and reports per target:
executions, executions per second, coverage at start and end, new corpus units, CPU seconds.

Every run is appended to <out>/runs.tsv; `--summary` totals that log per target (the figures
in fuzz/README.md). The working corpus lives in <out>/corpus/<target>/ (never committed);
seeds and regressions are read but not written. Exits non-zero if any target crashed, leaked,
timed out or failed an oracle; the input is then in <out>/artifacts/<target>/.
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

FUZZ_DIR = Path(__file__).resolve().parent.parent
STAT = re.compile(r"^stat::(\w+):\s+(\d+)", re.M)
COV = re.compile(r"#\d+\s+(INITED|DONE)\s+cov: (\d+) ft: (\d+)")


def children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def passing_regressions(target: str, out: Path) -> Path:
    """A copy of the target's regression inputs without the open findings (which would stop
    libFuzzer before it starts)."""
    src = FUZZ_DIR / "regressions" / target
    dst = out / "regressions" / target
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    listed = FUZZ_DIR / "regressions" / "OPEN"
    open_names = {
        line.split()[0]
        for line in (listed.read_text().splitlines() if listed.exists() else [])
        if line.strip() and not line.startswith("#")
    }
    for f in sorted(src.iterdir()) if src.is_dir() else []:
        if f.is_file() and f"{target}/{f.name}" not in open_names:
            shutil.copy(f, dst / f.name)
    return dst


# Inputs longer than this are not generated (default 4096); seeds may be longer (they are read).
# The server needs room for a few requests. Targets whose oracles re-run the parser over the
# whole input several times (split reads, re-encoding, a second decode) get 1024 bytes: every
# branch of those formats is reachable well below it (16-bit WebSocket lengths from 126 bytes,
# 64 header lines of 4 bytes, JSON nesting 64, 10 attachments), and 20-second runs from the same
# corpus reach the same edge coverage at 1024 as at 4096 (fuzz/README.md, "Input length").
MAX_LEN = {
    "server": 16384,
    "client": 8192,
    "refclient": 8192,
    "ws_frame": 1024,
    "eio_payload": 1024,
    "sio_attach": 1024,
    "json": 1024,
    "http_head": 1024,
    "base64": 1024,
}


def run_target(target: str, seconds: int, out: Path, corpus_name: str = "corpus", seed: int = 0) -> dict:
    """One bounded libFuzzer run; returns its figures."""
    corpus = out / corpus_name / target
    artifacts = out / "artifacts" / target
    corpus.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    cmd = [
        str(out / "bin" / target),
        f"-max_total_time={seconds}",
        "-timeout=10",
        "-rss_limit_mb=2048",
        f"-max_len={MAX_LEN.get(target, 4096)}",
        "-print_final_stats=1",
        # One process per corpus folder: nobody else writes it, so no periodic re-reading.
        "-reload=0",
        # The entropic schedule keeps a list of rare features and searches it linearly for
        # every feature of every execution; the list is cut back to its 100 rarest only once
        # its most frequent member has been hit more often than this threshold (default 255).
        # Started on a grown corpus, every feature enters the list with no hits, and runs
        # spent up to 55% of their time in that search (fuzz/README.md, "Executions per
        # second"); with 16 the list is cut back early. Edge coverage from the seeds is the same.
        "-entropic_feature_frequency_threshold=16",
        f"-artifact_prefix={artifacts}/",
        str(corpus),
    ]
    if seed:
        cmd.insert(1, f"-seed={seed}")
    dictionary = FUZZ_DIR / "dict" / f"{target}.dict"
    if dictionary.exists():
        cmd.insert(1, f"-dict={dictionary}")
    regressions = passing_regressions(target, out)
    for extra in (out / "seeds" / target, regressions):
        if extra.is_dir() and any(extra.iterdir()):
            cmd.append(str(extra))
    cpu0, t0 = children_cpu(), time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=seconds * 3 + 120)
    stats = {k: int(v) for k, v in STAT.findall(proc.stderr)}
    cov = {kind: int(c) for kind, c, _ in COV.findall(proc.stderr)}
    return {
        "target": target,
        "seconds": seconds,
        "rc": proc.returncode,
        "execs": stats.get("number_of_executed_units", 0),
        "exec_s": stats.get("average_exec_per_sec", 0),
        "new_units": stats.get("new_units_added", 0),
        "cov_start": cov.get("INITED", 0),
        "cov_end": cov.get("DONE", cov.get("INITED", 0)),
        "cpu": round(children_cpu() - cpu0, 1),
        "wall": round(time.monotonic() - t0, 1),
        "tail": proc.stderr[-3000:],
    }


FIELDS = ("target", "seconds", "rc", "execs", "exec_s", "new_units", "cov_start", "cov_end", "cpu")


def log_run(out: Path, r: dict) -> None:
    log = out / "runs.tsv"
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    with log.open("a") as f:
        f.write("\t".join([stamp] + [str(r[k]) for k in FIELDS]) + "\n")


def summary(out: Path, since: str = "") -> int:
    """Totals of every run logged so far (or since the UTC time `since`, ISO form), per target.
    Exec/s figures are over the clean runs: a run that stops on a finding has no steady rate."""
    totals: dict[str, dict] = {}
    log = out / "runs.tsv"
    for line in log.read_text().splitlines() if log.exists() else []:
        stamp, target, _, rc, execs, exec_s, _, _, cov_end, cpu = line.split("\t")
        if stamp < since:
            continue
        t = totals.setdefault(target, {"runs": 0, "clean": 0, "execs": 0, "cpu": 0.0, "rates": [], "cov": 0})
        t["runs"] += 1
        t["clean"] += rc == "0"
        t["execs"] += int(execs)
        t["cpu"] += float(cpu)
        if rc == "0":
            t["rates"].append(int(exec_s))
        t["cov"] = max(t["cov"], int(cov_end))
    print("| target | runs (clean) | executions | CPU minutes | median exec/s | exec/s range | max cov |")
    print("|---|---|---|---|---|---|---|")
    for name, t in sorted(totals.items()):
        rates = sorted(t["rates"]) or [0]
        print(
            f"| {name} | {t['runs']} ({t['clean']}) | {t['execs']:,} | {t['cpu'] / 60:.1f} | "
            f"{statistics.median(rates):,.0f} | {rates[0]:,}-{rates[-1]:,} | {t['cov']} |"
        )
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--summary", action="store_true", help="print totals of runs.tsv and exit")
    ap.add_argument(
        "--since", default="", help="with --summary: only runs logged at or after this UTC time (e.g. 2026-11-22T21:13)"
    )
    ap.add_argument("--corpus", default="corpus", help="working corpus folder under --out")
    ap.add_argument("--seed", type=int, default=0, help="libFuzzer -seed (0: random)")
    ap.add_argument("targets", nargs="*")
    args = ap.parse_args()
    if args.summary:
        return summary(args.out, args.since)
    failed = []
    print(f"{'target':<14}{'execs':>12}{'exec/s':>10}{'cov':>14}{'new units':>11}{'cpu s':>8}")
    for target in args.targets:
        r = run_target(target, args.seconds, args.out, args.corpus, args.seed)
        log_run(args.out, r)
        cov = f"{r['cov_start']}->{r['cov_end']}"
        print(f"{target:<14}{r['execs']:>12,}{r['exec_s']:>10,}{cov:>14}{r['new_units']:>11}{r['cpu']:>8}", flush=True)
        if r["rc"] != 0:
            failed.append(target)
            print(f"--- {target} failed (exit {r['rc']}); artifact in {args.out}/artifacts/{target}/\n{r['tail']}")
    print(f"fuzz: {len(args.targets) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
