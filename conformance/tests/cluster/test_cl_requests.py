"""CL-RQ (requests between nodes) and CL-ACK (broadcast acknowledgements), CLUSTER-REQUIREMENTS.md."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable

from clusterkit import (
    ack_answer,
    decoded,
    expect,
    place,
    settle,
    token,
    try_decoded,
    wait_rooms,
    watching,
    who_got,
)
from clusterside.cluster import Clients, Cluster, Node
from clusterside.plugin import classic_nodes, need

from harness.redis import Published
from harness.sio import DISCONNECT
from harness.verdict import Case

PREFIX = "socket.io"
HANDSHAKE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "headers": dict,
    "time": str,
    "address": str,
    "xdomain": bool,
    "secure": bool,
    "issued": (int, float),
    "url": str,
    "query": dict,
    "auth": dict,
}


def test_CL_RQ_01_fetch_sockets_spans_the_cluster(case: Case, nodes: list[Node], clients: Clients) -> None:
    need(case, nodes, "cluster-fetch")
    a, b = nodes[0], nodes[1]
    cs = place(clients, {"a1": a, "b1": b, "b2": b})
    clients.join(cs["b1"], "fetch-room")
    clients.join(cs["a1"], "fetch-room")
    for asker in ("a1", "b2"):
        answer = ack_answer(cs[asker], "fetch-sockets", "fetch-room")
        got = {s.get("id"): s for s in (answer or {}).get("sockets", [])} if isinstance(answer, dict) else {}
        want_ids = {cs["a1"].sids["/"], cs["b1"].sids["/"]}
        case.check(
            set(got) == want_ids,
            f"fetch-sockets(fetch-room) from {asker}: the sockets of both nodes",
            sorted(want_ids),
            answer,
        )
        for n in ("a1", "b1"):
            s = got[cs[n].sids["/"]]
            case.check(
                set(s.get("rooms", [])) == {cs[n].sids["/"], "fetch-room"},
                f"rooms of {n} as fetched from {asker}",
                sorted([cs[n].sids["/"], "fetch-room"]),
                s.get("rooms"),
            )
            case.check(s.get("data") == {"auth": {"name": n}}, f"data of {n}", {"auth": {"name": n}}, s.get("data"))
            hs = s.get("handshake") if isinstance(s.get("handshake"), dict) else {}
            wrong = {k: hs.get(k, "(absent)") for k, t in HANDSHAKE_FIELDS.items() if not isinstance(hs.get(k), t)}
            case.check(wrong == {}, f"handshake fields of {n} as fetched from {asker}", HANDSHAKE_FIELDS, wrong)
            case.check(hs.get("auth") == {"name": n}, f"handshake.auth of {n}", {"name": n}, hs.get("auth"))


def test_CL_RQ_02_remote_join_leave_disconnect(case: Case, nodes: list[Node], clients: Clients) -> None:
    need(case, nodes, "cluster-remote")
    a, b = nodes[0], nodes[1]
    cs = place(clients, {"a1": a, "a2": a, "b1": b})
    deadline = 2 * cs["a1"].target.reply
    for target in ("b1", "a2"):  # a remote socket, then one on the origin itself
        sid = cs[target].sids["/"]
        room = token("joined")
        ack_answer(cs["a1"], "remote-join", room, sid)
        rooms = wait_rooms(cs[target], lambda r, room=room: room in r, deadline)
        case.check(room in rooms, f"remote-join from a1 puts {target} into {room}", room, sorted(rooms))
        ack_answer(cs["a1"], "remote-leave", room, sid)
        rooms = wait_rooms(cs[target], lambda r, room=room: room not in r, deadline)
        case.check(
            room not in rooms, f"remote-leave from a1 takes {target} out of {room}", f"not {room}", sorted(rooms)
        )
    ack_answer(cs["a1"], "remote-disconnect", cs["b1"].sids["/"], False)
    try:
        cs["b1"].take(lambda p: p.type == DISCONNECT and p.nsp == "/", timeout=deadline, what="DISCONNECT")
    except TimeoutError as err:
        case.check(False, "remote-disconnect(b1, false) from a1: b1 gets a DISCONNECT for /", "41", str(err))
    ack_answer(cs["a1"], "remote-disconnect", cs["a2"].sids["/"], True)
    how = cs["a2"].eio.wait_ended(deadline)
    case.check(
        how is not None,
        "remote-disconnect(a2, true) from a1 closes a2's connection (origin included)",
        "session closed",
        how,
    )


def test_CL_RQ_03_server_side_emit(case: Case, cluster: Cluster, nodes: list[Node], clients: Clients) -> None:
    need(case, nodes, "cluster-sse")
    a, b = nodes[0], nodes[1]
    cs = place(clients, {"a1": a, "b1": b})
    everyone = list(cs.values())
    t = token("sse")
    cs["a1"].emit("server-side-emit", t)
    expect(case, [cs["b1"]], "sse", [t])
    settle(case, [cs["a1"], cs["b1"], cs["a1"]], everyone)
    extra = who_got(everyone, "sse", [t])
    case.check(extra == {}, "serverSideEmit from A reaches B's application once and never A's", {}, extra)
    answer = ack_answer(cs["a1"], "server-side-emit-ack", token("sse-ack"))
    case.check(
        answer == {"error": None, "responses": [b.port]},
        "serverSideEmitWithAck from A: one answer, from B (its port)",
        {"error": None, "responses": [b.port]},
        answer,
    )
    # Alone in its own cluster (another channel prefix), a node gets the empty list at once.
    with cluster.extra_node(a.kind, {"ADAPTER_KEY": "siotest-alone"}) as solo:
        lone = clients.connect(solo, name="lone")
        started = time.monotonic()
        answer = ack_answer(lone, "server-side-emit-ack", token("alone"))
        took = time.monotonic() - started
    case.check(
        answer == {"error": None, "responses": []} and took < cluster.requests_timeout_ms / 1000,
        "serverSideEmitWithAck on a node alone: an empty list, before the requests timeout",
        {"answer": {"error": None, "responses": []}, "within s": cluster.requests_timeout_ms / 1000},
        {"answer": answer, "after s": round(took, 3)},
    )


def test_CL_RQ_04_rooms_union(case: Case, nodes: list[Node], clients: Clients) -> None:
    need(case, nodes, "cluster-rooms")
    a, b = nodes[0], nodes[1]
    cs = place(clients, {"a1": a, "b1": b, "b2": b})
    ra, rb = token("room-a"), token("room-b")
    clients.join(cs["a1"], ra)
    clients.join(cs["b1"], rb)
    clients.join(cs["b2"], rb)
    for asker in ("a1", "b1"):
        answer = ack_answer(cs[asker], "public-rooms")
        rooms = set(answer.get("rooms", [])) if isinstance(answer, dict) else set()
        sids = {c.sids["/"] for c in cs.values()}
        case.check(
            {ra, rb} <= rooms and not (rooms & sids),
            f"public-rooms from {asker}: the rooms of both nodes, no socket id",
            {"includes": sorted([ra, rb]), "excludes": sorted(sids)},
            answer,
        )
        size = ack_answer(cs[asker], "room-size", rb)
        case.check(size == {"size": 2}, f"room-size({rb}) from {asker}: the two sockets of B", {"size": 2}, size)


def test_CL_RQ_05_one_request_subscription_per_node(case: Case, cluster: Cluster, nodes: list[Node]) -> None:
    need(case, nodes, "cluster")
    classic = classic_nodes(case, nodes)
    channel = f"{PREFIX}-request#/#"
    with cluster.redis_client() as r:
        count = r.numsub(channel)
        case.check(count == len(classic), f"PUBSUB NUMSUB {channel} with {classic}", len(classic), count)
        with cluster.extra_node(classic[0].kind) as third:
            count3 = r.numsub(channel)
            want = len(classic) + 1
            case.check(count3 == want, f"PUBSUB NUMSUB {channel} with a third node {third!r}", want, count3)


def test_CL_RQ_06_both_response_channels(case: Case, cluster: Cluster, nodes: list[Node], clients: Clients) -> None:
    need(case, nodes, "cluster-fetch")
    with cluster.redis_client() as r:
        channels = r.command("PUBSUB", "CHANNELS", f"{PREFIX}-response#/#*")
    names = sorted(c.decode() for c in channels) if isinstance(channels, list) else []
    own = [c for c in names if c != f"{PREFIX}-response#/#"]
    case.check(
        f"{PREFIX}-response#/#" in names and len(own) >= len(nodes),
        "every node listens on the shared response channel and on one of its own",
        {"shared": f"{PREFIX}-response#/#", "own channels": f"at least {len(nodes)}"},
        names,
    )
    # A Node peer that answers on the requester's own channel: each node's requests still resolve.
    with cluster.extra_node("node-socketio", {"ADAPTER_SPECIFIC_RESPONSE": "1"}) as specific:
        need(case, [specific], "cluster-fetch")
        far = clients.connect(specific, name="far")
        for node in nodes:
            near = clients.connect(node, name=f"near@{node.label}")
            started = time.monotonic()
            answer = ack_answer(near, "fetch-sockets", far.sids["/"])
            took = time.monotonic() - started
            ids = [s.get("id") for s in answer.get("sockets", [])] if isinstance(answer, dict) else []
            case.check(
                ids == [far.sids["/"]] and took < cluster.requests_timeout_ms / 1000,
                f"fetch-sockets from {node!r} answered by a peer on {node!r}'s own response channel",
                {"ids": [far.sids["/"]], "within s": cluster.requests_timeout_ms / 1000},
                {"answer": answer, "after s": round(took, 3)},
            )


def _responses(seen: list[Published]) -> list[tuple[str, object]]:
    """(channel, decoded payload) of every response publication seen."""
    out: list[tuple[str, object]] = []
    for p in seen:
        if p.channel.startswith(f"{PREFIX}-response#"):
            try:
                out.append((p.channel, decoded(p)))
            except ValueError:
                out.append((p.channel, p.data.hex()))
    return out


def _count_report(count: int) -> Callable[[Published], bool]:
    """Matches a node's type 8 response reporting `count` clients."""

    def match(p: Published) -> bool:
        v = try_decoded(p)
        return (
            p.channel.startswith(f"{PREFIX}-response#")
            and isinstance(v, dict)
            and v.get("type") == 8
            and v.get("clientCount") == count
        )

    return match


def test_CL_ACK_01_broadcast_ack_across_nodes(
    case: Case, cluster: Cluster, nodes: list[Node], clients: Clients
) -> None:
    need(case, nodes, "cluster-ack")
    a, b = nodes[0], nodes[1]
    cs = place(clients, {"a1": a, "a2": a, "b1": b, "b2": b})
    with watching(cluster, f"{PREFIX}-*") as obs:
        t = token("ask")
        cs["a1"].emit("bc-ack", 3000, t)
        for n, c in cs.items():
            p = c.take(lambda p: p.event == "need-ack" and p.args == [t], what="need-ack")
            c.send(3, "/", [f"ack-{n}"], p.id)
        result = cs["a1"].take(lambda p: p.event == "bc-ack-result", timeout=5.0, what="bc-ack-result")
        # A namespace where B has no client: B still reports, with clientCount 0.
        lone = clients.connect(a, "/custom", name="a-custom")
        t0 = token("ask-empty")
        lone.emit("bc-ack", 3000, t0, nsp="/custom")
        p = lone.take(lambda p: p.event == "need-ack" and p.args == [t0] and p.nsp == "/custom", what="need-ack")
        lone.send(3, "/custom", ["ack-lone"], p.id)
        empty = lone.take(
            lambda p: p.event == "bc-ack-result" and p.nsp == "/custom", timeout=5.0, what="bc-ack-result"
        )
        if b.classic:
            # The client's result can come before the suite's own subscriber has read B's report from
            # Redis: wait for it a bounded time (a node that never sends it still fails below).
            with contextlib.suppress(TimeoutError):
                obs.take(_count_report(0), timeout=1.0, what="a type 8 response with clientCount 0")
        published = list(obs.seen)
    timed_out, answers = (result.args + [None, None])[:2]
    case.check(
        timed_out is False and sorted(answers or []) == sorted(f"ack-{n}" for n in cs),
        "bc-ack across two nodes: not timed out, one answer per client",
        {"timedOut": False, "responses": sorted(f"ack-{n}" for n in cs)},
        result.args,
    )
    case.check(
        empty.args[:2] == [False, ["ack-lone"]],
        "bc-ack in /custom, where B has no client: complete at once with A's answer",
        [False, ["ack-lone"]],
        empty.args,
    )
    if not b.classic:
        return
    responses = _responses(published)
    counts = [(ch, v) for ch, v in responses if isinstance(v, dict) and v.get("type") == 8]
    acks = [(ch, v) for ch, v in responses if isinstance(v, dict) and v.get("type") == 9]
    raw8 = [p for p in published if p.channel.startswith(f"{PREFIX}-response#") and p.data[:1] == b"{"]
    case.check(
        any(v.get("clientCount") == 2 for _, v in counts) and any(v.get("clientCount") == 0 for _, v in counts),
        "each remote node reports its clientCount (2 in /, 0 in /custom) as a type 8 response",
        "type 8 with clientCount 2 and with clientCount 0",
        counts,
    )
    case.check(
        all(json.loads(p.data).get("type") == 8 for p in raw8 if p.data[:1] == b"{") and len(raw8) >= 2,
        "type 8 responses are JSON",
        "JSON objects of type 8",
        [p.data[:60] for p in raw8],
    )
    remote_acks = sorted(str(v.get("packet")) for _, v in acks if isinstance(v.get("packet"), str))
    case.check(
        remote_acks == ["ack-b1", "ack-b2"],
        "each answer of a client of B travels as a msgpack type 9 response",
        ["ack-b1", "ack-b2"],
        acks,
    )


def test_CL_ACK_02_remote_client_silent(case: Case, nodes: list[Node], clients: Clients) -> None:
    need(case, nodes, "cluster-ack")
    a, b = nodes[0], nodes[1]
    cs = place(clients, {"a1": a, "b1": b, "b-silent": b})
    t = token("ask")
    window_ms = 1000
    started = time.monotonic()
    cs["a1"].emit("bc-ack", window_ms, t)
    for n in ("a1", "b1"):
        p = cs[n].take(lambda p: p.event == "need-ack" and p.args == [t], what="need-ack")
        cs[n].send(3, "/", [f"ack-{n}"], p.id)
    cs["b-silent"].take(lambda p: p.event == "need-ack" and p.args == [t], what="need-ack")
    result = cs["a1"].take(lambda p: p.event == "bc-ack-result", timeout=window_ms / 1000 + 3.0, what="bc-ack-result")
    took = time.monotonic() - started
    timed_out, answers = (result.args + [None, None])[:2]
    case.check(
        timed_out is True and sorted(answers or []) == ["ack-a1", "ack-b1"] and took >= window_ms / 1000 * 0.9,
        "a remote client that never answers: the timeout error after the window, with the answers received",
        {"timedOut": True, "responses": ["ack-a1", "ack-b1"], "after s": f">= {window_ms / 1000}"},
        {"args": result.args, "after s": round(took, 3)},
    )
