"""The cluster walkthrough: one broadcast crossing a cluster of two reference servers, recorded at
Redis message by message.

Two nodes, A and B (build/reference-server --deterministic, with fixed uids), meet in a private
redis-server; each reaches it through a recording relay of its own, so every RESP value a node
sends and every reply and publication Redis pushes to it is kept with the connection it travelled
on. Then a client of A emits `nsp-emit("hello")`: A delivers `nsp` to its own client, publishes the
broadcast, Redis pushes it to both nodes, A drops its own echo (same uid) and B delivers it to its
client. Everything either side chooses is fixed, so two recordings are byte-identical.

The recording is vectors/cluster/broadcast.json; docs/gen/render.py turns it into
docs/cluster-walkthrough.html, every byte labelled by recorder/adapter_notes.py.

    python -m recorder.cluster_walk [--out FILE] [--check]
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

from harness import eio, targets
from harness.redis import RedisServer
from harness.sio import EVENT, SioClient

from . import adapter_notes, session

OUT = session.SESSIONS_DIR.parent / "cluster" / "broadcast.json"
UIDS = {"A": "nodeA1", "B": "nodeB2"}
DEADLINE_S = 5.0
# Node's default heartbeat: no ping crosses the recording.
OVERRIDES = {"ping_interval_ms": 25000, "ping_timeout_ms": 20000}
TO_REDIS, FROM_REDIS = "to Redis", "from Redis"


class Relay:
    """A TCP relay on 127.0.0.1 in front of Redis that keeps both byte streams of every connection."""

    def __init__(self, upstream_port: int):
        self.upstream = ("127.0.0.1", upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.streams: list[dict[str, bytearray]] = []  # per connection: direction -> bytes
        self.changed = threading.Condition()
        self.socks: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                down, _ = self.listener.accept()
            except OSError:
                return
            up = socket.create_connection(self.upstream)
            streams = {TO_REDIS: bytearray(), FROM_REDIS: bytearray()}
            with self.changed:
                self.streams.append(streams)
                self.socks += [down, up]
            threading.Thread(target=self._pump, args=(down, up, streams[TO_REDIS]), daemon=True).start()
            threading.Thread(target=self._pump, args=(up, down, streams[FROM_REDIS]), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, kept: bytearray) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                return
            if not data:
                return
            with self.changed:
                kept.extend(data)
                self.changed.notify_all()
            try:
                dst.sendall(data)
            except OSError:
                return

    def wait(self, ready: Any, what: str) -> None:
        """Waits until `ready(streams)` holds, at most DEADLINE_S."""
        deadline = time.monotonic() + DEADLINE_S
        with self.changed:
            while not ready(self.streams):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"the relay did not see {what} within {DEADLINE_S} s")
                self.changed.wait(left)

    def close(self) -> None:
        self.listener.close()
        for s in self.socks:
            s.close()


def values(data: bytes | bytearray) -> list[bytes]:
    return adapter_notes.split_resp(bytes(data))[0]


def role_of(streams: dict[str, bytearray]) -> str:
    """The subscribing connection sends (P)SUBSCRIBE; the other one publishes and asks."""
    sent = bytes(streams[TO_REDIS])
    return "subscriber" if b"SUBSCRIBE" in sent[:64] else "publisher"


def message(node: str, conn: str, direction: str, data: bytes, stage: str) -> dict[str, Any]:
    return {
        "node": node,
        "connection": conn,
        "direction": direction,
        "stage": stage,
        "hex": data.hex(),
        "annotations": adapter_notes.annotate_resp(data),
    }


def cut(relays: dict[str, Relay]) -> dict[tuple[str, str, str], int]:
    """How many RESP values each stream holds now."""
    out = {}
    for label, relay in relays.items():
        with relay.changed:
            for streams in relay.streams:
                for d, data in streams.items():
                    out[(label, role_of(streams), d)] = len(values(data))
    return out


def collect(
    relays: dict[str, Relay], since: dict[tuple[str, str, str], int], stage: str, only_node: str | None = None
) -> list[dict]:
    msgs = []
    for label, relay in relays.items():
        if only_node and label != only_node:
            continue
        with relay.changed:
            conns = sorted(relay.streams, key=role_of)
            for streams in conns:
                role = role_of(streams)
                for d in (TO_REDIS, FROM_REDIS):
                    for v in values(streams[d])[since.get((label, role, d), 0) :]:
                        msgs.append(message(label, role, d, v, stage))
    return msgs


def published_and_pushed(relays: dict[str, Relay]) -> bool:
    """A's PUBLISH answered, and the publication pushed to both subscribers."""
    seen = []
    for label, relay in relays.items():
        for streams in relay.streams:
            got = bytes(streams[FROM_REDIS])
            if role_of(streams) == "subscriber":
                seen.append(b"pmessage" in got)
            elif label == "A":
                seen.append(b"PUBLISH" in bytes(streams[TO_REDIS]) and b"\r\n:" in b"\r\n" + got)
    return seen.count(True) == 3


def record() -> dict[str, Any]:
    redis = RedisServer()
    relays: dict[str, Relay] = {}
    nodes: dict[str, targets.Target] = {}
    clients: list[SioClient] = []
    try:
        redis.start()
        spec = targets.lookup("reference", install=False)
        for label in "AB":
            relays[label] = Relay(redis.port)
            env = {"ADAPTER": f"redis://127.0.0.1:{relays[label].port}", "ADAPTER_UID": UIDS[label],
                   "DETERMINISTIC": "1"}  # fmt: skip
            nodes[label] = targets.start(spec, OVERRIDES, env)
        msgs = collect(relays, {}, "subscribe", only_node="B")
        for label, name in (("A", "alice"), ("B", "bob")):
            c = SioClient(eio.open_session(nodes[label], "websocket"))
            clients.append(c)
            c.connect("/", {"name": name})
        alice, bob = clients
        before = cut(relays)
        alice.emit("nsp-emit", "hello")
        for c in clients:
            c.take(lambda p: p.type == EVENT and p.data == ["nsp", "hello"], timeout=DEADLINE_S, what="nsp")
        for relay in relays.values():
            relay.wait(lambda _s: published_and_pushed(relays), "the publication")
        msgs += collect(relays, before, "broadcast")
        return {
            "description": "one broadcast crossing a cluster of two reference servers, at Redis",
            "uids": UIDS,
            "redis": redis.version,
            "emitted": {"node": "A", "client": "alice", "packet": '42["nsp-emit","hello"]'},
            "delivered": {"A": '42["nsp","hello"]', "B": '42["nsp","hello"]'},
            "messages": msgs,
        }
    finally:
        for c in clients:
            c.close()
        for t in nodes.values():
            targets.stop(t)
        for r in relays.values():
            r.close()
        redis.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--check", action="store_true", help="record again and compare with --out, byte for byte")
    args = ap.parse_args(argv)
    rec = record()
    text = json.dumps(rec, indent=1) + "\n"
    if args.check:
        old = json.loads(args.out.read_text(encoding="utf-8"))
        if [m["hex"] for m in old["messages"]] != [m["hex"] for m in rec["messages"]]:
            print(f"cluster walkthrough: a new recording differs from {args.out}", file=sys.stderr)
            return 1
        print(f"cluster walkthrough: {len(rec['messages'])} messages, byte-identical to {args.out}")
        return 0
    args.out.write_text(text, encoding="utf-8")
    print(f"cluster walkthrough: {len(rec['messages'])} messages written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
