"""Published advisories and crash reports, each run against an affected and a fixed release.

    python conformance/advisories.py [--out docs/advisories.md] [--only ID]

Every advisory of socket.io, engine.io, socket.io-parser, engine.io-parser, ws, python-socketio and
python-engineio is listed here: those whose trigger travels on the wire name the case that reproduces
them (conformance/tests/protocol) and two releases; the others say why the suite cannot observe them.
Each release is installed under build/advisories/<slug>/ with the protocol packages pinned exactly
(npm `overrides` pin them inside the tree too, so a historic combination is rebuilt as its users ran it),
started with the shipped fixture, and the case is run against it on 127.0.0.1 with a fresh server per
run. An advisory is detected when its case fails on the affected release and passes on the fixed one.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import packages, targets  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "advisories"
PYTHON = ROOT / "build" / "venv" / "bin" / "python"
NODE_FIXTURE = ROOT / "conformance" / "targets" / "node-socketio" / "fixture.js"
# The official-suite part only (FIXTURE.md section 2): no `error` listener, as in a typical application.
OFFICIAL_FIXTURE = ROOT / "conformance" / "targets" / "node-socketio" / "official-fixture.js"
# Each protocol package, and the package that loads it (whose nested copy wins over the top-level one).
USED_BY = {
    "socket.io": "",
    "engine.io": "socket.io",
    "socket.io-parser": "socket.io",
    "engine.io-parser": "engine.io",
    "ws": "engine.io",
}
CASES = "tests/protocol/test_i_advisories.py"
WS_CASES = "tests/protocol/test_h_websocket.py"


@dataclass(frozen=True)
class Release:
    """A Node socket.io server assembled from exact package versions."""

    packages: tuple[tuple[str, str], ...]

    @property
    def slug(self) -> str:
        return "node-" + "-".join(f"{name.replace('.', '')}{version}" for name, version in self.packages)

    @property
    def label(self) -> str:
        return ", ".join(f"{name} {version}" for name, version in self.packages)


def node(**versions: str) -> Release:
    names = {"socket_io": "socket.io", "engine_io": "engine.io", "parser": "socket.io-parser", "ws": "ws"}
    return Release(tuple((names[k], v) for k, v in versions.items()))


@dataclass(frozen=True)
class Advisory:
    ids: str  # CVE and GHSA ids, or the fix commit for a crash report without one
    package: str
    summary: str
    affected_range: str
    case: str = ""  # pytest node id under conformance/
    affected: Release | None = None
    fixed: Release | None = None
    not_detectable: str = ""  # why the suite cannot observe it, when it cannot
    note: str = ""  # what the runs showed beyond the verdicts
    fixture: Path = NODE_FIXTURE  # the fixture program the releases run


ADVISORIES: list[Advisory] = [
    # ------------------------------------------------------------------ socket.io-parser
    Advisory(
        "CVE-2023-32695, GHSA-cqmj-92xf-r6r9",
        "socket.io-parser",
        "an EVENT named by an object (`42[{\"toString\":…}]`) was accepted; converting the name killed the process",
        "< 4.2.3 (also < 3.4.3, < 3.3.4)",
        f"{CASES}::test_SIO_PKT_05_event_name_with_toString",
        node(socket_io="4.6.1", engine_io="6.4.1", parser="4.2.2"),
        node(socket_io="4.6.1", engine_io="6.4.1", parser="4.2.3"),
    ),
    Advisory(
        "socketio/socket.io-parser@b0e6400 (crash report, no CVE)",
        "socket.io-parser",
        "a CONNECT with payload `null` was accepted; socket.io 4.6+ read `auth.pid` of null and the process died",
        "4.2.x < 4.2.4 with socket.io ≥ 4.6.0",
        f"{CASES}::test_SIO_PKT_05_connect_payload_null",
        node(socket_io="4.6.1", engine_io="6.4.1", parser="4.2.3"),
        node(socket_io="4.6.1", engine_io="6.4.1", parser="4.2.4"),
    ),
    Advisory(
        "CVE-2022-2421, GHSA-qm95-pgcg-qqfq",
        "socket.io-parser",
        "a placeholder `num` was used as a property name (`\"num\":\"splice\"` put a function into the event)",
        "< 4.2.1, < 4.0.5 (also < 3.4.2, < 3.3.3)",
        f"{CASES}::test_SIO_PKT_11_placeholder_num_not_a_number",
        node(socket_io="4.5.1", engine_io="6.2.0", parser="4.0.4"),
        node(socket_io="4.5.1", engine_io="6.2.0", parser="4.0.5"),
    ),
    Advisory(
        "CVE-2026-33151, GHSA-677m-j7p3-52f9",
        "socket.io-parser",
        "any number of announced binary attachments was buffered (memory exhaustion)",
        "< 4.2.6 (also < 3.4.4, < 3.3.5)",
        f"{CASES}::test_ERR_07_attachment_count_unbounded",
        node(socket_io="4.8.4", engine_io="6.6.12", parser="4.2.5"),
        node(socket_io="4.8.4", engine_io="6.6.12", parser="4.2.6"),
    ),
    Advisory(
        "CVE-2020-36049, GHSA-xfhh-g9f5-x4m4",
        "socket.io-parser",
        "decoding a packet of ~100 MB built a string per character and ran out of memory",
        "< 3.3.2, 3.4.0",
        not_detectable="needs packets near the 100 MB that engine.io 3.x accepted by default; FIXTURE.md "
        "sets maxPayload (1 MB), at which the affected decoder's cost is not observable on the wire",
    ),
    # ------------------------------------------------------------------ engine.io
    Advisory(
        "CVE-2022-21676, GHSA-273r-mgr4-v34f",
        "engine.io",
        "a frame with reserved bits sent with the upgrade request raised an error nobody handled",
        ">= 4.0.0 < 4.1.2, 5.x < 5.2.1, 6.x < 6.1.1",
        f"{WS_CASES}::test_WS_04_reserved_bits_in_upgrade_segment",
        node(socket_io="4.4.0", engine_io="6.1.0"),
        node(socket_io="4.4.0", engine_io="6.1.1"),
    ),
    Advisory(
        "CVE-2022-41940, GHSA-r7qp-cfhv-p84w",
        "engine.io",
        "an upgrade request on a path nobody serves, reset by the client, crashed the process when ended",
        "< 3.6.1, >= 4.0.0 < 6.2.1",
        f"{CASES}::test_ERR_06_upgrade_on_unserved_path_then_reset",
        node(socket_io="4.5.3", engine_io="6.2.0"),
        node(socket_io="4.5.3", engine_io="6.2.1"),
        note="on Node 20 the fixed release dies too (`read ECONNRESET`: the reset is read before the 1 s timer "
        "that adds an error listener), and so does engine.io 6.4.2 (with ws 8.11.0 or 8.17.1); engine.io 6.6.12, "
        "the shipped target, survives (also with socket.io 4.5.3 and ws 8.11.0)",
    ),
    Advisory(
        "CVE-2023-31125, GHSA-q9mw-68c2-j6m5",
        "engine.io",
        "`transport=__proto__` passed the transport check and crashed the upgrade",
        ">= 5.1.0 < 6.4.2",
        f"{CASES}::test_EIO_HS_05_transport_named_like_a_property",
        node(socket_io="4.6.1", engine_io="6.4.1", parser="4.2.4"),
        node(socket_io="4.6.1", engine_io="6.4.2", parser="4.2.4"),
    ),
    Advisory(
        "CVE-2020-36048, GHSA-j4f2-536g-r55m",
        "engine.io",
        "maxHttpBufferSize defaulted to 100 MB, so one POST could exhaust memory",
        "< 3.6.0, 4.0.0-alpha",
        not_detectable="concerns the default of maxHttpBufferSize; FIXTURE.md has every fixture set its own "
        "maxPayload, which the affected releases enforce as the fixed ones do (EIO-POLL-05/06 check it)",
    ),
    Advisory(
        "GHSA-gr94-w7qr-f4j3",
        "engine.io",
        "a WebTransport upgrade with session id `__proto__` crashed",
        "WebTransport-enabled servers",
        not_detectable="WebTransport needs HTTP/3, which the suite does not speak (EIO-PKT-21)",
    ),
    # ------------------------------------------------------------------ socket.io
    Advisory(
        "CVE-2024-38355, GHSA-25hc-qcg6-38wj",
        "socket.io",
        "a client event named `error` reached the EventEmitter, which throws without an `error` listener",
        "< 2.5.1, >= 3.0.0 < 4.6.2",
        f"{CASES}::test_SIO_PKT_06_client_event_named_error",
        node(socket_io="4.6.1", engine_io="6.4.1", parser="4.2.4"),
        node(socket_io="4.6.2", engine_io="6.4.1", parser="4.2.4"),
        note="Run with the official-suite fixture (FIXTURE.md section 2), which, like a typical application, "
        "has no `error` listener; the full fixture listens for `error` to log it (section 5), the advisory's "
        "own workaround, and both releases pass the case there.",
        fixture=OFFICIAL_FIXTURE,
    ),
    Advisory(
        "CVE-2020-28481, GHSA-fxwf-4rqh-v8g3",
        "socket.io",
        "every origin was allowed by default (CORS)",
        "< 2.4.0",
        not_detectable="concerns the default CORS policy; FIXTURE.md configures every fixture to allow "
        "origin `*`, the behaviour the advisory is about",
    ),
    Advisory(
        "CVE-2017-16031, GHSA-qv2v-m59f-v5fw",
        "socket.io",
        "socket ids came from Math.random()",
        "<= 0.9.6",
        not_detectable="socket.io 0.9 speaks the pre-Engine.IO protocol, which the suite does not",
    ),
    # ------------------------------------------------------------------ ws
    Advisory(
        "CVE-2024-37890, GHSA-3h5v-q93c-6h6q",
        "ws",
        "an upgrade with more headers than maxHeadersCount hid `Upgrade` and crashed the handshake",
        "< 8.17.1 (also < 7.5.10, < 6.2.3, < 5.2.4)",
        f"{CASES}::test_ERR_06_upgrade_with_many_headers",
        node(socket_io="4.7.4", engine_io="6.5.4", ws="8.11.0"),
        node(socket_io="4.7.4", engine_io="6.5.4", ws="8.17.1"),
    ),
    Advisory(
        "CVE-2021-32640, GHSA-6fc8-4gx4-v693",
        "ws",
        "Sec-WebSocket-Protocol was split by a backtracking regular expression (ReDoS)",
        "< 7.4.6 (also < 6.2.2, < 5.2.3)",
        f"{CASES}::test_ERR_08_subprotocol_header_backtracking",
        node(socket_io="4.1.2", engine_io="5.1.1", ws="7.4.5"),
        node(socket_io="4.1.2", engine_io="5.1.1", ws="7.4.6"),
    ),
    Advisory(
        "GHSA-5v72-xg48-5rpm",
        "ws",
        "Sec-WebSocket-Extensions names like `constructor` were looked up on Object.prototype (crash)",
        ">= 2.0.0 < 3.3.1, < 1.1.5",
        not_detectable="the affected ws lines are used only by socket.io 2.0.x (engine.io 3.1.x) and 1.x; "
        "the v2 fixture has not been run on that generation yet",
    ),
    Advisory(
        "CVE-2026-48779, GHSA-96hv-2xvq-fx4p",
        "ws",
        "a message in very many tiny fragments kept one buffer per fragment (memory exhaustion)",
        "< 8.21.0",
        not_detectable="the fixed ws closes after 131,072 fragments, but a server that keeps no per-fragment "
        "state may rightly accept more, so only the server's memory tells them apart; the suite does not "
        "measure a target's memory yet (ERR-07)",
    ),
    Advisory(
        "CVE-2016-10542, GHSA-6663-c963-2gqg",
        "ws",
        "no limit on message size (memory exhaustion)",
        "< 1.1.1",
        not_detectable="ws < 1.1.1 ships only with socket.io 1.x, a generation the fixtures do not drive",
    ),
    Advisory(
        "CVE-2016-10518, GHSA-2mhh-w6q8-5hxw",
        "ws",
        "ws.ping(number) sent uninitialised memory",
        "< 1.0.1",
        not_detectable="triggered by the server application calling ping() with a number, not by the wire",
    ),
    Advisory(
        "CVE-2026-45736, GHSA-58qx-3vcg-4xpx",
        "ws",
        "websocket.close() with a TypedArray reason sent uninitialised memory",
        "< 8.20.1",
        not_detectable="triggered by the server application's close() argument, not by the wire",
    ),
    # ------------------------------------------------------------------ python-socketio / python-engineio
    Advisory(
        "CVE-2019-13611, GHSA-j3jp-gvr5-7hwq",
        "python-engineio",
        "WebSocket connections were accepted from any Origin (cross-site WebSocket hijacking)",
        "< 3.9.0",
        not_detectable="concerns the origin policy; FIXTURE.md configures every fixture to allow origin `*`",
    ),
    Advisory(
        "CVE-2025-61765, GHSA-g8c6-8fjj-2r4m",
        "python-socketio",
        "messages from the inter-server message queue were unpickled (remote code execution)",
        "< 5.14.0",
        not_detectable="the trigger travels on the message queue between servers, not on a client's connection",
    ),
]


# ---------------------------------------------------------------------------- installing releases
def install(release: Release, fixture: Path = NODE_FIXTURE) -> Path:
    """npm install of the release under build/advisories/<slug>/ (once), with the given shipped fixture."""
    where = BUILD / release.slug
    done = where / ".installed"
    if not done.exists():
        where.mkdir(parents=True, exist_ok=True)
        pins = dict(release.packages)
        manifest = {
            "name": release.slug,
            "version": "1.0.0",
            "private": True,
            "dependencies": pins,
            "overrides": {k: v for k, v in pins.items() if k != "socket.io"},
        }
        (where / "package.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=where, check=True)
        done.write_text("", encoding="utf-8")
    packages.copy_fixture_dir(fixture.parent, where)  # modules resolve next to the fixture's files
    return where


def resolved(where: Path) -> str:
    """The versions npm installed, each as the package that loads it sees it (its own nested copy first)."""
    out = []
    for name, user in USED_BY.items():
        for manifest in (
            where / "node_modules" / user / "node_modules" / name / "package.json",
            where / "node_modules" / name / "package.json",
        ):
            if manifest.exists():
                out.append(f"{name} {json.loads(manifest.read_text())['version']}")
                break
    return ", ".join(out)


# ---------------------------------------------------------------------------- running one case
@dataclass
class Run:
    verdict: str
    detail: str = ""
    seconds: float = 0.0
    server_exit: int | None = None
    server_tail: list[str] = field(default_factory=list)


def run_case(release: Release, case: str, fixture: Path = NODE_FIXTURE) -> Run:
    where = install(release, fixture)
    spec = targets.TargetSpec(name=release.slug, command=["node", fixture.name], cwd=where, description=release.label)
    server = targets.start(spec)
    report = BUILD / "reports" / f"{release.slug}-{case.split('::')[-1]}.json"
    report.unlink(missing_ok=True)
    started = time.monotonic()
    try:
        subprocess.run(
            [
                str(PYTHON),
                "-m",
                "pytest",
                case,
                "-q",
                "--target",
                f"http://127.0.0.1:{server.port}",
                "--report-json",
                str(report),
            ],
            cwd=ROOT / "conformance",
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )
    finally:
        exit_status = server.process.poll() if server.process else None
        targets.stop(server)
    seconds = time.monotonic() - started
    if not report.exists():
        return Run("error", "no report written", seconds, exit_status, server.output[-10:])
    result = json.loads(report.read_text(encoding="utf-8"))["cases"][0]
    detail = (result.get("actual") or result.get("message") or "").replace("\n", " ")
    errors = [line.replace(str(where), "<release>") for line in server.output if "Error" in line]
    tail = errors[:2] if exit_status is not None else []
    return Run(result["verdict"], detail[:300], seconds, exit_status, tail)


# ---------------------------------------------------------------------------- the page
def cell(run: Run) -> str:
    text = f"**{run.verdict}**"
    if run.server_exit is not None:
        text += f" (server exited, status {run.server_exit})"
    return text


def write_page(out: Path, rows: list[tuple[Advisory, Run | None, Run | None, str, str]]) -> None:
    detectable = [r for r in rows if r[1] is not None]
    detected = [r for r in detectable if r[1] and r[2] and r[1].verdict == "fail" and r[2].verdict == "pass"]
    blind = [r for r in rows if r[0].not_detectable]
    lines = [
        "# Advisories",
        "",
        "Every published advisory of socket.io, engine.io, socket.io-parser, engine.io-parser, ws, python-socketio",
        "and python-engineio, plus crash reports fixed without one, with the conformance case that reproduces it",
        "and its verdict on an affected and a fixed release. Generated by `make advisories`",
        "(conformance/advisories.py); each run starts a fresh server with the FIXTURE.md fixture on 127.0.0.1",
        "(the full one, unless the advisory's note names the official-suite part).",
        "An advisory is **detected** when its case fails on the affected release and passes on the fixed one.",
        "",
        f"Found: {len(rows)}. Run against releases: {len(detectable)}. Detected: {len(detected)}. "
        f"Not observable on the wire or with the fixture: {len(blind)}.",
        "",
        "| advisory | package | what | affected range | case | affected release | verdict | fixed release | verdict | detected |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for adv, bad, good, bad_versions, good_versions in rows:
        if bad is None or good is None:
            continue
        hit = "yes" if bad.verdict == "fail" and good.verdict == "pass" else "no"
        lines.append(
            f"| {adv.ids} | {adv.package} | {adv.summary} | {adv.affected_range} | `{adv.case.split('::')[-1]}` "
            f"| {bad_versions} | {cell(bad)} | {good_versions} | {cell(good)} | {hit} |"
        )
    lines += ["", "## What the affected releases did", ""]
    for adv, bad, good, _, _ in rows:
        if bad is None:
            continue
        lines.append(
            f"- **{adv.ids}**: affected: {bad.verdict}, {bad.detail or 'no detail'}"
            + (f"; the server printed `{' / '.join(bad.server_tail)[:300]}` and exited" if bad.server_tail else "")
        )
        if good is not None and good.verdict != "pass":
            lines.append(
                f"  fixed: {good.verdict}, {good.detail}"
                + (
                    f"; the server printed `{' / '.join(good.server_tail)[:300]}` and exited"
                    if good.server_tail
                    else ""
                )
            )
        if adv.note:
            lines.append(f"  {adv.note}")
    lines += [
        "",
        "## Not observable",
        "",
        "| advisory | package | what | affected range | why the suite cannot observe it |",
        "|---|---|---|---|---|",
    ]
    for adv, *_ in rows:
        if adv.not_detectable:
            lines.append(f"| {adv.ids} | {adv.package} | {adv.summary} | {adv.affected_range} | {adv.not_detectable} |")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "advisories.md")
    ap.add_argument("--only", default="", help="run only advisories whose ids contain this text")
    args = ap.parse_args()
    rows: list[tuple[Advisory, Run | None, Run | None, str, str]] = []
    for adv in ADVISORIES:
        if args.only and args.only not in adv.ids:
            continue
        if adv.affected is None or adv.fixed is None:
            rows.append((adv, None, None, "", ""))
            continue
        bad = run_case(adv.affected, adv.case, adv.fixture)
        good = run_case(adv.fixed, adv.case, adv.fixture)
        bad_versions, good_versions = resolved(BUILD / adv.affected.slug), resolved(BUILD / adv.fixed.slug)
        print(f"{adv.ids:<45} affected {bad.verdict:<8} fixed {good.verdict:<8} ({bad.seconds + good.seconds:.1f} s)")
        rows.append((adv, bad, good, bad_versions, good_versions))
    write_page(args.out, rows)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
