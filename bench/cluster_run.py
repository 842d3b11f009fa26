#!/usr/bin/env python3
"""A broadcast across two nodes through Redis, side by side: the reference server pair against the
Node pair (socket.io 4.8.4 with @socket.io/redis-adapter 8.3.0).

For each pair: a private redis-server, two nodes joined through it (the conformance fixtures,
conformance/FIXTURE.md sections 8 and 9, with Node's default heartbeat), then build/bench/cluster_bench:
one sender on node A, N receivers on node B in one room, every delivery crossing Redis. Rounds
alternate between the pairs; the medians are reported with the ratio Node / reference, and written
to docs/bench/cluster.json. A pair that cannot run is reported as "n/a (reason)", never invented.

    python3 bench/cluster_run.py [--quick] [--rounds N] [--receivers N] [--out docs/bench/cluster.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

TOP = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(TOP / "conformance"))

from harness import targets  # noqa: E402
from harness.discovery import ask_fixture_info  # noqa: E402
from harness.redis import RedisServer  # noqa: E402

BENCH = TOP / "build" / "bench" / "cluster_bench"
PAIRS = {"reference": "reference", "node": "node-socketio"}
# Node's own defaults, so heartbeats do not disturb the run (bench/run.py uses the same).
OVERRIDES = {"ping_interval_ms": 25000, "ping_timeout_ms": 20000, "connect_timeout_ms": 45000}


def one_round(kind: str, receivers: int, inflight: int, duration: float) -> dict[str, Any]:
    redis = RedisServer()
    nodes: list[targets.Target] = []
    try:
        redis.start()
        spec = targets.lookup(kind, install=False)
        for _ in range(2):
            nodes.append(targets.start(spec, OVERRIDES, {"ADAPTER": redis.url}))
        info, how, _ = ask_fixture_info(nodes[0])
        if not info or "cluster" not in info.get("parts", []):
            return {"error": f"{kind} does not join a cluster (its fixture-info lists no `cluster` part: {how})"}
        assert redis.process is not None and nodes[0].process is not None and nodes[1].process is not None
        pids = f"{nodes[0].process.pid},{nodes[1].process.pid},{redis.process.pid}"
        cmd = [str(BENCH), "--port-a", str(nodes[0].port), "--port-b", str(nodes[1].port), "--pids", pids,
               "--receivers", str(receivers), "--inflight", str(inflight), "--duration", str(duration)]  # fmt: skip
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 90)
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
        result: dict[str, Any] = json.loads(lines[-1]) if lines else {"error": done.stderr.strip()[-300:]}
        if done.returncode != 0 and "error" not in result:
            result["error"] = f"cluster_bench exit status {done.returncode} ({result.get('undelivered')} undelivered)"
        return result
    finally:
        for n in nodes:
            targets.stop(n)
        redis.close()


def median_of(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in runs if "error" not in r and isinstance(r.get(key), (int, float)) and r[key] >= 0]
    return statistics.median(values) if values else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="one short round with few receivers")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--receivers", type=int, default=200)
    ap.add_argument("--inflight", type=int, default=8)
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--out", type=Path, default=TOP / "docs" / "bench" / "cluster.json")
    args = ap.parse_args()
    if args.quick:
        args.rounds, args.receivers, args.duration = 1, 50, 1.0
    if not BENCH.exists():
        print(f"{BENCH} missing: make {BENCH.relative_to(TOP)}", file=sys.stderr)
        return 2
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in PAIRS}
    for r in range(args.rounds):
        for name, kind in PAIRS.items():
            res = one_round(kind, args.receivers, args.inflight, args.duration)
            runs[name].append(res)
            shown = res.get("error") or f"{res.get('deliveries_per_s')} deliveries/s"
            print(f"cluster bench round {r + 1}/{args.rounds} {name}: {shown}", flush=True)
    summary: dict[str, Any] = {}
    for name, rs in runs.items():
        errors = [r["error"] for r in rs if "error" in r]
        summary[name] = {
            "deliveries_per_s": median_of(rs, "deliveries_per_s"),
            "cluster_cpu_s_per_million": median_of(rs, "cluster_cpu_s_per_million"),
            "node_a_cpu_s_per_million": median_of(rs, "node_a_cpu_s_per_million"),
            "node_b_cpu_s_per_million": median_of(rs, "node_b_cpu_s_per_million"),
            "redis_cpu_s_per_million": median_of(rs, "redis_cpu_s_per_million"),
            "rounds": len(rs) - len(errors),
            "errors": errors,
        }
    ref, node = summary["reference"], summary["node"]

    def ratio(key: str, inverse: bool = False) -> float | None:
        a, b = ref.get(key), node.get(key)
        if not a or not b:
            return None
        return round((a / b) if inverse else (b / a), 2)

    ratios = {
        "deliveries_per_s_reference_over_node": ratio("deliveries_per_s", inverse=True),
        "cpu_per_delivery_node_over_reference": ratio("cluster_cpu_s_per_million"),
    }
    doc = {
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "setup": {
            "receivers": args.receivers,
            "inflight": args.inflight,
            "window_s": args.duration,
            "rounds": args.rounds,
            "pairs": PAIRS,
        },  # fmt: skip
        "summary": summary,
        "ratios": ratios,
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    print(f"\nbroadcast across two nodes through Redis ({args.receivers} receivers on B, sender on A)")
    print(f"{'pair':<11} {'deliveries/s':>13} {'CPU s/M (all)':>14} {'node A':>8} {'node B':>8} {'Redis':>8}")
    for name, s in summary.items():
        if not s["rounds"]:
            print(f"{name:<11} n/a ({s['errors'][0] if s['errors'] else 'no run'})")
            continue
        cells = [s["deliveries_per_s"], s["cluster_cpu_s_per_million"], s["node_a_cpu_s_per_million"],
                 s["node_b_cpu_s_per_million"], s["redis_cpu_s_per_million"]]  # fmt: skip
        print(f"{name:<11} {cells[0]:>13.0f} {cells[1]:>14.2f} {cells[2]:>8.2f} {cells[3]:>8.2f} {cells[4]:>8.2f}")
    print(
        "ratios: deliveries/s reference/Node "
        + (
            f"{ratios['deliveries_per_s_reference_over_node']}x"
            if ratios["deliveries_per_s_reference_over_node"]
            else "n/a"
        )
        + ", CPU per delivery Node/reference "
        + (
            f"{ratios['cpu_per_delivery_node_over_reference']}x"
            if ratios["cpu_per_delivery_node_over_reference"]
            else "n/a"
        )
    )
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
