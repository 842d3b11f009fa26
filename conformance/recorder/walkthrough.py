"""The deterministic walkthrough: a recording client on raw sockets that walks one Socket.IO
connection through every stage of the protocol and records each message it sends and receives.

Everything the client chooses is fixed (request bytes, WebSocket key, masking keys, ack ids), so
two runs against a server in deterministic mode produce byte-identical sessions, and runs against
different servers differ only where `recorder.compare` explains it (fields marked variable, HTTP
headers outside the protocol).

The canonical recording, vectors/sessions/walkthrough.json, is made against the reference server
(build/reference-server --deterministic); walkthrough-node.json is the same client against Node's
socket.io in its deterministic mode, kept for the comparison.

    python -m recorder.walkthrough [--target reference|node] [--out FILE] [--check]
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import sys
import time
from pathlib import Path

from . import servers, session, wire
from .session import C2S, S2C, Raw

WS_KEY = "d2Fsa3Rocm91Z2gta2V5IQ=="  # base64 of the 16 bytes "walkthrough-key!"
MASKS = {3: bytes.fromhex("37fa213d"), 4: bytes.fromhex("5a0c11ee")}
RECV_DEADLINE_S = 5.0
SETTINGS = servers.Settings(ping_interval_ms=2500, ping_timeout_ms=5000, connect_timeout_ms=10000)
OUTS = {"reference": session.SESSIONS_DIR / "walkthrough.json", "node": session.SESSIONS_DIR / "walkthrough-node.json"}
OUT = OUTS["reference"]
# The ids a server in deterministic mode gives (vectors/sessions/README.md, "Deterministic mode").
DETERMINISTIC_IDS = {"eio-sid-": re.compile(rb"eio-session-\d{8}"), "socket-id-": re.compile(rb"sio-socket--\d{8}")}


class WalkthroughError(Exception):
    """The server answered something the walkthrough does not expect."""


class Client:
    """Raw connections of the walkthrough client; every byte sent or received becomes a Raw."""

    def __init__(self, port: int):
        self.port = port
        self.raws: list[Raw] = []
        self.socks: dict[int, socket.socket] = {}
        self.splitters: dict[int, wire.Splitter] = {}
        self.pending: dict[int, list[wire.Message]] = {}

    def open(self, conn: int) -> None:
        self.socks[conn] = socket.create_connection(("127.0.0.1", self.port), timeout=RECV_DEADLINE_S)
        self.splitters[conn] = wire.Splitter(False)
        self.pending[conn] = []

    def send(self, conn: int, kind: str, data: bytes, title: str, note: str = "", reqs: tuple = ()) -> None:
        self.raws.append(Raw(conn, C2S, kind, data, title, note, reqs))
        self.socks[conn].sendall(data)

    def receive(
        self,
        conn: int,
        title: str,
        note: str = "",
        reqs: tuple = (),
        expect: bytes | None = None,
        deadline_s: float = RECV_DEADLINE_S,
    ) -> bytes:
        """The next message on `conn`; with `expect`, its Engine.IO content must start with it."""
        sock, end = self.socks[conn], time.monotonic() + deadline_s
        while not self.pending[conn]:
            left = end - time.monotonic()
            if left <= 0:
                raise WalkthroughError(f"nothing received for: {title}")
            sock.settimeout(left)
            try:
                data = sock.recv(65536)
            except TimeoutError as e:
                raise WalkthroughError(f"nothing received for: {title}") from e
            if not data:
                raise WalkthroughError(f"connection closed while waiting for: {title}")
            self.pending[conn] += self.splitters[conn].feed(data)
        msg = self.pending[conn].pop(0)
        content = content_of(msg)
        if expect is not None and not content.startswith(expect):
            raise WalkthroughError(f"{title}: expected {expect!r}..., got {content!r}")
        self.raws.append(Raw(conn, S2C, msg.kind, msg.data, title, note, reqs))
        return content

    def close(self, conn: int, title: str, note: str = "") -> None:
        self.socks.pop(conn).close()
        self.raws.append(Raw(conn, C2S, "close", b"", title, note))


def content_of(msg: wire.Message) -> bytes:
    """The body of an HTTP message or the (unmasked) payload of a frame."""
    if msg.kind == "ws-frame":
        return wire.ws_unmask(msg.data)[2]
    head = wire.parse_head(msg.data)
    return msg.data[head.head_length :] if head else msg.data


def get(sid: str | None) -> bytes:
    q = "EIO=4&transport=polling" + (f"&sid={sid}" if sid else "")
    return f"GET /socket.io/?{q} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: */*\r\n\r\n".encode()


def post(sid: str, body: bytes) -> bytes:
    return (
        f"POST /socket.io/?EIO=4&transport=polling&sid={sid} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def upgrade_request(sid: str | None) -> bytes:
    q = "EIO=4&transport=websocket" + (f"&sid={sid}" if sid else "")
    return (
        f"GET /socket.io/?{q} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {WS_KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


def frame(conn: int, text: str) -> bytes:
    return wire.ws_frame(1, text.encode(), MASKS[conn])


def run(port: int) -> list[Raw]:
    c = Client(port)
    try:
        _polling_part(c)
        _upgrade_part(c)
        _websocket_part(c)
    finally:
        for conn in list(c.socks):
            c.socks.pop(conn).close()
    return c.raws


SID: dict[str, str] = {}


def _polling_part(c: Client) -> None:
    c.open(1)
    c.send(
        1,
        "http-request",
        get(None),
        "Polling handshake",
        "A GET without a session id opens an Engine.IO session over HTTP long-polling.",
        ("EIO-HS-01",),
    )
    body = c.receive(
        1,
        "The open packet",
        "The server creates the session and describes it in one JSON object.",
        ("EIO-HS-01", "EIO-HS-16"),
        expect=b"0{",
    )
    sid = json.loads(body[1:])["sid"]
    SID["a"] = sid

    c.open(2)

    def exchange(
        payload: bytes,
        title: str,
        note: str,
        reqs: tuple,
        reply_title: str,
        reply_note: str,
        reply_reqs: tuple,
        expect: bytes,
    ) -> None:
        c.send(2, "http-request", post(sid, payload), title, note, reqs)
        c.receive(
            2,
            "POST acknowledged",
            "The server answers a POST once it has processed its packets.",
            ("EIO-POLL-08",),
            expect=b"ok",
        )
        c.send(
            1,
            "http-request",
            get(sid),
            "Long-poll GET",
            "The client asks for what the server has for it.",
            ("EIO-POLL-04",),
        )
        c.receive(1, reply_title, reply_note, reply_reqs, expect=expect)

    # A real client keeps a GET pending while it posts: the CONNECT reply then leaves at once, and
    # the fixture's first event follows in the next response, whatever the server's timing.
    c.send(
        1,
        "http-request",
        get(sid),
        "Long-poll GET",
        "The client keeps one GET pending; the server answers it when it has packets.",
        ("EIO-POLL-04",),
    )
    c.send(
        2,
        "http-request",
        post(sid, b'40{"token":"abc"}'),
        "CONNECT to / with auth",
        "Socket.IO CONNECT for the main namespace, carrying an auth object. POSTs use their own "
        "connection because the GET is still pending on the first one.",
        ("SIO-PKT-13", "SIO-NSP-11"),
    )
    c.receive(
        2,
        "POST acknowledged",
        "The server answers a POST once it has processed its packets.",
        ("EIO-POLL-08",),
        expect=b"ok",
    )
    c.receive(
        1,
        "CONNECT accepted",
        "The pending GET returns the CONNECT reply and its socket id.",
        ("SIO-PKT-13",),
        expect=b"40{",
    )
    c.send(1, "http-request", get(sid), "Long-poll GET", "", ("EIO-POLL-04",))
    c.receive(
        1,
        "The fixture's auth event",
        "The application sees the auth object; the fixture sends it back in an auth event.",
        ("SIO-NSP-11",),
        expect=b'42["auth"',
    )
    exchange(
        b'42["message","hello"]',
        "An event",
        "EVENT message with one argument; no ack id, so no answer is expected.",
        ("SIO-PKT-01",),
        "The event echoed",
        "The fixture answers message with message-back.",
        ("SIO-PKT-01",),
        b'42["message-back"',
    )
    exchange(
        b'421["message-with-ack","ping?"]',
        "An event that asks for an ack",
        "The ack id after the type tells the server to answer with an ACK of the same id.",
        ("SIO-ACK-01",),
        "The server's ACK",
        "ACK with the same id, carrying the arguments.",
        ("SIO-ACK-01", "SIO-PKT-16"),
        b"431",
    )
    exchange(
        b'42["server-ack","question"]',
        "Ask the server to request an ack",
        "The fixture's server-ack event makes the server emit an event that needs an ack.",
        ("SIO-ACK-03",),
        "An event from the server with an ack id",
        "The server allocated its own ack id; the client must answer it.",
        ("SIO-ACK-03",),
        b"42",
    )
    exchange(
        b'430["answer"]',
        "The client's ACK",
        "The client acknowledges the server's event with the id the server chose.",
        ("SIO-ACK-03", "SIO-PKT-16"),
        "The server received the ack",
        "The fixture reports the ack's arguments in an ack-result event.",
        ("SIO-ACK-03",),
        b'42["ack-result"',
    )
    exchange(
        b'452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]\x1ebAQI=\x1ebAwQF',
        "An event with binary attachments",
        "A BINARY_EVENT whose JSON holds placeholders, followed by each attachment as a base64 "
        "record: polling payloads are text.",
        ("SIO-PKT-09", "SIO-PKT-10", "EIO-PKT-06"),
        "The binary event echoed",
        "The packets share one payload, separated by the record separator byte: the echo "
        "keeps the attachments binary and in the same order.",
        ("SIO-PKT-11", "SIO-PKT-12", "EIO-PKT-07"),
        b"452-",
    )


def _upgrade_part(c: Client) -> None:
    sid = SID["a"]
    c.open(3)
    c.send(
        3,
        "http-request",
        upgrade_request(sid),
        "WebSocket upgrade request",
        "A second TCP connection asks for a WebSocket carrying the same session id.",
        ("EIO-UP-01",),
    )
    c.receive(
        3,
        "Switching Protocols",
        "The WebSocket is open; no open packet is sent on it because the session exists.",
        ("EIO-UP-01",),
    )
    c.send(
        3,
        "ws-frame",
        frame(3, "2probe"),
        "Probe",
        "A ping with data probe tests the new transport before the session moves.",
        ("EIO-UP-01",),
    )
    c.receive(3, "Probe answered", "The server answers the probe on the WebSocket.", ("EIO-UP-01",), expect=b"3probe")
    c.send(
        1,
        "http-request",
        get(sid),
        "Long-poll GET during the upgrade",
        "The polling transport must be drained before the switch.",
        ("EIO-UP-02",),
    )
    c.receive(1, "noop", "The server releases the pending GET with a noop packet.", ("EIO-UP-02",), expect=b"6")
    c.send(
        3,
        "ws-frame",
        frame(3, "5"),
        "Upgrade",
        "The client moves the session to the WebSocket; polling is over.",
        ("EIO-UP-03",),
    )
    c.close(1, "Polling connection closed", "The HTTP connections are no longer needed.")
    c.close(2, "Polling connection closed", "")


def _websocket_part(c: Client) -> None:
    deadline = (SETTINGS.ping_interval_ms + SETTINGS.ping_timeout_ms) / 1000
    c.receive(
        3,
        "Ping",
        "The server checks the client is alive, every pingInterval.",
        ("EIO-HB-01",),
        expect=b"2",
        deadline_s=deadline,
    )
    c.send(3, "ws-frame", frame(3, "3"), "Pong", "The client answers within pingTimeout.", ("EIO-HB-01", "EIO-HB-02"))
    c.send(
        3,
        "ws-frame",
        frame(3, "40/custom,"),
        "CONNECT to a second namespace",
        "Namespaces are multiplexed over the same Engine.IO session.",
        ("SIO-NSP-03",),
    )
    c.receive(
        3,
        "CONNECT accepted on /custom",
        "A different socket id: each namespace has its own socket.",
        ("SIO-NSP-03",),
        expect=b"40/custom,",
    )
    c.receive(
        3,
        "auth event on /custom",
        "Without an auth payload the fixture echoes an empty object.",
        ("SIO-NSP-11",),
        expect=b'42/custom,["auth"',
    )
    c.send(
        3,
        "ws-frame",
        frame(3, '42/custom,1["join","lobby"]'),
        "Join a room",
        "The fixture's join event adds the socket to a room and acks the room list.",
        ("SIO-ROOM-02",),
    )
    c.receive(
        3,
        "Rooms after joining",
        "The socket is in its own-id room and in the room it joined.",
        ("SIO-ROOM-01", "SIO-ROOM-02"),
        expect=b"43/custom,1",
    )
    # A second client, connected over WebSocket only, joins the same room.
    c.open(4)
    c.send(
        4,
        "http-request",
        upgrade_request(None),
        "Second client: WebSocket-only handshake",
        "A request with transport=websocket and no sid opens a session directly on a WebSocket.",
        ("EIO-HS-02",),
    )
    c.receive(4, "Switching Protocols", "The WebSocket is open.", ("EIO-HS-02",))
    c.receive(
        4,
        "Open packet on the WebSocket",
        "Without polling there is nothing to upgrade to.",
        ("EIO-HS-02", "EIO-UP-10"),
        expect=b"0{",
    )
    c.send(4, "ws-frame", frame(4, "40/custom,"), "Second client: CONNECT to /custom", "", ("SIO-PKT-13",))
    c.receive(4, "CONNECT accepted", "", ("SIO-PKT-13",), expect=b"40/custom,")
    c.receive(4, "auth event", "", ("SIO-NSP-11",), expect=b'42/custom,["auth"')
    c.send(4, "ws-frame", frame(4, '42/custom,1["join","lobby"]'), "Second client joins the room", "", ("SIO-ROOM-02",))
    c.receive(4, "Rooms of the second client", "", ("SIO-ROOM-01",), expect=b"43/custom,1")
    c.send(
        3,
        "ws-frame",
        frame(3, '42/custom,2["double-ack"]'),
        "An ack called again",
        "The fixture calls the ack callback a second time; only the first call may reach the wire.",
        ("ERR-04", "SIO-ACK-06"),
    )
    c.receive(
        3, "Only the first ack", "The second call is dropped by the server.", ("ERR-04",), expect=b"43/custom,2[1]"
    )
    c.send(
        3,
        "ws-frame",
        frame(3, '42/custom,["to","lobby","hello lobby"]'),
        "Emit to the room",
        "The fixture's to event emits to every socket in the room except the sender.",
        ("SIO-BC-03",),
    )
    c.receive(
        4,
        "The other member receives it",
        "The second client is in the room, so it gets the event.",
        ("SIO-BC-03",),
        expect=b'42/custom,["to"',
    )
    c.send(
        3,
        "ws-frame",
        frame(3, '42/custom,3["rooms"]'),
        "Ask for the room list",
        "If the sender had received its own broadcast, it would arrive before this answer.",
        ("SIO-BC-03",),
    )
    c.receive(
        3,
        "The sender got no copy",
        "The next frame is the ack: the broadcast excluded the sender, and the repeated ack of double-ack never came.",
        ("SIO-BC-03", "ERR-04"),
        expect=b"43/custom,3",
    )
    c.send(
        3,
        "ws-frame",
        frame(3, "40/nope,"),
        "CONNECT to an unknown namespace",
        "The fixture serves no /nope namespace.",
        ("SIO-NSP-04",),
    )
    c.receive(
        3,
        "CONNECT_ERROR",
        "Refused with a reason; the Engine.IO session stays open.",
        ("SIO-NSP-04", "SIO-PKT-14"),
        expect=b"44/nope,",
    )
    c.send(
        3,
        "ws-frame",
        frame(3, "41/custom,"),
        "Leave /custom",
        "A DISCONNECT for one namespace; the other namespaces stay connected.",
        ("SIO-DC-01",),
    )
    c.send(
        3,
        "ws-frame",
        frame(3, '422["log"]'),
        "Ask the fixture for its disconnect log",
        "The fixture records disconnecting and disconnect for every socket that leaves.",
        ("SIO-DC-02",),
    )
    c.receive(
        3,
        "disconnecting and disconnect",
        "At disconnecting the socket is still in its rooms; at disconnect it has left them.",
        ("SIO-DC-02", "SIO-DC-05"),
        expect=b"432",
    )
    c.send(
        4,
        "ws-frame",
        wire.ws_frame(8, (1000).to_bytes(2, "big"), MASKS[4]),
        "Second client closes its WebSocket",
        "A close frame with the normal-closure status code.",
        ("EIO-CL-02",),
    )
    c.receive(4, "Close frame answered", "The server answers the close frame.", ("EIO-CL-02",))
    c.close(4, "TCP connection closed", "The client closes the connection after the closing handshake.")
    c.send(
        3,
        "ws-frame",
        wire.ws_frame(8, (1000).to_bytes(2, "big"), MASKS[3]),
        "The first client closes its WebSocket",
        "Closing the WebSocket ends the Engine.IO session and every namespace on it.",
        ("EIO-CL-02",),
    )
    c.receive(3, "Close frame answered", "The server answers the close frame.", ("EIO-CL-02",))
    c.close(3, "TCP connection closed", "The client closes the connection after the closing handshake.")


DESCRIPTION = (
    "One Socket.IO client (and a second one for the room broadcast) walks through every stage "
    "of the protocol: polling handshake, CONNECT with auth, events, acks both ways, binary "
    "attachments, the upgrade to WebSocket, heartbeat, a second namespace, rooms and a "
    "broadcast, a refused namespace, disconnecting and the close."
)


def server_name(target: str) -> str:
    """Which server produced the bytes; Node's package versions are read from the pinned install."""
    if target == "reference":
        return (
            "the reference server build/reference-server (reference-server/ on libsiocodec, this "
            "repository) running the fixture of conformance/FIXTURE.md"
        )
    versions = {}
    for pkg in ("socket.io", "engine.io"):
        meta = servers.NODE_DIR / "node_modules" / pkg / "package.json"
        versions[pkg] = json.loads(meta.read_text())["version"] if meta.exists() else "not installed"
    return (
        f"Node's socket.io {versions['socket.io']} (engine.io {versions['engine.io']}) running the fixture "
        "conformance/targets/node-socketio"
    )


def deterministic_id_problems(sess: dict) -> list[str]:
    """Ids of the recording that do not follow the deterministic scheme."""
    out = []
    for m in sess["messages"]:
        data = session.message_bytes(m)
        for v in m["variable"]:
            scheme = next((p for prefix, p in DETERMINISTIC_IDS.items() if v["name"].startswith(prefix)), None)
            value = data[v["offset"] : v["offset"] + v["length"]]
            if scheme is not None and not scheme.fullmatch(value):
                out.append(f"message {m['index']}: {v['name']} is {value!r}")
    return out


def supports_deterministic(target: str) -> bool:
    """Whether `servers` starts the target in its deterministic mode when asked to."""
    return "--deterministic" in servers.command(target, SETTINGS, True)


def record(target: str, deterministic: bool = True) -> dict:
    """A new recording; `deterministic_ids` in its metadata says whether the server ran in its
    deterministic mode (asked for and supported by the target)."""
    deterministic = deterministic and supports_deterministic(target)
    with servers.Server(target, SETTINGS, deterministic=deterministic) as server:
        raws = run(server.port)
    recorded = {
        "by": "walkthrough client (conformance/recorder/walkthrough.py)",
        "server": server_name(target),
        "client": "conformance/recorder/walkthrough.py",
        "settings": SETTINGS.as_json(),
        "deterministic_ids": deterministic,
    }
    sess = session.build("walkthrough", DESCRIPTION, recorded, raws)
    if deterministic:
        problems = deterministic_id_problems(sess)
        if problems:
            raise WalkthroughError(f"{target} did not give deterministic ids: " + "; ".join(problems[:3]))
    return sess


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", default="reference", choices=["reference", "node"])
    ap.add_argument("--out", type=Path, help="default: the target's file in vectors/sessions/")
    ap.add_argument(
        "--check",
        action="store_true",
        help="record, and fail unless the result is byte-identical to the file instead of writing it",
    )
    args = ap.parse_args(argv)
    out = args.out or OUTS[args.target]
    try:
        sess = record(args.target)
    except WalkthroughError as e:
        print(f"walkthrough against {args.target}: {e}", file=sys.stderr)
        return 1
    if args.check:
        same = out.exists() and out.read_bytes() == session.dumps(sess).encode("utf-8")
        print(f"{out}: {'byte-identical to' if same else 'DIFFERS from'} a new recording against {args.target}")
        return 0 if same else 1
    session.write(sess, out)
    print(f"recorded {out}: {len(sess['messages'])} messages from {args.target}")
    if not sess["recorded"]["deterministic_ids"]:
        print(
            f"warning: {args.target} has no deterministic mode here, so its ids are random and a new "
            "recording will differ in them",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
