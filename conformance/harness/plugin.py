"""pytest plugin: target lifecycle, requirement selection, verdicts, JSON index and summary.

Load it with `-p harness.plugin` (conformance/ on sys.path). Options:
  --target NAME|URL     registry name (see targets.py) or http://127.0.0.1:PORT (env TARGET)
  --req ID              run only cases of this requirement ID or ID prefix (repeatable)
  --report-json PATH    write the JSON index of cases and verdicts
  --ping-interval/--ping-timeout/--connect-timeout MS  override the target's settings
  --strict-profile      non-strict verdicts fail the run as well
Listing without running is pytest's own `--collect-only -q`. With pytest-xdist's `-n N`, each worker
starts its own instance of the target and the controlling process writes the one JSON index.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from _pytest.runner import runtestprotocol

from . import catalogue, discovery, packages, targets, tracking, verify
from .eio import NotReceived, Session, SessionEnded, open_session
from .http import HttpConnectionLost
from .sio import SioClient
from .verdict import (
    ERROR,
    FAIL,
    INFORMATIONAL,
    NON_STRICT,
    NOT_APPLICABLE,
    ORDER,
    PASS,
    PRECONDITION,
    UNIMPLEMENTED,
    UNTESTED,
    Case,
    Failure,
    PreconditionFailed,
    SetupFailed,
    Verdict,
    show,
)
from .ws import WsRejected

CATALOGUE = catalogue.load()
VERDICT_KEY = pytest.StashKey[dict]()


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("conformance")
    g.addoption(
        "--target",
        default=os.environ.get("TARGET", "reference"),
        help="target name from the registry, or http://127.0.0.1:PORT",
    )
    g.addoption("--req", action="append", default=[], help="only cases of this requirement ID (or prefix)")
    g.addoption("--report-json", default=os.environ.get("CONFORMANCE_JSON", ""), help="write the JSON index here")
    g.addoption("--ping-interval", type=int, default=None)
    g.addoption("--ping-timeout", type=int, default=None)
    g.addoption("--connect-timeout", type=int, default=None)
    g.addoption("--eio3", action="store_true", default=False, help="an URL target also accepts EIO=3")
    g.addoption(
        "--repeat",
        type=int,
        default=int(os.environ.get("CONF_REPEAT", "1") or 1),
        help="run every case N times and report each case whose verdict changed between runs (env CONF_REPEAT)",
    )
    g.addoption(
        "--target-cmd",
        default=os.environ.get("TARGET_CMD", ""),
        help="shell command that starts the server under FIXTURE.md section 1 (prints READY <port>); "
        "the suite starts, restarts and stops it itself",
    )
    g.addoption(
        "--target-features",
        default=None,
        help="the fixture parts the target has, comma-separated (see FIXTURE.md), or all / none",
    )
    g.addoption(
        "--target-upgrade-timeout",
        type=int,
        default=None,
        help="the target's Engine.IO upgrade timeout in ms (FIXTURE.md UPGRADE_TIMEOUT_MS)",
    )
    g.addoption(
        "--target-info",
        default=os.environ.get("TARGET_INFO", ""),
        help="JSON file shaped like the fixture-info answer (FIXTURE.md section 2)",
    )
    g.addoption(
        "--catalogue",
        choices=("server", "client", "cluster"),
        default="server",
        help="which requirement catalogue the cases judge: REQUIREMENTS.md, CLIENT-REQUIREMENTS.md or "
        "CLUSTER-REQUIREMENTS.md",
    )
    g.addoption(
        "--stability-only",
        action="store_true",
        default=False,
        help="with --repeat: the run fails only when a verdict changed between runs (verdicts are reported, not enforced)",
    )
    g.addoption(
        "--strict-profile",
        action="store_true",
        default=False,
        help="strict profile: a non-strict verdict fails the run too (SHOULDs and Node-tolerated MUSTs)",
    )


_CONFIG: pytest.Config | None = None
RESULTS_KEY = pytest.StashKey[list[dict]]()
UNTESTED_KEY = pytest.StashKey[list[str]]()
PARTIAL_KEY = pytest.StashKey[bool]()
TRANSCRIPT_KEY = pytest.StashKey[tracking.Transcript]()
# The cases this run is to report (after deselection), to tell a report cut short from a whole one.
COLLECTED_KEY = pytest.StashKey[list[str]]()
MISSING_KEY = pytest.StashKey[list[str]]()


def pytest_configure(config: pytest.Config) -> None:
    global _CONFIG, CATALOGUE
    side = config.getoption("--catalogue", "server")
    if side in ("client", "cluster"):
        CATALOGUE = catalogue.load(catalogue.CLIENT_PATH if side == "client" else catalogue.CLUSTER_PATH)
    config.addinivalue_line("markers", "transport(name): the Engine.IO transport a case runs over")
    config.stash[RESULTS_KEY] = []
    _CONFIG = config
    # The subject is a client, or a cluster of servers (clusterside/plugin.py starts those): no target here.
    no_target = side in ("client", "cluster")
    if not _is_worker(config) and config.getoption("--repeat") > 1 and not config.getoption("collectonly"):
        shutil.rmtree(runs_dir(config), ignore_errors=True)  # the runs kept by an earlier repeat
    if not _is_worker(config) and not config.getoption("collectonly") and not no_target:
        _resolve_spec(config, install=True)  # a version on demand is installed once, before any worker


def pytest_deselected(items: list[pytest.Item]) -> None:
    if items:
        items[0].config.stash[PARTIAL_KEY] = True


def _req_id(item: pytest.Item) -> str | None:
    name = getattr(item, "originalname", None) or item.name
    return catalogue.id_from_test_name(name)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = [w.upper().replace("_", "-") for w in config.getoption("--req")]
    if not wanted:
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        rid = _req_id(item) or ""
        (
            keep
            if any(rid == w or rid.startswith(w.rstrip("-") + "-") or rid == w.rstrip("-") for w in wanted)
            else drop
        ).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = keep


# ---------------------------------------------------------------------------- target lifecycle
# The running target of this process (one per pytest-xdist worker), for the checks between cases.
_RUNNING: list[targets.Target] = []
# Set once an URL target stops serving: every later case is reported as `error` (target down).
_DOWN: list[str] = []
# What happened to the target during the run (deaths, hangs, restarts), for the JSON index.
_INCIDENTS: list[dict] = []


def _declared(cfg: pytest.Config) -> discovery.Declared:
    try:
        features = cfg.getoption("--target-features")
        info_path = cfg.getoption("--target-info")
        return discovery.Declared(
            features=None if features is None else discovery.parse_features(features),
            upgrade_timeout_ms=cfg.getoption("--target-upgrade-timeout"),
            info=discovery.load_info_file(info_path) if info_path else {},
            connect_timeout_given=cfg.getoption("--connect-timeout") is not None,
            eio3_given=bool(cfg.getoption("--eio3")),
        )
    except ValueError as err:
        raise pytest.UsageError(str(err)) from None


def _resolve_spec(cfg: pytest.Config, install: bool) -> targets.TargetSpec | None:
    """The spec of a registry or command target; None for an URL target."""
    name, command = cfg.getoption("--target"), cfg.getoption("--target-cmd")
    if command:
        if name.startswith("http://"):
            raise pytest.UsageError(
                "give either an URL target or TARGET_CMD, not both (the command's server "
                "prints its own port: FIXTURE.md section 1)"
            )
        return targets.command_spec(name, command, eio3=cfg.getoption("--eio3"))
    if name.startswith("http://"):
        return None
    try:
        return targets.lookup(name, install=install)
    except (KeyError, packages.PackageError) as err:
        raise pytest.UsageError(str(err).strip("'\"")) from None


def _start_target(cfg: pytest.Config) -> targets.Target:
    overrides = {
        k: v
        for k, v in (
            ("ping_interval_ms", cfg.getoption("--ping-interval")),
            ("ping_timeout_ms", cfg.getoption("--ping-timeout")),
            ("connect_timeout_ms", cfg.getoption("--connect-timeout")),
        )
        if v is not None
    }
    spec = _resolve_spec(cfg, install=False)
    if spec is None:
        return targets.attach(cfg.getoption("--target"), overrides, eio3=cfg.getoption("--eio3"))
    t = targets.start(spec, overrides)
    if spec.shell:  # anyone's server: its heartbeat as it announces it
        targets.read_handshake_settings(t, overrides)
    return t


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[targets.Target]:
    cfg = request.config
    try:
        t = _start_target(cfg)
    except targets.StartError as err:
        pytest.exit(str(err), returncode=3)
    try:
        notes = discovery.learn(
            t,
            _declared(cfg),
            pinned=not cfg.getoption("--target-cmd") and discovery.is_pinned(cfg.getoption("--target")),
        )
    except targets.StartError as err:
        targets.stop(t)
        pytest.exit(str(err), returncode=3)
    except Exception as err:  # the target misbehaves before any case: one line, not one error per case
        targets.stop(t)
        pytest.exit(f"target {t.name}: learning its fixture failed: {type(err).__name__}: {err}", returncode=3)
    _say(cfg, targets.describe(t))
    for note in notes:
        _say(cfg, note)
    _RUNNING.append(t)
    try:
        yield t
    finally:
        _RUNNING.remove(t)
        _remember_target(cfg, t)
        targets.stop(t)


def _say(cfg: pytest.Config, line: str) -> None:
    """A line on the terminal (shown in-process; pytest-xdist workers have none)."""
    reporter = cfg.pluginmanager.get_plugin("terminalreporter")
    capture = cfg.pluginmanager.get_plugin("capturemanager")
    if reporter is None or _is_worker(cfg):
        return
    with capture.global_and_fixture_disabled() if capture is not None else contextlib.nullcontext():
        reporter.ensure_newline()
        reporter.write_line(line)


def _remember_target(cfg: pytest.Config, t: targets.Target) -> None:
    """What the report says about the target; a pytest-xdist worker sends it to the controller."""
    info = {
        "name": t.name,
        "description": t.description,
        "implementation": t.implementation,
        "packages": t.packages,
        "parts": sorted(t.features),
        "parts_from": t.parts_from,
        "unknown": sorted(t.unknown),
        "upgrade_timeout_ms": t.upgrade_timeout_ms,
        "restarts": t.restarts,
        "incidents": list(_INCIDENTS),
    }
    cfg._conformance_target = info  # type: ignore[attr-defined]
    if _is_worker(cfg):
        cfg.workeroutput["conformance_target"] = info  # type: ignore[attr-defined]


def pytest_collection_finish(session: pytest.Session) -> None:
    """Without workers: the cases collected in-process."""
    if not _is_worker(session.config) and session.items:
        session.config.stash[COLLECTED_KEY] = [item.nodeid for item in session.items]


def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """pytest-xdist: a worker's collection (every worker collects the same cases); the controlling
    process collects none itself."""
    if _CONFIG is not None:
        _CONFIG.stash[COLLECTED_KEY] = list(ids)


def pytest_testnodedown(node: Any, error: Any) -> None:
    """pytest-xdist: a worker finished; keep its target description (incidents of all workers)."""
    info = getattr(node, "workeroutput", {}).get("conformance_target")
    if info is None or _CONFIG is None:
        return
    mine = getattr(_CONFIG, "_conformance_target", None)
    if mine is None:
        _CONFIG._conformance_target = info  # type: ignore[attr-defined]
    else:
        mine["incidents"] += info["incidents"]
        mine["restarts"] += info["restarts"]


def target_report(config: pytest.Config) -> dict:
    return getattr(config, "_conformance_target", {})


@pytest.fixture(autouse=True)
def _target_serving(request: pytest.FixtureRequest, target: targets.Target) -> None:
    """Before a case: an URL target that went down stays down (the case is `error`, target down);
    an owned target that died after the previous case's check is restarted first."""
    if _DOWN:
        raise TargetDown(_DOWN[0])
    if target.owned and not target.alive():
        _INCIDENTS.append(
            {
                "after": "the previous case's check",
                "case": request.node.nodeid,
                "what": targets.health(target) or "target died",
                "restarted": True,
            }
        )
        targets.restart(target)


class TargetDown(Exception):
    """The target stopped serving earlier in the run; the suite cannot run this case."""


class TargetFailure(Failure):
    """The target died or stopped answering during a case: that case fails, with the input."""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After every case: does the target still serve? If not, the case is charged with it."""
    try:
        result = yield
        raised: BaseException | None = None
    except (KeyboardInterrupt, pytest.exit.Exception):
        raise
    except BaseException as exc:
        raised, result = exc, None
    t = _RUNNING[0] if _RUNNING and "target" in getattr(item, "fixturenames", ()) else None
    problem = targets.health(t) if t is not None else None
    if problem is None:
        if raised is not None:
            raise raised
        return result
    assert t is not None
    failure = _charge(item, t, problem)
    raise failure from raised


def _charge(item: pytest.Item, t: targets.Target, problem: str) -> TargetFailure:
    """The failure of the case after which the target stopped serving; restarts an owned target,
    or marks an URL target down for the rest of the run. The last input is the last message of the
    case's wire transcript (which the report shows in full)."""
    transcript = item.stash.get(TRANSCRIPT_KEY, None)
    sent = [m for m in (transcript.messages() if transcript is not None else []) if m["dir"] == ">"]
    last = f"#{sent[-1]['conn']} {sent[-1]['text']}" if sent else "nothing (the case sent no bytes)"
    tail = t.stderr_tail() if t.owned else []
    lines = [f"{problem} during this case; last input sent: {last}"]
    if t.owned:
        lines.append(f"  target stderr, last {len(tail)} lines:" if tail else "  target stderr: empty")
        lines += [f"    | {line}" for line in tail]
    incident: dict[str, Any] = {"case": item.nodeid, "what": problem, "last_input": last, "stderr_tail": tail}
    if t.owned:
        try:
            targets.restart(t)
            incident["restarted"] = True
        except targets.StartError as err:
            _DOWN.append(f"target down: it could not be restarted after {item.nodeid} ({err})")
            incident["restarted"] = False
    else:
        _DOWN.append(f"target down: {problem} after {item.nodeid}")
        _say(
            item.config,
            f"{t.name}: {problem} after {item.nodeid}; the suite cannot restart a server "
            "it did not start, so the remaining cases are reported as error (target down)",
        )
    _INCIDENTS.append(incident)
    expected = f"the target still serves after the case (process alive, a fresh handshake within {targets.HEALTH_TIMEOUT_S:.1f} s)"
    return TargetFailure("\n".join(lines), expected, problem)


@pytest.fixture
def case(request: pytest.FixtureRequest) -> Case:
    rid = _req_id(request.node) or "?"
    c = Case(CATALOGUE.get(rid), rid)
    request.node.stash[VERDICT_KEY] = {"case": c}
    return c


@pytest.fixture(autouse=True)
def _close_leftovers(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    tracking.close_all()


# The requirement each way of opening an Engine.IO session depends on, and the one joining a namespace
# depends on: a case whose opening step fails is precondition-failed, caused by it (Case.setup_verdict).
OPENED_BY = {"polling": "EIO-HS-01", "websocket": "EIO-HS-02", "upgrade": "EIO-UP-01"}
JOINED_BY = "SIO-PKT-13"
AUTH_EVENT_BY = "SIO-NSP-11"


class Opener:
    """Opens Engine.IO sessions and Socket.IO clients for one test and closes them all afterwards.
    What fails while opening is reported as the failed step (SetupFailed), with what the target did."""

    def __init__(self, target: targets.Target):
        self.target = target
        self.opened: list[Any] = []

    def eio(self, transport: str, path: str | None = None) -> Session:
        try:
            s = open_session(self.target, transport, path)
        except SetupFailed:
            raise
        except (OSError, TimeoutError, SessionEnded, WsRejected, HttpConnectionLost) as exc:
            raise SetupFailed(
                OPENED_BY.get(transport, "EIO-HS-01"),
                f"a {transport} session opens",
                "an open Engine.IO session",
                f"{type(exc).__name__}: {exc}",
            ) from exc
        self.opened.append(s)
        return s

    def echo(self, transport: str, case: Case) -> Session:
        """A session on the Engine.IO echo endpoint (FIXTURE.md section 4)."""
        targets.need(case, self.target, "echo")
        return self.eio(transport, self.target.eio_path)

    def sio(self, transport: str, nsp: str | None = "/", auth: Any = None) -> SioClient:
        c = SioClient(self.eio(transport))
        if nsp is not None:
            self.join(c, nsp, auth)
        return c

    def join(self, c: SioClient, nsp: str, auth: Any = None) -> None:
        """Joins `nsp` (CONNECT, its reply, the fixture's `auth` event), or raises SetupFailed with what
        came instead (Engine.IO message text, as on the wire). A reply that misses the deadline is awaited
        twice as long again, so the failure says whether it came late (a slow or starved target) or not."""
        sent = time.monotonic()
        prefix = "" if nsp == "/" else nsp + ","
        expected = f'40{prefix}{{"sid":…}}'
        try:
            reply = c.connect(nsp, auth)
        except NotReceived as exc:
            seen = [f"4{p.raw}" for p in exc.seen]
            if nsp in c.sids:
                raise SetupFailed(AUTH_EVENT_BY, f"the fixture emits `auth` after joining {nsp}",
                                  f'42{prefix}["auth",…]', {f"nothing within {exc.waited:.2f} s; received": seen}) from exc  # fmt: skip
            actual: dict[str, Any] = {f"no reply within {exc.waited:.2f} s; received": seen}
            try:
                late = c.take(lambda p: p.type in (0, 4) and p.nsp == nsp, 2 * self.target.reply, "late reply")
                actual["late reply"] = f"4{late.raw} {time.monotonic() - sent:.3f} s after the CONNECT"
            except (NotReceived, SessionEnded) as later:
                actual["late reply"] = (
                    f"none {time.monotonic() - sent:.3f} s after the CONNECT ({type(later).__name__})"
                )
            raise SetupFailed(JOINED_BY, f"the CONNECT to {nsp} is answered", expected, actual) from exc
        except SessionEnded as exc:
            pending = [f"4{p.raw}" if hasattr(p, "raw") else p for p in exc.pending]
            raise SetupFailed(JOINED_BY, f"the CONNECT to {nsp} is answered", expected,
                              {"session ended": exc.how, "received": pending}) from exc  # fmt: skip
        if reply.type != 0:
            raise SetupFailed(JOINED_BY, f"the CONNECT to {nsp} is accepted", expected, f"4{reply.raw}")

    def adopt(self, thing: Any) -> Any:
        self.opened.append(thing)
        return thing

    def close(self) -> None:
        for s in reversed(self.opened):
            try:
                s.close()
            except Exception:
                pass


@pytest.fixture
def opener(target: targets.Target) -> Iterator[Opener]:
    o = Opener(target)
    try:
        yield o
    finally:
        o.close()


# ---------------------------------------------------------------------------- verdicts
# Verdicts that leave pytest's outcome passed (non-strict only outside the strict profile) or skipped.
_QUIET = (NON_STRICT, INFORMATIONAL)
_SKIPPED = (UNIMPLEMENTED, NOT_APPLICABLE)
TERMINAL_TRANSCRIPT = {FAIL: 40, ERROR: 40, PRECONDITION: 40}  # messages shown; other non-pass verdicts: 12


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    """With --repeat N, runs the case N times (module and session fixtures kept between the runs) and
    logs the last run's reports, carrying the verdict of every run; a case whose verdict changed keeps
    the verdict text and transcript of the first run of each verdict it had."""
    runs = item.config.getoption("--repeat")
    if runs <= 1:
        return _run_while_the_suite_lost(item, nextitem)
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    results: list[dict] = []
    reports: list[pytest.TestReport] = []
    for i in range(runs):
        # Between runs only the case's own node is torn down: its module and the session (the target) stay.
        keep = nextitem if i == runs - 1 else item.parent
        reports = runtestprotocol(item, nextitem=keep, log=False)  # type: ignore[arg-type]
        done = [getattr(r, "conformance", None) for r in reports]
        results.append(next((d for d in reversed(done) if d is not None), {"verdict": ERROR, "message": "no result"}))
    verdicts = [r["verdict"] for r in results]
    final = results[-1]
    final["repeat"] = verdicts
    if len(set(verdicts)) > 1:
        files = _keep_runs(item, results)
        first_of = {v: results[verdicts.index(v)] for v in dict.fromkeys(verdicts)}
        fields = ("verdict", "message", "expected", "actual", "suite_stall_ms", "transcript")
        final["changed"] = [{k: r.get(k) for k in fields} | {"run": verdicts.index(v) + 1} for v, r in first_of.items()]
        final["runs"] = [{"run": n, "verdict": v, "file": f} for n, (v, f) in enumerate(zip(verdicts, files), 1)]
        final["verdict"] = max(verdicts, key=lambda v: RANK.get(v, 6))
    for rep in reports:
        item.ihook.pytest_runtest_logreport(report=rep)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def runs_dir(config: pytest.Config) -> Path:
    """Where --repeat keeps every run of a case whose verdict changed: beside the JSON index (runs/), or
    under the system's temporary directory without one."""
    path = config.getoption("--report-json")
    if path:
        return Path(path).resolve().parent / "runs"
    return Path(tempfile.gettempdir()) / "conformance-runs"


def _keep_runs(item: pytest.Item, results: list[dict]) -> list[str]:
    """Writes each run's whole result (verdict text, wire transcript, and what the plugin of the side adds,
    such as a client fixture's lines and stderr) to runs/<case>/run-<n>.json, so that a verdict that
    changed can be analysed from every run without running it again. Returns the files' paths."""
    where = runs_dir(item.config) / re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid).strip("_")
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True, exist_ok=True)
    files = []
    for n, result in enumerate(results, 1):
        f = where / f"run-{n}.json"
        f.write_text(json.dumps(result | {"run": n}, indent=1, default=str) + "\n", encoding="utf-8")
        files.append(str(f))
    return files


# A case that did not pass although its session ended for a reason outside the case is run again, up to
# SUITE_LOST_RUNS times in all: what it saw says nothing about the requirement. Two such reasons: the suite
# itself lost the session (verify.suite_lost: its pong to the target's ping went out too late, or never),
# or the target's heartbeat ended it although the pong went out in time (verify.heartbeat_lapse: the
# target's own defect, shown in the report, but not its reaction to the case). The verdict is the last
# run's; the report lists the earlier runs, and a last run ended the same way says so in its verdict text.
SUITE_LOST_RUNS = 3
ENDED_OUTSIDE_THE_CASE = {
    "suite_lost": "the suite lost the session",
    "heartbeat_lapse": "the target's heartbeat ended the session although the suite's pong was in time",
}


def _ended_outside_the_case(result: dict) -> tuple[str, str] | None:
    """(what ended the session, as the verdict text says it; what was seen) for a result whose session
    ended outside the case, or None."""
    for key, said in ENDED_OUTSIDE_THE_CASE.items():
        if result.get(key):
            return said, result[key]
    return None


def _run_while_the_suite_lost(item: pytest.Item, nextitem: pytest.Item | None) -> bool:
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    earlier: list[dict] = []
    for run in range(1, SUITE_LOST_RUNS + 1):
        reports = runtestprotocol(item, nextitem=nextitem, log=False)
        done = [getattr(r, "conformance", None) for r in reports]
        result = next((d for d in reversed(done) if d is not None), None)
        if result is None or result["verdict"] == PASS:
            break
        ended = _ended_outside_the_case(result)
        if ended is None:
            break
        if run == SUITE_LOST_RUNS:
            result["message"] += f"\n  {ended[0]} in each of {run} runs: {ended[1]}"
            break
        fields = ("verdict", "message", *ENDED_OUTSIDE_THE_CASE, "suite_stall_ms")
        earlier.append({k: result.get(k) for k in fields if k in result} | {"run": run})
    if result is not None and earlier:
        result["earlier_runs"] = earlier
    for rep in reports:
        item.ihook.pytest_runtest_logreport(report=rep)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    tracking.watch_stalls()
    item.stash[TRANSCRIPT_KEY] = tracking.begin_case()
    yield


def _case_step(item: pytest.Item, excinfo: pytest.ExceptionInfo | None) -> str:
    """`file:line: source` of the case's own line at which the exception surfaced (the step the case
    was at), or "" when the case's module is not in the traceback."""
    if excinfo is None:
        return ""
    here = [e for e in excinfo.traceback if str(e.path) == str(item.path)]
    if not here:
        return ""
    entry = here[-1]
    try:
        code = str(entry.statement).strip().splitlines()[0]
    except (IndexError, OSError):
        code = ""
    return f"{item.path.name}:{entry.lineno + 1}: {code}"


def _last_received(transcript: tracking.Transcript, limit: int = 160) -> str:
    """The last message (HTTP response or WebSocket frame) the target sent during the case, with its
    time on the case clock."""
    got = [m for m in transcript.messages() if m.get("dir") == "<"]
    if not got:
        return "nothing"
    text = str(got[-1].get("text", ""))
    return f"{got[-1]['t']:.3f} s: {text[:limit]}" + (" …" if len(text) > limit else "")


def _unexpected(
    exc: BaseException, c: Case | None, step: str = "", transcript: tracking.Transcript | None = None
) -> tuple[str, Any, Any]:
    """Verdict text, expected and actual of a case that ended in an exception rather than a check: the
    expectation that was waiting, or else the step the case was at; what happened and when on the case
    clock (for an ended session, how it ended), the last message the target sent, and what had arrived
    and was not taken; never an earlier check's values."""
    head = c.head() if c else ""
    expected = getattr(exc, "what", None)
    if step:
        expected = f"the step at {step} to complete" if expected is None else f"{expected} (at {step})"
    seen = getattr(exc, "seen", None)
    if seen is None:
        seen = getattr(exc, "pending", None)
    actual: Any = f"{type(exc).__name__}: {exc}"
    if transcript is not None:
        if isinstance(exc, SessionEnded):
            actual = {"session ended": f"{exc.at - transcript.t0:.3f} s: {exc.how}"}
        else:
            actual = {"exception": f"{time.monotonic() - transcript.t0:.3f} s: {actual}"}
        actual["last received"] = _last_received(transcript)
        if seen:
            actual["received and not taken"] = seen
    elif seen:
        actual = {"exception": actual, "received and not taken": seen}
    where = f"\n  at {step}" if step else ""
    return f"{head}\n  ended by {type(exc).__name__}: {exc}{where}", expected, actual


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome: Any = yield
    report: pytest.TestReport = outcome.get_result()
    state = item.stash.get(VERDICT_KEY, {})
    exc = call.excinfo.value if call.excinfo is not None else None
    if report.when == "setup" and report.failed:
        state["verdict"], state["message"] = ERROR, str(exc)[:2000]
    if report.when == "setup" and report.skipped:
        state["verdict"], state["message"] = UNIMPLEMENTED, str(exc)[:2000]
    if report.when == "call":
        c: Case | None = state.get("case")
        if isinstance(exc, SetupFailed):
            exc = c.setup_verdict(exc) if c else PreconditionFailed(str(exc), exc.expected, exc.actual, exc.requirement)
        if exc is None:
            state["verdict"] = PASS
        elif isinstance(exc, (Verdict, Failure)):
            state["verdict"], state["message"] = exc.kind, exc.message
            state["expected"], state["actual"] = exc.expected, exc.actual
            state["caused_by"] = exc.caused_by
            if exc.kind in _SKIPPED:
                report.outcome = "skipped"
                report.longrepr = (str(item.path), item.location[1] or 0, f"{exc.kind}: {exc.message}")
            elif exc.kind == NON_STRICT and item.config.getoption("--strict-profile"):
                pass  # stays a pytest failure in the strict profile
            elif exc.kind in _QUIET:
                report.outcome = "passed"
                report.longrepr = None
        else:
            # An unexpected exception (a timeout, a dropped connection) counts at the requirement's level.
            level = c.level if c else "MUST"
            state["verdict"] = {"MUST": FAIL, "INFO": INFORMATIONAL}.get(level, NON_STRICT)
            state["message"], state["expected"], state["actual"] = _unexpected(
                exc, c, _case_step(item, call.excinfo), item.stash.get(TRANSCRIPT_KEY, None)
            )
            if state["verdict"] != FAIL:
                report.outcome = "passed"
                report.longrepr = None
        if state["verdict"] != PASS:
            state["suite_lost"] = _first_opened(item, verify.suite_lost)
            if not state["suite_lost"]:
                state["heartbeat_lapse"] = _first_opened(item, verify.heartbeat_lapse)
        report.sections.append(("verdict", f"{state['verdict']}: {state.get('message', '')}"))
        transcript = item.stash.get(TRANSCRIPT_KEY, None)
        if state["verdict"] != PASS and transcript is not None and report.failed:
            report.sections.append(("wire transcript", "\n".join(transcript.lines(40))))
    if report.when == "teardown" or (report.when == "setup" and not report.passed):
        _finish(item, state, report)
    if "verdict" in state and (report.when == "call" or (report.when == "setup" and not report.passed)):
        # JUnit XML takes properties from the teardown report, which copies the item's list.
        item.user_properties.append(("verdict", state["verdict"]))
        item.user_properties.append(("requirement", _req_id(item) or ""))
        if state["verdict"] != PASS:
            item.user_properties.append(("reason", state.get("message", "")))
    item.stash[VERDICT_KEY] = state


def _first_opened(item: pytest.Item, seen: Callable[[Session | SioClient], str | None]) -> str | None:
    """What `seen` (verify.suite_lost, verify.heartbeat_lapse) says of the first session the case's opener
    opened of which it says anything, or None."""
    opener = (getattr(item, "funcargs", None) or {}).get("opener")
    for thing in getattr(opener, "opened", []):
        if isinstance(thing, (Session, SioClient)):
            found = seen(thing)
            if found is not None:
                return found
    return None


def _finish(item: pytest.Item, state: dict, report: pytest.TestReport) -> None:
    """Puts the case's result on its last report. Reports travel from pytest-xdist workers to the
    controlling process, where pytest_runtest_logreport collects them; without workers, the
    same hook collects them in-process."""
    if state.get("done"):
        return
    state["done"] = True
    c: Case | None = state.get("case")
    rid = _req_id(item)
    req = CATALOGUE.get(rid or "")
    verdict = state.get("verdict", ERROR)
    # Expected and actual of the check that decided the verdict: for a pass the last check made.
    expected = state.get("expected", c.expected if c and verdict == PASS else None)
    actual = state.get("actual", c.actual if c and verdict == PASS else None)
    tracking.end_case()
    transcript = item.stash.get(TRANSCRIPT_KEY, None)
    report.conformance = {  # type: ignore[attr-defined]
        "case": item.nodeid,
        "requirement": rid,
        "level": req.level if req else None,
        "judged_as": c.judged_as.id if c and c.judged_as else None,
        "verdict": verdict,
        "expected": None if expected is None else show(expected),
        "actual": None if actual is None else show(actual),
        "message": state.get("message", ""),
        "caused_by": state.get("caused_by"),
        "duration": round(time.monotonic() - c.started, 3) if c else 0.0,
        "suite_stall_ms": transcript.stall_ms if transcript is not None else 0.0,
        "transcript": transcript.messages() if transcript is not None else [],
    }
    for key in ENDED_OUTSIDE_THE_CASE:
        if state.get(key):
            report.conformance[key] = state[key]


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    result = getattr(report, "conformance", None)
    if result is not None and _CONFIG is not None:
        _CONFIG.stash[RESULTS_KEY].append(result)


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    results = config.stash.get(RESULTS_KEY, [])
    if not results or _is_worker(config):
        return
    results.sort(key=lambda r: r["case"])  # the same order however many workers ran the cases
    path = config.getoption("--report-json")
    tested = {r["requirement"] for r in results}
    # With pytest-xdist, deselection happens in the workers, so -k and -m count as partial here.
    partial = (
        bool(config.getoption("--req"))
        or config.stash.get(PARTIAL_KEY, False)
        or bool(config.getoption("keyword"))
        or bool(config.getoption("markexpr"))
    )
    untested = [] if partial else [rid for rid in CATALOGUE if rid not in tested]
    config.stash[UNTESTED_KEY] = untested
    changed = [r["case"] for r in results if r.get("changed")]
    collected = config.stash.get(COLLECTED_KEY, [])
    missing = sorted(set(collected) - {r["case"] for r in results})
    config.stash[MISSING_KEY] = missing
    if changed:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    elif config.getoption("--stability-only") and session.exitstatus == pytest.ExitCode.TESTS_FAILED:
        session.exitstatus = pytest.ExitCode.OK
    if path:
        counts = Counter(r["verdict"] for r in results)
        doc = {
            "target": config.getoption("--target"),
            "target_info": target_report(config),
            "catalogue": config.getoption("--catalogue", "server"),
            "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "totals": {v: counts.get(v, 0) for v in ORDER if v != UNTESTED} | {UNTESTED: len(untested)},
            "requirements": _per_requirement(results, untested),
            "repeat": config.getoption("--repeat"),
            "changed": changed,
            # A run that stopped early (interrupted, a worker lost) reports fewer cases than it collected.
            "cases_collected": len(collected),
            "cases_missing": missing,
            "exit_status": int(exitstatus),
            "cases": results,
        }
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


RANK = {
    NOT_APPLICABLE: -1,
    PASS: 0,
    INFORMATIONAL: 1,
    NON_STRICT: 2,
    UNIMPLEMENTED: 3,
    PRECONDITION: 4,
    FAIL: 5,
    ERROR: 6,
}


def _per_requirement(results: list[dict], untested: list[str]) -> dict[str, dict]:
    """One verdict per requirement: the worst of its cases; not-applicable only when all of them are."""
    out: dict[str, dict] = {}
    for r in results:
        rid = r["requirement"] or "?"
        cur = out.setdefault(rid, {"level": r["level"], "verdict": None, "cases": 0})
        cur["cases"] += 1
        if cur["verdict"] is None or RANK.get(r["verdict"], 6) > RANK.get(cur["verdict"], 6):
            cur["verdict"] = r["verdict"]
    for rid in untested:
        req = CATALOGUE.get(rid)
        out[rid] = {"level": req.level if req else None, "verdict": UNTESTED, "cases": 0}
    return dict(sorted(out.items()))


def _reason_lines(r: dict) -> list[str]:
    """The reason of a non-pass verdict for the terminal: the verdict text (requirement, check, expected,
    actual) and the end of the wire transcript."""
    out = [f"  {r['verdict']:<14} {r['case']}"]
    out += [f"      {line}" for line in (r["message"] or "").strip().splitlines()]
    if r.get("caused_by"):
        out.append(f"      (follows from {r['caused_by']})")
    if r.get("suite_stall_ms"):
        out.append(
            f"      (the suite itself did not run for {r['suite_stall_ms']:.0f} ms during this case: machine load)"
        )
    for run in r.get("earlier_runs") or []:
        said, seen = _ended_outside_the_case(run) or ("", "")
        out.append(f"      (run {run['run']} was run again: {run['verdict']}, {said}: {seen})")
    msgs = r.get("transcript") or []
    if msgs:
        limit = TERMINAL_TRANSCRIPT.get(r["verdict"], 12)
        shown = msgs[-limit:]
        out.append(
            f"      wire transcript ({len(msgs)} messages{', last ' + str(limit) if len(msgs) > limit else ''}):"
        )
        for m in shown:
            t = "       " if m["t"] is None else f"{m['t']:7.3f}"
            text = m["text"] if len(m["text"]) <= tracking.LINE_CHARS else m["text"][: tracking.LINE_CHARS] + " …"
            out.append(f"      {t} #{m['conn']} {m['dir']} {text}")
    return out


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    results = config.stash.get(RESULTS_KEY, [])
    if not results:
        return
    tr = terminalreporter
    counts = Counter(r["verdict"] for r in results)
    untested = config.stash.get(UNTESTED_KEY, [])
    tr.section(f"conformance verdicts: {config.getoption('--target')}")
    info = target_report(config)
    if info.get("packages"):
        tr.write_line("packages: " + ", ".join(f"{p} {v}" for p, v in info["packages"].items()))
    for incident in info.get("incidents", []):
        tr.write_line(
            f"target incident: {incident['what']} after {incident['case']}"
            + ("; restarted" if incident.get("restarted") else "")
        )
    reqs = _per_requirement(results, untested)
    for r in results:
        if r["verdict"] != PASS:
            for line in _reason_lines(r):
                tr.write_line(line)
    changed = [r for r in results if r.get("changed")]
    for r in changed:
        tr.write_line(f"  verdict changed between runs: {r['case']}: {' '.join(r['repeat'])}")
        for run in r.get("runs") or []:
            tr.write_line(f"    run {run['run']} ({run['verdict']}): {run['file']}")
        for run in r["changed"]:
            stalled = (
                f" (the suite did not run for {run['suite_stall_ms']:.0f} ms)" if run.get("suite_stall_ms") else ""
            )
            for line in _reason_lines(run | {"case": f"run {run['run']}{stalled}"}):
                tr.write_line("  " + line)
    repeat = config.getoption("--repeat")
    if repeat > 1:
        tr.write_line(f"each case run {repeat} times: {len(changed)} case(s) changed verdict")
    tr.write_line("cases: " + ", ".join(f"{v} {counts[v]}" for v in ORDER if counts.get(v)))
    rc = Counter(v["verdict"] for v in reqs.values())
    tr.write_line(f"requirements ({len(reqs)}): " + ", ".join(f"{v} {rc[v]}" for v in ORDER if rc.get(v)))
    if untested:
        tr.write_line("untested: " + " ".join(untested))
    missing = config.stash.get(MISSING_KEY, [])
    if missing:
        tr.write_line(
            f"REPORT CUT SHORT: {len(results)} of {len(results) + len(missing)} collected cases reported "
            f"(exit status {exitstatus}); first missing: {missing[0]}"
        )
    path = config.getoption("--report-json")
    if path:
        tr.write_line(f"JSON index: {path}")
