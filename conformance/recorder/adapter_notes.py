"""Labels for the bytes nodes of a cluster exchange through Redis: RESP (the commands a node sends
and the replies and publications Redis pushes back), and inside them the adapter's messages
(msgpack values one by one, JSON bodies member by member). Every byte of a message gets exactly one
span, as in the vectors (vectors/README.md); the vectors under vectors/adapter/ and the cluster
walkthrough page use the same labels.
"""

from __future__ import annotations

import json
import struct
from typing import Any

# What a value at a path means: the path is the keys and indexes from the root, "*" any index.
MEANING = {
    ("0",): "uid of the publishing node (uid2(6)); a node drops its own messages, which Redis echoes back",
    ("1",): "the Socket.IO packet",
    ("2",): "the broadcast options",
    ("1", "type"): "packet type 2, EVENT: kept even when the data holds byte arrays (no BINARY_EVENT on the wire)",
    ("1", "data"): "the event: its name, then its arguments",
    ("1", "nsp"): "the namespace; absent means /",
    ("2", "rooms"): "rooms addressed (every socket of the namespace when empty)",
    ("2", "except"): "rooms whose sockets are left out",
    ("2", "flags"): "broadcast flags (volatile, compress, timeout, …)",
    ("uid",): "uid of the requesting node",
    ("requestId",): "the request's id, echoed by every response",
    ("type",): "request / response type",
    ("opts",): "which sockets: rooms and except",
    ("opts", "rooms"): "rooms the sockets must be in (all when empty)",
    ("opts", "except"): "rooms whose sockets are left out",
    ("opts", "flags"): "broadcast flags",
    ("packet",): "the packet to broadcast (request type 7) or the client's first ack argument (response type 9)",
    ("packet", "type"): "packet type 2, EVENT",
    ("packet", "data"): "the event: its name, then its arguments",
    ("packet", "nsp"): "the namespace",
    ("rooms",): "rooms to join / leave, or the rooms of the answering node",
    ("close",): "also close the underlying connection",
    ("data",): "the server-side event [name, ...args], or a server-side ack's answer",
    ("clientCount",): "how many clients of the answering node got the broadcast",
    ("sockets",): "the answering node's sockets",
}
TYPES = {
    0: "SOCKETS",
    1: "ALL_ROOMS",
    2: "REMOTE_JOIN",
    3: "REMOTE_LEAVE",
    4: "REMOTE_DISCONNECT",
    5: "REMOTE_FETCH",
    6: "SERVER_SIDE_EMIT",
    7: "BROADCAST",
    8: "BROADCAST_CLIENT_COUNT",
    9: "BROADCAST_ACK",
}


def meaning(path: tuple[str, ...], value: Any) -> str:
    generic = tuple("*" if p.isdigit() and len(path) > 1 and i > 0 else p for i, p in enumerate(path))
    note = MEANING.get(path) or MEANING.get(generic) or ""
    if path in (("type",), ("1", "type"), ("packet", "type")) and isinstance(value, int):
        note = f"type {value}: {TYPES.get(value, 'unknown')}" if path == ("type",) else note
    return note


class Annotator:
    """Spans for one msgpack value: each header or scalar a span, labelled with its msgpack form
    and described by what it is in the message."""

    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0
        self.spans: list[dict] = []

    def span(self, start: int, label: str, note: str) -> None:
        self.spans.append({"offset": start, "length": self.pos - start, "label": label, "note": note})

    def take(self, n: int) -> bytes:
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def value(self, path: tuple[str, ...], key_of: str | None = None) -> Any:
        start = self.pos
        b = self.take(1)[0]
        about = meaning(path, None)

        def scalar(label: str, v: Any, what: str) -> Any:
            text = f"{what}" + (f" — {meaning(path, v) or about}" if (meaning(path, v) or about) else "")
            if key_of is not None:
                text = f'key "{v}"'
            self.span(start, label, text)
            return v

        if b <= 0x7F:
            return scalar("positive fixint", b, f"integer {b}")
        if b >= 0xE0:
            return scalar("negative fixint", b - 256, f"integer {b - 256}")
        if 0xA0 <= b <= 0xBF or b in (0xD9, 0xDA, 0xDB):
            n = b & 0x1F if b <= 0xBF else int.from_bytes(self.take({0xD9: 1, 0xDA: 2, 0xDB: 4}[b]), "big")
            raw = self.take(n)
            label = (
                f"fixstr({n})" if b <= 0xBF else {0xD9: "str 8", 0xDA: "str 16", 0xDB: "str 32"}[b] + f" ({n} bytes)"
            )
            shown = raw.decode("utf-8", "backslashreplace")
            return scalar(label, shown, f'string "{shown}"' if len(shown) <= 60 else f"string of {n} bytes")
        if 0x90 <= b <= 0x9F or b in (0xDC, 0xDD):
            n = b & 0x0F if b <= 0x9F else int.from_bytes(self.take(2 if b == 0xDC else 4), "big")
            label = f"fixarray({n})" if b <= 0x9F else ("array 16" if b == 0xDC else "array 32") + f" ({n})"
            self.span(start, label, f"array of {n}" + (f" — {about}" if about else ""))
            return [self.value((*path, str(i))) for i in range(min(n, len(self.data)))]
        if 0x80 <= b <= 0x8F or b in (0xDE, 0xDF):
            n = b & 0x0F if b <= 0x8F else int.from_bytes(self.take(2 if b == 0xDE else 4), "big")
            label = f"fixmap({n})" if b <= 0x8F else ("map 16" if b == 0xDE else "map 32") + f" ({n})"
            self.span(start, label, f"map of {n} entries" + (f" — {about}" if about else ""))
            out = {}
            for _ in range(n):
                k = self.value((*path, "?"), key_of="key")
                out[str(k)] = self.value((*path, str(k)))
            return out
        simple = {0xC0: ("nil", None, "null"), 0xC2: ("false", False, "false"), 0xC3: ("true", True, "true")}
        if b in simple:
            label, v, what = simple[b]
            return scalar(label, v, what)
        if b in (0xC4, 0xC5, 0xC6):
            n = int.from_bytes(self.take({0xC4: 1, 0xC5: 2, 0xC6: 4}[b]), "big")
            raw = self.take(n)
            return scalar({0xC4: "bin 8", 0xC5: "bin 16", 0xC6: "bin 32"}[b] + f" ({n} bytes)", raw.hex(),
                          f"byte array {raw[:16].hex()}{'…' if n > 16 else ''}: a Buffer, sent on to clients as an attachment")  # fmt: skip
        ints = {0xCC: (1, ">B", "uint 8"), 0xCD: (2, ">H", "uint 16"), 0xCE: (4, ">I", "uint 32"),
                0xCF: (8, ">Q", "uint 64"), 0xD0: (1, ">b", "int 8"), 0xD1: (2, ">h", "int 16"),
                0xD2: (4, ">i", "int 32"), 0xD3: (8, ">q", "int 64")}  # fmt: skip
        if b in ints:
            n, fmt, label = ints[b]
            v = struct.unpack(fmt, self.take(n))[0]
            return scalar(label, v, f"integer {v}")
        if b in (0xCA, 0xCB):
            v = struct.unpack(">f" if b == 0xCA else ">d", self.take(4 if b == 0xCA else 8))[0]
            return scalar("float 32" if b == 0xCA else "float 64", v, f"number {v!r}")
        fixext = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}
        if b in fixext or b in (0xC7, 0xC8, 0xC9):
            n = fixext[b] if b in fixext else int.from_bytes(self.take({0xC7: 1, 0xC8: 2, 0xC9: 4}[b]), "big")
            t = struct.unpack(">b", self.take(1))[0]
            raw = self.take(n)
            form = (
                f"fixext {n}" if b in fixext else {0xC7: "ext 8", 0xC8: "ext 16", 0xC9: "ext 32"}[b] + f" ({n} bytes)"
            )
            ext_meaning = {(0xD4, 0): "undefined (notepack's fixext 1 of type 0)", (0xD6, -1): "timestamp 32: a Date",
                    (0xD7, -1): "timestamp 64: a Date", (0xC7, -1): "timestamp 96 (12 bytes) as notepack reads ext 8 of type -1",
                    (0xC7, 0): "an ArrayBuffer (notepack's ext 8 of type 0)", (0xD7, 0): "a Date in notepack's legacy form (milliseconds)"}  # fmt: skip
            return scalar(
                f"{form}, type {t}",
                raw.hex(),
                ext_meaning.get((b, t), f"extension type {t}: notepack gives [type, Buffer]"),
            )
        self.span(start, f"byte 0x{b:02x}", "starts no msgpack value (0xc1 is never used)")
        return None

    def rest(self, label: str, note: str) -> None:
        if self.pos < len(self.data):
            start = self.pos
            self.pos = len(self.data)
            self.span(start, label, note)


def annotate_msgpack(data: bytes) -> list[dict]:
    a = Annotator(data)
    if not data:
        return []
    try:
        a.value(())
    except (IndexError, struct.error, UnicodeDecodeError, ValueError):
        pass
    if a.pos > len(data):  # a header announced more than the message holds
        a.spans = [s for s in a.spans if s["offset"] + s["length"] <= len(data)]
        a.pos = max((s["offset"] + s["length"] for s in a.spans), default=0)
        a.rest("(cut short)", "the message ends inside this value")
    a.rest("trailing bytes", "bytes after the one value the message may hold")
    return a.spans


def annotate_json(text: str) -> list[dict]:
    """One span per top-level member of a JSON object body, plus its braces and commas."""
    data = text.encode()
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        return [
            {
                "offset": 0,
                "length": len(data),
                "label": "invalid JSON",
                "note": "a body starting with { is read as JSON",
            }
        ]
    spans = [{"offset": 0, "length": 1, "label": "{", "note": "a body starting with { is JSON, anything else msgpack"}]
    pos = 1
    for i, (k, v) in enumerate(obj.items()):
        member = (json.dumps(k) + ":" + json.dumps(v, separators=(",", ":"), ensure_ascii=False)).encode()
        if data[pos : pos + len(member)] != member:  # not in JSON.stringify's layout: one span for the rest
            break
        note = meaning((k,), v) or "a member Node ignores here"
        if k == "type" and isinstance(v, int):
            note = f"type {v}: {TYPES.get(v, 'unknown')}"
        spans.append({"offset": pos, "length": len(member), "label": k, "note": note})
        pos += len(member)
        if i < len(obj) - 1 and data[pos : pos + 1] == b",":
            spans.append({"offset": pos, "length": 1, "label": ",", "note": "member separator"})
            pos += 1
    if pos < len(data) - 1:
        spans.append(
            {"offset": pos, "length": len(data) - 1 - pos, "label": "members", "note": "the remaining members"}
        )
        pos = len(data) - 1
    spans.append({"offset": pos, "length": len(data) - pos, "label": "}", "note": "end of the object"})
    return spans


# ------------------------------------------------------------------------------ RESP
class RespIncomplete(ValueError):
    """The bytes end inside a RESP value."""


def resp_end(data: bytes, pos: int = 0) -> int:
    """Where the RESP value starting at `pos` ends (RespIncomplete when it runs past the data)."""
    eol = data.find(b"\r\n", pos)
    if eol < 0:
        raise RespIncomplete(pos)
    kind, rest = data[pos : pos + 1], data[pos + 1 : eol]
    if kind in (b"+", b"-", b":"):
        return eol + 2
    if kind == b"$":
        n = int(rest)
        end = eol + 2 + max(n, 0) + (2 if n >= 0 else 0)
        if end > len(data):
            raise RespIncomplete(pos)
        return end
    if kind == b"*":
        p = eol + 2
        for _ in range(max(int(rest), 0)):
            p = resp_end(data, p)
        return p
    raise ValueError(f"byte {data[pos : pos + 1]!r} at {pos} starts no RESP value")


def split_resp(data: bytes) -> tuple[list[bytes], bytes]:
    """Complete RESP values at the front of a stream, and what is left of an incomplete one."""
    out, pos = [], 0
    while pos < len(data):
        try:
            end = resp_end(data, pos)
        except RespIncomplete:
            break
        out.append(data[pos:end])
        pos = end
    return out, data[pos:]


def _elements(data: bytes) -> list[tuple[bytes, int, int, int]]:
    """(kind, header start, payload start, payload end) of each element of a RESP array: bulk strings
    (kind `$`), and integers (kind `:`, their whole line as the header)."""
    eol = data.find(b"\r\n")
    pos, out = eol + 2, []
    for _ in range(int(data[1:eol])):
        e = data.find(b"\r\n", pos)
        if data[pos : pos + 1] == b"$":
            n = int(data[pos + 1 : e])
            out.append((b"$", pos, e + 2, e + 2 + n))
            pos = e + 2 + n + 2
        else:
            out.append((data[pos : pos + 1], pos, e + 2, e + 2))
            pos = e + 2
    return out


RESP_ROLES = {
    b"PUBLISH": ["command", "channel", "message"],
    b"SUBSCRIBE": ["command", "channel"],
    b"PSUBSCRIBE": ["command", "pattern"],
    b"PUBSUB": ["command", "subcommand", "channel"],
    b"SELECT": ["command", "database"],
    b"pmessage": ["push kind", "pattern", "channel", "message"],
    b"message": ["push kind", "channel", "message"],
    b"subscribe": ["push kind", "channel"],
    b"psubscribe": ["push kind", "pattern"],
}
ROLE_NOTES = {
    "channel": "the channel",
    "pattern": "the pattern the subscription matched",
    "database": "database number",
    "subcommand": "NUMSUB: how many connections subscribed the channel (not its pattern subscribers)",
}
COMMAND_NOTES = {
    b"PUBLISH": "PUBLISH channel message: Redis passes the message to every subscriber of the channel and of a matching pattern",
    b"SUBSCRIBE": "SUBSCRIBE channel: this connection receives what is published on the channel",
    b"PSUBSCRIBE": "PSUBSCRIBE pattern: this connection receives what is published on every channel the pattern matches",
    b"PUBSUB": "PUBSUB: a question about subscriptions",
    b"SELECT": "SELECT db: the database of this connection",
    b"pmessage": "a publication pushed to a pattern subscriber",
    b"message": "a publication pushed to a channel subscriber",
    b"subscribe": "Redis confirms a SUBSCRIBE, with the connection's subscription count",
    b"psubscribe": "Redis confirms a PSUBSCRIBE, with the connection's subscription count",
}


def annotate_resp(data: bytes) -> list[dict]:
    """Spans for one RESP value: the array header, each bulk string's length line, payload and line
    end; an adapter message inside a PUBLISH or a pushed publication is labelled byte by byte."""
    if data[:1] in (b"+", b"-", b":"):
        what = {b"+": "simple string (status)", b"-": "error", b":": "integer"}[data[:1]]
        note = (
            f"Redis answers PUBLISH with the number of subscribers that got the message: {int(data[1:-2])}"
            if data[:1] == b":"
            else f"{what} {data[1:-2].decode(errors='replace')!r}"
        )
        return [{"offset": 0, "length": len(data), "label": what, "note": note}]
    if data[:1] != b"*":
        return [{"offset": 0, "length": len(data), "label": "RESP", "note": "a RESP value"}]
    elements = _elements(data)
    bulks = [(h, st, en) for kind, h, st, en in elements if kind == b"$"]
    first = data[bulks[0][1] : bulks[0][2]] if bulks else b""
    roles = RESP_ROLES.get(first, ["command"] + ["argument"] * (len(elements) - 1))
    spans = [{"offset": 0, "length": elements[0][1] if elements else len(data), "label": f"array of {len(elements)}",
              "note": COMMAND_NOTES.get(first, "a RESP array") + f" ({len(elements)} elements follow)"}]  # fmt: skip
    for i, (kind, head, start, end) in enumerate(elements):
        if kind != b"$":
            count = int(data[head + 1 : start - 2])
            what = (
                "subscriptions this connection now holds" if first in (b"subscribe", b"psubscribe") else "subscribers"
            )
            spans.append({"offset": head, "length": start - head, "label": "integer", "note": f"{what}: {count}"})
            continue
        role = roles[i] if i < len(roles) else "argument"
        payload = data[start:end]
        spans.append({"offset": head, "length": start - head, "label": "bulk length",
                      "note": f"a bulk string of {end - start} bytes follows"})  # fmt: skip
        if role == "message" and payload:
            inner = (
                annotate_json(payload.decode("utf-8", "replace")) if payload[:1] == b"{" else annotate_msgpack(payload)
            )
            spans += [dict(s, offset=s["offset"] + start) for s in inner]
        elif payload:
            text = payload.decode("utf-8", "replace")
            note = COMMAND_NOTES.get(payload, "") if i == 0 else ROLE_NOTES.get(role, "")
            spans.append({"offset": start, "length": end - start, "label": role,
                          "note": f'"{text}"' + (f": {note}" if note else "")})  # fmt: skip
        spans.append({"offset": end, "length": 2, "label": "CRLF", "note": "end of the bulk string"})
    return spans
