"""A cluster under test: one private Redis, N server processes joined through it, clients placed on
chosen nodes, and the faults a case can cause (stop, freeze, kill a node; restart Redis).

The shipped clusters are lists of target registry names (harness/targets.py), one per node; each
node is started like a single-server target, plus the cluster settings of FIXTURE.md section 8 in
its environment (ADAPTER and the others). What a node's fixture offers is read from its
fixture-info answer, cluster parts included (FIXTURE.md section 9).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from harness import eio, targets
from harness.discovery import ask_fixture_info
from harness.redis import Observer, RedisClient, RedisServer
from harness.sio import CONNECT, SioClient

# The optional cluster parts of the fixture contract (FIXTURE.md section 9): name -> what it is.
CLUSTER_PARTS: dict[str, str] = {
    "cluster": "the ADAPTER setting, with `local-emit` and, where the server has volatile emits, `volatile-broadcast`",
    "cluster-ack": "`bc-ack` across the cluster",
    "cluster-rooms": "the `public-rooms` and `room-size` events",
    "cluster-fetch": "the `fetch-sockets` event",
    "cluster-sse": "the `server-side-emit` and `server-side-emit-ack` events",
    "cluster-remote": "the `remote-join`, `remote-leave` and `remote-disconnect` events",
}
# Requests wait this long for the other nodes (ADAPTER_REQUESTS_TIMEOUT_MS): short, so that the
# fault cases that wait it out stay quick; long enough for a loaded machine to answer in time.
REQUESTS_TIMEOUT_MS = 1500
# Heartbeat of every node: the cluster cases do not test it, and python-engineio announces whole
# seconds only, so one setting fits every implementation.
HEARTBEAT = {"ping_interval_ms": 1000, "ping_timeout_ms": 1000}
LABELS = "ABCDEFGH"
# The adapter protocol the catalogue describes, as fixture-info names it (settings.adapter.protocol).
CLASSIC = "socket.io-redis-adapter"


@dataclass(frozen=True)
class ClusterSpec:
    name: str
    members: tuple[str, ...]  # target registry names, one per node
    description: str


CLUSTERS: dict[str, ClusterSpec] = {
    c.name: c
    for c in (
        ClusterSpec("reference", ("reference", "reference"), "two C reference servers"),
        ClusterSpec("node", ("node-socketio", "node-socketio"), "two Node socket.io servers, @socket.io/redis-adapter"),
        ClusterSpec("mixed", ("reference", "node-socketio"), "a C reference server beside a Node socket.io server"),
        ClusterSpec("python", ("python-socketio", "python-socketio"), "two python-socketio servers, AsyncRedisManager"),
        ClusterSpec("python-node", ("python-socketio", "node-socketio"), "python-socketio beside Node socket.io"),
    )
}


def lookup(name: str) -> ClusterSpec:
    """A shipped cluster, or `kind+kind[+kind]` of any registry targets (`reference+node-socketio`)."""
    if name in CLUSTERS:
        return CLUSTERS[name]
    members = tuple(m for m in name.split("+") if m)
    if len(members) >= 2 and all(m.split("@")[0] in targets.REGISTRY for m in members):
        return ClusterSpec(name, members, " beside ".join(members))
    raise KeyError(f"unknown cluster {name!r}; shipped: {', '.join(CLUSTERS)}, or target+target")


@dataclass
class Node:
    """One server process of the cluster, as the cases see it."""

    label: str
    kind: str
    target: targets.Target
    parts: frozenset[str] = frozenset()
    info: dict[str, Any] = field(default_factory=dict)
    frozen: bool = False
    killed: bool = False  # by the case itself (Cluster.kill), so not a crash

    @property
    def port(self) -> int:
        return self.target.port

    @property
    def pid(self) -> int:
        assert self.target.process is not None
        return self.target.process.pid

    def has(self, part: str) -> bool:
        return part in self.parts

    @property
    def protocol(self) -> str:
        """The adapter protocol the node's fixture says it speaks (FIXTURE.md section 8)."""
        adapter = self.info.get("settings", {}).get("adapter", {})
        return str(adapter.get("protocol", "")) if isinstance(adapter, dict) else ""

    @property
    def classic(self) -> bool:
        """Speaks the classic Redis adapter protocol of CLUSTER-REQUIREMENTS.md."""
        return self.protocol == CLASSIC

    def alive(self) -> bool:
        return self.target.alive()

    def __repr__(self) -> str:
        return f"{self.label}({self.kind}:{self.port})"


class Cluster:
    """Redis plus the nodes of one cluster spec. Cases may freeze, kill or stop nodes and Redis; the
    plugin calls `restore()` after every case so the next one starts from a whole cluster."""

    def __init__(self, spec: ClusterSpec, requests_timeout_ms: int = REQUESTS_TIMEOUT_MS):
        self.spec = spec
        self.requests_timeout_ms = requests_timeout_ms
        self.redis = RedisServer()
        self.nodes: list[Node] = []
        self._extra: list[Node] = []
        self.incidents: list[str] = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self.redis.start()
        for i, kind in enumerate(self.spec.members):
            self.nodes.append(self._start_node(LABELS[i], kind, {}))

    def node_env(self, extra: dict[str, str]) -> dict[str, str]:
        env = {
            "ADAPTER": self.redis.url,
            "ADAPTER_REQUESTS_TIMEOUT_MS": str(self.requests_timeout_ms),
        }
        env.update(extra)
        return env

    def _start_node(self, label: str, kind: str, env: dict[str, str]) -> Node:
        spec = targets.lookup(kind, install=False)
        t = targets.start(spec, dict(HEARTBEAT), self.node_env(env))
        node = Node(label, kind, t)
        self._learn(node)
        return node

    def _learn(self, node: Node) -> None:
        info, how, _ = ask_fixture_info(node.target)
        node.info = info or {}
        node.parts = frozenset(node.info.get("parts", [])) if info else frozenset()
        if info:
            name, version = info.get("name"), info.get("version")
            node.target.implementation = f"{name} {version}" if version else str(name)
            for k, v in info.get("packages", {}).items():  # the installation read from disk wins
                node.target.packages.setdefault(str(k), str(v))
        else:
            self.incidents.append(f"{node!r}: {how}")

    def stop(self) -> None:
        for n in [*self._extra, *self.nodes]:
            self.thaw(n)
            targets.stop(n.target)
        self._extra.clear()
        self.redis.close()

    def restore(self) -> list[str]:
        """After a case: Redis running, every node running and unfrozen (restarted if it died).
        Returns what had to be repaired."""
        repaired: list[str] = []
        for n in self._extra:
            self.thaw(n)
            targets.stop(n.target)
        self._extra.clear()
        if not self.redis.alive():
            self.redis.start()
            repaired.append("Redis restarted")
        for n in self.nodes:
            if n.frozen:
                self.thaw(n)
                repaired.append(f"{n!r} thawed")
            if not n.alive():
                targets.restart(n.target)
                self._learn(n)
                repaired.append(f"{n!r} restarted")
            n.killed = False
        return repaired

    def crashed(self) -> list[Node]:
        """Nodes that died without the case killing them."""
        return [n for n in [*self.nodes, *self._extra] if not n.alive() and not n.killed]

    @contextlib.contextmanager
    def extra_node(self, kind: str | None = None, env: dict[str, str] | None = None) -> Iterator[Node]:
        """One more node for the length of a case (a third member, or a node with other settings)."""
        label = LABELS[len(self.nodes) + len(self._extra)]
        node = self._start_node(label, kind or self.spec.members[0], env or {})
        self._extra.append(node)
        try:
            yield node
        finally:
            if node in self._extra:
                self._extra.remove(node)
                self.thaw(node)
                targets.stop(node.target)

    # ------------------------------------------------------------------ faults
    def freeze(self, node: Node) -> None:
        os.killpg(node.pid, signal.SIGSTOP)
        node.frozen = True

    def thaw(self, node: Node) -> None:
        if node.frozen and node.target.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(node.pid, signal.SIGCONT)
        node.frozen = False

    def kill(self, node: Node) -> None:
        """SIGKILL to the node's process group; restore() starts it again after the case."""
        node.killed = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(node.pid, signal.SIGKILL)
        assert node.target.process is not None
        node.target.process.wait(timeout=5.0)

    # ------------------------------------------------------------------ Redis
    def observer(self, pattern: str = "*") -> Observer:
        return Observer(self.redis.port, pattern)

    def redis_client(self) -> RedisClient:
        return RedisClient(self.redis.port)

    def describe(self) -> str:
        nodes = ", ".join(f"{n!r} {n.target.implementation or n.kind}" for n in self.nodes)
        return f"cluster {self.spec.name}: {nodes}; Redis {self.redis.version} on 127.0.0.1:{self.redis.port}"


_names = itertools.count(1)


class Clients:
    """The clients of one case, each on a chosen node; all closed when the case ends."""

    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.opened: list[SioClient] = []

    def connect(
        self, node: Node, nsp: str = "/", transport: str = "websocket", auth: Any = None, name: str = ""
    ) -> SioClient:
        """A Socket.IO client of `node`, joined to `nsp`, its `auth` event taken. The client's
        `name` (also in its CONNECT payload unless `auth` is given) labels it in reports."""
        label = name or f"c{next(_names)}@{node.label}"
        session = eio.open_session(node.target, transport)
        client = SioClient(session)
        client.name = label  # type: ignore[attr-defined]
        client.node = node  # type: ignore[attr-defined]
        self.opened.append(client)
        reply = client.connect(nsp, {"name": label} if auth is None else auth)
        if reply.type != CONNECT:
            raise AssertionError(f"{label}: CONNECT to {nsp} on {node!r} refused: {reply!r}")
        return client

    def join(self, client: SioClient, *rooms: str, nsp: str = "/") -> None:
        for room in rooms:
            client.call("join", room, nsp=nsp)

    def close(self) -> None:
        for c in reversed(self.opened):
            with contextlib.suppress(Exception):
                c.close()
