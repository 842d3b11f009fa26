"""Published advisories and crash reports of socket.io, engine.io, their parsers and ws, as cases.

Each case sends the advisory's trigger in its smallest form and judges it under the requirement the
affected release broke. Because the affected releases died rather than answered, every case ends by
checking that the server still serves a new client (wirekit.handshake_works): a crash is the case's
failure, with what was sent and what the next handshake met. `make advisories` runs these cases against
an affected and a fixed release of each package (conformance/advisories.py, docs/advisories.md).
Inputs are bounded: no case sends more than the target's maxPayload or keeps a server busy for more than
a fraction of a second when the server is right.
"""

from __future__ import annotations

import time

from harness.eio import SessionEnded, query
from harness.sio import SioClient
from harness.targets import Target
from harness.verify import send_expecting_close
from wirekit import handshake_works, raw_exchange


def survives(case, target: Target, sent: object) -> None:
    """After the trigger, a new client must still complete a handshake."""
    problem = handshake_works(target)
    case.must(
        problem is None,
        f"the server still serves new clients after {sent!r}",
        "handshake answered",
        f"{problem}; process exit status {target.process.poll()}" if target.process else problem,
    )


def closes_and_survives(case, c: SioClient, target: Target, what: str, *packets: str | bytes) -> None:
    send_expecting_close(c, *packets)
    how = c.eio.wait_ended(target.prompt)
    case.must(how is not None, what, "connection closed", f"still open after {target.prompt:.2f}s")
    survives(case, target, packets)


def test_SIO_PKT_05_event_name_with_toString(case, opener, target):
    """CVE-2023-32695 (GHSA-cqmj-92xf-r6r9): socket.io-parser < 4.2.3 took `[{"toString":…}]` as an
    EVENT; the EventEmitter then threw converting the name to a string, killing the process."""
    c = opener.sio("websocket")
    closes_and_survives(case, c, target, "an EVENT whose name is an object is invalid", '42[{"toString":"x"}]')


def test_SIO_PKT_05_connect_payload_null(case, opener, target):
    """socket.io-parser < 4.2.4 accepted `40null` (typeof null is "object"); socket.io 4.6 then read
    `auth.pid` of null in a promise and the process died (fixed by socketio/socket.io-parser@b0e6400)."""
    c = SioClient(opener.eio("websocket"))
    closes_and_survives(case, c, target, "a CONNECT whose payload is null is invalid", "40null")


def test_SIO_PKT_11_placeholder_num_not_a_number(case, opener, target):
    """CVE-2022-2421 (GHSA-qm95-pgcg-qqfq): socket.io-parser < 4.2.1 looked the placeholder's `num` up
    as a property of the attachment array, so `"num":"splice"` became a function in the event."""
    c = opener.sio("websocket")
    closes_and_survives(
        case,
        c,
        target,
        "a placeholder whose num is not an attachment index",
        '451-["message",{"_placeholder":true,"num":"splice"}]',
        b"\x01",
    )


def test_ERR_07_attachment_count_unbounded(case, opener, target):
    """CVE-2026-33151 (GHSA-677m-j7p3-52f9): socket.io-parser < 4.2.6 buffered as many attachments as a
    packet announced. One million announced must be refused at the header (or the first attachment)."""
    c = opener.sio("websocket")
    closes_and_survives(
        case,
        c,
        target,
        "a packet announcing 1,000,000 attachments is refused",
        '451000000-["message",{"_placeholder":true,"num":0}]',
        b"\x01",
    )


def upgrade_request(target: Target, path: str, extra: list[str]) -> bytes:
    lines = [
        f"GET {path} HTTP/1.1",
        f"Host: 127.0.0.1:{target.port}",
        "Connection: Upgrade",
        "Upgrade: websocket",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    ] + extra
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def status_of(answer: bytes) -> str:
    return answer.split(b"\r\n", 1)[0].decode("latin-1", "replace") if answer else "no answer (connection closed)"


def test_EIO_HS_05_transport_named_like_a_property(case, target):
    """CVE-2023-31125 (GHSA-q9mw-68c2-j6m5): engine.io 5.1.0 to 6.4.1 found `__proto__` in its table of
    transports and crashed on the upgrade. An unknown transport is refused with 400."""
    get = f"GET {query(target.sio_path, '__proto__')} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    polling = raw_exchange(target, get.encode("latin-1"))
    upgrade = raw_exchange(target, upgrade_request(target, query(target.sio_path, "__proto__"), []), until=b"\r\n\r\n")
    answers = {"polling": status_of(polling), "websocket": status_of(upgrade)}
    refused = all(a.startswith("HTTP/1.1 400") or a.startswith("no answer") for a in answers.values())
    case.must(
        refused and answers["polling"].startswith("HTTP/1.1 400"),
        "transport=__proto__ is refused with 400",
        {"polling": "HTTP/1.1 400 …", "websocket": "HTTP/1.1 400 … (or closed)"},
        answers,
    )
    survives(case, target, "transport=__proto__")


def test_ERR_06_upgrade_with_many_headers(case, target):
    """CVE-2024-37890 (GHSA-3h5v-q93c-6h6q): ws < 8.17.1 crashed when the upgrade's headers outnumbered
    Node's maxHeadersCount (2,000), which hid `Upgrade` and `Sec-WebSocket-Key` from it. 2,100 short
    headers come first (under 16 KiB in all, Node's head limit); the answer may be 101, 400 or 431."""
    filler = [f"{i:03x}: v" for i in range(2100)]
    request = upgrade_request(target, query(target.sio_path, "websocket"), [])
    head, _, _ = request.partition(b"\r\n")
    rest = request[len(head) + 2 :]
    answer = raw_exchange(target, head + b"\r\n" + ("\r\n".join(filler) + "\r\n").encode() + rest, until=b"\r\n\r\n")
    status = status_of(answer)
    case.must(status.startswith("HTTP/1."), "the request gets an HTTP answer", "HTTP/1.x 101, 400 or 431", status)
    survives(case, target, "an upgrade with 2,100 headers")


def answer_time(target: Target, protocol_header: str, tries: int = 3) -> float:
    """Fastest of `tries` upgrade round trips carrying this Sec-WebSocket-Protocol value, in seconds."""
    best = float("inf")
    request = upgrade_request(
        target, query(target.sio_path, "websocket"), [f"Sec-WebSocket-Protocol: {protocol_header}"]
    )
    for _ in range(tries):
        started = time.monotonic()
        answer = raw_exchange(target, request, until=b"\r\n\r\n")
        if b"\r\n\r\n" not in answer:
            return float("inf")
        best = min(best, time.monotonic() - started)
    return best


def test_ERR_08_subprotocol_header_backtracking(case, target):
    """CVE-2021-32640 (GHSA-6fc8-4gx4-v693): ws < 7.4.6 split Sec-WebSocket-Protocol with a regular
    expression that backtracks quadratically on runs of spaces. A 12,000-space value (the head stays
    under Node's 16 KiB) must be answered about as fast as 12,000 letters; the bound is 10 times the
    plain value's time and at least 100 ms, so only a super-linear parser can exceed it."""
    n = 12000
    plain = answer_time(target, "b" + "a" * n + "x")
    spaces = answer_time(target, "b" + " " * n + "x")
    bound = max(0.1, 10 * plain)
    case.must(
        spaces <= bound,
        "a header value of spaces is parsed in linear time",
        f"≤ {bound * 1000:.0f} ms (plain value: {plain * 1000:.1f} ms)",
        f"{spaces * 1000:.1f} ms",
    )
    survives(case, target, "a 12,000-space Sec-WebSocket-Protocol")


def test_SIO_PKT_06_client_event_named_error(case, opener, target):
    """CVE-2024-38355 (GHSA-25hc-qcg6-38wj): socket.io < 4.6.2 passed a client's `error` event to the
    socket's EventEmitter, which throws when the application has no `error` listener. `error` is an
    ordinary event name: the connection stays and the server survives. (The FIXTURE.md fixture listens
    for `error`, the advisory's own workaround, so this case only fails on a fixture without one.)"""
    c = opener.sio("websocket")
    c.send_raw('42["error","from the client"]')
    try:
        before = c.barrier()
    except (SessionEnded, TimeoutError) as exc:
        before = [f"{type(exc).__name__}: {exc}"]
    survives(case, target, '42["error",…]')
    case.must(not before, "`error` from a client is an ordinary event: nothing sent, connection kept", [], before)


# Last in the file: on servers it kills, it kills them after 1.5 s, and every later case would meet a
# dead server.
def test_ERR_06_upgrade_on_unserved_path_then_reset(case, target):
    """CVE-2022-41940 (GHSA-r7qp-cfhv-p84w): engine.io < 6.2.1 ended an upgrade request nobody served
    after 1 s (destroyUpgradeTimeout) with no error listener on the socket; when the client had reset
    the connection, the error killed the process. The check waits 1.5 s, past that timer."""
    raw_exchange(target, upgrade_request(target, "/not-served/", []), timeout=0.05, reset=True)
    time.sleep(1.5)  # not synchronisation: the server's own timer must have fired before the check
    survives(case, target, "an upgrade on an unserved path, then a reset")
