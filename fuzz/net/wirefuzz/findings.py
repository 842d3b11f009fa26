"""The wire fuzzer's findings page, docs/findings/wire-fuzzing.md, generated from committed records and
never written by hand:

  fuzz/net/findings/runs/<target>.json            the summary of a measured run (`run-seed<S>.json`)
  fuzz/net/findings/<target>/<oracle>-<hash>.json the reproducer of each of its findings

`adopt` copies a run's summary and reproducers from build/ into fuzz/net/findings/ (reproducers of
findings no single input reproduced keep their candidates only when they are small); `page` writes the
page from them, `page --check` fails when the committed page differs from what the records give.
"""

from __future__ import annotations

import collections
import json
import shutil
import statistics
from pathlib import Path

from . import ROOT
from .minimise import MINIMISE_SECONDS
from .program import Context, program_from_json, render
from .target import registry

FINDINGS_DIR = ROOT / "fuzz" / "net" / "findings"
RUNS_DIR = FINDINGS_DIR / "runs"
PAGE = ROOT / "docs" / "findings" / "wire-fuzzing.md"
# A reproducer's program is committed when it is at most this long (JSON); a window of candidates
# from a finding no single input reproduced is usually longer, and its seed and indexes regenerate it.
MAX_COMMITTED_PROGRAM = 64 * 1024
ANSWER_LINES = 12
OUTPUT_LINES = 12

# Upstream reports and advisories of the same behaviour, by implementation family and finding key
# (its start). An entry is added only after reading the report or advisory, and checking that the
# reproducer is fixed by the release it names.
UPSTREAM: dict[tuple[str, str], str] = {
    ("socket.io", "TypeError: Cannot read properties of null (reading 'pid')"): (
        "socketio/socket.io-parser@b0e6400 (crash report, no CVE): socket.io-parser 4.2.4 refuses a CONNECT "
        "whose payload is not an object; socket.io 4.6.1 survives the reproducer with socket.io-parser 4.2.4"
    ),
    ("socket.io", "TypeError: transports_N.default[transportName] is not a constructor"): (
        "CVE-2023-31125, GHSA-q9mw-68c2-j6m5 (engine.io >= 5.1.0 < 6.4.2): an upgrade request whose transport "
        "is not one engine.io has (here `transport` given twice: an array); the app survives the reproducer with engine.io 6.4.2"
    ),
    ("socket.io", "Error: read ECONNRESET"): (
        "CVE-2022-41940, GHSA-r7qp-cfhv-p84w; socketio/socket.io#3564, socketio/engine.io#658: an upgrade "
        "request nobody serves, reset by the client before engine.io ends it (docs/advisories.md: on Node 20 "
        "engine.io 6.2.1 and 6.4.2 still die; 6.6.12 survives)"
    ),
    ("socket.io", "invalid-http: the answer to HEAD carries content"): (
        "none found: a HEAD with Upgrade headers reaches engine.io's upgrade path, which refuses it by writing "
        "a whole 400 with its body (`Bad handshake method`) on the socket; the connection is then closed"
    ),
    ("socket.io", "invalid-eio: open packet"): (
        "not a defect of socket.io 2: engine.io 3 speaks only Engine.IO v3 and answers an EIO=4 request in v3 "
        "(an open packet without maxPayload, v3 payload framing) instead of refusing it"
    ),
    ("socket.io", "invalid-eio: polling body (EIO N): SIO_ERR_EIO_UNKNOWN_TYPE"): (
        "not a defect of socket.io 2: a v3 payload (`<length>:<packet>`) read as v4, as above"
    ),
    ("python-socketio", "bad-accept: Sec-WebSocket-Accept"): (
        "none found; the request carries two Sec-WebSocket-Key fields and the server answers 101 with the "
        "accept of the first, where RFC 6455 section 4.2.1 asks for a refusal (400). The oracle of this run "
        "computed its expectation from the last field; it now reports such a 101 as such"
    ),
    ("python-socketio", "invalid-eio: polling body (EIO N): SIO_ERR_EIO_EMPTY_PAYLOAD"): (
        "none found: with two GETs held at once on one session (the second overlapping the first), the "
        "upgrade answers the first with the noop `6` and the second with a 200 and an empty body, which is no "
        "Engine.IO payload (an overlapping GET is an error the server should refuse)"
    ),
    ("python-socketio", "invalid-eio: WebSocket text message (EIO N): SIO_ERR_EIO_BASEN_ON_WEBSOCKET"): (
        "none found: binary packets queued for a session that upgraded (here a broadcast from another "
        "client) went out on the WebSocket as base64 text (`b…`) although the session never asked for b64"
    ),
    ("python-socketio", "invalid-http: connection ended inside a response head"): (
        "a false report of the oracle this run had: the input is a WebSocket close frame on a fresh "
        "connection, with no HTTP request, and Python's http.server answers such bytes with a bare HTML "
        "error page; what answers bytes that are not an HTTP/1.x request is no longer judged"
    ),
    ("reference", "invalid-http: the answer to HEAD carries content"): (
        "fixed on main in ca08121 (answers to HEAD keep their head, Content-Length included, and carry no "
        "content); conformance/tests/protocol/wire_cases/head-answered-without-content.json replays the input "
        "against every target"
    ),
    ("reference", "bad-accept: N to a handshake with N Sec-WebSocket-Key fields"): (
        "open: the reference takes the last of several Sec-WebSocket-Key fields (codec/src/eio_request.c) "
        "where RFC 6455 section 11.3.1 allows one field and section 4.2.1 asks for a 400"
    ),
    ("netty-socketio", "invalid-eio: open packet"): (
        "known from the conformance run (docs/findings/netty-socketio.md, EIO-HS-01): netty-socketio speaks "
        "Engine.IO v3 whatever EIO the request names, and its open packet has no maxPayload"
    ),
    ("socket.io", "RangeError: Maximum call stack size exceeded. | at _deconstructPacket"): (
        "the same deep nesting as the hasBinary crash, on Bun (a deeper stack), overflowing the parser's "
        "recursive _deconstructPacket instead; related, open: socketio/socket.io-parser#103"
    ),
    ("socket.io", "RangeError: Maximum call stack size exceeded | at hasBinary"): (
        "related, open: socketio/socket.io-parser#103 (hasBinary overflows the stack, reported for circular "
        "values) and socketio/socket.io-parser#109 (a pull request for values with toJSON); none for a value "
        "the client sends: the depth is the client's, and the process dies when the application emits it back"
    ),
    ("socket.io", "invalid-ws: SIO_ERR_WS_RSV_SET"): (
        "none found: engine.io accepts the WebSocket (101) before it checks the Engine.IO version or the "
        "transport, then writes an HTTP 400 into the WebSocket stream (engine.io build/server.js, handshake "
        "called from onWebSocket)"
    ),
}
FAMILIES = {
    "node": "socket.io",
    "socketio-app": "socket.io",
    "socketio-bun": "socket.io",
    "python": "python-socketio",
    "reference": "reference",
}


def family(target: str) -> str:
    for prefix, name in FAMILIES.items():
        if target.startswith(prefix):
            return name
    return target


def upstream(target: str, key: str, oracle: str) -> str:
    fam = family(target)
    for (f, start), text in UPSTREAM.items():
        if f == fam and key.startswith(start):
            return text
    if oracle in ("crash", "hang", "rss"):
        return "none known"
    # A protocol oracle's report is a claim about bytes: until someone has read the input and the
    # answers below and found why, it is shown as the oracle's alone.
    return "none known; not examined by hand yet (the oracle's report, with its input and the answers below)"


def describe_versions(target: str, version: dict[str, str]) -> str:
    """The packages a target ran, or, for a target that reports none (built here, or a fixture without
    a version answer), the registry's description of it and the commit of the checkout it ran from."""
    if len(version) == 1 and next(iter(version.values())).startswith("commit "):
        spec = registry.REGISTRY.get(target)
        if spec is not None:
            return f"{spec.description}; {next(iter(version.values()))}"
    return ", ".join(f"{k} {v}" for k, v in version.items())


# ---------------------------------------------------------------------------- adopting a run
def adopt(run_path: Path, findings_dir: Path = FINDINGS_DIR, calibration: bool = False) -> Path:
    """Copies a run summary and its reproducers into the committed findings directory. The run may come
    from another checkout (build/fuzz-target/<target>/run-seed<S>.json of it): its paths are rewritten.
    A calibration run (time to first crash, several seeds of one target) goes to calibration/ beside
    the other seeds of its target, whose reproducers it shares. A run of a seed other than 1 is kept
    beside the seed-1 run of its target (runs/<target>-seed<S>.json), sharing its reproducers."""
    run_path = run_path.resolve()
    # The checkout the run was made in (its paths are relative to it); this one for a run outside any.
    source_root = next((p for p in run_path.parents if (p / "fuzz" / "net").is_dir()), ROOT)
    run = json.loads(run_path.read_text(encoding="utf-8"))
    target = run["target"]
    slug = run_path.parent.name
    dest = findings_dir / slug
    alone = run["seed"] == 1 and not calibration
    if dest.exists() and alone:
        shutil.rmtree(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for f in run["findings"]:
        src = Path(f["file"]) if Path(f["file"]).is_absolute() else source_root / f["file"]
        doc = json.loads(src.read_text(encoding="utf-8"))
        doc.pop("original", None)
        doc["output_tail"] = [ln.replace(f"{source_root}/", "") for ln in doc.get("output_tail", [])]
        if len(json.dumps(doc.get("program"))) > MAX_COMMITTED_PROGRAM:
            doc["program"] = None
        committed = dest / src.name
        doc["replay"] = f"make fuzz-target-replay FILE={committed.relative_to(ROOT)} TARGET={target}"
        committed.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        f["file"] = str(committed.relative_to(ROOT))
    records = findings_dir / ("calibration" if calibration else "runs")
    records.mkdir(parents=True, exist_ok=True)
    out = records / (f"{slug}.json" if alone else f"{slug}-seed{run['seed']}.json")
    out.write_text(json.dumps(run, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return out


# ---------------------------------------------------------------------------- the page
def fence(text: str) -> str:
    return "```\n" + text.replace("```", "` ` `") + "\n```"


def _show(data: bytes) -> str:
    text = repr(data)[2:-1]
    return text if len(text) <= 400 else text[:400] + f" … ({len(data)} bytes)"


def rendered_input(program: dict) -> str:
    """The minimised input as it goes on the wire, one step a line (placeholders left in place)."""
    p = program_from_json(program)
    ctx = Context("HOST", 0)
    ctx.substitute = lambda data: data  # type: ignore[method-assign]
    lines = []
    for s in p.steps:
        kind = type(s).__name__.replace("Step", "").lower()
        lines.append(f"#{s.conn} {kind:<5} {_show(render(s, ctx)) if kind != 'close' else getattr(s, 'how', '')}")
    return "\n".join(lines)


def _finding(n: int, f: dict, doc: dict, target: str) -> list[str]:
    found = doc["found"]
    versions = describe_versions(target, doc["target"]["version"])
    out = [f"### {n}. {f['oracle']} · {target} · {f['summary']}", ""]
    if found.get("index") is not None:
        ops = ", ".join(found.get("operators", [])) or "none"
        out.append(f"- **Found**: input {found['index']} of seed {found['seed']} (operators: {ops}), after "
                   f"{found['after_inputs']} inputs and {found['after_seconds']} s of fuzzing")  # fmt: skip
    else:
        out.append(f"- **Found** after {found['after_inputs']} inputs and {found['after_seconds']} s of fuzzing; no "
                   f"single input reproduced it (candidates: inputs {found.get('indexes')} of seed {found['seed']})")  # fmt: skip
    out.append(f"- **Target**: {versions}")
    out.append(f"- **Upstream**: {upstream(target, f['key'], f['oracle'])}")
    if doc.get("program") is not None:
        out.append(f"- **Reproduce**: `{doc['replay']}`")
    if doc.get("minimised"):
        m = doc["minimised"]
        out.append(f"- **Minimised** from {m['steps'][0]} steps to {m['steps'][1]} in {m['tests']} runs of the target")
    out.append("")
    if doc.get("program") is not None:
        out += ["The input (`#` connection, step kind, bytes; `SID!` stands for the session id the target "
                "announced):", "", fence(rendered_input(doc["program"])), ""]  # fmt: skip
    if doc.get("answers"):
        out += ["What the target answered:", "", fence("\n".join(doc["answers"][:ANSWER_LINES])), ""]
    tail = [ln for ln in doc.get("output_tail", []) if ln.strip()][-OUTPUT_LINES:]
    if tail:
        out += ["The end of the target's output:", "", fence("\n".join(tail)), ""]
    return out


def _run_row(run: dict, seeds: collections.Counter) -> str:
    ops = run["operators"]
    used = sum(1 for v in ops.values() if v["applied"])
    versions = describe_versions(run["target"], run["version"])
    load = "–".join(f"{x:g}" for x in run.get("load_average", [])) or "?"
    label = run["target"] + (f" (seed {run['seed']})" if seeds[run["target"]] > 1 else "")
    return (f"| {label} | {versions} | {run['fuzz_seconds']:.0f} | {run['inputs']} | "
            f"{run['inputs_per_second']} | {load} | {run['sessions']} | {used}/{len(ops)} | {run['reactions']} | "
            f"{len(run['findings'])} | {run['duplicates']} |")  # fmt: skip


def _commands(runs: list[dict]) -> list[str]:
    """How the runs were made: one line per distinct (budget, options, fuzzer commit), with its seeds."""
    kinds: dict[tuple, list[dict]] = {}
    for r in runs:
        args = [f"--stop-on {o}" for o in r.get("stop_on", [])]
        if r.get("minimise_seconds", MINIMISE_SECONDS) != MINIMISE_SECONDS:
            args.append(f"--minimise-seconds {r['minimise_seconds']:g}")
        budget = r.get("budget_seconds")
        how = (f"{budget:g}" if budget is not None else "?", " ".join(args), r.get("fuzzer_commit", "?"))
        kinds.setdefault(how, []).append(r)
    out = []
    for (seconds, args, commit), group in kinds.items():
        seeds = sorted({r["seed"] for r in group})
        seed = str(seeds[0]) if len(seeds) == 1 else "S"
        extra = f' FUZZ_NET_ARGS="{args}"' if args else ""
        targets = ", ".join(dict.fromkeys(r["target"] for r in group))
        which = f"{targets}, S = {', '.join(map(str, seeds))}" if len(seeds) > 1 else targets
        out.append(f"- `make fuzz-target TARGET=<target> FUZZ_SECONDS={seconds} FUZZ_SEED={seed}{extra}` at commit "
                   f"{commit}: {which}")  # fmt: skip
    return out


def _calibration(runs: list[dict]) -> list[str]:
    """Time to first crash: one row per seed, the median, then every distinct finding of those runs."""
    if not runs:
        return []
    lines = [
        "## Calibration: time to first crash",
        "",
        "Each run fuzzes until its first crash (`--stop-on crash`); the time counts fuzzing only.",
        "",
        "| target | seed | first crash after (s) | inputs until then | inputs/s | load | the crash |",
        "|---|---|---|---|---|---|---|",
    ]
    times = []
    for r in sorted(runs, key=lambda r: (r["target"], r["seed"])):
        crash = next((f for f in r["findings"] if f["oracle"] == "crash"), None)
        load = "–".join(f"{x:g}" for x in r.get("load_average", [])) or "?"
        if crash is None:
            lines.append(f"| {r['target']} | {r['seed']} | none in {r['fuzz_seconds']:.0f} | {r['inputs']} | "
                         f"{r['inputs_per_second']} | {load} | |")  # fmt: skip
            continue
        times.append(crash["after_seconds"])
        lines.append(f"| {r['target']} | {r['seed']} | {crash['after_seconds']} | {crash['after_inputs']} | "
                     f"{r['inputs_per_second']} | {load} | {crash['key'].split(' | ')[0]} |")  # fmt: skip
    if times:
        lines += ["", f"Median time to first crash: {statistics.median(times):g} s over {len(runs)} seeds."]
    lines += ["", "How they ran:", "", *_commands(runs), ""]
    seen: dict[str, tuple[dict, str]] = {}
    for r in runs:
        for f in r["findings"]:
            seen.setdefault(f["file"], (f, r["target"]))
    for target in sorted({t for _, t in seen.values()}):
        lines += [f"## {target} (calibration runs)", ""]
        mine = [f for f, t in seen.values() if t == target]
        for n, f in enumerate(mine, 1):
            doc = json.loads((ROOT / f["file"]).read_text(encoding="utf-8"))
            lines += _finding(n, f, doc, target)
    return lines


def page(findings_dir: Path = FINDINGS_DIR) -> str:
    runs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((findings_dir / "runs").glob("*.json"))]
    calibration = [
        json.loads(p.read_text(encoding="utf-8")) for p in sorted((findings_dir / "calibration").glob("*.json"))
    ]
    lines = [
        "# Findings: the wire fuzzer",
        "",
        "What `make fuzz-target` ([fuzz/net/README.md](../../fuzz/net/README.md)) found on each server it ran "
        "against: the measured runs, then every finding with the minimised input, what the target answered "
        "and the end of its output. Generated by `make fuzz-target-findings` from the records in "
        "`fuzz/net/findings/` (never edited by hand); each reproducer there replays with the command shown.",
        "",
        "## Runs",
        "",
        "| target | versions | seconds | inputs | inputs/s | load | sessions | operators | reactions | findings | repeats |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
        *(_run_row(r, collections.Counter(x["target"] for x in runs)) for r in runs),
        "",
        "The runs, one target at a time, 8 workers:",
        "",
        *_commands(runs),
        "",
        "Seconds count fuzzing only (the clock stops while a finding is triaged and minimised); *reactions* "
        "are the distinct sets of things the target did during one input; *repeats* are later inputs that "
        "showed a finding already saved; *load* is the machine's 1-minute load average when the run started "
        "and when it ended (the fuzzer, the target and everything else share two cores, so inputs/s say as "
        "much about the machine as about the target).",
        "",
    ]
    lines += _calibration(calibration)
    seeds = collections.Counter(r["target"] for r in runs)
    for run in runs:
        lines += [f"## {run['target']}" + (f" (seed {run['seed']})" if seeds[run["target"]] > 1 else ""), ""]
        if not run["findings"]:
            lines += [f"Nothing found in {run['fuzz_seconds']:.0f} s ({run['inputs']} inputs).", ""]
        for n, f in enumerate(run["findings"], 1):
            doc = json.loads((ROOT / f["file"]).read_text(encoding="utf-8"))
            lines += _finding(n, f, doc, run["target"])
    return "\n".join(lines).rstrip() + "\n"


def write_page(path: Path = PAGE, check: bool = False) -> bool:
    """Writes the page, or with `check` tells whether the committed one is what the records give."""
    text = page()
    if check:
        return path.exists() and path.read_text(encoding="utf-8") == text
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return True
