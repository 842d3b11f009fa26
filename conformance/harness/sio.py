"""Socket.IO v5 packets and a namespace-aware client over any Engine.IO session.

The encoder and decoder here are deliberately small and independent of the codec under test.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .eio import NotReceived, Packet, Session, SessionEnded

CONNECT, DISCONNECT, EVENT, ACK, CONNECT_ERROR, BINARY_EVENT, BINARY_ACK = range(7)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def deconstruct(data: Any, attachments: list[bytes]) -> Any:
    """Replace each bytes value by a placeholder, numbering depth-first (SIO-PKT-09)."""
    if isinstance(data, (bytes, bytearray)):
        attachments.append(bytes(data))
        return {"_placeholder": True, "num": len(attachments) - 1}
    if isinstance(data, list):
        return [deconstruct(v, attachments) for v in data]
    if isinstance(data, dict):
        return {k: deconstruct(v, attachments) for k, v in data.items()}
    return data


def reconstruct(data: Any, attachments: list[bytes]) -> Any:
    if isinstance(data, dict):
        if (
            data.get("_placeholder") is True
            and isinstance(data.get("num"), int)
            and 0 <= data["num"] < len(attachments)
        ):
            return attachments[data["num"]]
        return {k: reconstruct(v, attachments) for k, v in data.items()}
    if isinstance(data, list):
        return [reconstruct(v, attachments) for v in data]
    return data


def encode(ptype: int, nsp: str = "/", data: Any = None, ack_id: int | None = None) -> list[Packet]:
    """One Socket.IO packet as Engine.IO message packets: the text part (with leading `4`) then attachments."""
    attachments: list[bytes] = []
    if data is not None:
        data = deconstruct(data, attachments)
    if attachments and ptype == EVENT:
        ptype = BINARY_EVENT
    elif attachments and ptype == ACK:
        ptype = BINARY_ACK
    out = str(ptype)
    if ptype in (BINARY_EVENT, BINARY_ACK):
        out += f"{len(attachments)}-"
    if nsp != "/":
        out += nsp + ","
    if ack_id is not None:
        out += str(ack_id)
    if data is not None:
        out += dumps(data)
    return ["4" + out, *attachments]


@dataclass
class SioPacket:
    type: int
    nsp: str = "/"
    id: int | None = None
    data: Any = None
    raw: str = ""
    attachments: list[bytes] = field(default_factory=list)
    count: int = 0

    @property
    def event(self) -> str | None:
        if self.type in (EVENT, BINARY_EVENT) and isinstance(self.data, list) and self.data:
            return self.data[0]
        return None

    @property
    def args(self) -> list[Any]:
        return list(self.data[1:]) if isinstance(self.data, list) else []

    def __repr__(self) -> str:
        extra = (
            f" + {len(self.attachments)} attachment(s) {[a.hex() for a in self.attachments]}"
            if self.attachments
            else ""
        )
        return f"{self.raw!r}{extra}"


class DecodeError(ValueError):
    pass


def decode_text(text: str) -> SioPacket:
    """Parse the Socket.IO text of an Engine.IO message (without the leading `4`)."""
    if not text or text[0] not in "0123456":
        raise DecodeError(f"unknown packet type in {text!r}")
    p = SioPacket(int(text[0]), raw=text)
    i = 1
    if p.type in (BINARY_EVENT, BINARY_ACK):
        j = text.find("-", i)
        if j < 0 or not text[i:j].isdigit():
            raise DecodeError(f"bad attachment count in {text!r}")
        p.count = int(text[i:j])
        i = j + 1
    if i < len(text) and text[i] == "/":
        j = text.find(",", i)
        if j < 0:
            p.nsp, i = text[i:], len(text)
        else:
            p.nsp, i = text[i:j], j + 1
    j = i
    while j < len(text) and text[j].isdigit():
        j += 1
    if j > i:
        p.id = int(text[i:j])
        i = j
    if i < len(text):
        try:
            p.data = json.loads(text[i:])
        except json.JSONDecodeError as exc:
            raise DecodeError(f"bad JSON in {text!r}: {exc}") from exc
    return p


class SioClient:
    """A Socket.IO client over one Engine.IO session. Every packet received goes into an inbox (with its
    attachments); expectations take the first packet that matches them and leave the others queued, so
    nothing is lost when a server answers in another order than the one the packets were sent in."""

    def __init__(self, session: Session):
        self.eio = session
        self.target = session.target
        self.sids: dict[str, str] = {}
        self.next_id = 0
        self.log: list[SioPacket] = []  # every packet received, in arrival order, taken or not
        self.inbox: list[SioPacket] = []
        self._barriers = 0

    # ------------------------------------------------------------------ sending
    def send_raw(self, *packets: Packet) -> None:
        self.eio.send(*packets)

    def send(self, ptype: int, nsp: str = "/", data: Any = None, ack_id: int | None = None) -> None:
        self.eio.send(*encode(ptype, nsp, data, ack_id))

    def emit(self, event: str, *args: Any, nsp: str = "/", ack: bool = False) -> int | None:
        ack_id = None
        if ack:
            ack_id = self.next_id
            self.next_id += 1
        self.send(EVENT, nsp, [event, *args], ack_id)
        return ack_id

    # ------------------------------------------------------------------ receiving
    def _pull(self, deadline: float) -> None:
        """Reads one more Socket.IO packet (with its attachments) into the inbox. Raises TimeoutError at
        the deadline and SessionEnded when the session ends; Engine.IO-level packets are skipped (the
        session answers pings itself)."""
        for _ in range(100000):
            pkt = self.eio.recv(max(0.0, deadline - time.monotonic()))
            if isinstance(pkt, bytes):
                raise DecodeError(f"binary message {pkt.hex()} with no pending binary packet")
            if not pkt.startswith("4"):
                continue  # noop and other Engine.IO-level packets are not Socket.IO traffic
            p = decode_text(pkt[1:])
            for _ in range(p.count):
                att = self.eio.recv(max(0.0, deadline - time.monotonic()))
                if not isinstance(att, bytes):
                    raise DecodeError(f"expected attachment after {pkt!r}, got text {att!r}")
                p.attachments.append(att)
            if p.count:
                p.data = reconstruct(p.data, p.attachments)
            self.log.append(p)
            self.inbox.append(p)
            return
        raise TimeoutError("too many Engine.IO packets without Socket.IO traffic")

    def take(self, match: Callable[[SioPacket], bool], timeout: float | None = None, what: str = "packet") -> SioPacket:
        """The first packet, queued or still to come, for which `match` holds; the others stay queued.
        Raises NotReceived (a TimeoutError) with the packets received instead, or SessionEnded."""
        t = self.target.reply if timeout is None else timeout
        deadline = time.monotonic() + t
        for _ in range(100000):
            for i, p in enumerate(self.inbox):
                if match(p):
                    return self.inbox.pop(i)
            try:
                self._pull(deadline)
            except SessionEnded as end:
                raise SessionEnded(end.how, [*self.inbox, *end.pending], what, end.at) from None
            except TimeoutError:
                raise NotReceived(what, t, self.inbox) from None
        raise NotReceived(what, t, self.inbox)

    def recv(self, timeout: float | None = None) -> SioPacket:
        """The oldest packet not yet taken (with its attachments)."""
        return self.take(lambda p: True, timeout, "next packet")

    def recv_until(
        self, pred: Callable[[SioPacket], bool], timeout: float | None = None, what: str = "packet"
    ) -> SioPacket:
        """Alias of take (packets that do not match stay queued)."""
        return self.take(pred, timeout, what)

    def expect_event(self, name: str, nsp: str = "/", timeout: float | None = None) -> SioPacket:
        return self.take(lambda p: p.event == name and p.nsp == nsp, timeout, f"event {name!r} on {nsp}")

    def expect_ack(self, ack_id: int, nsp: str = "/", timeout: float | None = None) -> SioPacket:
        return self.take(
            lambda p: p.type in (ACK, BINARY_ACK) and p.id == ack_id and p.nsp == nsp, timeout, f"ack {ack_id} on {nsp}"
        )

    def call(self, event: str, *args: Any, nsp: str = "/", timeout: float | None = None) -> list[Any]:
        """Emit with an ack id and return the ack arguments."""
        ack_id = self.emit(event, *args, nsp=nsp, ack=True)
        assert ack_id is not None
        return list(self.expect_ack(ack_id, nsp, timeout).data or [])

    def pull_queued(self) -> None:
        """Decodes into the inbox whatever the session has already received, without waiting."""
        for _ in range(100000):
            try:
                self._pull(time.monotonic())
            except (TimeoutError, SessionEnded, DecodeError):
                return

    def quiet(self, timeout: float) -> list[SioPacket]:
        """Every packet not yet taken plus those received within `timeout` (the session may end meanwhile)."""
        deadline = time.monotonic() + timeout
        for _ in range(100000):
            try:
                self._pull(deadline)
            except (TimeoutError, SessionEnded):
                break
        out, self.inbox = self.inbox, []
        return out

    def barrier(self, nsp: str = "/", timeout: float | None = None) -> list[SioPacket]:
        """Round-trips a unique `message` on `nsp` and returns every packet not yet taken that arrived
        before its echo (they are taken).

        Used to prove a negative ("nothing else was sent") without waiting for an arbitrary time. It
        relies on the one ordering FIXTURE.md asks of a fixture: on one connection and namespace,
        everything the fixture sends in reply to a packet is sent before its reply to a later packet."""
        self._barriers += 1
        token = f"barrier-{self._barriers}"
        self.emit("message", token, nsp=nsp)
        echo = self.take(
            lambda p: p.event == "message-back" and p.nsp == nsp and p.args == [token],
            timeout,
            f"echo of barrier {token!r} on {nsp}",
        )
        order = {id(p): i for i, p in enumerate(self.log)}
        before = [p for p in self.inbox if order[id(p)] < order[id(echo)]]
        self.inbox = [p for p in self.inbox if order[id(p)] > order[id(echo)]]
        return before

    # ------------------------------------------------------------------ namespaces
    def connect(
        self, nsp: str = "/", auth: Any = None, *, expect_auth_event: bool = True, timeout: float | None = None
    ) -> SioPacket:
        """CONNECT and wait for the reply; takes the fixture's `auth` event that follows it."""
        self.send(CONNECT, nsp, auth)
        reply = self.take(
            lambda p: p.type in (CONNECT, CONNECT_ERROR) and p.nsp == nsp, timeout, f"CONNECT reply on {nsp}"
        )
        if reply.type == CONNECT and isinstance(reply.data, dict):
            self.sids[nsp] = reply.data.get("sid", "")
            if expect_auth_event:
                self.expect_event("auth", nsp, timeout)
        return reply

    def close(self) -> None:
        self.eio.close()
