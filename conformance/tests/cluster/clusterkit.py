"""Helpers of the cluster cases: waiting until a cluster has settled, reading what the adapter put on
Redis, and placing clients."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from clusterside.cluster import Clients, Cluster, Node

from harness import msgpack
from harness.redis import Observer, Published
from harness.sio import SioClient, SioPacket
from harness.verdict import Case

_tokens = itertools.count(1)


def token(prefix: str = "t") -> str:
    """A value no other case uses, so a case recognises its own traffic."""
    return f"{prefix}-{next(_tokens)}-{time.monotonic_ns() % 1_000_000}"


def settle(case: Case, couriers: list[SioClient], watchers: list[SioClient], nsp: str = "/") -> None:
    """Waits until everything any node published before now has reached every watcher: each courier
    (one client per node) in turn broadcasts a marker to the namespace (`nsp-emit`), and every
    watcher waits for every marker. Redis keeps the order of one connection's publications and each
    node delivers in arrival order, so a packet still on its way would arrive before the markers.
    The markers are taken; other packets stay queued for the case to judge."""
    for courier in couriers:
        mark = token("settle")
        courier.emit("nsp-emit", mark, nsp=nsp)
        is_marker = marker_match(mark, nsp)
        for w in watchers:
            try:
                w.take(is_marker, what=f"marker {mark}")
            except TimeoutError as err:
                case.precondition(
                    False,
                    f"a namespace-wide broadcast from {name(courier)} reaches {name(w)} (the cluster settles)",
                    f"event nsp [{mark!r}]",
                    str(err),
                    caused_by="CL-BC-01",
                )


def marker_match(mark: str, nsp: str) -> Callable[[SioPacket], bool]:
    def match(p: SioPacket) -> bool:
        return p.event == "nsp" and p.nsp == nsp and p.args == [mark]

    return match


def name(client: SioClient) -> str:
    return str(getattr(client, "name", "?"))


def events(client: SioClient, event: str, nsp: str = "/") -> list[SioPacket]:
    """The queued packets of `event` on `nsp` (taken from the inbox)."""
    got = [p for p in client.inbox if p.event == event and p.nsp == nsp]
    client.inbox = [p for p in client.inbox if p not in got]
    return got


def who_got(clients: list[SioClient], event: str, args: list[Any], nsp: str = "/") -> dict[str, int]:
    """For each client, how many `event` packets with exactly `args` it has queued (taken)."""
    out: dict[str, int] = {}
    for c in clients:
        n = sum(1 for p in events(c, event, nsp) if p.args == args)
        if n:
            out[name(c)] = n
    return out


def expect(case: Case, clients: list[SioClient], event: str, args: list[Any], nsp: str = "/") -> None:
    """Each client receives `event` with `args` (in time, at the case's level)."""
    for c in clients:
        try:
            c.take(lambda p: p.event == event and p.nsp == nsp and p.args == args, what=f"{event} {args}")
        except TimeoutError as err:
            case.check(False, f"{name(c)} on {getattr(c, 'node', '?')!r} receives {event}", args, str(err))


def ack_answer(client: SioClient, event: str, *args: Any, nsp: str = "/", timeout: float | None = None) -> Any:
    """Emits `event` with an ack and returns the ack's first argument."""
    reply = client.call(event, *args, nsp=nsp, timeout=timeout)
    return reply[0] if reply else None


def rooms_of(client: SioClient, nsp: str = "/") -> set[str]:
    return set(ack_answer(client, "rooms", nsp=nsp) or [])


def wait_rooms(client: SioClient, done: Callable[[set[str]], bool], timeout: float, nsp: str = "/") -> set[str]:
    """Asks the client's node for its rooms until `done(rooms)` or the deadline; the last answer.
    A remote join or leave is applied when the node reads the request from Redis: there is nothing
    to wait on from outside but the node's own answer."""
    deadline = time.monotonic() + timeout
    rooms = rooms_of(client, nsp)
    while not done(rooms) and time.monotonic() < deadline:
        rooms = rooms_of(client, nsp)
    return rooms


# ------------------------------------------------------------------------------------ Redis
@contextmanager
def watching(cluster: Cluster, pattern: str = "*") -> Iterator[Observer]:
    obs = cluster.observer(pattern)
    try:
        yield obs
    finally:
        obs.close()


def decoded(p: Published) -> Any:
    """A publication's payload: JSON when it starts with `{` (the adapter's JSON requests), else
    MessagePack; the UnpackError or JSON error propagates."""
    if p.data[:1] == b"{":
        return json.loads(p.data)
    return msgpack.unpack(p.data)


def try_decoded(p: Published) -> Any:
    try:
        return decoded(p)
    except (ValueError, UnicodeDecodeError):
        return None


def broadcast_with(data: list[Any]) -> Callable[[Published], bool]:
    """Matches a classic broadcast publication whose packet data is `data`."""

    def match(p: Published) -> bool:
        v = try_decoded(p)
        return isinstance(v, list) and len(v) == 3 and isinstance(v[1], dict) and v[1].get("data") == data

    return match


def publications_with(obs: Observer, needle: bytes) -> list[Published]:
    """Publications seen so far whose payload contains `needle`."""
    return [p for p in obs.seen if needle in p.data]


def node_of(client: SioClient) -> Node:
    return client.node  # type: ignore[attr-defined]


def place(clients: Clients, layout: dict[str, Node], nsp: str = "/") -> dict[str, SioClient]:
    """One client per name, on the node given (names label them in reports)."""
    return {n: clients.connect(node, nsp, name=n) for n, node in layout.items()}
