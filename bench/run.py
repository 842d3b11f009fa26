#!/usr/bin/env python3
"""Runs every benchmark in one go and reports them side by side.

Codec: the C codec, socket.io-parser + engine.io-parser (Node) and python-socketio's packet
classes decode and encode the same input file; callgrind counts the C codec's instructions.
Server: the reference server, Node's socket.io and python-socketio (aiohttp) each run the fixture
app and are driven by the same C load generator. Prints a table, writes docs/bench/results.json
and PNG plots. Figures that cannot be taken are reported as "n/a (reason)", never invented.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TOP = Path(__file__).resolve().parent.parent
BUILD = TOP / "build"
BENCH_BUILD = BUILD / "bench"
NODE_DIR = TOP / "bench" / "node"
sys.path.insert(0, str(TOP / "bench"))

import report  # noqa: E402  (bench/report.py: table, goals and plots)

CATEGORIES = report.CATEGORIES

# The same Engine.IO/Socket.IO settings for every server: Node's own defaults, so heartbeats do
# not disturb idle-memory or throughput runs.
SERVER_ENV = {
    "HOST": "127.0.0.1",
    "PORT": "0",
    "PING_INTERVAL_MS": "25000",
    "PING_TIMEOUT_MS": "20000",
    "CONNECT_TIMEOUT_MS": "45000",
    "MAX_PAYLOAD": "1000000",
    "EIO3": "0",
}


@dataclass
class Plan:
    """Sizes of every run; --quick shrinks them for a smoke test."""

    codec_rounds: int = 3
    codec_warmup: float = 0.2
    codec_reps: int = 2
    codec_rep_s: float = 0.2
    callgrind_passes: int = 3
    echo_conns: int = 50
    echo_rate: float = 2000
    echo_inflight: int = 8
    server_rounds: int = 3
    window_s: float = 3
    warmup_s: float = 1
    setup_conns: int = 2000
    setup_concurrency: int = 100
    bcast_receivers: int = 1000
    bcast_inflight: int = 4
    idle_small: int = 1000
    idle_large: int = 10000
    idle_settle_s: float = 3
    scenario_timeout_s: float = 90
    fixed_rate_percents: tuple[int, ...] = (25, 50, 75)
    echo_probe_percent: int = 10
    fixed_rate_rounds: int = 5
    fixed_rate_other_rounds: int = 3
    fixed_rate_window_s: float = 2
    burst_size: int = 8
    burst_percent: int = 50


QUICK = Plan(
    codec_rounds=1,
    codec_warmup=0.05,
    codec_reps=3,
    codec_rep_s=0.05,
    callgrind_passes=1,
    server_rounds=2,
    window_s=1,
    warmup_s=0.5,
    setup_conns=300,
    idle_large=2000,
    idle_settle_s=1,
    scenario_timeout_s=30,
    fixed_rate_rounds=2,
    fixed_rate_other_rounds=1,
    fixed_rate_window_s=1,
)


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def run_json(cmd: list[str], timeout: float, cwd: Path | None = None) -> dict[str, Any]:
    """Runs a benchmark program and parses the JSON object it prints last."""
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{Path(cmd[0]).name} exited {proc.returncode}: {tail}")
    out: dict[str, Any] = json.loads(lines[-1])
    out["exit_status"] = proc.returncode
    return out


# ---------------------------------------------------------------------------- shared cores


def busy_seconds() -> float:
    """CPU seconds all processes of the machine have used (user, nice, system, irq, steal)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def pid_cpu_seconds(pid: int) -> float:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuWatch:
    """How much CPU everything else on the machine used while a benchmark ran: the other
    engineers' builds and tests share the same 2 cores, and this says how much they took."""

    def __init__(self, server_pid: int | None = None) -> None:
        self.server_pid = server_pid
        self.wall = time.monotonic()
        self.busy = busy_seconds()
        self.children = self._children()
        self.server = pid_cpu_seconds(server_pid) if server_pid else 0.0

    @staticmethod
    def _children() -> float:
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        return ru.ru_utime + ru.ru_stime

    def other_cores(self) -> float:
        wall = time.monotonic() - self.wall
        ours = self._children() - self.children
        if self.server_pid:
            ours += pid_cpu_seconds(self.server_pid) - self.server
        return round(max(0.0, (busy_seconds() - self.busy - ours) / wall), 2) if wall > 0 else 0.0


# ---------------------------------------------------------------------------- codec


def codec_benchmarks(plan: Plan, inputs: Path) -> dict[str, Any]:
    """Runs the three programs in interleaved rounds (C, Node, Python, C, Node, ...), so a
    neighbour's burst on the shared cores lands on all of them alike; the repetitions of all
    rounds are pooled and their median reported."""
    timing = ["--warmup", str(plan.codec_warmup), "--reps", str(plan.codec_reps), "--rep-time", str(plan.codec_rep_s)]
    programs = {
        "c": [str(BENCH_BUILD / "codec_bench"), str(inputs)],
        "node": ["node", str(NODE_DIR / "codec_bench.js"), str(inputs)],
        "python": [sys.executable, str(TOP / "bench" / "python" / "codec_bench.py"), str(inputs)],
    }
    rounds: dict[str, list[dict[str, Any]]] = {impl: [] for impl in programs}
    failed: dict[str, str] = {}
    if not Path(programs["c"][0]).exists():
        failed["c"] = "build/bench/codec_bench not built"
    for r in range(plan.codec_rounds):
        for impl, cmd in programs.items():
            if impl in failed:
                continue
            log(f"codec: {impl}, round {r + 1} of {plan.codec_rounds}")
            try:
                watch = CpuWatch()
                run = run_json(cmd + timing, timeout=300)
                run["other_cores"] = watch.other_cores()
                rounds[impl].append(run)
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
                failed[impl] = str(exc)
    return {impl: {"na": failed[impl]} if impl in failed else pool_rounds(rounds[impl]) for impl in programs}


def pool_rounds(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One result from several runs: every repetition's passes/s pooled, median taken."""
    out = {k: v for k, v in runs[0].items() if k != "categories"}
    out["rounds"] = len(runs)
    out["other_cores"] = [run.get("other_cores") for run in runs]
    cats: dict[str, Any] = {}
    for cat, first in runs[0]["categories"].items():
        entry: dict[str, Any] = {
            k: first[k] for k in ("packets", "bytes", "records", "roundtrip_identical") if k in first
        }
        for direction in ("decode", "encode", "floor_scan", "floor_copy"):
            if direction not in first:
                continue
            reps = [x for run in runs for x in run["categories"][cat][direction]["passes_per_s_reps"]]
            wall = [x for run in runs for x in run["categories"][cat][direction].get("wall_passes_per_s_reps", [])]
            med = statistics.median(reps)
            entry[direction] = {
                "passes_per_s_reps": reps,
                "packets_per_s": med * first["packets"],
                "mb_per_s": med * first["bytes"] / 1e6,
                "spread_percent": 100 * (max(reps) - min(reps)) / med,
                "wall_passes_per_s_reps": wall,
            }
        cats[cat] = entry
    out["categories"] = cats
    return out


def callgrind_counts(plan: Plan, inputs: Path) -> dict[str, Any]:
    """Instructions per packet from callgrind's per-section dumps (stable on a busy machine)."""
    prog = BENCH_BUILD / "codec_bench"
    if not prog.exists():
        return {"na": "build/bench/codec_bench not built"}
    if shutil.which("valgrind") is None:
        return {"na": "valgrind not installed"}
    outdir = BENCH_BUILD / "callgrind"
    shutil.rmtree(outdir, ignore_errors=True)
    outdir.mkdir(parents=True)
    log("codec: callgrind")
    cmd = [
        "valgrind",
        "--tool=callgrind",
        f"--callgrind-out-file={outdir}/cg.out",
        "--dump-instr=no",
        str(prog),
        str(inputs),
        "--callgrind",
        str(plan.callgrind_passes),
    ]
    try:
        meta = run_json(cmd, timeout=300)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        return {"na": str(exc)}
    counts: dict[str, Any] = {}
    for dump in sorted(outdir.glob("cg.out.*")):
        text = dump.read_text(errors="replace")
        m = re.search(r"^desc: Trigger: Client Request: (decode|encode|floor_scan|floor_copy) (\w+)$", text, re.M)
        tot = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        if not m or not tot:
            continue
        direction, cat = m.group(1), m.group(2)
        cat_meta = meta["categories"][cat]
        ir = int(tot.group(1))
        per_pass = ir / plan.callgrind_passes
        counts.setdefault(cat, {})[direction] = {
            "instructions_per_packet": per_pass / cat_meta["packets"],
            "instructions_per_byte": per_pass / cat_meta["bytes"],
            "bytes": cat_meta["bytes"],
        }
        if direction == "decode" and cat == "small_event":
            counts["_hotspots_decode_small_event"] = hotspots(dump)
    return {"passes": plan.callgrind_passes, "categories": counts}


def hotspots(dump: Path) -> list[dict[str, Any]]:
    """The five functions with the most self instructions, to show where the codec's time goes."""
    if shutil.which("callgrind_annotate") is None:
        return []
    proc = subprocess.run(
        ["callgrind_annotate", "--threshold=100", str(dump)], capture_output=True, text=True, timeout=60
    )
    rows = []
    for line in proc.stdout.splitlines():
        m = re.match(r"\s*([\d,]+) \(\s*([\d.]+)%\)\s+(\S+):(\S+) \[(.+)\]$", line)
        if m and "codec/src" in m.group(3):
            rows.append(
                {"function": m.group(4), "file": m.group(3).split("codec/")[-1], "share_percent": float(m.group(2))}
            )
    return rows[:5]


# ---------------------------------------------------------------------------- servers


class Server:
    """One server process under test, started fresh for each scenario."""

    def __init__(self, name: str, cmd: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.name, self.cmd, self.cwd = name, cmd, cwd
        self.env = {**os.environ, **SERVER_ENV, **env}
        self.proc: subprocess.Popen[str] | None = None
        self.port = 0

    def start(self, timeout: float = 20) -> None:
        self.proc = subprocess.Popen(
            self.cmd,
            cwd=self.cwd,
            env=self.env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            m = re.match(r"READY (\d+)", line)
            if m:
                self.port = int(m.group(1))
                return
        self.stop()
        raise RuntimeError(f"{self.name} did not print READY within {timeout:.0f} s")

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 3 s: every process started here is stopped here."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=3)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.proc = None


def server_specs(ref: Path) -> dict[str, tuple[list[str], Path, dict[str, str]] | str]:
    """How to start each server, or the reason it cannot run."""
    specs: dict[str, tuple[list[str], Path, dict[str, str]] | str] = {}
    specs["reference"] = (
        ([str(ref)], TOP, {}) if ref.exists() else "reference server not built yet (build/reference-server missing)"
    )
    specs["node"] = (["node", str(NODE_DIR / "fixture.js")], NODE_DIR, {})
    specs["python"] = ([sys.executable, str(TOP / "bench" / "python" / "fixture.py")], TOP, {})
    floor = BENCH_BUILD / "floor_server"
    missing = "build/bench/floor_server not built"
    specs["floor"] = ([str(floor)], TOP, {}) if floor.exists() else missing
    specs["floor_round"] = ([str(floor), "--fanout", "round"], TOP, {}) if floor.exists() else missing
    return specs


# The floors run only what their figures need: their maximum echo and fan-out rates (from which
# the fixed rates are derived), then the fixed-rate scenarios.
FLOOR_SCENARIOS = {"echo_max", "broadcast"}


def scenarios(plan: Plan) -> list[tuple[str, list[str]]]:
    w = ["--warmup", str(plan.warmup_s), "--duration", str(plan.window_s)]
    return [
        (
            "setup",
            ["--scenario", "setup", "--conns", str(plan.setup_conns), "--concurrency", str(plan.setup_concurrency)],
        ),
        ("echo_rate", ["--scenario", "echo-rate", "--conns", str(plan.echo_conns), "--rate", str(plan.echo_rate)] + w),
        (
            "echo_max",
            ["--scenario", "echo-max", "--conns", str(plan.echo_conns), "--inflight", str(plan.echo_inflight)] + w,
        ),
        (
            "broadcast",
            [
                "--scenario",
                "broadcast",
                "--conns",
                str(plan.bcast_receivers),
                "--inflight",
                str(plan.bcast_inflight),
                "--concurrency",
                "200",
            ]
            + w,
        ),
        (
            "idle_small",
            [
                "--scenario",
                "idle",
                "--conns",
                str(plan.idle_small),
                "--concurrency",
                "200",
                "--settle",
                str(plan.idle_settle_s),
            ],
        ),
        (
            "idle_large",
            [
                "--scenario",
                "idle",
                "--conns",
                str(plan.idle_large),
                "--concurrency",
                "200",
                "--settle",
                str(plan.idle_settle_s),
            ],
        ),
    ]


def failure_reason(res: dict[str, Any]) -> str | None:
    """Why a scenario's figures cannot be trusted, or None when they can."""
    if res.get("exit_status", 0) == 0:
        return None
    if res.get("saturated"):
        return (
            f"saturated: {res.get('msgs_per_s_mean') or res.get('deliveries_per_s_mean')} per second reached"
            f" of {res.get('rate')} offered"
        )
    if "error" in res:
        return str(res["error"])
    if res.get("failures"):
        return f"{res['failures']} connection failures (last: {res.get('last_error') or '?'})"
    return "incomplete run (replies missing within the time bound)"


def advertised_settings(port: int) -> dict[str, Any]:
    """The Engine.IO open packet's timing and size values, to show all servers run alike."""
    url = f"http://127.0.0.1:{port}/socket.io/?EIO=4&transport=polling"
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            body = resp.read().decode()
        data = json.loads(body[1 : body.index("}") + 1])
        return {k: data.get(k) for k in ("pingInterval", "pingTimeout", "maxPayload")}
    except (OSError, ValueError) as exc:
        return {"error": str(exc)}


def run_scenario(
    name: str, spec: tuple[list[str], Path, dict[str, str]], scen: str, args: list[str], plan: Plan
) -> tuple[dict[str, Any], bool]:
    """One scenario against a freshly started server; returns the result and whether it ran."""
    server = Server(name, *spec)
    try:
        server.start()
        assert server.proc is not None
        log(f"server: {name} {scen}")
        settings = advertised_settings(server.port) if scen == "setup" else None
        cmd = [
            str(BENCH_BUILD / "loadgen"),
            "--port",
            str(server.port),
            "--server-pid",
            str(server.proc.pid),
            "--timeout",
            str(plan.scenario_timeout_s),
        ] + args
        watch = CpuWatch(server.proc.pid)
        res = run_json(cmd, timeout=plan.scenario_timeout_s + 30)
        res["other_cores"] = watch.other_cores()
        if settings is not None:
            res["advertised"] = settings
        reason = failure_reason(res)
        return (res, True) if reason is None else ({"na": reason, "raw": res}, False)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        return {"na": str(exc)}, False
    finally:
        server.stop()


# Scenarios whose figure depends on how much CPU the shared machine leaves: run in rounds.
ROUNDED = {"setup", "echo_rate", "echo_max", "broadcast"}


def merge_rounds(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Median of every numeric figure over the rounds; the rounds themselves are kept."""
    merged: dict[str, Any] = dict(runs[-1])
    for key, value in runs[0].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            vals = [r[key] for r in runs if isinstance(r.get(key), (int, float))]
            merged[key] = statistics.median(vals)
    merged["rounds"] = runs
    return merged


def server_benchmarks(plan: Plan, ref: Path) -> dict[str, Any]:
    """Scenario by scenario and round by round, each server in turn, so that what the other
    engineers run on the shared cores at a given moment falls on all servers alike; the
    throughput and latency scenarios are repeated and their medians reported."""
    names = ("floor", "reference", "node", "python")
    if not (BENCH_BUILD / "loadgen").exists():
        return {n: {"na": "build/bench/loadgen not built"} for n in names}
    specs = server_specs(ref)
    results: dict[str, Any] = {n: ({"na": specs[n]} if isinstance(specs[n], str) else {}) for n in names}
    runnable = [n for n in names if not isinstance(specs[n], str)]
    failed: dict[str, str] = {}
    for scen, args in scenarios(plan):
        rounds: dict[str, list[dict[str, Any]]] = {n: [] for n in runnable}
        for _ in range(plan.server_rounds if scen in ROUNDED else 1):
            for name in runnable:
                if name in failed and (scen == "idle_large" or failed[name].startswith(scen)):
                    continue
                if name == "floor" and scen not in FLOOR_SCENARIOS:
                    continue
                spec = specs[name]
                assert not isinstance(spec, str)
                res, ok = run_scenario(name, spec, scen, args, plan)
                if ok:
                    rounds[name].append(res)
                else:
                    results[name][scen] = res
                    failed.setdefault(name, f"{scen} did not complete")
        for name in runnable:
            if scen in results[name] or (name == "floor" and scen not in FLOOR_SCENARIOS):
                continue
            if rounds[name]:
                results[name][scen] = merge_rounds(rounds[name])
            else:
                # a server that could not finish a smaller scenario is not given 10,000 clients
                results[name][scen] = {"na": f"skipped: {failed.get(name, 'not run')}"}
    return results


# ---------------------------------------------------------------------------- fixed rates


def floor_maximum(servers: dict[str, Any], scen: str, field: str) -> float | None:
    sc = servers.get("floor", {}).get(scen, {})
    v = sc.get(field)
    return float(v) if isinstance(v, (int, float)) and v > 0 else None


def echo_ceiling(
    plan: Plan, floor_spec: tuple[list[str], Path, dict[str, str]], pipelined_max: float
) -> tuple[float | None, dict[str, Any]]:
    """The echo rate at which the floor server or the load generator would use a whole core when
    every message travels alone, as at a fixed rate (echo_max pipelines eight per connection,
    which the floor answers several to a read: about four times that rate). Measured on the floor
    at a low rate: the rate reached divided by the larger of the two processes' shares of a core."""
    rate = pipelined_max * plan.echo_probe_percent / 100
    w = ["--warmup", str(plan.warmup_s), "--duration", str(plan.window_s)]
    args = ["--scenario", "echo-rate", "--conns", str(plan.echo_conns), "--rate", f"{rate:.1f}"] + w
    res, ok = run_scenario("floor", floor_spec, "echo_ceiling_probe", args, plan)
    if not ok:
        return None, res
    reached, cores = res.get("msgs_per_s_mean"), max(res.get("server_cores") or 0, res.get("loadgen_cores") or 0)
    if not isinstance(reached, (int, float)) or reached <= 0 or cores <= 0:
        return None, {"na": "the probe reported no rate or no CPU use", "raw": res}
    return reached / cores, res


def fixed_rate_runs(
    plan: Plan, echo_max: float, bcast_max: float, runnable: list[str]
) -> list[tuple[str, int, list[str], list[str]]]:
    """(kind, percent, load generator arguments, servers) of every fixed-rate point."""
    receivers = plan.bcast_receivers
    w = ["--warmup", str(plan.warmup_s), "--duration", str(plan.fixed_rate_window_s)]
    bcast = ["--scenario", "broadcast-rate", "--conns", str(receivers), "--concurrency", "200", "--inflight", "64"]
    runs: list[tuple[str, int, list[str], list[str]]] = []
    for pct in plan.fixed_rate_percents:
        rate = echo_max * pct / 100
        echo = ["--scenario", "echo-rate", "--conns", str(plan.echo_conns), "--rate", f"{rate:.1f}"]
        runs.append(("echo", pct, echo + w, runnable))
        runs.append(("broadcast", pct, bcast + ["--rate", f"{bcast_max * pct / 100 / receivers:.2f}"] + w, runnable))
    brate = bcast_max * plan.burst_percent / 100 / receivers
    burst = ["--rate", f"{brate:.2f}", "--burst", str(plan.burst_size)]
    with_round_floor = runnable + (["floor_round"] if "floor" in runnable else [])
    runs.append(("burst_runs", plan.burst_percent, bcast + burst + w, with_round_floor))
    return runs


# The pair whose ratio is the goal: run back to back in every round, first one then the other.
PAIR = ("floor", "reference")


def round_order(servers: list[str], r: int, plan: Plan) -> list[str]:
    """The servers of round r: the floor and the reference in turn first (floor first in even
    rounds, reference first in odd ones, so that neither always runs just after a server
    start-up or a heavier neighbour), then the others in the first fixed_rate_other_rounds."""
    pair = [n for n in PAIR if n in servers]
    if r % 2 == 1:
        pair.reverse()
    others = [n for n in servers if n not in PAIR] if r < plan.fixed_rate_other_rounds else []
    return pair + others


def cpu_ratio(a: dict[str, Any], b: dict[str, Any]) -> float | None:
    """a's server CPU per unit over b's, from two runs of the same round."""
    x, y = a.get("cpu_s_per_million"), b.get("cpu_s_per_million")
    if isinstance(x, (int, float)) and isinstance(y, (int, float)) and y > 0:
        return round(x / y, 4)
    return None


def fixed_rate_benchmarks(plan: Plan, ref: Path, servers: dict[str, Any]) -> dict[str, Any]:
    """Server CPU per message and per delivery at fixed offered rates below saturation: a share
    of what the floor reached, so that neither the server nor the load generator is the limit.
    Short rounds: in each, every point runs once, the floor and the reference back to back, so
    that a drift of the machine (someone else's job, the host) falls on both; the ratio of a
    round is the reference's CPU per unit over the floor's in that round, and the figure is the
    median of the rounds' ratios, with their spread. Node's socket.io runs in the first rounds
    only; python-socketio is left out when its own maximum is below the lowest rate (it would
    only measure its saturation). A burst run sends broadcasts in groups, so that several
    arrive in one round of the server's loop."""
    pipelined_max = floor_maximum(servers, "echo_max", "msgs_per_s")
    bcast_max = floor_maximum(servers, "broadcast", "deliveries_per_s")
    out: dict[str, Any] = {"floor_echo_pipelined_max": pipelined_max, "floor_deliveries_max": bcast_max}
    if pipelined_max is None or bcast_max is None:
        out["na"] = "the floor's maximum rates were not measured"
        return out
    specs = server_specs(ref)
    floor_spec = specs["floor"]
    if isinstance(floor_spec, str):
        out["na"] = f"the floor server cannot run: {floor_spec}"
        return out
    echo_max, probe = echo_ceiling(plan, floor_spec, pipelined_max)
    out["floor_echo_max"] = echo_max
    out["echo_ceiling_probe"] = probe
    if echo_max is None:
        out["na"] = f"the floor's echo ceiling at one message per read was not measured: {probe.get('na')}"
        return out
    names = ["floor", "reference", "node", "python"]
    py_max = servers.get("python", {}).get("echo_max", {}).get("msgs_per_s")
    lowest = min(plan.fixed_rate_percents) / 100
    skipped: dict[str, str] = {}
    if not isinstance(py_max, (int, float)) or py_max < lowest * echo_max:
        skipped["python"] = (
            f"python-socketio's own maximum ({py_max if py_max else 'n/a'} msg/s) is below the lowest fixed rate"
        )
    for n in names:
        if isinstance(specs.get(n), str):
            skipped[n] = str(specs[n])
    runnable = [n for n in names if n not in skipped]
    runs = fixed_rate_runs(plan, echo_max, bcast_max, runnable)
    rounds: dict[tuple[str, int], dict[str, list[dict[str, Any]]]] = {}
    failures: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}
    pair_ratios: dict[str, dict[str, list[float]]] = {kind: {} for kind in ("echo", "broadcast", "burst_runs")}
    for r in range(plan.fixed_rate_rounds):
        log(f"fixed rates: round {r + 1} of {plan.fixed_rate_rounds}")
        for kind, pct, args, servers_for in runs:
            done: dict[str, dict[str, Any]] = {}
            for name in round_order(servers_for, r, plan):
                spec = specs[name]
                assert not isinstance(spec, str)
                res, ok = run_scenario(name, spec, f"{kind}_{pct}", args, plan)
                if ok:
                    rounds.setdefault((kind, pct), {}).setdefault(name, []).append(res)
                    done[name] = res
                else:
                    failures.setdefault((kind, pct), {})[name] = res
            ratio = cpu_ratio(done[PAIR[1]], done[PAIR[0]]) if all(n in done for n in PAIR) else None
            if ratio is not None:
                pair_ratios[kind].setdefault(str(pct), []).append(ratio)
    results: dict[str, Any] = {kind: {} for kind in ("echo", "broadcast", "burst_runs")}
    for kind, pct, _, servers_for in runs:
        for name in servers_for:
            ran = rounds.get((kind, pct), {}).get(name)
            entry = merge_rounds(ran) if ran else failures.get((kind, pct), {}).get(name, {"na": "not run"})
            results[kind].setdefault(name, {})[str(pct)] = entry
    out.update(results)
    out["ref_over_floor_rounds"] = pair_ratios
    out["percents"] = list(plan.fixed_rate_percents)
    out["burst"] = {"size": plan.burst_size, "percent": plan.burst_percent}
    out["skipped"] = skipped
    out["receivers"] = plan.bcast_receivers
    return out


# ---------------------------------------------------------------------------- main


def machine_info() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    head = subprocess.run(
        ["git", "-C", str(TOP), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(TOP), "status", "--porcelain", "--", "codec", "reference-server"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return {
        "cores": os.cpu_count(),
        "cpu": model,
        "kernel": platform.release(),
        "git_head": head,
        "codec_or_server_uncommitted_changes": bool(dirty),
        "loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
    }


HALF_KEYS = ("codec", "callgrind", "server", "fixed_rate")


def merge_halves(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """One results file from runs that each measured a part (--only codec, --only server): each
    part's figures are taken from the run that measured them, and every run's time, commit and
    load stay listed in `runs`, so the table's heading can name them all."""
    if len(parts) == 1:
        return parts[0]
    merged: dict[str, Any] = {k: v for k, v in parts[0].items() if k not in HALF_KEYS}
    merged["runs"] = []
    for part in parts:
        halves = [k for k in ("codec", "server") if k in part]
        for key in HALF_KEYS:
            if key in part:
                if key in merged:
                    raise SystemExit(f"--from-json: {key} is measured by more than one of the files")
                merged[key] = part[key]
        merged["runs"].append(
            {
                "halves": halves,
                "generated_utc": part["generated_utc"],
                "elapsed_s": part["elapsed_s"],
                "machine": part["machine"],
            }
        )
    merged["elapsed_s"] = round(sum(run["elapsed_s"] for run in merged["runs"]), 1)
    return merged


def raise_nofile() -> None:
    """Servers inherit this limit: 10,000 idle connections need 10,000 descriptors each side."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main() -> None:
    # A SIGTERM unwinds like Ctrl-C, so the `finally` that stops the current server still runs.
    signal.signal(signal.SIGTERM, lambda _sig, _frame: sys.exit(143))
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=TOP / "docs" / "bench")
    ap.add_argument("--quick", action="store_true", help="short runs, for a smoke test")
    ap.add_argument("--only", choices=["codec", "server"], help="run one half")
    ap.add_argument(
        "--from-json",
        type=Path,
        nargs="+",
        help="measure nothing: re-render table, plots and README from a results file, or from the"
        " codec and server halves of one measurement taken as two runs (--only codec, --only server)",
    )
    ap.add_argument("--update-readme", action="store_true", help="rewrite the table and goals in bench/README.md")
    ap.add_argument(
        "--reference-server",
        type=Path,
        default=BUILD / "reference-server",
        help="the reference server binary to measure",
    )
    args = ap.parse_args()
    if args.from_json:
        results = merge_halves([json.loads(path.read_text()) for path in args.from_json])
        results["summary"] = report.summarise(results)
        if len(args.from_json) > 1:
            args.out.mkdir(parents=True, exist_ok=True)
            (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    else:
        results = measure_all(args)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    table = report.render_table(results)
    print(table)
    if args.update_readme:
        report.update_readme(TOP / "bench" / "README.md", results, table)
    args.out.mkdir(parents=True, exist_ok=True)
    for png in report.plot(results, args.out):
        log(f"wrote {png}")
    log(f"results in {args.out / 'results.json'}; measuring took {results['elapsed_s']} s")


def measure_all(args: argparse.Namespace) -> dict[str, Any]:
    plan = QUICK if args.quick else Plan()
    raise_nofile()
    started = time.time()
    inputs = BENCH_BUILD / "inputs.bin"
    subprocess.run([sys.executable, str(TOP / "bench" / "gen_inputs.py"), str(inputs)], check=True)
    results: dict[str, Any] = {
        "generated_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
        "machine": machine_info(),
        "plan": plan.__dict__,
        "server_settings": SERVER_ENV,
    }
    if args.only != "server":
        results["codec"] = codec_benchmarks(plan, inputs)
        results["callgrind"] = callgrind_counts(plan, inputs)
    if args.only != "codec":
        results["server"] = server_benchmarks(plan, args.reference_server)
        results["fixed_rate"] = fixed_rate_benchmarks(plan, args.reference_server, results["server"])
    results["machine"]["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    results["elapsed_s"] = round(time.time() - started, 1)
    results["summary"] = report.summarise(results)
    return results


if __name__ == "__main__":
    main()
