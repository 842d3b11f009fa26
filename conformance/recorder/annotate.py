"""Explains every byte of a recorded message: labelled spans with a note and requirement IDs, plus the
fields whose value legitimately changes between runs or servers (variable fields).

The spans of a message partition it exactly, like the vectors' annotations. Numbers in notes are
computed from the bytes. The Socket.IO and Engine.IO structure found here is cross-checked against
libsiocodec (conformance/siocodec) so that an explanation never contradicts the codec.
"""

from __future__ import annotations

import base64
import json
import urllib.parse
from dataclasses import dataclass, field
from types import ModuleType

from . import wire

codec_sio: ModuleType | None
codec_ws: ModuleType | None
try:  # The codec is an oracle here; annotation still works on a machine without the library.
    from siocodec import sio as codec_sio
    from siocodec import ws as codec_ws
except (ImportError, RuntimeError):  # pragma: no cover - exercised only without build/
    codec_sio = None
    codec_ws = None

EIO_TYPES = {
    "0": ("open", "EIO-HS-01", "the server opens the Engine.IO session and states its parameters"),
    "1": ("close", "EIO-CL-01", "asks the peer to close the Engine.IO session"),
    "2": ("ping", "EIO-HB-01", "heartbeat: the server checks that the client is alive"),
    "3": ("pong", "EIO-HB-01", "heartbeat answer: the client is alive"),
    "4": ("message", "EIO-PKT-01", "carries application data: here one Socket.IO packet"),
    "5": ("upgrade", "EIO-UP-03", "the client switches the session to this WebSocket"),
    "6": ("noop", "EIO-UP-02", "does nothing; it releases a pending long-poll during an upgrade"),
}
SIO_TYPES = {
    "0": ("CONNECT", "SIO-PKT-13"),
    "1": ("DISCONNECT", "SIO-PKT-15"),
    "2": ("EVENT", "SIO-PKT-01"),
    "3": ("ACK", "SIO-PKT-16"),
    "4": ("CONNECT_ERROR", "SIO-PKT-14"),
    "5": ("BINARY_EVENT", "SIO-PKT-09"),
    "6": ("BINARY_ACK", "SIO-PKT-09"),
}
HEADER_NOTES = {
    "host": ("which server the client addresses; not used by the protocol", ["RFC9110-7.2"]),
    "content-type": ("media type of the body; polling bodies are UTF-8 text", ["EIO-PKT-13"]),
    "cache-control": ("polling responses must not be cached", ["EIO-PKT-13"]),
    "access-control-allow-origin": ("CORS: which web origins may read this response", ["EIO-HS-17"]),
    "connection": ("keeps the TCP connection open for the next request, or asks for an upgrade", ["RFC9110-7.6.1"]),
    "keep-alive": ("how long an idle kept-alive connection stays open", ["RFC9110-7.6.1"]),
    "date": ("when the response was generated; varies with every run", ["RFC9110-6.6.1"]),
    "upgrade": ("asks to switch this connection to the WebSocket protocol", ["RFC6455-4.1"]),
    "sec-websocket-version": ("the WebSocket protocol version the client speaks", ["RFC6455-4.1"]),
    "sec-websocket-extensions": ("WebSocket extensions the client offers (none are needed)", ["RFC6455-4.1"]),
    "accept": ("media types the client accepts", ["RFC9110-12.5.1"]),
    "user-agent": ("the client software; not used by the protocol", ["RFC9110-10.1.5"]),
    "accept-encoding": ("compressions the client accepts", ["RFC9110-12.5.3"]),
    "accept-language": ("languages the client prefers", ["RFC9110-12.5.4"]),
}


@dataclass
class Span:
    offset: int
    length: int
    label: str
    note: str
    requirements: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        out = {"offset": self.offset, "length": self.length, "label": self.label, "note": self.note}
        if self.requirements:
            out["requirements"] = sorted(set(self.requirements))
        return out


@dataclass
class Variable:
    offset: int
    length: int
    name: str


@dataclass
class Annotated:
    transport: str
    spans: list[Span]
    variables: list[Variable]
    summary: str
    requirements: list[str]
    decoded: list[dict]


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def json_value_end(b: bytes, pos: int) -> int:
    """End offset of the JSON value starting at `pos` (the bytes are known to be valid JSON)."""
    c = b[pos : pos + 1]
    if c == b'"':
        i = pos + 1
        while b[i : i + 1] != b'"':
            i += 2 if b[i : i + 1] == b"\\" else 1
        return i + 1
    if c in (b"[", b"{"):
        depth, i, in_str = 0, pos, False
        while i < len(b):
            ch = b[i : i + 1]
            if in_str:
                if ch == b"\\":
                    i += 1
                elif ch == b'"':
                    in_str = False
            elif ch == b'"':
                in_str = True
            elif ch in (b"[", b"{"):
                depth += 1
            elif ch in (b"]", b"}"):
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        raise ValueError("unterminated JSON value")
    i = pos
    while i < len(b) and b[i : i + 1] not in (b",", b"]", b"}", b" "):
        i += 1
    return i


def json_members(b: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    """Elements of the JSON array/object b[start:end]: (span start, value start, value end, span end)
    where a span starts at the delimiter before the element ('[', '{' or ',')."""
    out: list[tuple[int, int, int, int]] = []
    pos = start + 1
    if b[pos : pos + 1] in (b"]", b"}"):
        return out
    for _ in range(end - start):
        delim = pos - 1
        vstart = pos
        if b[start : start + 1] == b"{":
            key_end = json_value_end(b, pos)
            vstart = key_end + 1
        vend = json_value_end(b, vstart)
        out.append((delim, vstart, vend, vend))
        if b[vend : vend + 1] != b",":
            break
        pos = vend + 1
    return out


def short(b: bytes, limit: int = 48) -> str:
    text = b.decode("utf-8", "replace")
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Annotator:
    """Annotates the messages of one session in order (it keeps the context between them)."""

    def __init__(self) -> None:
        self.ids: dict[bytes, str] = {}
        self.conn_sid: dict[int, str] = {}
        self.conn_requests: dict[int, list[wire.HttpHead]] = {}
        self.conn_ws_key: dict[int, str] = {}
        self.conn_handled: dict[int, wire.HttpHead | None] = {}
        self.extra_variables: list[Variable] = []
        self.pending_attachments: dict[tuple[str, str], int] = {}
        self.reqs: list[str] = []
        self.decoded: list[dict] = []

    # ------------------------------------------------------------------ entry point
    def annotate(self, conn: int, direction: str, kind: str, data: bytes) -> Annotated:
        self.reqs, self.decoded = [], []
        if kind == "close":
            who = "client" if direction == "client-to-server" else "server"
            return Annotated("tcp", [], [], f"the {who} closes the TCP connection", [], [])
        if kind == "http-request":
            spans, transport, summary = self._http_request(conn, data)
        elif kind == "http-response":
            spans, transport, summary = self._http_response(conn, data)
        else:
            spans, summary = self._ws_frame(conn, direction, data)
            transport = "websocket"
        check_partition(spans, len(data))
        variables = self._variables(data)
        reqs = sorted({r for s in spans for r in s.requirements} | set(self.reqs))
        return Annotated(transport, spans, variables, summary, reqs, self.decoded)

    def _variables(self, data: bytes) -> list[Variable]:
        found: list[Variable] = []
        for value, name in self.ids.items():
            pos = data.find(value)
            for _ in range(len(data)):
                if pos < 0:
                    break
                found.append(Variable(pos, len(value), name))
                pos = data.find(value, pos + len(value))
        found += self.extra_variables
        self.extra_variables = []
        unique = {(v.offset, v.length): v for v in found}
        return sorted(unique.values(), key=lambda v: v.offset)

    def _register(self, value: bytes, kind: str) -> None:
        """Remembers an id the server chose; each distinct value gets its own numbered name."""
        if value not in self.ids:
            n = sum(1 for name in self.ids.values() if name.startswith(kind)) + 1
            self.ids[value] = f"{kind}-{n}"

    # ------------------------------------------------------------------ HTTP
    def _http_request(self, conn: int, data: bytes) -> tuple[list[Span], str, str]:
        head = wire.parse_head(data)
        assert head is not None
        self.conn_requests.setdefault(conn, []).append(head)
        method, target, version = head.start_line.split(" ")
        url = urllib.parse.urlsplit(target)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        sid = query.get("sid", [""])[0]
        is_upgrade = (head.header("upgrade") or "").lower() == "websocket"
        if is_upgrade:
            kind = "websocket"
            self.conn_ws_key[conn] = head.header("sec-websocket-key") or ""
            if sid:
                self.conn_sid[conn] = sid
        else:
            kind = f"polling-{method.lower()}"
        spans: list[Span] = []
        pos = 0
        spans.append(
            Span(
                0,
                len(method) + 1,
                "method",
                f"HTTP {method}: "
                + {
                    "GET": "asks the server for data (or, with Upgrade, for a WebSocket)",
                    "POST": "delivers the body to the server",
                }.get(method, "request method"),
                ["EIO-HS-06"] if method == "GET" and not sid else ["RFC9112-3"],
            )
        )
        pos = len(method) + 1
        spans.append(
            Span(pos, len(url.path), "path", f"the endpoint path {url.path}; the server routes on it", ["EIO-HS-03"])
        )
        pos += len(url.path)
        for piece in url.query.split("&") if url.query else []:
            lead = 1
            key, _, value = piece.partition("=")
            note, reqs = self._query_note(key, value, is_upgrade)
            spans.append(Span(pos, lead + len(piece), f"query {key}", note, reqs))
            if key == "t":
                self.extra_variables.append(Variable(pos + lead + len(key) + 1, len(value), "cache-buster"))
            pos += lead + len(piece)
        tail = len(head.start_line) + 2 - pos
        spans.append(Span(pos, tail, "version", f"{version} and the end of the request line (CRLF)", ["RFC9112-3"]))
        pos += tail
        spans += self._headers(conn, head, data, pos)
        body = data[head.head_length :]
        summary = {
            "polling-get": "long-poll GET: waits for the packets the server has for the client",
            "polling-post": "POST: carries client packets to the server",
            "websocket": "WebSocket upgrade request",
        }.get(kind, "HTTP request")
        if not sid and not is_upgrade and method == "GET":
            summary = "Engine.IO handshake: a GET without sid opens a session"
        elif not sid and is_upgrade:
            summary = "Engine.IO handshake directly over WebSocket (no sid)"
            self.reqs.append("EIO-HS-02")
        elif is_upgrade:
            summary = "WebSocket upgrade of an existing polling session (sid given)"
            self.reqs.append("EIO-UP-01")
        if body:
            spans += self._polling_payload(
                sid or self.conn_sid.get(conn, ""), "client-to-server", data, head.head_length
            )
            summary += f", {plural(len(body), 'byte')} of payload"
        return spans, kind, summary

    def _query_note(self, key: str, value: str, is_upgrade: bool) -> tuple[str, list[str]]:
        if key == "EIO":
            return f"Engine.IO protocol version {value}", ["EIO-HS-04"]
        if key == "transport":
            return (
                f"transport {value}: "
                + ("long-polling over HTTP requests" if value == "polling" else "a WebSocket connection"),
                ["EIO-HS-05"],
            )
        if key == "sid":
            return (
                "the session id the server gave in its open packet; it ties this request to the session",
                ["EIO-HS-16"],
            )
        if key == "t":
            return ("a cache-busting value the client adds; servers ignore unknown keys", ["EIO-HS-23"])
        return "a query key the protocol does not define; servers ignore it", ["EIO-HS-23"]

    def _headers(self, conn: int, head: wire.HttpHead, data: bytes, pos: int) -> list[Span]:
        spans = []
        for name, value in head.headers:
            line_end = data.index(b"\r\n", pos) + 2
            key = name.lower()
            note, reqs = HEADER_NOTES.get(key, ("a header the protocol does not use", ["RFC9110-5"]))
            if key == "content-length":
                note, reqs = (f"the body that follows is {value} bytes long (bytes, not characters)", ["EIO-PKT-12"])
            elif key == "sec-websocket-key":
                nonce = base64.b64decode(value)
                note, reqs = (
                    f"{plural(len(nonce), 'random byte')} in base64; the server proves it read them",
                    ["RFC6455-4.1"],
                )
            elif key == "sec-websocket-accept":
                requests = self.conn_handled.get(conn)
                key_sent = requests.header("sec-websocket-key") if requests else None
                expected = codec_ws.accept_for(key_sent.encode()) if codec_ws and key_sent else None
                verdict = "it matches the client's key" if expected == value else "it does not match the client's key"
                note, reqs = (f"base64 of SHA-1(key + the RFC 6455 GUID); {verdict}", ["RFC6455-4.2.2"])
            elif key == "date":
                vstart = data.index(value.encode("latin-1"), pos)
                self.extra_variables.append(Variable(vstart, len(value), "date"))
            spans.append(Span(pos, line_end - pos, f"header {name}", f"{name}: {note}", reqs))
            pos = line_end
        spans.append(
            Span(
                pos,
                2,
                "end of head",
                "an empty line (CRLF) ends the header section"
                + (
                    f"; {plural(len(data) - pos - 2, 'byte')} of body follow"
                    if len(data) > pos + 2
                    else "; there is no body"
                ),
                ["RFC9112-2.1"],
            )
        )
        return spans

    def _http_response(self, conn: int, data: bytes) -> tuple[list[Span], str, str]:
        head = wire.parse_head(data)
        assert head is not None
        requests = self.conn_requests.get(conn, [])
        request = requests.pop(0) if requests else None
        version, status, *reason = head.start_line.split(" ")
        code = int(status)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.start_line.split(" ")[1]).query) if request else {}
        sid = query.get("sid", [""])[0]
        method = request.start_line.split(" ")[0] if request else "GET"
        upgrade = code == 101
        kind = "websocket" if upgrade or query.get("transport") == ["websocket"] else f"polling-{method.lower()}"
        self.conn_handled[conn] = request
        status_reqs = {
            101: ["RFC6455-4.2.2"],
            200: ["EIO-HS-01"] if not sid else ["EIO-POLL-04"],
            400: ["EIO-HS-12"],
        }.get(code, ["RFC9112-4"])
        spans = [
            Span(0, len(head.start_line) + 2, "status line", f"{version} status {code} {' '.join(reason)}", status_reqs)
        ]
        spans += self._headers(conn, head, data, len(head.start_line) + 2)
        body = data[head.head_length :]
        if upgrade:
            summary = "101 Switching Protocols: from here on this connection carries WebSocket frames"
        elif code != 200:
            summary = f"HTTP {code}: {short(body)}"
        elif method == "POST":
            summary = f"POST accepted: the body is {short(body)!r}"
        elif not sid:
            summary = "handshake response: the open packet"
        else:
            summary = f"long-poll answered with {plural(len(body), 'byte')} of payload"
        if body:
            if method == "POST" and code == 200:
                spans.append(
                    Span(
                        head.head_length,
                        len(body),
                        "body",
                        "the server acknowledges the POST once it has processed its packets",
                        ["EIO-POLL-08"],
                    )
                )
            elif code == 200:
                spans += self._polling_payload(sid, "server-to-client", data, head.head_length)
            else:
                spans.append(Span(head.head_length, len(body), "body", f"error body {short(body)}", ["EIO-HS-12"]))
        return spans, kind, summary

    # ------------------------------------------------------------------ Engine.IO
    def _polling_payload(self, sid: str, direction: str, data: bytes, start: int) -> list[Span]:
        body = data[start:]
        records = body.split(b"\x1e")
        spans: list[Span] = []
        pos = start
        for i, rec in enumerate(records):
            if i:
                spans.append(
                    Span(
                        pos,
                        1,
                        "record separator",
                        "byte 0x1E separates the packets of a "
                        f"polling payload (this payload holds {plural(len(records), 'packet')})",
                        ["EIO-PKT-07"],
                    )
                )
                pos += 1
            spans += self._eio_packet(sid, direction, rec, pos, polling=True)
            pos += len(rec)
        return spans

    def _eio_packet(self, sid: str, direction: str, pkt: bytes, at: int, polling: bool) -> list[Span]:
        if not pkt:
            return []
        first = pkt[:1].decode("latin-1")
        if polling and first == "b":
            raw = base64.b64decode(pkt[1:])
            spans = [
                Span(
                    at,
                    1,
                    "binary marker",
                    "'b': the rest of this record is base64; binary data on a text transport",
                    ["EIO-PKT-06"],
                )
            ]
            if len(pkt) > 1:
                spans.append(
                    Span(
                        at + 1,
                        len(pkt) - 1,
                        "base64 data",
                        f"decodes to {plural(len(raw), 'byte')}: {raw.hex(' ')}",
                        ["EIO-PKT-06"],
                    )
                )
            spans[-1].note += self._binary_role(sid, direction, raw)
            return spans
        name, req, what = EIO_TYPES.get(first, ("unknown", "EIO-PKT-02", "not a packet type"))
        self.decoded.append({"eio": name})
        rest = pkt[1:]
        if first in "23" and rest == b"probe":
            req = "EIO-UP-01"
        spans = [Span(at, 1, f"Engine.IO type {first} ({name})", what, [req])]
        if not rest:
            return spans
        if first == "0":
            spans += self._open_packet(rest, at + 1)
        elif first == "4":
            spans += self._sio_packet(sid, direction, rest, at + 1)
        elif first in "23" and rest == b"probe":
            spans.append(
                Span(
                    at + 1,
                    len(rest),
                    "probe data",
                    "the string 'probe': this ping/pong tests the new WebSocket before the session moves to it",
                    ["EIO-UP-01"],
                )
            )
        else:
            spans.append(Span(at + 1, len(rest), "data", f"packet data {short(rest)!r}", [req]))
        return spans

    def _binary_role(self, sid: str, direction: str, raw: bytes) -> str:
        key = (sid, direction)
        if self.pending_attachments.get(key):
            self.pending_attachments[key] -= 1
            self.reqs.append("SIO-PKT-12")
            left = self.pending_attachments[key]
            more = f"{plural(left, 'more attachment')} to come" if left else "the last one"
            return f"; an attachment of the preceding Socket.IO binary packet ({more})"
        return "; a binary Engine.IO message"

    def _open_packet(self, body: bytes, at: int) -> list[Span]:
        spans = []
        obj = json.loads(body)
        notes = {
            "sid": ("session id: every later request of this session carries it", ["EIO-HS-16"]),
            "upgrades": (f"transports the client may upgrade to: {', '.join(obj.get('upgrades', []))}", ["EIO-UP-10"]),
            "pingInterval": (f"the server sends a ping every {obj.get('pingInterval')} ms", ["EIO-HB-01"]),
            "pingTimeout": (f"the client must answer a ping within {obj.get('pingTimeout')} ms", ["EIO-HB-03"]),
            "maxPayload": (f"largest payload the server accepts: {obj.get('maxPayload')} bytes", ["EIO-POLL-05"]),
        }
        for delim, vstart, vend, end in json_members(body, 0, len(body)):
            key = json.loads(body[delim + 1 : vstart - 1])
            note, reqs = notes.get(key, ("an extra field of the open packet", ["EIO-HS-01"]))
            spans.append(Span(at + delim, end - delim, f"open: {key}", note, reqs))
            if key == "sid":
                self._register(body[vstart + 1 : vend - 1], "eio-sid")
            if key in ("pingInterval", "pingTimeout"):
                self.extra_variables.append(Variable(at + vstart, vend - vstart, key))
        spans.append(
            Span(at + len(body) - 1, 1, "end of object", "closes the open packet's JSON object", ["EIO-HS-01"])
        )
        return spans

    # ------------------------------------------------------------------ Socket.IO
    def _sio_packet(self, sid: str, direction: str, b: bytes, at: int) -> list[Span]:
        type_char = b[:1].decode("latin-1")
        name, req = SIO_TYPES.get(type_char, ("unknown", "SIO-PKT-03"))
        decoded = codec_sio.decode_packet(b, {}) if codec_sio else {}
        self.decoded.append({"sio": name, **{k: decoded[k] for k in ("nsp", "id", "attachments") if k in decoded}})
        spans = [
            Span(at, 1, f"Socket.IO type {type_char} ({name})", sio_type_note(name, direction), ["SIO-PKT-01", req])
        ]
        pos = 1
        attachments = 0
        if name in ("BINARY_EVENT", "BINARY_ACK"):
            dash = b.index(b"-", pos)
            attachments = int(b[pos:dash])
            spans.append(
                Span(
                    at + pos,
                    dash + 1 - pos,
                    "attachment count",
                    f"{plural(attachments, 'binary attachment')} follow this packet, each as its "
                    "own Engine.IO binary message",
                    ["SIO-PKT-10"],
                )
            )
            pos = dash + 1
            self.pending_attachments[(sid, direction)] = attachments
        nsp = "/"
        if b[pos : pos + 1] == b"/":
            comma = b.find(b",", pos)
            end = comma + 1 if comma >= 0 else len(b)
            nsp = b[pos : comma if comma >= 0 else len(b)].decode()
            spans.append(
                Span(
                    at + pos,
                    end - pos,
                    "namespace",
                    f"namespace {nsp}, ended by a comma; the main namespace / is written by omission",
                    ["SIO-PKT-02", "SIO-NSP-03"],
                )
            )
            pos = end
        digits = pos
        while digits < len(b) and b[digits : digits + 1].isdigit():
            digits += 1
        if digits > pos:
            ack_id = int(b[pos:digits])
            role = (
                "the sender wants an acknowledgement with this id"
                if name in ("EVENT", "BINARY_EVENT")
                else "answers the event that carried this id"
            )
            spans.append(
                Span(
                    at + pos,
                    digits - pos,
                    "ack id",
                    f"ack id {ack_id}: {role}",
                    [
                        "SIO-PKT-04",
                        "SIO-ACK-01"
                        if direction == "client-to-server" and name == "EVENT"
                        else "SIO-ACK-03"
                        if name == "EVENT"
                        else "SIO-PKT-16",
                    ],
                )
            )
            pos = digits
        if decoded:
            assert decoded.get("nsp", "/") == nsp, (decoded, nsp)
            assert decoded.get("attachments", 0) == attachments
        if pos < len(b):
            spans += self._sio_data(name, nsp, direction, b, pos, at)
        return spans

    def _sio_data(self, name: str, nsp: str, direction: str, b: bytes, pos: int, at: int) -> list[Span]:
        spans = []
        if b[pos : pos + 1] == b"[":
            members = json_members(b, pos, len(b))
            for i, (delim, vstart, vend, end) in enumerate(members):
                value = b[vstart:vend]
                if i == 0 and name in ("EVENT", "BINARY_EVENT"):
                    label, note = "event name", f"event name {short(value)}"
                    reqs = ["SIO-PKT-05"]
                else:
                    n = i if name in ("EVENT", "BINARY_EVENT") else i + 1
                    label, note, reqs = f"argument {n}", f"argument {n}: {short(value, 60)}", ["SIO-PKT-17"]
                    if b'"_placeholder":true' in value:
                        num = json.loads(value).get("num")
                        label, note = (
                            f"argument {n} (placeholder)",
                            (f"stands for binary attachment number {num}; the receiver puts the attachment back here"),
                        )
                        reqs = ["SIO-PKT-11"]
                spans.append(Span(at + delim, end - delim, label, note, reqs))
            spans.append(
                Span(
                    at + len(b) - 1,
                    1,
                    "end of array",
                    "closes the JSON array of "
                    + ("the event" if name.endswith("EVENT") else "the acknowledgement")
                    + f" ({plural(len(members), 'element')})",
                    ["SIO-PKT-17"],
                )
            )
            return spans
        obj = json.loads(b[pos:])
        if name == "CONNECT" and direction == "server-to-client" and isinstance(obj, dict) and "sid" in obj:
            value = json.dumps(obj["sid"]).encode()[1:-1]
            self._register(value, "socket-id")
            note = (
                f"the socket id on {nsp}: distinct from the Engine.IO session id, and the name of the "
                "room the socket is always in"
            )
            reqs = ["SIO-PKT-13", "SIO-ROOM-01"]
        elif name == "CONNECT":
            note = f"the auth payload {short(b[pos:])}; the server application sees it"
            reqs = ["SIO-NSP-11"]
        elif name == "CONNECT_ERROR":
            note = f"why the namespace refused: {obj.get('message')!r}"
            reqs = ["SIO-PKT-14"]
        else:
            note, reqs = f"payload {short(b[pos:])}", ["SIO-PKT-05"]
        spans.append(Span(at + pos, len(b) - pos, "payload", note, reqs))
        return spans

    # ------------------------------------------------------------------ WebSocket
    def _ws_frame(self, conn: int, direction: str, frame: bytes) -> tuple[list[Span], str]:
        opcode, fin, payload, key, off = wire.ws_unmask(frame)
        names = {0: "continuation", 1: "text", 2: "binary", 8: "close", 9: "ping", 10: "pong"}
        kind = names.get(opcode, f"opcode {opcode}")
        spans = [
            Span(
                0,
                1,
                "FIN and opcode",
                f"byte {frame[0]:#04x}: FIN={int(fin)} "
                f"({'last' if fin else 'not the last'} fragment), opcode {opcode} ({kind})",
                ["RFC6455-5.2"],
            )
        ]
        n = len(payload)
        ext = off - 2 - (4 if key else 0)
        masked = "masked (client frames must be)" if key else "not masked (server frames never are)"
        where = f" (in the {plural(ext, 'byte')} extended length field)" if ext else ""
        spans.append(Span(1, 1 + ext, "mask bit and length", f"{masked}; payload length {n}{where}", ["RFC6455-5.2"]))
        if key:
            spans.append(
                Span(2 + ext, 4, "masking key", f"payload bytes are XORed with {key.hex(' ')}", ["RFC6455-5.3"])
            )
        sid = self.conn_sid.get(conn, "")
        if opcode == 1:
            inner = self._eio_packet(sid, direction, payload, off, polling=False)
            if key:
                for s in inner:
                    s.note += " (shown unmasked)"
            spans += inner
            if payload[:1] == b"0":  # open packet on a WebSocket-only session
                self.conn_sid[conn] = json.loads(payload[1:])["sid"]
            summary = f"text frame: Engine.IO packet {short(payload, 60)!r}"
        elif opcode == 2:
            role = self._binary_role(sid, direction, payload)
            if n:
                spans.append(
                    Span(
                        off,
                        n,
                        "binary data",
                        f"{plural(n, 'byte')} {payload.hex(' ')}, sent as is: no type byte on a WebSocket" + role,
                        ["EIO-PKT-05"],
                    )
                )
            summary = f"binary frame: {plural(n, 'byte')}"
        elif opcode == 8:
            code = int.from_bytes(payload[:2], "big") if n >= 2 else None
            if n >= 2:
                spans.append(Span(off, 2, "close code", f"status code {code}", ["RFC6455-5.5.1"]))
            if n > 2:
                spans.append(Span(off + 2, n - 2, "close reason", f"reason {short(payload[2:])!r}", ["RFC6455-5.5.1"]))
            summary = "close frame" + (f", code {code}" if code is not None else "")
        else:
            if n:
                spans.append(Span(off, n, "payload", f"{plural(n, 'byte')}", ["RFC6455-5.5"]))
            summary = f"{kind} frame"
        return spans, summary


def sio_type_note(name: str, direction: str) -> str:
    return {
        "CONNECT": (
            "asks to join a namespace" if direction == "client-to-server" else "the namespace accepted the client"
        ),
        "DISCONNECT": "leaves (or is removed from) a namespace",
        "EVENT": "an event: a name and its arguments",
        "ACK": "the acknowledgement of an event",
        "CONNECT_ERROR": "the namespace refused the client",
        "BINARY_EVENT": "an event with binary arguments; the binary parts follow as attachments",
        "BINARY_ACK": "an acknowledgement with binary arguments",
    }.get(name, "not a Socket.IO packet type")


def check_partition(spans: list[Span], total: int) -> None:
    """The spans must cover [0, total) exactly: sorted, no gap, no overlap."""
    pos = 0
    for s in spans:
        if s.offset != pos or s.length <= 0:
            raise ValueError(f"annotation {s.label!r} at {s.offset}+{s.length}, expected offset {pos}")
        pos += s.length
    if pos != total:
        raise ValueError(f"annotations cover {pos} of {total} bytes")
