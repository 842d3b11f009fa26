"""One fuzzing run: worker threads execute generated inputs, the main thread watches the target,
and every finding is triaged (which input caused it), minimised and saved as a reproducer.

The run is bounded: `seconds` of fuzzing (the clock stops while a finding is triaged, each triage
bounded by the minimiser's budget), at most `max_inputs` inputs and `max_findings` findings.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import queue
import re
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import ROOT
from .execute import Transcript, run_program
from .minimise import MINIMISE_SECONDS, MINIMISE_TESTS, Budget, minimise
from .mutate import MAX_BYTES, OPERATORS, Env, generate, program_size
from .oracles import Evidence, judge
from .program import Program, concat_programs
from .repro import save_reproducer
from .seeds import load_pools, load_sessions
from .target import HEALTH_TIMEOUT_S, Handle, git_head, open_target, slug

OUT_ROOT = ROOT / "build" / "fuzz-target"
# Inputs remembered for triage: a crash is charged to one of the most recent ones.
WINDOW_INPUTS = 64
# Candidates tried alone when a crash or hang is triaged, most recent first.
TRIAGE_CANDIDATES = 32
HEALTH_EVERY_S = 1.0
RSS_LIMIT_MB = 2048
MAX_FINDINGS = 20
PROGRESS_EVERY_S = 10.0
# Programs kept in the reproducer of a finding no single input reproduces.
UNREPRODUCED_PROGRAMS = 8
# How long paused workers may take to finish (their inputs are cancelled at the next step).
DRAIN_S = 5.0


@dataclass
class Settings:
    target: str
    seconds: float = 60.0
    seed: int = 1
    max_inputs: int = 10**9
    workers: int = 8
    out: Path = OUT_ROOT
    rss_limit_mb: int = RSS_LIMIT_MB
    hang_s: float = HEALTH_TIMEOUT_S
    minimise_tests: int = MINIMISE_TESTS
    minimise_seconds: float = MINIMISE_SECONDS
    max_findings: int = MAX_FINDINGS
    verbose: bool = True
    # A shell command that starts the server (then `target` is only its label).
    command: str | None = None
    # Oracles whose first finding ends the run (time to first crash: `stop_on=("crash",)`).
    stop_on: tuple[str, ...] = ()


@dataclass
class Done:
    index: int
    program: Program
    operators: list[str]
    started: float
    ended: float
    transcript: Transcript


@dataclass
class Finding:
    oracle: str
    key: str
    summary: str
    path: Path | None
    index: int | None
    minimised: bool
    at_input: int
    at_seconds: float


@dataclass
class Stats:
    inputs: int = 0
    sessions: int = 0
    connections: int = 0
    steps: int = 0
    problems: int = 0
    duplicates: int = 0
    undelivered: int = 0
    probes: int = 0
    slowest_probe_s: float = 0.0
    peak_rss_kb: int = 0
    applied: collections.Counter = field(default_factory=collections.Counter)
    reactions: dict[str, set] = field(default_factory=lambda: collections.defaultdict(set))
    all_reactions: set = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)


ERROR_LINE = re.compile(r"(Error|Exception|panic|Traceback|Assertion|Sanitizer|Segmentation|FATAL|fatal)")


def crash_key(evidence: Evidence) -> str:
    """What makes two crashes the same: the last error line of the target's output (the fatal one;
    servers print handled errors too) with digits and addresses blanked, and the first stack frame
    after it."""
    lines = evidence.stderr
    for i in range(len(lines) - 1, -1, -1):
        line = lines[i].strip()
        if ERROR_LINE.search(line) and not line.startswith(("at ", "File ", "#")):
            frame = next((ln.strip() for ln in lines[i + 1 :] if ln.strip().startswith(("at ", "File ", "#"))), "")
            frame = re.sub(r"\(.*\)|:\d+(:\d+)?", "", frame)
            return re.sub(r"0x[0-9a-f]+|\d+", "N", f"{line} | {frame}")[:300]
    return evidence.summary


def finding_key(evidence: Evidence) -> str:
    """The key of any finding: crashes by their error, hangs as one (a hung server says nothing about
    why), protocol findings by oracle and detail."""
    if evidence.oracle == "crash":
        return crash_key(evidence)
    if evidence.oracle in ("hang", "rss"):
        return evidence.oracle
    return problem_key(evidence.oracle, evidence.summary)


def problem_key(oracle: str, detail: str) -> str:
    head = re.sub(r"conn \d+: ", "", detail)
    head = re.sub(r"b'.*|b\".*|\{.*", "", head)
    return f"{oracle}: " + re.sub(r"\d+", "N", head)[:120]


class Campaign:
    def __init__(self, settings: Settings):
        self.s = settings
        self.h: Handle = open_target(settings.target, settings.command)
        self.env = Env(load_pools(), load_sessions(), self.h.profile)
        self.out = settings.out / slug(self.h.name)
        self.stats = Stats()
        self.lock = threading.Lock()
        self.running = threading.Event()
        self.cancel = threading.Event()
        self.stop = threading.Event()
        self.reports: queue.Queue[tuple[str, Done]] = queue.Queue()
        self.next_index = 0
        self.retry: collections.deque[int] = collections.deque()
        self.retried: set[int] = set()
        # When inputs found the target refusing connections (the latest ones): a crash came before.
        self.refused_at: collections.deque[float] = collections.deque(maxlen=WINDOW_INPUTS)
        self.inflight: dict[int, float] = {}
        self.recent: collections.deque[Done] = collections.deque(maxlen=WINDOW_INPUTS)
        self.seen_keys: set[str] = set()
        self.fuzz_seconds = 0.0
        self.resumed_at = 0.0
        self.started = time.monotonic()
        self.load_at_start = round(os.getloadavg()[0], 1)

    # ------------------------------------------------------------------ workers
    def _worker(self) -> None:
        while not self.stop.is_set():
            if not self.running.wait(0.2):
                continue
            with self.lock:
                if not self.running.is_set():
                    continue
                if self.retry:
                    index = self.retry.popleft()
                elif self.next_index >= self.s.max_inputs:
                    self.stop.set()
                    return
                else:
                    index = self.next_index
                    self.next_index += 1
                started = time.monotonic()
                self.inflight[index] = started
                host, port = self.h.host, self.h.port
            program, ops = generate(self.s.seed, index, self.env)
            transcript = run_program(host, port, program, self.cancel)
            done = Done(index, program, ops, started, time.monotonic(), transcript)
            with self.lock:
                del self.inflight[index]
                if not transcript.reached:
                    # Never delivered (the run was paused, or the target was down): once more later;
                    # an input that never reaches the target cannot be the cause of a finding.
                    if transcript.first_connect_at:
                        self.refused_at.append(transcript.first_connect_at)
                    if index not in self.retried:
                        self.retried.add(index)
                        self.retry.append(index)
                    else:
                        self.stats.undelivered += 1
                    continue
                self._count(done)
                self.recent.append(done)
            if transcript.problems:
                self.reports.put(("problem", done))

    def _count(self, d: Done) -> None:
        st = self.stats
        st.inputs += 1
        st.sessions += len(d.transcript.sids)
        st.connections += d.transcript.connections
        st.steps += len(d.program.steps)
        st.problems += len(d.transcript.problems)
        reaction = "|".join(sorted(d.transcript.signature))
        st.all_reactions.add(reaction)
        for op in d.operators:
            st.applied[op] += 1
            st.reactions[op].add(reaction)

    def _pause(self) -> None:
        """Stops the workers and waits (bounded) until no input is in flight."""
        self.fuzz_seconds += time.monotonic() - self.resumed_at
        self.running.clear()
        self.cancel.set()
        deadline = time.monotonic() + DRAIN_S
        while time.monotonic() < deadline:
            with self.lock:
                if not self.inflight:
                    break
            self.stop.wait(0.01)
        self.cancel.clear()

    def _resume(self) -> None:
        self.resumed_at = time.monotonic()
        self.running.set()

    def _elapsed(self) -> float:
        return self.fuzz_seconds + (time.monotonic() - self.resumed_at if self.running.is_set() else 0.0)

    # ------------------------------------------------------------------ the run
    def run(self) -> Stats:
        threads = [threading.Thread(target=self._worker, name=f"fuzz worker {k}", daemon=True)
                   for k in range(self.s.workers)]  # fmt: skip
        for t in threads:
            t.start()
        self.started = time.monotonic()
        self.load_at_start = round(os.getloadavg()[0], 1)
        self._resume()
        next_health = next_progress = time.monotonic()
        try:
            while not self.stop.is_set():
                if self._elapsed() >= self.s.seconds or len(self.stats.findings) >= self.s.max_findings:
                    break
                try:
                    kind, done = self.reports.get(timeout=0.1)
                    if kind == "problem":
                        self._problem(done)
                except queue.Empty:
                    pass
                if self.h.owned and self.h.exit_status() is not None:
                    self._survival("crash", f"target died ({self.h.exit_status()})")
                now = time.monotonic()
                if now >= next_health:
                    self._watch()
                    next_health = time.monotonic() + HEALTH_EVERY_S
                if self.s.verbose and now >= next_progress:
                    self._progress()
                    next_progress = now + PROGRESS_EVERY_S
        finally:
            if self.running.is_set():
                self._pause()
            self.stop.set()
            for t in threads:
                t.join(DRAIN_S)
            self.h.stop()
        return self.stats

    def _watch(self) -> None:
        t0 = time.monotonic()
        status = self.h.health(self.s.hang_s)
        took = time.monotonic() - t0
        self.stats.probes += 1
        self.stats.slowest_probe_s = max(self.stats.slowest_probe_s, took)
        if status is not None:
            oracle = "crash" if status.startswith("target died") else "hang"
            self._survival(oracle, status)
            return
        rss = self.h.rss_kb()
        if rss is not None:
            self.stats.peak_rss_kb = max(self.stats.peak_rss_kb, rss)
            if rss > self.s.rss_limit_mb * 1024:
                self._rss(rss)

    def _progress(self) -> None:
        el = self._elapsed()
        st = self.stats
        rate = st.inputs / el if el > 0 else 0.0
        print(f"[{el:7.1f} s] inputs {st.inputs} ({rate:.1f}/s), sessions {st.sessions}, "
              f"findings {len(st.findings)}, reactions {len(st.all_reactions)}", flush=True)  # fmt: skip

    # ------------------------------------------------------------------ findings
    def _candidates(self, before: float) -> list[Done]:
        """Inputs that reached the target before it failed, most recent first. Inputs started after
        the failure (refused at their first connection) cannot have caused it and are left out."""
        with self.lock:
            since = self.resumed_at  # inputs before the last pause ran against an earlier process
            window = [
                d for d in self.recent if since <= d.transcript.first_connect_at <= before and d.transcript.reached
            ]
            refused = [t for t in self.refused_at if since <= t <= before]
        if refused:
            window = [d for d in window if d.transcript.first_connect_at < min(refused)]
        window.sort(key=lambda d: d.transcript.first_connect_at, reverse=True)
        return window[:TRIAGE_CANDIDATES]

    def _record(self, f: Finding) -> None:
        self.stats.findings.append(f)
        if f.oracle in self.s.stop_on:
            self.stop.set()
        if self.s.verbose:
            where = f" -> {f.path.relative_to(ROOT) if f.path and f.path.is_relative_to(ROOT) else f.path}"
            print(f"FINDING {f.oracle}: {f.summary} (input {f.index}, after {f.at_input} inputs, "
                  f"{f.at_seconds:.1f} s){where}", flush=True)  # fmt: skip

    def _survival(self, oracle: str, status: str) -> None:
        """A crash or hang: pause, confirm, find the input, minimise it, save it, carry on."""
        noticed = time.monotonic()
        self._pause()
        at_input, at_seconds = self.stats.inputs, self.fuzz_seconds
        if oracle == "hang":
            again = self.h.health(self.s.hang_s)
            if again is None:  # slow under load but answering once the load stops: not a hang
                self._resume()
                return
            status = again
        evidence = Evidence(oracle, status, self.h.stderr_tail())
        key = finding_key(evidence)
        if not self.h.owned:
            self._save_unreproduced(evidence, key, self._candidates(noticed), at_input, at_seconds)
            self.stop.set()
            return
        self.h.restart()
        if key in self.seen_keys:
            self.stats.duplicates += 1
            self._resume()
            return
        self.seen_keys.add(key)
        culprit = None
        for cand in self._candidates(noticed):
            ev = judge(self.h, cand.program, oracle, self.s.hang_s)
            if ev is not None and finding_key(ev) == key:  # another crash is another finding
                culprit, evidence = cand, ev
                break
        if culprit is None:
            self._save_unreproduced(evidence, key, self._candidates(noticed), at_input, at_seconds)
        else:
            self._minimise_and_save(culprit, evidence, key, at_input, at_seconds)
        if self.h.exit_status() is not None or self.h.health(self.s.hang_s) is not None:
            self.h.restart()
        self._resume()

    def _rss(self, rss_kb: int) -> None:
        noticed = time.monotonic()
        self._pause()
        rss_now = self.h.rss_kb() or 0
        if rss_now <= self.s.rss_limit_mb * 1024:
            self._resume()
            return
        summary = f"resident memory {rss_now // 1024} MiB, past the bound of {self.s.rss_limit_mb} MiB"
        evidence = Evidence("rss", summary, self.h.stderr_tail())
        self._save_unreproduced(evidence, "rss", self._candidates(noticed), self.stats.inputs, self.fuzz_seconds)
        self.h.restart()
        self._resume()

    def _problem(self, done: Done) -> None:
        for p in done.transcript.problems:
            key = problem_key(p.oracle, p.detail)
            if key in self.seen_keys:
                self.stats.duplicates += 1
                continue
            self.seen_keys.add(key)
            self._pause()
            at_input, at_seconds = self.stats.inputs, self.fuzz_seconds
            evidence = judge(self.h, done.program, p.oracle, self.s.hang_s)
            if evidence is not None and finding_key(evidence) != key:
                evidence = None
            if evidence is None:
                ev = Evidence(
                    p.oracle, p.detail, self.h.stderr_tail(), [r.describe() for r in done.transcript.received]
                )
                self._save_unreproduced(ev, key, [done], at_input, at_seconds)
            else:
                self._minimise_and_save(done, evidence, key, at_input, at_seconds)
            self._resume()

    def _minimise_and_save(self, culprit: Done, evidence: Evidence, key: str, at_input: int, at_seconds: float) -> None:
        budget = Budget(self.s.minimise_tests, self.s.minimise_seconds)
        last: list[Evidence] = [evidence]

        def still(p: Program) -> bool:
            """The same finding, not merely the same oracle: a smaller input that crashes the target
            another way must not replace this one."""
            ev = judge(self.h, p, evidence.oracle, self.s.hang_s)
            if ev is None or finding_key(ev) != key:
                return False
            last[0] = ev
            return True

        small = minimise(culprit.program, still, budget)
        # The reproducer's evidence comes from a run of the minimised program itself.
        again = judge(self.h, small, evidence.oracle, self.s.hang_s)
        final = again if again is not None and finding_key(again) == key else last[0]
        path = save_reproducer(
            self.out, self.h, final, key, small, culprit.program,
            found={"seed": self.s.seed, "index": culprit.index, "operators": culprit.operators,
                   "after_inputs": at_input, "after_seconds": round(at_seconds, 2)},
            minimised={"tests": budget.used, "seconds": round(time.monotonic() - budget.started, 1),
                       "steps": [len(culprit.program.steps), len(small.steps)]},
        )  # fmt: skip
        self._record(Finding(evidence.oracle, key, final.summary, path, culprit.index, True, at_input, at_seconds))

    def _save_unreproduced(self, evidence: Evidence, key: str, candidates: list[Done], at_input: int,
                           at_seconds: float) -> None:  # fmt: skip
        """A finding no single recent input reproduces alone: saved with the most recent candidates, one
        after the other, and the indexes of all of them (the seed regenerates any of them)."""
        kept: list[Program] = []
        size = 0
        for d in candidates[:UNREPRODUCED_PROGRAMS]:
            size += program_size(d.program)
            if kept and size > MAX_BYTES:
                break
            kept.append(d.program)
        program = concat_programs(list(reversed(kept)))
        path = save_reproducer(
            self.out, self.h, evidence, key, program, None,
            found={"seed": self.s.seed, "indexes": [d.index for d in candidates], "after_inputs": at_input,
                   "after_seconds": round(at_seconds, 2), "reproduced_alone": False},
            minimised=None,
        )  # fmt: skip
        self._record(Finding(evidence.oracle, key, evidence.summary, path, None, False, at_input, at_seconds))

    # ------------------------------------------------------------------ report
    def summary(self) -> dict:
        st = self.stats
        el = self.fuzz_seconds
        ops = {op.name: {"applied": st.applied.get(op.name, 0), "reactions": len(st.reactions.get(op.name, ()))}
               for op in OPERATORS}  # fmt: skip
        return {
            "target": self.h.name,
            "version": self.h.version,
            "seed": self.s.seed,
            "workers": self.s.workers,
            "fuzzer_commit": git_head(),
            "budget_seconds": self.s.seconds,
            "minimise_seconds": self.s.minimise_seconds,
            "stop_on": list(self.s.stop_on),
            # The machine's 1-minute load average when fuzzing started and when it ended: inputs/s
            # depend on it (the fuzzer and the target share the machine with whatever else runs).
            "load_average": [self.load_at_start, round(os.getloadavg()[0], 1)],
            "fuzz_seconds": round(el, 2),
            "wall_seconds": round(time.monotonic() - self.started, 2),
            "inputs": st.inputs,
            "inputs_per_second": round(st.inputs / el, 1) if el > 0 else 0.0,
            "sessions": st.sessions,
            "connections": st.connections,
            "steps": st.steps,
            "restarts": self.h.restarts,
            "health_probes": st.probes,
            "slowest_probe_s": round(st.slowest_probe_s, 3),
            "peak_rss_mib": round(st.peak_rss_kb / 1024, 1),
            "reactions": len(st.all_reactions),
            "duplicates": st.duplicates,
            "undelivered": st.undelivered,
            "findings": [
                {
                    "oracle": f.oracle,
                    "summary": f.summary,
                    "key": f.key,
                    "minimised": f.minimised,
                    "file": str(f.path.relative_to(ROOT)) if f.path and f.path.is_relative_to(ROOT) else str(f.path),
                    "after_inputs": f.at_input,
                    "after_seconds": round(f.at_seconds, 2),
                }
                for f in st.findings
            ],  # fmt: skip
            "operators": ops,
        }


def print_summary(s: dict) -> None:
    ops = s["operators"]
    used = sum(1 for v in ops.values() if v["applied"])
    print(f"wirefuzz: {s['target']} ({', '.join(f'{k} {v}' for k, v in s['version'].items())}), seed {s['seed']}, "
          f"{s['workers']} workers")  # fmt: skip
    print(f"  inputs {s['inputs']} in {s['fuzz_seconds']:.1f} s of fuzzing = {s['inputs_per_second']} inputs/s "
          f"(wall {s['wall_seconds']:.1f} s with triage)")  # fmt: skip
    print(f"  sessions opened {s['sessions']}, connections {s['connections']}, steps {s['steps']}, "
          f"target restarts {s['restarts']}")  # fmt: skip
    print(f"  health probes {s['health_probes']} (slowest {s['slowest_probe_s']} s), peak RSS {s['peak_rss_mib']} MiB, "
          f"distinct target reactions {s['reactions']}")  # fmt: skip
    print(f"  findings {len(s['findings'])} (repeats of a known finding: {s['duplicates']})")
    for f in s["findings"]:
        print(
            f"    {f['oracle']}: {f['summary']} (after {f['after_inputs']} inputs, {f['after_seconds']} s) {f['file']}"
        )
    print(f"  operators applied {used}/{len(ops)} (times applied, distinct reactions of the inputs using it):")
    names = sorted(ops)
    for i in range(0, len(names), 3):
        row = names[i : i + 3]
        print("    " + "".join(f"{n:<22}{ops[n]['applied']:>7} {ops[n]['reactions']:>5}   " for n in row).rstrip())


def write_summary(out: Path, s: dict) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"run-seed{s['seed']}.json"
    path.write_text(json.dumps(s, indent=1) + "\n", encoding="utf-8")
    return path


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()[:10]
