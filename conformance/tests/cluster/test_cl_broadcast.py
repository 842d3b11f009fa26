"""CL-BC: broadcasts across the nodes of a cluster (CLUSTER-REQUIREMENTS.md)."""

from __future__ import annotations

from collections.abc import Callable

from clusterkit import (
    broadcast_with,
    decoded,
    expect,
    name,
    place,
    publications_with,
    settle,
    token,
    watching,
    who_got,
)
from clusterside.cluster import Clients, Cluster, Node
from clusterside.plugin import classic_nodes, need

from harness import msgpack
from harness.eio import PollingSession
from harness.sio import BINARY_EVENT, SioClient, SioPacket
from harness.verdict import Case

PREFIX = "socket.io"


def first_arg(event: str, value: str) -> Callable[[SioPacket], bool]:
    def match(p: SioPacket) -> bool:
        return p.event == event and p.args[:1] == [value]

    return match


def classic(uid: str, data: list, rooms: list, except_: list, flags: dict, nsp: str = "/") -> bytes:
    """The bytes Node's classic adapter publishes for a broadcast (notepack key order)."""
    return msgpack.pack(
        [uid, {"type": 2, "data": data, "nsp": nsp}, {"rooms": rooms, "except": except_, "flags": flags}]
    )


def test_CL_BC_01_namespace_emit_reaches_every_node_once(case: Case, nodes: list[Node], clients: Clients) -> None:
    need(case, nodes, "cluster")
    a, b = nodes[0], nodes[1]
    cs = place(clients, {"a1": a, "a2": a, "b1": b, "b2": b})
    everyone = list(cs.values())
    for origin in ("a1", "b1"):
        t = token("all")
        cs[origin].emit("nsp-emit", t)
        expect(case, everyone, "nsp", [t])
        # Markers from A, then from B: a copy of the event still on its way (A's own Redis echo
        # included) would arrive before them.
        settle(case, [cs["a1"], cs["b1"], cs["a1"]], everyone)
        extra = who_got(everyone, "nsp", [t])
        case.check(
            extra == {},
            f"`nsp-emit` from {origin}: each client got the event once",
            {},
            {"copies beyond the first": extra},
        )


def test_CL_BC_02_rooms_and_except_across_nodes(case: Case, nodes: list[Node], clients: Clients) -> None:
    need(case, nodes, "cluster")
    a, b = nodes[0], nodes[1]
    cs = place(clients, {"a-r1": a, "a-both": a, "a-none": a, "b-r1": b, "b-both": b, "b-none": b})
    for n in ("a-r1", "b-r1"):
        clients.join(cs[n], "room1")
    for n in ("a-both", "b-both"):
        clients.join(cs[n], "room1", "room2")
    everyone = list(cs.values())
    for origin in ("a-none", "b-none"):
        t = token("toex")
        cs[origin].emit("to-except", "room1", "room2", t)
        expect(case, [cs["a-r1"], cs["b-r1"]], "except", [t])
        settle(case, [cs["a-none"], cs["b-none"], cs["a-none"]], everyone)
        wrong = who_got(everyone, "except", [t])
        case.check(
            wrong == {},
            f"to(room1).except(room2) from {origin}: only the clients in room1 and not in room2 get it",
            {"a-r1": 1, "b-r1": 1},
            {"a-r1": 1, "b-r1": 1, **wrong},
        )


def test_CL_BC_03_channel_and_payload_bytes(case: Case, cluster: Cluster, nodes: list[Node], clients: Clients) -> None:
    need(case, nodes, "cluster")
    for node in classic_nodes(case, nodes[:2]):
        c = clients.connect(node, name=f"sender@{node.label}")
        sid = c.sids["/"]
        with watching(cluster) as obs:
            t1, t2, t3 = token("one"), token("none"), token("two")
            c.emit("to-except", "room1", "room2", t1)
            c.emit("nsp-emit", t2)
            c.emit("to-many", ["room1", "room2"], t3)
            seen = {}
            for key, data in (("one room", ["except", t1]), ("no room", ["nsp", t2]), ("two rooms", ["to", t3])):
                try:
                    seen[key] = obs.take(broadcast_with(data), c.target.reply, f"the broadcast of {data}")
                except TimeoutError as err:
                    case.check(False, f"{node!r} publishes the {key} broadcast on Redis", data, str(err))
        wanted = {
            "one room": (f"{PREFIX}#/#room1#", ["except", t1], ["room1"], ["room2"]),
            "no room": (f"{PREFIX}#/#", ["nsp", t2], [], []),
            "two rooms": (f"{PREFIX}#/#", ["to", t3], ["room1", "room2"], [sid]),
        }
        for key, (channel, data, rooms, except_) in wanted.items():
            p = seen[key]
            case.check(p.channel == channel, f"{node!r}: channel of the {key} broadcast", channel, p.channel)
            uid = decoded(p)[0]
            want = classic(uid, data, rooms, except_, {})
            case.check(
                p.data == want,
                f"{node!r}: payload of the {key} broadcast, byte for byte (uid {uid!r} as published)",
                want.hex(),
                p.data.hex(),
            )


def test_CL_BC_04_broadcast_excludes_sender_and_to_socket_id(case: Case, nodes: list[Node], clients: Clients) -> None:
    need(case, nodes, "cluster")
    a, b = nodes[0], nodes[1]
    cs = place(clients, {"a1": a, "a2": a, "b1": b, "b2": b})
    everyone = list(cs.values())
    t = token("bc")
    cs["b1"].emit("broadcast", t)
    expect(case, [cs["a1"], cs["a2"], cs["b2"]], "bc", [t])
    settle(case, [cs["a1"], cs["b2"], cs["a1"]], everyone)
    extra = who_got(everyone, "bc", [t])
    case.check(extra == {}, "socket.broadcast from b1: not the sender, every other client once", {}, extra)
    t = token("direct")
    cs["a1"].emit("to", cs["b2"].sids["/"], t)
    expect(case, [cs["b2"]], "to", [t])
    settle(case, [cs["a1"], cs["b1"], cs["a1"]], everyone)
    extra = who_got(everyone, "to", [t])
    case.check(extra == {}, "an emit from A to b2's socket id reaches b2 alone", {}, extra)


def test_CL_BC_05_local_emit_stays_on_its_node(
    case: Case, cluster: Cluster, nodes: list[Node], clients: Clients
) -> None:
    need(case, nodes, "cluster")
    a, b = nodes[0], nodes[1]
    cs = place(clients, {"a1": a, "a2": a, "b1": b})
    everyone = list(cs.values())
    with watching(cluster) as obs:
        t = token("local")
        cs["a1"].emit("local-emit", t)
        expect(case, [cs["a1"], cs["a2"]], "local", [t])
        settle(case, [cs["a1"], cs["b1"], cs["a1"]], everyone)
        leaked = who_got(everyone, "local", [t])
        published = publications_with(obs, t.encode())
    case.check(leaked == {}, "a local emit on A reaches no client of B", {}, leaked)
    case.check(published == [], "a local emit publishes nothing on Redis", [], published)


def _poll_into(session: PollingSession) -> None:
    """One GET of a polling session that runs no poller; its packets go to the session's queue."""
    _resp, packets = session.poll()
    for p in packets:
        if p not in ("2", "6"):
            session.packets.put(p)


def test_CL_BC_06_volatile_and_compress_flags(
    case: Case, cluster: Cluster, nodes: list[Node], clients: Clients
) -> None:
    need(case, nodes, "cluster")
    need(case, nodes, "volatile", why="the server has no volatile emit (FIXTURE.md section 3)")
    a, b = nodes[0], nodes[1]
    cs = place(clients, {"a1": a, "b1": b})
    # A polling client of B with no GET held: its transport cannot take a packet now, so a volatile
    # packet for it is dropped there (Node: socket.io's client discards it), and a plain one queued.
    session = PollingSession.handshake(b.target, b.target.sio_path)
    idle = SioClient(session)
    idle.name = "b-idle"  # type: ignore[attr-defined]
    clients.opened.append(idle)
    idle.send(0, "/", {"name": "b-idle"})
    _poll_into(session)
    idle.take(lambda p: p.type == 0, what="CONNECT reply")
    with watching(cluster) as obs:
        t = token("vol")
        cs["a1"].emit("volatile-broadcast", t)
        expect(case, [cs["b1"]], "vol", [t])
        if a.classic:
            try:
                p = obs.take(broadcast_with(["vol", t]), a.target.reply, "the volatile broadcast")
            except TimeoutError as err:
                case.must(False, "the volatile broadcast is published", ["vol", t], str(err))
            flags = decoded(p)[2].get("flags") if isinstance(decoded(p)[2], dict) else None
            case.must_eq("flags of the published broadcast", {"volatile": True, "compress": False}, flags)
    settle(case, [cs["a1"], cs["b1"]], [cs["a1"], cs["b1"]])
    marker = token("after")
    cs["a1"].emit("nsp-emit", marker)
    expect(case, [cs["b1"]], "nsp", [marker])
    _poll_into(session)
    got = idle.take(lambda p: p.event == "nsp" and p.args == [marker], what="the plain broadcast")
    late = [q for q in idle.log if q.event == "vol"]
    case.check(
        late == [],
        "a remote polling client with no GET held does not get the volatile packet, only the plain one after it",
        {"vol": 0, "nsp": 1},
        {"vol": len(late), "nsp": 1 if got else 0},
    )


def test_CL_BC_07_namespaces_stay_apart(case: Case, cluster: Cluster, nodes: list[Node], clients: Clients) -> None:
    need(case, nodes, "cluster")
    a, b = nodes[0], nodes[1]
    a_custom = clients.connect(a, "/custom", name="a-custom")
    b_custom = clients.connect(b, "/custom", name="b-custom")
    b_root = clients.connect(b, "/", name="b-root")
    a_root = clients.connect(a, "/", name="a-root")
    with watching(cluster) as obs:
        t = token("custom")
        a_custom.emit("nsp-emit", t, nsp="/custom")
        expect(case, [a_custom, b_custom], "nsp", [t], nsp="/custom")
        if a.classic:
            p = obs.take(broadcast_with(["nsp", t]), a.target.reply, "the /custom broadcast")
            case.check(
                p.channel.startswith(f"{PREFIX}#/custom#"),
                "channel of a /custom broadcast",
                f"{PREFIX}#/custom#",
                p.channel,
            )
        if any(n.classic for n in nodes):
            # A message on the / channel whose packet names /custom must be dropped by every node.
            forged = msgpack.pack(["harness", {"type": 2, "data": ["nsp", t + "-forged"], "nsp": "/custom"},
                                   {"rooms": [], "except": [], "flags": {}}])  # fmt: skip
            with cluster.redis_client() as r:
                r.publish(f"{PREFIX}#/#", forged)
        settle(case, [a_root, b_root, a_root], [a_root, b_root])
        settle(case, [a_custom, b_custom, a_custom], [a_custom, b_custom], nsp="/custom")
    leaked = {name(c): [q.raw for q in c.inbox if t in q.raw] for c in (a_root, b_root, a_custom, b_custom)}
    leaked = {k: v for k, v in leaked.items() if v}
    case.check(leaked == {}, "no / client gets /custom traffic, and the forged message reaches nobody", {}, leaked)


def test_CL_BC_08_binary_as_node_sends_it(case: Case, cluster: Cluster, nodes: list[Node], clients: Clients) -> None:
    need(case, nodes, "cluster")
    a, b = nodes[0], nodes[1]
    for src, dst in ((a, b), (b, a)):
        sender = clients.connect(src, name=f"bin@{src.label}")
        receiver = clients.connect(dst, name=f"rcv@{dst.label}")
        payload = bytes([1, 2, 3])
        t = token("bin")
        with watching(cluster) as obs:
            sender.emit("nsp-emit", t, payload)
            got = receiver.take(first_arg("nsp", t), what="the binary broadcast")
            if src.classic:
                try:
                    pub = obs.take(broadcast_with(["nsp", t, payload]), src.target.reply, "the binary broadcast")
                except TimeoutError as err:
                    case.check(
                        False,
                        f"{src!r} publishes type 2 with the bytes inline as bin",
                        ["nsp", t, payload.hex()],
                        str(err),
                    )
                packet = decoded(pub)[1]
                case.check(
                    packet.get("type") == 2, f"{src!r}: packet type of a binary broadcast", 2, packet.get("type")
                )
                case.check(
                    pub.data.find(b"\xc4\x03\x01\x02\x03") > 0,
                    f"{src!r}: the bytes as msgpack bin8",
                    "c403010203",
                    pub.data.hex(),
                )
        want_text = f'51-["nsp","{t}",{{"_placeholder":true,"num":0}}]'
        case.check(
            got.type == BINARY_EVENT and got.raw == want_text and got.attachments == [payload],
            f"{dst!r} delivers a binary event with the same bytes",
            {"text": want_text, "attachments": [payload.hex()]},
            {"text": got.raw, "attachments": [x.hex() for x in got.attachments]},
        )


def test_CL_BC_09_emitter_messages_reach_every_node(
    case: Case, cluster: Cluster, nodes: list[Node], clients: Clients
) -> None:
    need(case, nodes, "cluster")
    readers = classic_nodes(case, nodes[:2])
    a, b = nodes[0], nodes[1]
    cs = place(clients, {"a-in": a, "a-out": a, "b-in": b, "b-out": b})
    for n in ("a-in", "b-in"):
        clients.join(cs[n], "room1")
    t = token("emitter")
    # The emitter's own layout: uid "emitter", options in the order rooms, flags, except.
    message = msgpack.pack(["emitter", {"type": 2, "data": ["from-emitter", t], "nsp": "/"},
                            {"rooms": ["room1"], "flags": {}, "except": []}])  # fmt: skip
    with cluster.redis_client() as r:
        r.publish(f"{PREFIX}#/#room1#", message)
    # Only the nodes that speak the classic protocol can read the emitter's message.
    expect(case, [c for c in (cs["a-in"], cs["b-in"]) if c.node in readers], "from-emitter", [t])
    everyone = list(cs.values())
    settle(case, [cs["a-out"], cs["b-out"], cs["a-out"]], everyone)
    extra = who_got(everyone, "from-emitter", [t])
    case.check(extra == {}, "the emitter's message reaches room1 on every node, once, and no one else", {}, extra)


def test_CL_BC_10_order_kept_across_nodes(case: Case, nodes: list[Node], clients: Clients) -> None:
    need(case, nodes, "cluster")
    a, b = nodes[0], nodes[1]
    sender = clients.connect(a, name="a-seq")
    receiver = clients.connect(b, name="b-seq")
    t = token("seq")
    count = 50
    for i in range(count):
        sender.emit("nsp-emit", t, i)
    got: list[int] = []
    for _ in range(count):
        p = receiver.take(first_arg("nsp", t), what=f"broadcast {len(got)} of {count}")
        got.append(p.args[1])
    case.check(
        got == list(range(count)),
        f"{count} broadcasts from A arrive at B in the order emitted",
        list(range(count)),
        got,
    )
