"""pytest plugin for the cluster section: the cluster under test (Redis and its nodes, started once
per run), restored after every case, and the clients of each case.

Verdicts, the JSON index, JUnit properties and the `untested` list come from harness.plugin, run
with `--catalogue cluster` so that CLUSTER-REQUIREMENTS.md is the catalogue judged. Options:
  --cluster NAME     a shipped cluster (clusterside/cluster.py CLUSTERS) or target+target (env CLUSTER)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from harness import targets
from harness.verdict import Case, Failure

from .cluster import CLUSTER_PARTS, Clients, Cluster, Node, lookup


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("cluster conformance")
    g.addoption(
        "--cluster",
        default=os.environ.get("CLUSTER", "node"),
        help="cluster under test: a shipped cluster name or registry targets joined by +",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Reports name the cluster as their subject (the "target" field of the JSON index).
    config.option.target = f"cluster:{config.getoption('--cluster')}"


@pytest.fixture(scope="session")
def cluster(request: pytest.FixtureRequest) -> Iterator[Cluster]:
    name = request.config.getoption("--cluster")
    try:
        spec = lookup(name)
    except KeyError as err:
        raise pytest.UsageError(str(err).strip("'\"")) from None
    c = Cluster(spec)
    try:
        c.start()
    except Exception as err:
        c.stop()
        pytest.exit(f"cluster {name} could not start: {type(err).__name__}: {err}", returncode=3)
    _say(request.config, c.describe())
    for line in c.incidents:
        _say(request.config, line)
    _RUNNING.append(c)
    try:
        yield c
    finally:
        _RUNNING.remove(c)
        _remember(request.config, c)
        c.stop()


def _say(cfg: pytest.Config, line: str) -> None:
    reporter = cfg.pluginmanager.get_plugin("terminalreporter")
    capture = cfg.pluginmanager.get_plugin("capturemanager")
    if reporter is None:
        return
    if capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.ensure_newline()
            reporter.write_line(line)
    else:
        reporter.write_line(line)


def _remember(cfg: pytest.Config, c: Cluster) -> None:
    """What the report says about the cluster (harness.plugin writes it as target_info)."""
    cfg._conformance_target = {  # type: ignore[attr-defined]
        "name": c.spec.name,
        "description": c.spec.description,
        "redis": c.redis.version,
        "nodes": [
            {
                "label": n.label,
                "kind": n.kind,
                "implementation": n.target.implementation,
                "packages": n.target.packages,
                "parts": sorted(n.parts),
            }
            for n in c.nodes
        ],
        "packages": {f"{n.label} {k}": v for n in c.nodes for k, v in n.target.packages.items()},
        "incidents": [{"case": "", "what": i} for i in c.incidents],
        "restarts": 0,
    }


@pytest.fixture(autouse=True)
def _whole_cluster(request: pytest.FixtureRequest, cluster: Cluster) -> Iterator[None]:
    """Every case starts from a whole cluster, whatever the previous one froze, killed or stopped."""
    repaired = cluster.restore()
    if repaired:
        cluster.incidents.append(f"before {request.node.nodeid}: {', '.join(repaired)}")
    yield


_RUNNING: list[Cluster] = []


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """After every case: a node that died without the case killing it fails the case, with its exit
    status and the end of its standard error (the case's input is in its wire transcript)."""
    try:
        result = yield
        raised: BaseException | None = None
    except (KeyboardInterrupt, pytest.exit.Exception):
        raise
    except BaseException as exc:
        raised, result = exc, None
    dead = _RUNNING[0].crashed() if _RUNNING else []
    if not dead:
        if raised is not None:
            raise raised
        return result
    lines = []
    for n in dead:
        assert n.target.process is not None
        lines.append(
            f"node {n!r} ({n.target.implementation or n.kind}) died during this case "
            f"({targets._status_text(n.target.process.returncode)}); its stderr ends:"
        )
        lines += [f"    | {line}" for line in n.target.stderr_tail()]
    raise Failure("\n".join(lines), "every node keeps running", f"{len(dead)} node(s) died") from raised


@pytest.fixture
def clients(cluster: Cluster) -> Iterator[Clients]:
    c = Clients(cluster)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def nodes(cluster: Cluster) -> list[Node]:
    return cluster.nodes


def need(case: Case, nodes: list[Node], part: str, *, why: str = "") -> None:
    """Stops a case when a node's fixture lacks a cluster part (FIXTURE.md section 9): unimplemented,
    naming the node, the part and what it is."""
    lacking = [n for n in nodes if not n.has(part)]
    if lacking:
        names = ", ".join(f"{n!r} ({n.target.implementation or n.kind})" for n in lacking)
        case.unimplemented(
            f"fixture part `{part}` ({CLUSTER_PARTS.get(part, part)}, FIXTURE.md section 9) is absent on {names}"
            + (f": {why}" if why else "")
        )


def classic_nodes(case: Case, nodes: list[Node]) -> list[Node]:
    """The nodes whose adapter speaks the classic protocol, for the checks of what is on Redis; when
    none does, those checks cannot concern the cluster: not-applicable, saying what they speak."""
    found = [n for n in nodes if n.classic]
    if not found:
        spoken = ", ".join(f"{n!r}: {n.protocol or 'not declared'}" for n in nodes)
        case.not_applicable(
            f"no node speaks the classic Redis adapter protocol (fixture-info settings.adapter.protocol; {spoken}); "
            "the bytes on Redis are another protocol's"
        )
    return found


def labels(items: Any) -> list[str]:
    return sorted(getattr(c, "name", "?") for c in items)
