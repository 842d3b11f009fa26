"""CL-FT (faults: a frozen or killed node, Redis going away) and CL-ST (sticky sessions),
CLUSTER-REQUIREMENTS.md."""

from __future__ import annotations

import json
import time

from clusterkit import ack_answer, expect, marker_match, place, token
from clusterside.cluster import Clients, Cluster, Node
from clusterside.plugin import need

from harness import http as rawhttp
from harness.eio import PollingSession, query
from harness.sio import SioClient
from harness.verdict import Case
from harness.ws import WsClient, WsRejected

PREFIX = "socket.io"
# How long the nodes get to reconnect to a Redis that came back (their backoff included).
RESUME_DEADLINE_S = 20.0
# Broadcasts each node makes while Redis shuts down: until its process has exited and this many
# more, at most BURST_MAX.
BURST_AFTER_EXIT = 20
BURST_MAX = 400


def test_CL_FT_01_frozen_node_times_out(case: Case, cluster: Cluster, nodes: list[Node], clients: Clients) -> None:
    need(case, nodes, "cluster-fetch")
    need(case, nodes, "cluster-sse")
    a, b = nodes[0], nodes[1]
    asker = clients.connect(a, name="a1")
    clients.connect(b, name="b1")
    limit = cluster.requests_timeout_ms / 1000
    cluster.freeze(b)
    try:
        started = time.monotonic()
        fetched = ack_answer(asker, "fetch-sockets", None, timeout=limit + 5.0)
        took_fetch = time.monotonic() - started
        started = time.monotonic()
        sse = ack_answer(asker, "server-side-emit-ack", token("frozen"), timeout=limit + 5.0)
        took_sse = time.monotonic() - started
    finally:
        cluster.thaw(b)
    case.check(
        isinstance(fetched, dict) and "timeout" in str(fetched.get("error", "")) and took_fetch >= 0.9 * limit,
        "fetch-sockets with B frozen fails with a timeout once the requests timeout has passed",
        {"error": "timeout reached while waiting for fetchSockets response", "after s": f">= {limit}"},
        {"answer": fetched, "after s": round(took_fetch, 3)},
    )
    case.check(
        isinstance(sse, dict)
        and sse.get("error") == "timeout reached: only 0 responses received out of 1"
        and sse.get("responses") == []
        and took_sse >= 0.9 * limit,
        "server-side-emit-ack with B frozen ends with the partial answers and Node's message",
        {"error": "timeout reached: only 0 responses received out of 1", "responses": [], "after s": f">= {limit}"},
        {"answer": sse, "after s": round(took_sse, 3)},
    )


def test_CL_FT_02_killed_node_leaves_the_count(
    case: Case, cluster: Cluster, nodes: list[Node], clients: Clients
) -> None:
    need(case, nodes, "cluster-fetch")
    a, b = nodes[0], nodes[1]
    asker = clients.connect(a, name="a1")
    clients.connect(b, name="b1")
    channel = f"{PREFIX}-request#/#"
    cluster.kill(b)
    with cluster.redis_client() as r:
        deadline = time.monotonic() + 5.0
        count = r.numsub(channel)
        while count != len(nodes) - 1 and time.monotonic() < deadline:
            count = r.numsub(channel)
    case.check(count == len(nodes) - 1, f"PUBSUB NUMSUB {channel} once B is killed", len(nodes) - 1, count)
    limit = cluster.requests_timeout_ms / 1000
    started = time.monotonic()
    fetched = ack_answer(asker, "fetch-sockets", None, timeout=limit + 5.0)
    took = time.monotonic() - started
    ids = [s.get("id") for s in fetched.get("sockets", [])] if isinstance(fetched, dict) else []
    case.check(
        ids == [asker.sids["/"]] and took < 0.5 * limit,
        "fetch-sockets after B died: A's socket, without waiting for the timeout",
        {"ids": [asker.sids["/"]], "within s": 0.5 * limit},
        {"answer": fetched, "after s": round(took, 3)},
    )


def _cross_node_delivery(sender: SioClient, receiver: SioClient, deadline_s: float) -> float | None:
    """Seconds until a broadcast from `sender`'s node reaches `receiver` on another node, probing
    every 100 ms (each probe waits for its own echo on the sender first); None at the deadline."""
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        t = token("resume")
        sender.emit("nsp-emit", t)
        sender.take(marker_match(t, "/"), what="own broadcast")
        try:
            receiver.take(lambda p: p.event == "nsp" and str(p.args[:1]).startswith("['resume-"), timeout=0.1)
            return time.monotonic() - started
        except TimeoutError:
            continue
    return None


def _outage(case: Case, cluster: Cluster, nodes: list[Node], clients: Clients, busy: bool) -> float | None:
    """Stops Redis, checks every node still serves its own clients, starts Redis again on the same
    port; returns the time cross-node delivery took to resume (None: it did not). `busy`: both
    nodes broadcast all the while Redis shuts down, as a loaded server would."""
    a, b = nodes[0], nodes[1]
    cs = place(clients, {"a1": a, "a2": a, "b1": b, "b2": b})
    burst, sent = token("burst"), 0
    cluster.redis.begin_stop()
    if busy:
        after_exit = 0
        while sent < BURST_MAX and after_exit < BURST_AFTER_EXIT:
            cs["a1"].emit("nsp-emit", burst, sent)
            cs["b1"].emit("nsp-emit", burst, sent)
            sent += 1
            if not cluster.redis.alive():
                after_exit += 1
    cluster.redis.stop()
    try:
        for here, there in (("a1", "a2"), ("b1", "b2")):
            for i in range(sent):
                expect(case, [cs[here], cs[there]], "nsp", [burst, i])
            t = token("local")
            cs[here].emit("nsp-emit", t)
            expect(case, [cs[here], cs[there]], "nsp", [t])
            echo = cs[here].call("message-with-ack", t)
            case.check(echo == [t], f"{here}: an ack while Redis is down", [t], echo)
        for node in (a, b):
            late = clients.connect(node, name=f"late@{node.label}")
            case.check(
                bool(late.sids.get("/")), f"a new client joins {node!r} while Redis is down", "a socket id", late.sids
            )
        alive = [n for n in nodes if not n.alive()]
        case.check(alive == [], "every node survives the loss of Redis", [], alive)
    finally:
        cluster.redis.start()
    return _cross_node_delivery(cs["a1"], cs["b1"], RESUME_DEADLINE_S)


def test_CL_FT_03_redis_restart(case: Case, cluster: Cluster, nodes: list[Node], clients: Clients) -> None:
    need(case, nodes, "cluster")
    took = _outage(case, cluster, nodes, clients, busy=True)
    case.check(
        took is not None,
        "after Redis comes back, a broadcast from A reaches B again without restarting either node",
        f"delivery within {RESUME_DEADLINE_S:.0f} s",
        "no delivery" if took is None else f"after {took:.3f} s",
    )


def test_CL_FT_04_time_to_resume(case: Case, cluster: Cluster, nodes: list[Node], clients: Clients) -> None:
    need(case, nodes, "cluster")
    took = _outage(case, cluster, nodes, clients, busy=False)
    case.informational(
        "time from Redis accepting connections again to the first cross-node delivery (probes every 100 ms)",
        "no delivery within the deadline" if took is None else f"{took:.3f} s",
    )


def test_CL_ST_01_session_lives_on_its_node(case: Case, nodes: list[Node]) -> None:
    a, b = nodes[0], nodes[1]
    session = PollingSession.handshake(a.target, a.target.sio_path)
    try:
        resp = rawhttp.request(
            "127.0.0.1", b.port, "GET", query(b.target.sio_path, "polling", session.sid), timeout=b.target.reply
        )
        body = resp.body.decode("utf-8", "replace")
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = body
        case.check(resp.status == 400, "a polling GET to B with A's session id: status", 400, resp.status)
        case.should(
            parsed == {"code": 1, "message": "Session ID unknown"},
            "a polling GET to B with A's session id: Node's body (SHOULD, as EIO-HS-08's reference body)",
            {"code": 1, "message": "Session ID unknown"},
            parsed,
        )
        try:
            ws = WsClient.connect(
                "127.0.0.1", b.port, query(b.target.sio_path, "websocket", session.sid), timeout=b.target.reply
            )
            ws.close()
            status: object = "101 Switching Protocols"
        except WsRejected as rejected:
            status = rejected.response.status if rejected.response is not None else str(rejected)
        case.check(status == 400, "a WebSocket upgrade to B with A's session id", 400, status)
    finally:
        session.close()
