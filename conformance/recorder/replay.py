"""Replays the client side of recorded sessions against a target and checks every server message,
ignoring the fields marked variable (vectors/sessions/README.md, "Replaying").

    python -m recorder.replay [--target node|reference|http://127.0.0.1:PORT] SESSION.json ...

With `node` or `reference` the target is started with the settings the session was recorded with
and stopped afterwards. Exit status 1 when any server message differs.
"""

from __future__ import annotations

import argparse
import queue
import socket
import sys
import threading
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from . import servers, session, wire
from .session import C2S

MESSAGE_DEADLINE_S = 5.0
CLOSE_DEADLINE_S = 1.0
PONG_MASK = b"\x00\x00\x00\x00"


@dataclass
class Result:
    name: str
    target: str
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


class Connection:
    """One client TCP connection of the replay, with a reader thread queueing server messages."""

    def __init__(self, host: str, port: int):
        self.sock = socket.create_connection((host, port), timeout=MESSAGE_DEADLINE_S)
        self.sock.settimeout(None)
        self.inbox: queue.Queue[wire.Message] = queue.Queue()
        self.eof = False
        self.splitter = wire.Splitter(False)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            try:
                for msg in self.splitter.feed(data):
                    self.inbox.put(msg)
            except (wire.WireError, ValueError) as e:
                self.inbox.put(wire.Message("error", str(e).encode()))
                break
        self.eof = True
        self.inbox.put(wire.Message("close", b""))

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def next(self, deadline_s: float) -> wire.Message | None:
        try:
            return self.inbox.get(timeout=deadline_s)
        except queue.Empty:
            return None

    def close(self) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(MESSAGE_DEADLINE_S)


def substitute(msg: dict, data: bytes, actual: dict[str, bytes]) -> bytes:
    """The recorded client bytes with each variable whose server-chosen value is known replaced."""
    changes = [(v["offset"], v["length"], actual[v["name"]]) for v in msg.get("variable", []) if v["name"] in actual]
    if not changes:
        return data
    if msg["kind"] == "ws-frame":
        opcode, fin, payload, key, off = wire.ws_unmask(data)
        payload = _splice(payload, [(o - off, n, val) for o, n, val in changes if o >= off])
        return wire.ws_frame(opcode, payload, key, fin)
    out = _splice(data, changes)
    head = wire.parse_head(out)
    if head and head.header("content-length") is not None:
        body = out[head.head_length :]
        old = f"Content-Length: {head.header('content-length')}".encode()
        out = out.replace(old, f"Content-Length: {len(body)}".encode(), 1)
    return out


def _splice(data: bytes, changes: list[tuple[int, int, bytes]]) -> bytes:
    for offset, length, value in sorted(changes, reverse=True):
        data = data[:offset] + value + data[offset + length :]
    return data


class Replayer:
    def __init__(self, sess: dict, host: str, port: int, target: str):
        self.sess = sess
        self.host, self.port = host, port
        self.conns: dict[int, Connection] = {}
        self.actual: dict[str, bytes] = {}
        self.result = Result(sess["name"], target)
        # Polling: packets are compared as one stream per session, because how a server groups
        # them into responses depends on timing. Packets received ahead of the recording wait here.
        self.carry: dict[str, list[bytes]] = {}
        self.request_of: dict[int, dict] = {}
        self.response_of: dict[int, dict] = {}
        self.from_carry: set[int] = set()
        pending: dict[int, list[dict]] = {}
        for m in sess["messages"]:
            if m["kind"] == "http-request":
                pending.setdefault(m["connection"], []).append(m)
            elif m["kind"] == "http-response" and pending.get(m["connection"]):
                req = pending[m["connection"]].pop(0)
                self.request_of[m["index"]] = req
                self.response_of[req["index"]] = m

    def run(self) -> Result:
        try:
            for msg in self.sess["messages"]:
                if msg["direction"] == C2S:
                    self._send(msg)
                else:
                    self._expect(msg)
                if len(self.result.problems) >= 5:
                    self.result.notes.append("stopped after 5 differences")
                    break
            left = sum(len(v) for v in self.carry.values())
            if left and len(self.result.problems) < 5:
                self.result.problems.append(f"the target sent {left} polling packet(s) the recording does not have")
        finally:
            for c in self.conns.values():
                c.close()
        return self.result

    @staticmethod
    def _stream_key(req: dict | None) -> str | None:
        """The recorded sid of a polling GET that reads from an existing session, else None."""
        if req is None or req["transport"] != "polling-get":
            return None
        target = session.message_bytes(req).split(b" ", 2)[1].decode("latin-1")
        sid = urllib.parse.parse_qs(urllib.parse.urlsplit(target).query).get("sid", [""])[0]
        return sid or None

    def _conn(self, n: int) -> Connection:
        c = self.conns.get(n)
        if c is None or (c.eof and not c.splitter.websocket):
            if c is not None:
                c.close()
            c = self.conns[n] = Connection(self.host, self.port)
        return c

    def _send(self, msg: dict) -> None:
        if msg["kind"] == "close":
            c = self.conns.get(msg["connection"])
            if c is not None:
                try:
                    c.sock.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
            return
        key = self._stream_key(msg)
        resp = self.response_of.get(msg["index"])
        if key and resp is not None and len(self.carry.get(key, [])) >= len(session.polling_packets(resp)):
            self.from_carry.add(resp["index"])  # already received: this GET is not needed
            return
        data = substitute(msg, session.message_bytes(msg), self.actual)
        try:
            self._conn(msg["connection"]).send(data)
        except OSError as e:
            self.result.problems.append(f"message {msg['index']}: could not send: {e}")

    def _expect(self, msg: dict) -> None:
        idx = msg["index"]
        c = self.conns.get(msg["connection"])
        key = self._stream_key(self.request_of.get(idx))
        if idx in self.from_carry:
            assert key is not None, "only polling GETs read from the carried packets"
            self._match_polling(msg, key, None)
            return
        if c is None:
            if msg["kind"] != "close":
                self.result.problems.append(f"message {idx}: no connection {msg['connection']}")
            return
        if msg["kind"] == "close":
            got = c.next(CLOSE_DEADLINE_S)
            if got is None or got.kind != "close":
                self.result.notes.append(
                    f"message {idx}: the target kept connection {msg['connection']} open (not a protocol difference)"
                )
                if got is not None:
                    c.inbox.queue.appendleft(got)
            return
        for _ in range(100):
            got = c.next(MESSAGE_DEADLINE_S)
            if got is None:
                self.result.problems.append(
                    f"message {idx}: nothing within {MESSAGE_DEADLINE_S} s (expected {msg['summary']})"
                )
                return
            if got.kind in ("close", "error"):
                self.result.problems.append(f"message {idx}: connection closed (expected {msg['summary']})")
                c.inbox.put(got)
                return
            if self._unexpected_ping(msg, got, c):
                continue
            break
        if got is None:
            return
        if key and got.kind == "http-response":
            self._match_polling(msg, key, got.data)
            return
        self.result.checked += 1
        if got.kind == "http-response":
            self.result.notes += [f"message {idx}: {d}" for d in session.header_differences(msg, got.data)]
        problems, captured = session.compare(msg, got.data)
        if (
            msg["kind"] == "ws-frame"
            and not problems
            and got.data != session.message_bytes(msg)
            and wire.ws_unmask(got.data)[0] == 8
        ):
            self.result.notes.append(
                f"message {idx}: close frame payload {wire.ws_unmask(got.data)[2]!r}, "
                f"recorded {wire.ws_unmask(session.message_bytes(msg))[2]!r}"
            )
        for name, value in captured.items():
            self.actual[name.replace("_", "-")] = value
        self.result.problems += [f"message {idx} ({msg['summary']}): {p}" for p in problems]

    def _match_polling(self, msg: dict, key: str, data: bytes | None) -> None:
        """Checks a polling GET response packet by packet against the session's packet stream,
        fetching with extra GETs when the target spread the packets over more responses."""
        idx = msg["index"]
        expected = session.polling_packets(msg)
        pool = self.carry.setdefault(key, [])
        if data is not None:
            self.result.notes += [f"message {idx}: {d}" for d in session.header_differences(msg, data)]
            problems, _ = self._check_http(msg, data)
            if problems:
                return
        for _ in range(10):
            if len(pool) >= len(expected):
                break
            extra = Connection(self.host, self.port)
            try:
                extra.send(substitute(self.request_of[idx], session.message_bytes(self.request_of[idx]), self.actual))
                got = extra.next(MESSAGE_DEADLINE_S)
            finally:
                extra.close()
            if got is None or got.kind != "http-response" or self._check_http(msg, got.data)[0]:
                self.result.problems.append(f"message {idx}: an extra GET for the remaining packets failed")
                return
            self.result.notes.append(f"message {idx}: the target spread these packets over more responses")
        for n, (rec, variables) in enumerate(expected):
            if not pool:
                self.result.problems.append(f"message {idx}: packet {n + 1} ({rec!r}) never arrived")
                return
            got_packet = pool.pop(0)
            self.result.checked += 1
            captured = session.compare_packet(rec, variables, got_packet)
            if captured is None:
                self.result.problems.append(f"message {idx}: packet {n + 1}: expected {rec!r}, got {got_packet!r}")
            else:
                self.actual.update({k.replace("_", "-"): v for k, v in captured.items()})

    def _check_http(self, msg: dict, data: bytes) -> tuple[list[str], None]:
        """Status line and media type of a polling response; its packets go to the stream."""
        recorded = session.message_bytes(msg)
        rhead, head = wire.parse_head(recorded), wire.parse_head(data)
        assert rhead is not None and head is not None
        problems = []
        if head.start_line.split(" ")[:2] != rhead.start_line.split(" ")[:2]:
            problems.append(f"message {msg['index']}: status {head.start_line!r}, recorded {rhead.start_line!r}")
        self.result.problems += problems
        if not problems:
            key = self._stream_key(self.request_of.get(msg["index"]))
            body = data[head.head_length :]
            self.carry.setdefault(key or "", []).extend(body.split(b"\x1e") if body else [])
        return problems, None

    def _unexpected_ping(self, msg: dict, got: wire.Message, c: Connection) -> bool:
        """A heartbeat ping the recording did not have is answered and skipped."""
        if got.kind != "ws-frame":
            return False
        _, _, payload, _, _ = wire.ws_unmask(got.data)
        expected = wire.ws_unmask(session.message_bytes(msg))[2] if msg["kind"] == "ws-frame" else b""
        if payload == b"2" and expected != b"2":
            c.send(wire.ws_frame(1, b"3", PONG_MASK))
            self.result.notes.append(f"message {msg['index']}: answered an extra heartbeat ping")
            return True
        return False


def replay(sess: dict, target: str) -> Result:
    if target in ("node", "reference"):
        settings = servers.Settings.from_json(sess.get("recorded", {}).get("settings", {}))
        with servers.Server(target, settings, deterministic=True) as server:
            return Replayer(sess, "127.0.0.1", server.port, target).run()
    url = urllib.parse.urlsplit(target)
    if url.hostname != "127.0.0.1" or not url.port:
        raise ValueError("a target URL must be http://127.0.0.1:PORT")
    return Replayer(sess, "127.0.0.1", url.port, target).run()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--target", default="reference")
    ap.add_argument("--verbose", "-v", action="store_true")
    ap.add_argument("sessions", nargs="+", type=Path)
    args = ap.parse_args(argv)
    failed = 0
    for path in args.sessions:
        res = replay(session.load(path), args.target)
        verdict = "ok  " if res.ok else "FAIL"
        print(f"{verdict} {res.name}: {res.checked} server packets/frames checked against {res.target}")
        for p in res.problems:
            print(f"     {p}")
        if args.verbose:
            for n in res.notes:
                print(f"     note: {n}")
        failed += not res.ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
