"""Runs the conformance suite against the unmodified reference server and against each mutant of
conformance/mutants/README.md, and reports which mutants were killed and which other requirements
failed with them (cascades).

    python conformance/mutants/mutants.py --out build/mutants [--docs docs/mutants.md]
    python conformance/mutants/mutants.py --out build/mutants --only first_ping_at_once [--own-only]

A mutant is killed when its own requirement is judged `fail` or `non-strict`. A cascade is any other
requirement whose verdict is worse than on the unmodified server; it is
- attributed when every case of it that got worse says `precondition-failed` caused by the mutant's
  requirement (the suite names the defect it depends on);
- restated when every such case judges the very behaviour of the mutant's requirement (`judged_as` it):
  the summary groups (ERR-01 to ERR-04) exercise the behaviours of groups A to F once more, and say which;
  (a requirement some of whose cases are attributed and the others restated is reported as both);
- explained when the README's cascade table says why the dependency is inherent;
- otherwise unexplained. A cascade or a survivor is checked once more by running that requirement's
  cases alone against the mutant: one that does not come back is reported as not reproduced (a case
  upset by the load of the machine, shown with both verdicts), not as a cascade.
A server that dies during a run (the harness restarts it and says so) is reported too: a mutant is a
wrong behaviour, not a crash. Exit status 0 when every mutant run was killed, no cascade is
unexplained and no server died.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CONFORMANCE = ROOT / "conformance"
PYTHON = ROOT / "build" / "venv" / "bin" / "python"
BASELINE_SERVER = ROOT / "build" / "reference-server"
README = HERE / "README.md"
# A whole suite run takes well under a minute on an idle machine; this bounds a mutant that hangs it.
RUN_TIMEOUT_S = 1200.0
# Verdicts from best to worst (as the harness ranks a requirement's cases).
RANK = {"not-applicable": -1, "pass": 0, "informational": 1, "non-strict": 2, "unimplemented": 3,
        "precondition-failed": 4, "fail": 5, "error": 6, "untested": 7}  # fmt: skip
KILLING = ("fail", "non-strict")

sys.path.insert(0, str(CONFORMANCE))
from harness import catalogue  # noqa: E402


@dataclass
class Mutant:
    name: str
    requirement: str
    files: list[str]
    defect: str

    @property
    def binary(self) -> Path:
        return ROOT / "build" / "mutants" / self.name / "reference-server"


@dataclass
class Run:
    """One pytest run of the suite: its JSON index, read back, and how long it took."""

    index: dict[str, Any]
    seconds: float
    returncode: int
    log: Path

    def requirement_verdict(self, rid: str) -> str:
        return str(self.index.get("requirements", {}).get(rid, {}).get("verdict", "untested"))

    def cases_of(self, rid: str) -> list[dict[str, Any]]:
        return [c for c in self.index.get("cases", []) if c.get("requirement") == rid]

    @property
    def incidents(self) -> list[str]:
        """Every time the server died or stopped answering during the run (the harness restarts it): a
        mutant must be a wrong behaviour, not a crash, or its kills and cascades say nothing."""
        found = self.index.get("target_info", {}).get("incidents", [])
        return [f"{i.get('what')} in {i.get('case')}: {' / '.join(i.get('stderr_tail') or [])}" for i in found]


@dataclass
class Cascade:
    requirement: str
    baseline: str
    verdict: str
    kind: str  # attributed, restated (or both, "attributed/restated"), explained, unexplained, not-reproduced
    cases: list[dict[str, Any]] = field(default_factory=list)
    why: str = ""
    rerun: str | None = None


# ---------------------------------------------------------------------------- the README's tables
ROW = re.compile(r"^\|\s*`([a-z0-9_]+)`\s*\|\s*([A-Z]+(?:-[A-Z]+)?-\d+)\s*\|(.*)\|\s*$")


def read_tables(path: Path = README) -> tuple[list[Mutant], dict[tuple[str, str], str]]:
    """The mutant table (section "The mutants") and the cascade explanations (section "Cascades")."""
    mutants: list[Mutant] = []
    explained: dict[tuple[str, str], str] = {}
    section = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip().lower()
            continue
        m = ROW.match(line)
        if not m:
            continue
        name, rid, rest = m.group(1), m.group(2), [c.strip() for c in m.group(3).split("|")]
        if section.startswith("the mutants"):
            files = [f.strip() for f in rest[0].split(",") if f.strip()]
            mutants.append(Mutant(name, rid, files, rest[1] if len(rest) > 1 else ""))
        elif section.startswith("cascades"):
            explained[(name, rid)] = rest[0]
    return mutants, explained


# ---------------------------------------------------------------------------- running the suite
def run_suite(server: Path, out: Path, reqs: list[str] | None = None) -> Run:
    """The suite (tests/protocol) against `server` under the registry name `reference`; `reqs` limits
    it to those requirements' cases. Output goes to out/index.json and out/pytest.log."""
    out.mkdir(parents=True, exist_ok=True)
    index, log = out / "index.json", out / "pytest.log"
    index.unlink(missing_ok=True)
    argv = [str(PYTHON), "-m", "pytest", "tests/protocol", "-q", "--rootdir", ".", "-n", "0", "--target", "reference",
            "--report-json", str(index), "-p", "no:cacheprovider"]  # fmt: skip
    for rid in reqs or []:
        argv += ["--req", rid]
    env = dict(os.environ, REFERENCE_SERVER=str(server))
    env.pop("TARGET_CMD", None)
    started = time.monotonic()
    with log.open("wb") as sink:
        proc = subprocess.Popen(argv, cwd=CONFORMANCE, env=env, stdin=subprocess.DEVNULL, stdout=sink,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        try:
            code = proc.wait(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            _stop_group(proc)
            code = -1
    seconds = time.monotonic() - started
    doc: dict[str, Any] = {}
    if index.exists():
        doc = json.loads(index.read_text(encoding="utf-8"))
    return Run(doc, seconds, code, log)


def _stop_group(proc: subprocess.Popen[bytes]) -> None:
    """The pytest process and every server it started: SIGTERM, then SIGKILL after a bound."""
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


# ---------------------------------------------------------------------------- judging
def worse(verdict: str, than: str) -> bool:
    return RANK.get(verdict, 6) > RANK.get(than, 6)


def judge(m: Mutant, run: Run, base: Run, explained: dict[tuple[str, str], str]) -> dict[str, Any]:
    """Killed or not, and every other requirement that got worse, classified."""
    own = run.requirement_verdict(m.requirement)
    cascades: list[Cascade] = []
    if run.index:
        for rid in sorted(run.index.get("requirements", {})):
            if rid == m.requirement:
                continue
            verdict, before = run.requirement_verdict(rid), base.requirement_verdict(rid)
            if not worse(verdict, before):
                continue
            baseline_of = {c["case"]: c["verdict"] for c in base.cases_of(rid)}
            ran = {c["case"]: c for c in run.cases_of(rid)}
            # A case of the unmodified run that is missing from this one did not get judged at all.
            missing = [{"case": name, "verdict": "untested"} for name in baseline_of if name not in ran]
            got_worse = [c for c in ran.values() if worse(c["verdict"], baseline_of.get(c["case"], "pass"))] + missing
            how = {_accounted_for(c, m.requirement) for c in got_worse}
            why = explained.get((m.name, rid), "")
            if got_worse and None not in how:
                kind = "/".join(sorted(str(h) for h in how))  # attributed, restated, or both
            else:
                kind = "explained" if why else "unexplained"
            cascades.append(Cascade(rid, before, verdict, kind, [_case_summary(c) for c in got_worse], why))
    return {
        "mutant": m.name,
        "requirement": m.requirement,
        "level": _level(m.requirement),
        "defect": m.defect,
        "files": m.files,
        "own_verdict": own,
        "killed": own in KILLING,
        "own_cases": [_case_summary(c) for c in run.cases_of(m.requirement)],
        "cascades": cascades,
        "incidents": run.incidents,
        "seconds": round(run.seconds, 1),
        "exit_status": run.returncode,
        "log": str(run.log.relative_to(ROOT)) if run.log.is_relative_to(ROOT) else str(run.log),
    }


def _accounted_for(c: dict[str, Any], rid: str) -> str | None:
    """How a case that got worse under the mutant of requirement `rid` says so itself: `attributed` when
    it could not judge its own requirement for `rid`'s defect, `restated` when it judges `rid`'s very
    behaviour; None when it says neither."""
    if c["verdict"] == "precondition-failed" and c.get("caused_by") == rid:
        return "attributed"
    if c.get("judged_as") == rid:
        return "restated"
    return None


def _case_summary(c: dict[str, Any]) -> dict[str, Any]:
    message = (c.get("message") or "").strip().splitlines()
    check = next((ln.strip() for ln in message if ln.strip().startswith(("check:", "ended by", "unimplemented"))), "")
    return {
        "case": c["case"],
        "verdict": c["verdict"],
        "caused_by": c.get("caused_by"),
        "judged_as": c.get("judged_as"),
        "check": check,
        "expected": c.get("expected"),
        "actual": c.get("actual"),
    }


_CATALOGUE: dict[str, Any] = {}


def _level(rid: str) -> str:
    if not _CATALOGUE:
        _CATALOGUE.update(catalogue.load())
    req = _CATALOGUE.get(rid)
    return req.level if req else "?"


def confirm(m: Mutant, result: dict[str, Any], out: Path) -> None:
    """Runs once more, alone, the cases of every unexplained cascade and of a survivor's requirement.
    What does not come back was the load of the machine, and is reported so, with both verdicts."""
    doubtful = [c for c in result["cascades"] if c.kind == "unexplained"]
    if not doubtful and result["killed"]:
        return
    reqs = [c.requirement for c in doubtful] + ([] if result["killed"] else [m.requirement])
    again = run_suite(m.binary, out / "rerun", reqs)
    for c in doubtful:
        c.rerun = again.requirement_verdict(c.requirement)
        if not worse(c.rerun, c.baseline):
            c.kind = "not-reproduced"
    if not result["killed"]:
        result["rerun_own_verdict"] = again.requirement_verdict(m.requirement)


# ---------------------------------------------------------------------------- reports
def to_json(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r | {"cascades": [vars(c) for c in r["cascades"]]} for r in results]


def markdown(results: list[dict[str, Any]], base: Run, total_s: float, full: bool) -> str:
    killed = sum(r["killed"] for r in results)
    kinds: dict[str, int] = {}
    for r in results:
        for c in r["cascades"]:
            kinds[c.kind] = kinds.get(c.kind, 0) + 1
    lines = [
        "# Mutants of the reference server: the suite's own test",
        "",
        "Generated by `make mutants` (conformance/mutants/mutants.py) from the mutants of",
        "[conformance/mutants/README.md](../conformance/mutants/README.md): each is the reference server with",
        "one deliberate defect, and the whole suite runs against it. **Killed** means the suite judged the",
        "mutant's own requirement `fail` (or `non-strict` for a SHOULD). A **cascade** is another requirement",
        "whose verdict got worse than on the unmodified server: *attributed* when its cases say",
        "`precondition-failed` caused by the mutant's requirement, *restated* when its cases judge the very",
        "behaviour of the mutant's requirement (the summary requirements ERR-01 to ERR-04 exercise the",
        "behaviours of groups A to F again and name the one they judge), *explained* when the README says why the",
        "dependency is inherent, *not reproduced* when it did not come back on a second run of its cases alone",
        "(machine load), *unexplained* otherwise.",
        "",
        f"{'All' if full else 'Selected'} mutants: {len(results)}; killed: {killed}; cascades: "
        + (", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none")
        + f"; servers that died: {sum(bool(r['incidents']) for r in results) + bool(base.incidents)}"
        + f". Unmodified server: {base.seconds:.0f} s; whole run {total_s / 60:.1f} min.",
        "",
        "| mutant | requirement | verdict | killed | cascades | seconds |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        cascades = ", ".join(f"{c.requirement} ({c.kind})" for c in r["cascades"]) or "none"
        lines.append(
            f"| `{r['mutant']}` | {r['requirement']} [{r['level']}] | {r['own_verdict']} | "
            f"{'yes' if r['killed'] else '**NO**'} | {cascades} | {r['seconds']:.0f} |"
        )
    lines += ["", "## Each mutant", ""]
    for r in results:
        lines += [
            f"### `{r['mutant']}`: {r['requirement']}",
            "",
            f"Defect: {r['defect']} ({', '.join(r['files'])}).",
            "",
        ]
        judged = [c for c in r["own_cases"] if c["verdict"] != "pass"]
        lines.append(
            f"Own requirement: **{r['own_verdict']}** ({len(judged)} of {len(r['own_cases'])} cases not passing)."
        )
        for c in judged[:4]:
            lines.append(f"- `{c['case']}` {c['verdict']}: {c['check']}")
        if "rerun_own_verdict" in r:
            lines.append(f"- run again alone: {r['rerun_own_verdict']}")
        for incident in r["incidents"]:
            lines.append(f"- **the server died**: {incident}")
        for c in r["cascades"]:
            lines += ["", f"Cascade **{c.requirement}** ({c.kind}): {c.baseline} → {c.verdict}."]
            for case in c.cases[:4]:
                cause = f", caused by {case['caused_by']}" if case.get("caused_by") else ""
                lines.append(f"- `{case['case']}` {case['verdict']}{cause}: {case['check']}")
            if c.why:
                lines.append(f"- why: {c.why}")
            if c.rerun is not None:
                lines.append(f"- run again alone: {c.rerun}")
        lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "mutants")
    ap.add_argument("--only", nargs="+", default=None, help="these mutants (names of the README's table)")
    ap.add_argument("--own-only", action="store_true", help="run only each mutant's own requirement's cases")
    ap.add_argument("--docs", type=Path, default=None, help="also write the Markdown report here")
    ap.add_argument("--jobs", type=int, default=1, help="mutants run at once (each run is one pytest process)")
    args = ap.parse_args(argv)
    args.out = args.out.resolve()

    mutants, explained = read_tables()
    if args.only:
        unknown = sorted(set(args.only) - {m.name for m in mutants})
        if unknown:
            ap.error(f"unknown mutant(s) {', '.join(unknown)}; see {README.relative_to(ROOT)}")
        mutants = [m for m in mutants if m.name in args.only]
    for m in mutants:
        if not m.binary.exists():
            ap.error(f"{m.binary.relative_to(ROOT)} is missing (make mutant-{m.name})")
    started = time.monotonic()
    reqs = sorted({m.requirement for m in mutants}) if args.own_only else None
    print(f"mutants: the unmodified server{' (own requirements only)' if reqs else ''} …", flush=True)
    base = run_suite(BASELINE_SERVER, args.out / "baseline", reqs)
    if not base.index:
        print(f"mutants: the suite did not run against the unmodified server; see {base.log}", file=sys.stderr)
        return 2

    def one(m: Mutant) -> dict[str, Any]:
        run = run_suite(m.binary, args.out / m.name, [m.requirement] if args.own_only else None)
        result = judge(m, run, base, explained)
        confirm(m, result, args.out / m.name)
        status = "killed" if result["killed"] else "SURVIVED"
        cascades = " ".join(f"{c.requirement}:{c.kind}" for c in result["cascades"]) or "-"
        print(f"  {m.name:34} {m.requirement:12} {result['own_verdict']:20} {status:8} {run.seconds:5.0f} s  "
              f"cascades: {cascades}", flush=True)  # fmt: skip
        return result

    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(one, mutants))
    total = time.monotonic() - started
    full = args.only is None and not args.own_only
    text = markdown(results, base, total, full)
    args.out.mkdir(parents=True, exist_ok=True)
    report = {"baseline_seconds": round(base.seconds, 1), "total_seconds": round(total, 1), "mutants": to_json(results)}
    (args.out / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    (args.out / "report.md").write_text(text + "\n", encoding="utf-8")
    if args.docs is not None and full:
        args.docs.write_text(text + "\n", encoding="utf-8")
    survivors = [r["mutant"] for r in results if not r["killed"]]
    crashed = [r["mutant"] for r in results if r["incidents"]] + (["(the unmodified server)"] if base.incidents else [])
    unexplained = [f"{r['mutant']}:{c.requirement}" for r in results for c in r["cascades"] if c.kind == "unexplained"]
    print(f"mutants: {len(results) - len(survivors)} of {len(results)} killed in {total / 60:.1f} min; "
          f"report {args.out / 'report.md'}")  # fmt: skip
    if survivors:
        print("  survived: " + " ".join(survivors))
    if unexplained:
        print("  unexplained cascades: " + " ".join(unexplained))
    if crashed:
        print("  the server died during the run of: " + " ".join(crashed))
    return 1 if survivors or unexplained or crashed else 0


if __name__ == "__main__":
    sys.exit(main())
