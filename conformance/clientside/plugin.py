"""pytest plugin for the client side: the client under test, one `Run` per case, crash attribution,
and each case's wire transcript in the JSON report.

Verdicts, the JSON index, JUnit properties and the `untested` list come from harness.plugin, run
with `--catalogue client` so that CLIENT-REQUIREMENTS.md is the catalogue judged. Options:
  --client NAME|NAME@VERSION|"COMMAND LINE"   the client (env CLIENT); see agents.REGISTRY
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from harness.verdict import Case, Failure, Unimplemented

from . import agents
from .journal import numbers_named
from .scenario import Run

RUN_KEY = pytest.StashKey[Run]()


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("client conformance")
    g.addoption(
        "--client",
        default=os.environ.get("CLIENT", "js"),
        help="client under test: a registry name, name@version, or a fixture command line",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Reports name the client as their subject (the "target" field of the JSON index).
    config.option.target = config.getoption("--client")
    if hasattr(config, "workerinput") or config.getoption("collectonly"):
        return
    # Once, before any worker starts: a version on demand is installed (and built) here, and the
    # report says which client ran, at which versions (the JSON index's target_info, the terminal).
    spec = _usable_spec(config, install=True)
    config._conformance_target = client_info(spec)  # type: ignore[attr-defined]


def _usable_spec(config: pytest.Config, install: bool) -> agents.ClientSpec:
    """The client under test, installed and built; any problem is one line for the user."""
    try:
        spec = agents.resolve(config.getoption("--client"), install=install)
    except ValueError as exc:
        raise pytest.UsageError(f"client {config.getoption('--client')}: {exc}") from None
    missing = [str(p) for p in spec.needs if not p.exists()]
    if missing:
        hint = f" (`make {spec.install}` installs it)" if spec.install else ""
        raise pytest.UsageError(f"client {spec.name}: {', '.join(missing)} missing{hint}")
    return spec


def client_info(spec: agents.ClientSpec) -> dict[str, Any]:
    """What a report says about the client: its registry description, the version of each package it
    runs (from the lock or build metadata) and the fixture's own agent line (`--capabilities`)."""
    try:
        caps = agents.capabilities(spec)
    except RuntimeError as exc:
        raise pytest.UsageError(str(exc)) from None
    return {
        "name": spec.name,
        "description": spec.description,
        "packages": agents.resolved_packages(spec),
        "agent": caps.get("agent", ""),
        "features": sorted(caps.get("features", [])),
    }


def header_lines(info: dict[str, Any]) -> list[str]:
    """The client, its versions and its agent line, as the terminal shows them before the cases."""
    versions = ", ".join(f"{p} {v}" for p, v in info["packages"].items())
    return [
        f"client {info['name']}: {info['description']}",
        f"  packages: {versions or 'not known (a fixture command: see its agent line)'}",
        f"  agent: {info['agent'] or '(none declared)'}",
    ]


def pytest_sessionstart(session: pytest.Session) -> None:
    # Shown even under -q (pytest's own report header is not): which client, at which versions.
    info = getattr(session.config, "_conformance_target", None)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if info and reporter is not None:
        for line in header_lines(info):
            reporter.write_line(line)


@pytest.fixture(scope="session")
def client_spec(request: pytest.FixtureRequest) -> agents.ClientSpec:
    # In a pytest-xdist worker the controller has installed it already (pytest_configure).
    return _usable_spec(request.config, install=False)


@pytest.fixture(scope="session")
def client_caps(client_spec: agents.ClientSpec) -> dict[str, Any]:
    return agents.capabilities(client_spec)


@pytest.fixture
def run(
    request: pytest.FixtureRequest, case: Case, client_spec: agents.ClientSpec, client_caps: dict[str, Any]
) -> Iterator[Run]:
    r = Run(client_spec, client_caps, case)
    request.node.stash[RUN_KEY] = r
    try:
        yield r
    finally:
        r.stop()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """A fixture that crashed or printed an uncaught exception fails the case, whatever was checked:
    the failure carries the stderr tail and the bytes around it."""
    outcome: Any = yield
    r = item.stash.get(RUN_KEY, None)
    if r is None:
        return
    exc = outcome.excinfo[1] if outcome.excinfo else None
    crash = r.crash_report()
    if crash:  # the crash is the reason, whatever check failed after it
        outcome.force_exception(Failure(f"{r.case.req_id}: fixture crash: {crash}", "the fixture keeps running", crash))
        return
    missing = r.unsupported()
    if missing and not crash and exc is not None and not isinstance(exc, Unimplemented):
        # The fixture said it cannot do what the case asked: nothing was judged.
        outcome.force_exception(
            Unimplemented(f"{r.case.req_id}: the fixture cannot do what the case asks: {missing[:3]}")
        )


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome: Any = yield
    report = outcome.get_result()
    result = getattr(report, "conformance", None)
    r = item.stash.get(RUN_KEY, None)
    if result is None or r is None:
        return
    result["client"] = r.spec.name
    if r.case.notes:
        result["notes"] = list(r.case.notes)
    server = r.shown.server if r.shown is not None else r.server
    if server is not None:
        result["transcript"] = server.transcript_json()
    fixture = r.shown.fixture if r.shown is not None else r.fixture
    if fixture is not None:
        result["fixture"] = {
            "config": r.config,
            "lines": [{"t": round(e.t, 1), **numbers_named(e.item)} for e in fixture.lines][:400],
            "exit": fixture.exit_code,
            "stderr_tail": fixture.stderr_tail()[-4000:],
        }
