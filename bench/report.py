"""Turns the raw benchmark results into ratios, goal checks, a text table and PNG plots."""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeGuard

# The mix: the realistic input file as one workload. deep_binary (one binary event of about
# 1 MB nested 64 deep) is measured beside it, not inside it: it would be most of the mix's time.
MIX_CATEGORIES = [
    "small_event",
    "ack_event",
    "namespaced_event",
    "binary_event",
    "large_payload",
    "polling_payload",
    "ws_frame",
]
CATEGORIES = MIX_CATEGORIES + ["deep_binary"]
# Each direction's floor (bench/codec_bench.c): decoding reads its input, as memchr does;
# encoding writes its output, as memcpy does.
FLOOR_OF = {"decode": "floor_scan", "encode": "floor_copy"}
IMPLS = [("c", "C codec"), ("node", "Node parsers"), ("python", "python-socketio")]
SERVERS = [("reference", "reference"), ("node", "Node socket.io"), ("python", "python-socketio")]

# (key, label, scenario, field, better) for every server figure.
SERVER_METRICS = [
    ("echo_p50_ms", "echo RTT p50 at fixed rate (ms)", "echo_rate", "p50_ms", "lower"),
    ("echo_p99_ms", "echo RTT p99 at fixed rate (ms)", "echo_rate", "p99_ms", "lower"),
    ("echo_max_msgs_per_s", "max echo throughput (msg/s)", "echo_max", "msgs_per_s", "higher"),
    ("echo_cpu_s_per_million", "echo: server CPU s per 1M messages", "echo_max", "cpu_s_per_million", "lower"),
    (
        "bcast_deliveries_per_s",
        "broadcast to {bcast_receivers:,}: deliveries/s",
        "broadcast",
        "deliveries_per_s",
        "higher",
    ),
    ("bcast_cpu_s_per_million", "broadcast: server CPU s per 1M deliveries", "broadcast", "cpu_s_per_million", "lower"),
    ("setup_conns_per_s", "connection set-up (conn/s)", "setup", "conns_per_s", "higher"),
    (
        "idle_kib_per_conn_small",
        "idle RSS per WS connection at {idle_small:,} (KiB)",
        "idle_small",
        "kib_per_conn",
        "lower",
    ),
    (
        "idle_kib_per_conn_large",
        "idle RSS per WS connection at {idle_large:,} (KiB)",
        "idle_large",
        "kib_per_conn",
        "lower",
    ),
]

Value = float | str  # a figure, or "n/a (reason)"


def na(reason: str) -> str:
    return f"n/a ({reason})"


def is_num(v: Any) -> TypeGuard[float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def ratio(a: Value, b: Value) -> Value:
    if is_num(a) and is_num(b) and b:
        return a / b
    return "n/a"


# ---------------------------------------------------------------------------- codec


def codec_figure(raw: dict[str, Any], impl: str, cat: str, direction: str) -> dict[str, Value]:
    res = raw.get(impl, {})
    if "na" in res:
        return {"packets_per_s": na(res["na"]), "mb_per_s": na(res["na"])}
    fig = res.get("categories", {}).get(cat, {}).get(direction)
    if not fig:
        return {"packets_per_s": na("not measured"), "mb_per_s": na("not measured")}
    return {"packets_per_s": fig["packets_per_s"], "mb_per_s": fig["mb_per_s"]}


def mix_figure(raw: dict[str, Any], impl: str, direction: str) -> dict[str, Value]:
    """The whole input file as one workload: total packets over the time to process each
    category's share at its own measured rate."""
    res = raw.get(impl, {})
    if "na" in res:
        return {"packets_per_s": na(res["na"]), "mb_per_s": na(res["na"])}
    cats = res.get("categories", {})
    if any(c not in cats or direction not in cats[c] for c in MIX_CATEGORIES):
        return {"packets_per_s": na("incomplete"), "mb_per_s": na("incomplete")}
    seconds = sum(cats[c]["packets"] / cats[c][direction]["packets_per_s"] for c in MIX_CATEGORIES)
    packets = sum(cats[c]["packets"] for c in MIX_CATEGORIES)
    nbytes = sum(cats[c]["bytes"] for c in MIX_CATEGORIES)
    return {"packets_per_s": packets / seconds, "mb_per_s": nbytes / seconds / 1e6}


def instructions_per_byte(callgrind: dict[str, Any], cat: str, direction: str) -> Value:
    if cat == "mix":
        return mix_instructions(callgrind, direction)
    v = callgrind.get("categories", {}).get(cat, {}).get(direction, {}).get("instructions_per_byte")
    return v if is_num(v) else "n/a"


def mix_instructions(callgrind: dict[str, Any], direction: str) -> Value:
    """Instructions per byte of the whole mix: the categories' counts weighted by their bytes."""
    cats = callgrind.get("categories", {})
    total = nbytes = 0.0
    for c in MIX_CATEGORIES:
        d = cats.get(c, {}).get(direction, {})
        if not is_num(d.get("instructions_per_byte")) or not is_num(d.get("bytes")):
            return "n/a"
        total += d["instructions_per_byte"] * d["bytes"]
        nbytes += d["bytes"]
    return total / nbytes if nbytes else "n/a"


def summarise_codec(raw: dict[str, Any], callgrind: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for direction in ("decode", "encode"):
        rows: dict[str, Any] = {}
        floor = FLOOR_OF[direction]
        for cat in CATEGORIES + ["mix"]:
            row: dict[str, Any] = {
                impl: (mix_figure(raw, impl, direction) if cat == "mix" else codec_figure(raw, impl, cat, direction))
                for impl, _ in IMPLS
            }
            row["floor"] = mix_figure(raw, "c", floor) if cat == "mix" else codec_figure(raw, "c", cat, floor)
            row["c_over_node"] = ratio(row["c"]["packets_per_s"], row["node"]["packets_per_s"])
            row["c_over_python"] = ratio(row["c"]["packets_per_s"], row["python"]["packets_per_s"])
            row["c_over_floor"] = ratio(row["c"]["mb_per_s"], row["floor"]["mb_per_s"])
            row["c_instructions_per_byte"] = instructions_per_byte(callgrind, cat, direction)
            row["floor_instructions_per_byte"] = instructions_per_byte(callgrind, cat, floor)
            rows[cat] = row
        out[direction] = rows
    return out


# ---------------------------------------------------------------------------- server


def server_value(raw: dict[str, Any], server: str, scenario: str, field: str) -> Value:
    res = raw.get(server, {})
    if "na" in res:
        return na(res["na"])
    sc = res.get(scenario)
    if sc is None:
        return na("not run")
    if "na" in sc:
        return na(sc["na"])
    v = sc.get(field)
    if not is_num(v) or v < 0:
        return na("not measurable")
    return float(v)


def advantage(ref: Value, other: Value, better: str) -> Value:
    """How many times better the reference server is: >1 means better, whatever the unit."""
    return ratio(ref, other) if better == "higher" else ratio(other, ref)


def summarise_server(raw: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, label, scen, field, better in SERVER_METRICS:
        row: dict[str, Any] = {"label": label.format(**plan), "better": better}
        for server, _ in SERVERS:
            row[server] = server_value(raw, server, scen, field)
        row["reference_vs_node"] = advantage(row["reference"], row["node"], better)
        row["reference_vs_python"] = advantage(row["reference"], row["python"], better)
        out[key] = row
    return out


# ---------------------------------------------------------------------------- goals


def goal(name: str, measured: Value, target: float, at_most: bool = False, unit: str = "x") -> dict[str, Any]:
    """`measured` must reach `target` (or stay at or under it, with at_most)."""
    if not is_num(measured):
        status = "n/a"
    else:
        status = "met" if (measured <= target if at_most else measured >= target) else "not met"
    sign = "<=" if at_most else ">="
    return {"goal": name, "target": f"{sign} {target:g}{unit}", "measured": measured, "status": status, "unit": unit}


def summarise(results: dict[str, Any]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    goals = []
    if "codec" in results:
        codec = summarise_codec(results["codec"], results.get("callgrind", {}))
        summary["codec"] = codec
        for direction in ("decode", "encode"):
            mix = codec[direction]["mix"]
            goals.append(goal(f"C {direction} vs socket.io-parser + engine.io-parser (mix)", mix["c_over_node"], 10))
            goals.append(goal(f"C {direction} vs python-socketio (mix)", mix["c_over_python"], 50))
        large = codec["decode"]["large_payload"]["c"]["mb_per_s"]
        goals.append(goal("C decode of large payloads (MB/s)", large, 2000, unit=" MB/s"))
        deep = codec["decode"]["deep_binary"]
        goals.append(
            goal(
                "deep binary event (1 MB nested 64 deep) beside Node's parser: C / Node",
                deep["c_over_node"],
                1,
            )
        )
    if "server" in results:
        server = summarise_server(results["server"], results.get("plan", {}))
        summary["server"] = server
        goals.append(
            goal(
                "idle memory per connection: Node / reference (largest set)",
                server["idle_kib_per_conn_large"]["reference_vs_node"],
                5,
            )
        )
        goals.append(
            goal(
                "broadcast CPU per delivery: Node / reference",
                server["bcast_cpu_s_per_million"]["reference_vs_node"],
                3,
            )
        )
        goals.append(goal("echo p99: Node / reference", server["echo_p99_ms"]["reference_vs_node"], 1))
    if "fixed_rate" in results:
        fixed = summarise_fixed_rate(results["fixed_rate"])
        summary["fixed_rate"] = fixed
        for kind, what in (("echo", "echo CPU per message"), ("broadcast", "broadcast CPU per delivery")):
            for pct, row in fixed.get(kind, {}).items():
                goals.append(
                    goal(
                        f"{what} at {pct}% of the floor's maximum: reference / floor",
                        row["ref_over_floor"],
                        1.25,
                        at_most=True,
                    )
                )
        burst = fixed.get("burst", {})
        if burst:
            goals.append(
                goal(
                    "bursts: reference CPU per delivery / one-write-per-delivery floor",
                    burst.get("ref_over_floor", "n/a"),
                    1,
                    at_most=True,
                )
            )
    summary["goals"] = goals
    summary["other_cores"] = background(results)
    return summary


def background(results: dict[str, Any]) -> dict[str, Any]:
    """Mean CPU (in cores, of the machine's total) that other processes used during each part."""
    out: dict[str, Any] = {}
    for impl, res in results.get("codec", {}).items():
        vals = [v for v in res.get("other_cores", []) if is_num(v)]
        if vals:
            out[f"codec/{impl}"] = round(sum(vals) / len(vals), 2)
    for server, res in results.get("server", {}).items():
        vals = [v for sc in res.values() if isinstance(sc, dict) if is_num(v := sc.get("other_cores"))]
        if vals:
            out[f"server/{server}"] = round(sum(vals) / len(vals), 2)
    return out


# ---------------------------------------------------------------------------- fixed rates

FIXED_SERVERS = [
    ("floor", "floor"),
    ("reference", "reference"),
    ("node", "Node socket.io"),
    ("python", "python-socketio"),
]


def per_unit_us(entry: dict[str, Any]) -> Value:
    """Server CPU microseconds per message or delivery, or n/a with the reason."""
    if "na" in entry:
        return na(entry["na"])
    v = entry.get("cpu_s_per_million")
    return v if is_num(v) and v >= 0 else na("not measurable")


def paired_ratio(raw: dict[str, Any], kind: str, pct: Any, row: dict[str, Any]) -> None:
    """The reference's CPU over the floor's: the median of the rounds' ratios (each round ran both
    back to back) with their spread; from the medians alone for results taken before rounds were
    paired."""
    per_round = [v for v in raw.get("ref_over_floor_rounds", {}).get(kind, {}).get(str(pct), []) if is_num(v)]
    row["ref_over_floor_rounds"] = per_round
    if per_round and is_num(row["reference"]) and is_num(row["floor"]):
        ordered = sorted(per_round)
        mid = len(ordered) // 2
        median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
        row["ref_over_floor"] = median
        row["ref_over_floor_spread"] = [ordered[0], ordered[-1]]
    else:
        row["ref_over_floor"] = ratio(row["reference"], row["floor"])
        row["ref_over_floor_spread"] = None


def summarise_fixed_rate(raw: dict[str, Any]) -> dict[str, Any]:
    """Per kind and offered rate: each server's CPU per unit, its ratio to the floor, Node's to
    the reference's, the rate reached, and whether a server could not keep up."""
    out: dict[str, Any] = {
        "floor_echo_max": raw.get("floor_echo_max"),
        "floor_echo_pipelined_max": raw.get("floor_echo_pipelined_max"),
        "floor_deliveries_max": raw.get("floor_deliveries_max"),
    }
    if "na" in raw:
        out["na"] = raw["na"]
        return out
    for kind in ("echo", "broadcast"):
        rows: dict[str, Any] = {}
        for pct in raw.get("percents", []):
            row: dict[str, Any] = {"percent": pct}
            for srv, _ in FIXED_SERVERS:
                entry = raw.get(kind, {}).get(srv, {}).get(str(pct))
                row[srv] = per_unit_us(entry) if entry else na(raw.get("skipped", {}).get(srv, "not run"))
                if entry and entry.get("saturated"):
                    row[srv] = na("saturated: the backlog passed the bound")
                row[f"{srv}_rate"] = (entry or {}).get("msgs_per_s_mean" if kind == "echo" else "deliveries_per_s_mean")
                row[f"{srv}_cores"] = ((entry or {}).get("server_cores"), (entry or {}).get("loadgen_cores"))
            row["offered"] = (raw["floor_echo_max"] if kind == "echo" else raw["floor_deliveries_max"]) * pct / 100
            paired_ratio(raw, kind, pct, row)
            row["node_over_ref"] = ratio(row["node"], row["reference"])
            rows[str(pct)] = row
        out[kind] = rows
    burst = raw.get("burst")
    if burst:
        pct = str(burst["percent"])
        row = {"size": burst["size"], "percent": burst["percent"]}
        for srv in ("floor", "floor_round", "reference", "node", "python"):
            entry = raw.get("burst_runs", {}).get(srv, {}).get(pct)
            row[srv] = per_unit_us(entry) if entry else na(raw.get("skipped", {}).get(srv, "not run"))
            if entry and entry.get("saturated"):
                row[srv] = na("saturated: the backlog passed the bound")
        paired_ratio(raw, "burst_runs", pct, row)
        row["ref_over_round_floor"] = ratio(row["reference"], row["floor_round"])
        row["node_over_ref"] = ratio(row["node"], row["reference"])
        out["burst"] = row
    return out


# ---------------------------------------------------------------------------- text table


def fmt(v: Any, digits: int = 3) -> str:
    if not is_num(v):
        return str(v)
    if v >= 100:
        return f"{v:,.0f}"
    return f"{v:.{digits}g}"


def fmt_ratio(v: Any) -> str:
    return f"{v:.1f}x" if is_num(v) else str(v)


def fmt_fraction(v: Any) -> str:
    """A ratio that may be well under 1 (a share of the floor's speed)."""
    return f"{v:.2f}" if is_num(v) else "n/a"


def short(v: Any) -> str:
    """n/a reasons can be long; the table keeps 'n/a' and the JSON keeps the reason."""
    return "n/a" if isinstance(v, str) and v.startswith("n/a") else fmt(v)


def render_table(results: dict[str, Any]) -> str:
    s = results["summary"]
    lines: list[str] = []
    if "codec" in s:
        floor_name = {"decode": "memchr", "encode": "memcpy"}
        for direction in ("decode", "encode"):
            lines.append(
                f"\nCodec {direction}: packets/s (MB/s); C/Node, C/Py = C rate / other rate; floor = one"
                f" {floor_name[direction]} pass over the same bytes (MB/s); C/floor = C MB/s / floor MB/s;"
                " instr/B = C instructions per byte (the floor's)"
            )
            hdr = (
                f"{'category':17} {'C codec':>20} {'Node parsers':>20} {'python-socketio':>20}"
                f" {'C/Node':>7} {'C/Py':>7} {'floor':>7} {'C/floor':>7} {'instr/B':>13}"
            )
            lines += [hdr, "-" * len(hdr)]
            for cat, row in s["codec"][direction].items():
                cells = [f"{short(row[i]['packets_per_s'])} ({short(row[i]['mb_per_s'])})" for i, _ in IMPLS]
                instr = f"{fmt(row['c_instructions_per_byte'])} ({fmt(row['floor_instructions_per_byte'])})"
                lines.append(
                    f"{cat:17} {cells[0]:>20} {cells[1]:>20} {cells[2]:>20}"
                    f" {fmt_ratio(row['c_over_node']):>7} {fmt_ratio(row['c_over_python']):>7}"
                    f" {short(row['floor']['mb_per_s']):>7} {fmt_fraction(row['c_over_floor']):>7} {instr:>13}"
                )
            lines.append("(mix: every category but deep_binary, weighted by its packets)")
        same = []
        for impl, label in IMPLS:
            cats = results["codec"].get(impl, {}).get("categories", {})
            if cats and all("roundtrip_identical" in c for c in cats.values()):
                same.append(
                    f"{label} {sum(c['roundtrip_identical'] for c in cats.values())}/"
                    f"{sum(c['records'] for c in cats.values())}"
                )
        if same:
            lines.append("records re-encoded byte for byte as the input: " + ", ".join(same))
        cg = results.get("callgrind", {})
        if "categories" in cg:
            lines.append("\nC codec, callgrind instructions per packet (decode / encode)")
            for cat in CATEGORIES:
                c = cg["categories"].get(cat, {})
                d = c.get("decode", {}).get("instructions_per_packet", "n/a")
                e = c.get("encode", {}).get("instructions_per_packet", "n/a")
                lines.append(f"  {cat:18} {fmt(d):>12} / {fmt(e):<12}")
            hot = cg["categories"].get("_hotspots_decode_small_event", [])
            if hot:
                lines.append(
                    "  where decode small_event spends its instructions (self): "
                    + ", ".join(f"{h['function']} {h['share_percent']:.0f}%" for h in hot)
                )
        elif "na" in cg:
            lines.append(f"\ncallgrind: {na(cg['na'])}")
    if "server" in s:
        lines.append(
            "\nServers (same C load generator; advantage = how many times better the reference is, >1 = better)"
        )
        hdr = f"{'figure':46} {'reference':>12} {'Node':>12} {'python':>12} {'vs Node':>8} {'vs Py':>8}"
        lines += [hdr, "-" * len(hdr)]
        for row in s["server"].values():
            lines.append(
                f"{row['label']:46} {short(row['reference']):>12} {short(row['node']):>12}"
                f" {short(row['python']):>12} {fmt_ratio(row['reference_vs_node']):>8}"
                f" {fmt_ratio(row['reference_vs_python']):>8}"
            )
        adv = []
        for srv, name in SERVERS:
            a = results["server"].get(srv, {}).get("setup", {}).get("advertised")
            if a and "error" not in a:
                adv.append(f"{name} {a['pingInterval']}/{a['pingTimeout']}/{a['maxPayload']}")
        if adv:
            lines.append("advertised pingInterval/pingTimeout/maxPayload: " + ", ".join(adv))
        reasons = {
            f"{srv}: {row[srv]}" for row in s["server"].values() for srv, _ in SERVERS if isinstance(row[srv], str)
        }
        for r in sorted(reasons):
            lines.append(f"  {r}")
    for scen, label in (("echo_max", "max echo"), ("broadcast", "broadcast")):
        parts = []
        for srv, name in SERVERS:
            sc = results.get("server", {}).get(srv, {}).get(scen, {})
            if is_num(sc.get("server_cores")):
                parts.append(
                    f"{name} {sc['server_cores']:.2f}/{sc['loadgen_cores']:.2f}/{sc.get('other_cores', 0):.2f}"
                )
        if parts:
            lines.append(f"cores used during {label} (server/load generator/others): " + ", ".join(parts))
    if "fixed_rate" in s:
        lines += render_fixed_rate(s["fixed_rate"])
    if s.get("other_cores"):
        shares = ", ".join(f"{k} {v:.2f}" for k, v in s["other_cores"].items())
        lines.append(f"\nCPU used by other processes meanwhile (cores, of {results['machine']['cores']}): {shares}")
    lines.append("\nGoals")
    for g in s["goals"]:
        lines.append(f"  {g['goal']:76} target {g['target']:>11}  measured {fmt_goal(g):>9}  {g['status']}")
    return "\n".join(lines)


def fmt_goal(g: dict[str, Any]) -> str:
    v = g["measured"]
    if not is_num(v):
        return "n/a"
    if g.get("unit", "x") == "x":
        return f"{v:.2f}x" if v < 10 else f"{v:.1f}x"
    return f"{v:,.0f}{g['unit']}"


def fmt_paired(row: dict[str, Any]) -> str:
    """A median ratio and, when it comes from paired rounds, the lowest and highest round's."""
    spread = row.get("ref_over_floor_spread")
    text = fmt_fraction(row["ref_over_floor"])
    return f"{text} ({fmt_fraction(spread[0])}-{fmt_fraction(spread[1])})" if spread else text


def render_fixed_rate(f: dict[str, Any]) -> list[str]:
    """Server CPU per message (echo) and per delivery (broadcast) at fixed offered rates."""
    lines = [""]
    if "na" in f:
        return lines + [f"Fixed rates: {na(f['na'])}"]
    echo_max, dmax = f.get("floor_echo_max"), f.get("floor_deliveries_max")
    pipelined = f.get("floor_echo_pipelined_max")
    echo_what = (
        f"echo {fmt(echo_max)} msg/s one message per read (pipelined: {fmt(pipelined)})"
        if pipelined
        else f"echo {fmt(echo_max)} msg/s"
    )
    lines.append(
        "Server CPU at fixed offered rates (microseconds of the server's CPU per message or delivery;"
        f" the floor's maximum: {echo_what}, fan-out {fmt(dmax)} deliveries/s;"
        " ref/floor: the median over the rounds of the reference's CPU over the floor's in the same"
        " round, the lowest and highest round's in brackets)"
    )
    hdr = (
        f"{'offered rate':34} {'floor':>8} {'reference':>10} {'Node':>8} {'python':>8}"
        f" {'ref/floor (rounds)':>18} {'Node/ref':>9}"
    )
    lines += [hdr, "-" * len(hdr)]
    for kind, unit in (("echo", "msg/s"), ("broadcast", "deliveries/s")):
        for pct, row in f.get(kind, {}).items():
            label = f"{kind} {pct}% ({fmt(row['offered'])} {unit})"
            lines.append(
                f"{label:34} {short(row['floor']):>8} {short(row['reference']):>10} {short(row['node']):>8}"
                f" {short(row['python']):>8} {fmt_paired(row):>18}"
                f" {fmt_ratio(row['node_over_ref']):>9}"
            )
    reasons = sorted(
        {
            f"{srv}: {row[srv]}"
            for kind in ("echo", "broadcast")
            for row in f.get(kind, {}).values()
            for srv, _ in FIXED_SERVERS
            if isinstance(row[srv], str)
        }
    )
    lines += [f"  {r}" for r in reasons]
    b = f.get("burst")
    if b:
        lines.append(
            f"bursts ({b['size']} broadcasts sent together, {b['percent']}% of the floor's fan-out rate):"
            f" floor with one write per delivery {short(b['floor'])}, floor with one write per receiver"
            f" per round {short(b['floor_round'])}, reference {short(b['reference'])}, Node {short(b['node'])}"
            f" (microseconds per delivery); reference / one-write floor {fmt_paired(b)},"
            f" reference / per-round floor {fmt_fraction(b['ref_over_round_floor'])}"
        )
    return lines


# ---------------------------------------------------------------------------- plots


def plot(results: dict[str, Any], out: Path) -> list[Path]:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    written: list[Path] = []
    s = results["summary"]
    if "codec" in s:
        for direction in ("decode", "encode"):
            path = out / f"codec_{direction}.png"
            plot_codec(plt, s["codec"][direction], direction, path)
            written.append(path)
    if "server" in s:
        path = out / "server.png"
        plot_server(plt, s["server"], path)
        written.append(path)
    if "fixed_rate" in s and "na" not in s["fixed_rate"]:
        path = out / "fixed_rate.png"
        plot_fixed_rate(plt, s["fixed_rate"], path)
        written.append(path)
    return written


def plot_fixed_rate(plt: Any, f: dict[str, Any], path: Path) -> None:
    """Server CPU per message and per delivery against the offered rate: one line per server."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.8))
    for ax, kind, unit in zip(axes, ("echo", "broadcast"), ("messages/s", "deliveries/s")):
        rows = list(f.get(kind, {}).values())
        for srv, label in FIXED_SERVERS:
            pts = [(r["offered"], r[srv]) for r in rows if is_num(r[srv])]
            if pts:
                ax.plot([x for x, _ in pts], [y for _, y in pts], marker="o", label=label)
        ax.set_xlabel(f"offered rate ({unit}; 25, 50, 75% of the floor's maximum)")
        ax.set_ylabel("server CPU microseconds per " + ("message" if kind == "echo" else "delivery"))
        ax.set_yscale("log")
        ax.set_title(f"{kind}: server CPU at fixed rates (lower is better)")
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_codec(plt: Any, rows: dict[str, Any], direction: str, path: Path) -> None:
    cats = list(rows)
    fig, ax = plt.subplots(figsize=(11, 4.8))
    width = 0.27
    for k, (impl, label) in enumerate(IMPLS):
        vals = [rows[c][impl]["packets_per_s"] for c in cats]
        xs = [i + (k - 1) * width for i in range(len(cats))]
        ax.bar(xs, [v if is_num(v) else 0 for v in vals], width, label=label)
    ax.set_yscale("log")
    top = max((v for c in cats for i, _ in IMPLS if is_num(v := rows[c][i]["packets_per_s"])), default=1.0)
    ax.set_ylim(top=top * 20)  # room for the legend above the tallest bar
    ax.set_xticks(range(len(cats)))
    ax.set_xticklabels([c.replace("_", "\n") for c in cats], fontsize=8)
    ax.set_ylabel("packets per second (log scale)")
    ax.set_title(f"Codec {direction} throughput, same inputs (higher is better)")
    ax.legend(loc="upper center", ncol=3)
    ax.grid(axis="y", which="major", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_server(plt: Any, rows: dict[str, Any], path: Path) -> None:
    keys = list(rows)
    fig, axes = plt.subplots(3, 3, figsize=(14, 10))
    for ax, key in zip(axes.flat, keys):
        row = rows[key]
        labels = [lbl for _, lbl in SERVERS]
        vals = [row[srv] for srv, _ in SERVERS]
        bars = ax.bar(labels, [v if is_num(v) else 0 for v in vals], color=["tab:green", "tab:blue", "tab:orange"])
        for bar, v in zip(bars, vals):
            ax.annotate(
                "n/a" if not is_num(v) else fmt(v),
                (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center",
                va="bottom",
                fontsize=8,
            )
        ax.set_title(f"{row['label']}\n({row['better']} is better)", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
    fig.suptitle("Servers driven by the same C load generator")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ---------------------------------------------------------------------------- README


def replace_between(text: str, name: str, body: str) -> str:
    begin = text.index(f"<!-- {name}:begin")
    begin = text.index("-->", begin) + 3
    end = text.index(f"<!-- {name}:end -->")
    return text[:begin] + "\n" + body + "\n" + text[end:]


def run_line(run: dict[str, Any]) -> str:
    """When, at which commit, under which load and by which command a run measured its part."""
    m = run["machine"]
    only = f' BENCH_ARGS="--only {run["halves"][0]}"' if len(run["halves"]) == 1 else ""
    dirty = " (with uncommitted codec/server changes)" if m.get("codec_or_server_uncommitted_changes") else ""
    end = f", {' '.join(m['loadavg_end'])} at the end" if "loadavg_end" in m else ""
    return (
        f"- `make bench{only}`: run of {run['generated_utc']} at commit {m.get('git_head', '?')}{dirty},"
        f" load average {' '.join(m['loadavg_start'])} at the start{end}; {run['elapsed_s']:.0f} s."
    )


def update_readme(path: Path, results: dict[str, Any], table: str) -> None:
    """Puts the run's table and goal lines between the README's markers."""
    m = results["machine"]
    runs = results.get("runs") or [
        {"halves": [], "generated_utc": results["generated_utc"], "elapsed_s": results["elapsed_s"], "machine": m}
    ]
    head = f"{m['cores']} cores ({m['cpu']})." + "".join(f"\n{run_line(run)}" for run in runs)
    goals = "\n".join(
        f"- {g['goal']}: target {g['target']}, measured {fmt_goal(g)}, **{g['status']}**"
        for g in results["summary"]["goals"]
    )
    text = path.read_text()
    text = replace_between(text, "table", head + "\n\n```" + table + "\n```")
    text = replace_between(text, "goals", goals)
    path.write_text(text)
