"""Command line: python -m wirefuzz {run, replay, case, inputs} (run from fuzz/net/, or via make)."""

from __future__ import annotations

import argparse
import hashlib
import signal
import sys
from pathlib import Path

from . import ROOT
from .campaign import OUT_ROOT, RSS_LIMIT_MB, Campaign, Settings, print_summary, write_summary
from .findings import PAGE, adopt, write_page
from .minimise import MINIMISE_SECONDS, MINIMISE_TESTS
from .mutate import OPERATORS, Env, Profile, generate
from .oracles import judge
from .program import program_bytes
from .repro import load, oracle_of, program_of, to_case
from .seeds import load_pools, load_sessions
from .target import HEALTH_TIMEOUT_S, open_target


def cmd_run(a: argparse.Namespace) -> int:
    out = Path(a.out) if Path(a.out).is_absolute() else ROOT / a.out  # relative to the repository, as make runs
    s = Settings(a.target, a.seconds, a.seed, a.inputs, a.workers, out, a.rss_limit_mb, a.hang_s,
                 a.minimise_tests, a.minimise_seconds, a.max_findings, command=a.target_cmd,
                 stop_on=tuple(a.stop_on))  # fmt: skip
    c = Campaign(s)
    print(f"wirefuzz: fuzzing {c.h.name} on 127.0.0.1:{c.h.port} for {a.seconds:g} s, seed {a.seed}, "
          f"Engine.IO {'/'.join(map(str, c.h.profile.versions))}, {a.workers} workers", flush=True)  # fmt: skip
    c.run()
    summary = c.summary()
    print_summary(summary)
    print(f"  summary: {write_summary(c.out, summary)}")
    return 1 if summary["findings"] and a.fail_on_finding else 0


def cmd_replay(a: argparse.Namespace) -> int:
    doc = load(Path(a.file))
    name = a.target or doc.get("target", {}).get("name") or doc.get("found_on", {}).get("target")
    oracle = oracle_of(doc)
    program = program_of(doc)
    h = open_target(name, a.target_cmd)
    try:
        print(f"replaying {a.file} ({oracle}, {len(program.steps)} steps) against {h.name} "
              f"({', '.join(f'{k} {v}' for k, v in h.version.items())})")  # fmt: skip
        evidence = judge(h, program, oracle if oracle != "rss" else "crash", a.hang_s)
        if evidence is None:
            print("not reproduced: the target survived the input, answers a fresh handshake, and the oracle "
                  f"{oracle!r} did not fire")  # fmt: skip
            return 0
        print(f"reproduced: {evidence.summary}")
        for line in evidence.stderr[-15:]:
            print(f"  | {line}")
        return 1
    finally:
        h.stop()


def cmd_case(a: argparse.Namespace) -> int:
    out = to_case(Path(a.file), a.name)
    print(f"wrote {out}: the conformance suite now replays it against every target")
    return 0


def cmd_adopt(a: argparse.Namespace) -> int:
    for run in a.runs:
        print(f"adopted {run} as {adopt(Path(run), calibration=a.calibration)}")
    return 0


def cmd_findings(a: argparse.Namespace) -> int:
    if a.check:
        if write_page(check=True):
            return 0
        print(f"{PAGE} differs from what fuzz/net/findings/ gives: run `make fuzz-target-findings`")
        return 1
    write_page()
    print(f"wrote {PAGE}")
    return 0


def cmd_inputs(a: argparse.Namespace) -> int:
    """Prints a digest of inputs [0, count) for a seed: equal digests, equal inputs."""
    env = Env(load_pools(), load_sessions(), Profile(tuple(int(v) for v in a.eio.split(",")), "/socket.io/"))
    digest = hashlib.sha256()
    for i in range(a.count):
        program, ops = generate(a.seed, i, env)
        digest.update(program_bytes(program))
        digest.update(",".join(ops).encode())
    print(digest.hexdigest())
    return 0


def _stop_on_sigterm() -> None:
    """SIGTERM (a `timeout`, a CI runner) unwinds like Ctrl-C, so the owned target is stopped on the way out."""

    def handler(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, handler)


def main(argv: list[str] | None = None) -> int:
    _stop_on_sigterm()
    ap = argparse.ArgumentParser(prog="wirefuzz", description="structure-aware network fuzzer for Socket.IO servers")
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="fuzz a target")
    r.add_argument("--target", required=True, help="registry name[@version], http://127.0.0.1:PORT, or a label")
    r.add_argument("--target-cmd", default=None, help="a shell command that starts the server (FIXTURE.md section 1)")
    r.add_argument("--seconds", type=float, default=60.0)
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--inputs", type=int, default=10**9, help="stop after this many inputs")
    r.add_argument("--workers", type=int, default=8)
    r.add_argument("--out", default=str(OUT_ROOT))
    r.add_argument("--rss-limit-mb", type=int, default=RSS_LIMIT_MB)
    r.add_argument("--hang-s", type=float, default=HEALTH_TIMEOUT_S)
    r.add_argument("--minimise-tests", type=int, default=MINIMISE_TESTS)
    r.add_argument("--minimise-seconds", type=float, default=MINIMISE_SECONDS)
    r.add_argument("--max-findings", type=int, default=20)
    r.add_argument("--fail-on-finding", action="store_true", help="exit status 1 when something was found")
    r.add_argument("--stop-on", action="append", default=[], metavar="ORACLE",
                   help="end the run at the first finding of this oracle (crash, hang, …)")  # fmt: skip
    r.set_defaults(fn=cmd_run)
    p = sub.add_parser("replay", help="replay a reproducer or a regression case")
    p.add_argument("file")
    p.add_argument("--target", default=None, help="default: the target the file was found on")
    p.add_argument("--target-cmd", default=None, help="a shell command that starts the server")
    p.add_argument("--hang-s", type=float, default=HEALTH_TIMEOUT_S)
    p.set_defaults(fn=cmd_replay)
    c = sub.add_parser("case", help="turn a reproducer into a conformance regression case")
    c.add_argument("file")
    c.add_argument("--name", default=None)
    c.set_defaults(fn=cmd_case)
    i = sub.add_parser("inputs", help="digest of the inputs a seed generates")
    i.add_argument("--seed", type=int, default=1)
    i.add_argument("--count", type=int, default=1000)
    i.add_argument("--eio", default="4,3")
    i.set_defaults(fn=cmd_inputs)
    d = sub.add_parser("adopt", help="copy measured runs and their reproducers into fuzz/net/findings/")
    d.add_argument("runs", nargs="+", help="build/fuzz-target/<target>/run-seed<S>.json")
    d.add_argument("--calibration", action="store_true", help="time-to-first-crash runs (several seeds of one target)")
    d.set_defaults(fn=cmd_adopt)
    f = sub.add_parser("findings", help="write docs/findings/wire-fuzzing.md from fuzz/net/findings/")
    f.add_argument("--check", action="store_true", help="only check that the committed page is up to date")
    f.set_defaults(fn=cmd_findings)
    o = sub.add_parser("operators", help="list the mutation operators")
    o.set_defaults(fn=lambda a: print("\n".join(f"{op.name:<22} {op.doc}" for op in OPERATORS)) or 0)
    a = ap.parse_args(argv)
    return int(a.fn(a))


if __name__ == "__main__":
    sys.exit(main())
