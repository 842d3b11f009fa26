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

import json
import os
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _pytest.runner import runtestprotocol

from . import catalogue, targets, tracking
from .eio import Session, open_session
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
    Verdict,
    show,
)

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


def pytest_configure(config: pytest.Config) -> None:
    global _CONFIG
    config.addinivalue_line("markers", "transport(name): the Engine.IO transport a case runs over")
    config.stash[RESULTS_KEY] = []
    _CONFIG = config


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


# ---------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[targets.Target]:
    cfg = request.config
    overrides = {
        k: v
        for k, v in (
            ("ping_interval_ms", cfg.getoption("--ping-interval")),
            ("ping_timeout_ms", cfg.getoption("--ping-timeout")),
            ("connect_timeout_ms", cfg.getoption("--connect-timeout")),
        )
        if v is not None
    }
    name = cfg.getoption("--target")
    if name.startswith("http://"):
        t = targets.attach(name, overrides, eio3=cfg.getoption("--eio3"))
        yield t
        return
    if name not in targets.REGISTRY:
        raise pytest.UsageError(f"unknown target {name!r}; known: {', '.join(targets.REGISTRY)} or an URL")
    t = targets.start(targets.REGISTRY[name], overrides)
    try:
        yield t
    finally:
        targets.stop(t)


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


class Opener:
    """Opens Engine.IO sessions and Socket.IO clients for one test and closes them all afterwards."""

    def __init__(self, target: targets.Target):
        self.target = target
        self.opened: list[Any] = []

    def eio(self, transport: str, path: str | None = None) -> Session:
        s = open_session(self.target, transport, path)
        self.opened.append(s)
        return s

    def echo(self, transport: str, case: Case) -> Session:
        """A session on the Engine.IO echo endpoint (FIXTURE.md section 4)."""
        if not self.target.has("echo"):
            case.unimplemented("the target has no Engine.IO echo endpoint (FIXTURE.md section 4)")
        return self.eio(transport, self.target.eio_path)

    def sio(self, transport: str, nsp: str | None = "/", auth: Any = None) -> SioClient:
        c = SioClient(self.eio(transport))
        if nsp is not None:
            reply = c.connect(nsp, auth)
            if reply.type != 0:
                raise Failure(f"could not join {nsp}: {reply!r}")
        return c

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
        return None
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
        first_of = {v: results[verdicts.index(v)] for v in dict.fromkeys(verdicts)}
        fields = ("verdict", "message", "expected", "actual", "transcript")
        final["changed"] = [{k: r.get(k) for k in fields} | {"run": verdicts.index(v) + 1} for v, r in first_of.items()]
        final["verdict"] = max(verdicts, key=lambda v: RANK.get(v, 6))
    for rep in reports:
        item.ihook.pytest_runtest_logreport(report=rep)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Iterator[None]:
    item.stash[TRANSCRIPT_KEY] = tracking.begin_case()
    yield


def _unexpected(exc: BaseException, c: Case | None) -> tuple[str, Any, Any]:
    """Verdict text, expected and actual of a case that ended in an exception rather than a check: the
    expectation that was waiting (if any) and what had arrived instead, never an earlier check's values."""
    head = c.head() if c else ""
    expected = getattr(exc, "what", None)
    seen = getattr(exc, "seen", None)
    if seen is None:
        seen = getattr(exc, "pending", None)
    actual: Any = f"{type(exc).__name__}: {exc}"
    if seen:
        actual = {"exception": actual, "received and not taken": seen}
    return f"{head}\n  ended by {type(exc).__name__}: {exc}", expected, actual


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
            state["message"], state["expected"], state["actual"] = _unexpected(exc, c)
            if state["verdict"] != FAIL:
                report.outcome = "passed"
                report.longrepr = None
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
        "transcript": transcript.messages() if transcript is not None else [],
    }


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
    if changed:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if path:
        counts = Counter(r["verdict"] for r in results)
        doc = {
            "target": config.getoption("--target"),
            "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "totals": {v: counts.get(v, 0) for v in ORDER if v != UNTESTED} | {UNTESTED: len(untested)},
            "requirements": _per_requirement(results, untested),
            "repeat": config.getoption("--repeat"),
            "changed": changed,
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
    reqs = _per_requirement(results, untested)
    for r in results:
        if r["verdict"] != PASS:
            for line in _reason_lines(r):
                tr.write_line(line)
    changed = [r for r in results if r.get("changed")]
    for r in changed:
        tr.write_line(f"  verdict changed between runs: {r['case']}: {' '.join(r['repeat'])}")
        for run in r["changed"]:
            for line in _reason_lines(run | {"case": f"run {run['run']}"}):
                tr.write_line("  " + line)
    repeat = config.getoption("--repeat")
    if repeat > 1:
        tr.write_line(f"each case run {repeat} times: {len(changed)} case(s) changed verdict")
    tr.write_line("cases: " + ", ".join(f"{v} {counts[v]}" for v in ORDER if counts.get(v)))
    rc = Counter(v["verdict"] for v in reqs.values())
    tr.write_line(f"requirements ({len(reqs)}): " + ", ".join(f"{v} {rc[v]}" for v in ORDER if rc.get(v)))
    if untested:
        tr.write_line("untested: " + " ".join(untested))
    path = config.getoption("--report-json")
    if path:
        tr.write_line(f"JSON index: {path}")
