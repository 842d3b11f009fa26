"""Group B: handshake, query validation, HTTP errors, CORS (EIO-HS)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from harness import targets
from harness.eio import PollingSession, decode_payload, query
from harness.http import HttpResponse
from harness.verdict import Case
from harness.ws import WsClient
from wirekit import get, json_body, open_packet, req, ws_outcome

OPEN_KEYS = {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}
SIO = "/socket.io/"


def test_EIO_HS_01_polling_handshake(case, target):
    resp = get(target, query(SIO, "polling"))
    case.must(resp.status == 200, "status of the polling handshake", 200, resp.summary())
    info: Any = open_packet(resp.text())
    case.must(info is not None, "body is `0` followed by a JSON object", "0{…}", resp.body)
    case.eq("open packet keys", sorted(OPEN_KEYS), sorted(info))
    case.check(isinstance(info["sid"], str) and info["sid"] != "", "sid is a non-empty string", "string", info["sid"])
    case.eq("upgrades on polling", ["websocket"], info["upgrades"])
    case.eq(
        "pingInterval / pingTimeout / maxPayload as configured",
        [target.ping_interval_ms, target.ping_timeout_ms, target.max_payload],
        [info["pingInterval"], info["pingTimeout"], info["maxPayload"]],
    )


def test_EIO_HS_02_websocket_handshake(case, target):
    outcome, data = ws_outcome(target, query(SIO, "websocket"))
    case.must(outcome == "open", "a WebSocket-only handshake gets 101 and an open packet", "0{…}", data)
    info: Any = open_packet(str(data))
    case.eq("open packet keys", sorted(OPEN_KEYS), sorted(info or {}))
    case.eq("upgrades on websocket", [], info["upgrades"])


def test_EIO_HS_03_request_path(case, target):
    resp = get(target, query(SIO, "polling"))
    case.must(resp.status == 200, "handshake on the canonical path /socket.io/", 200, resp.summary())
    observed = {}
    for path in ("/socket.io", "/socket.io/extra/"):
        r = get(target, query(path, "polling"))
        observed[path] = r.status
    case.informational("handling of non-canonical paths (spec leaves it open)", observed)


BAD_EIO = [("missing", ""), ("abc", "EIO=abc&"), ("five", "EIO=5&"), ("empty", "EIO=&")]


@pytest.mark.parametrize("label,eio", BAD_EIO, ids=[b[0] for b in BAD_EIO])
def test_EIO_HS_04_bad_eio_rejected(case, target, label, eio):
    resp = get(target, f"{SIO}?{eio}transport=polling")
    if target.eio3 and resp.status == 200 and resp.text().split(":", 1)[0].isdigit():
        case.non_strict(
            f"EIO {label} refused (with v3 enabled Node takes every EIO other than 4 as v3: REQUIREMENTS.md §2.4)",
            400,
            resp.summary(),
        )
    case.must(resp.status == 400, f"EIO {label}: the handshake is refused with 400", 400, resp.summary())
    case.should(
        json_body(resp) == {"code": 5, "message": "Unsupported protocol version"},
        "error body (reference-compatible)",
        {"code": 5, "message": "Unsupported protocol version"},
        resp.body,
    )


def test_EIO_HS_04_eio3_rejected_without_v3(case, target):
    if target.eio3:
        case.not_applicable("the target accepts EIO=3 on purpose (EIO3 profile)")
    resp = get(target, f"{SIO}?EIO=3&transport=polling")
    case.must(resp.status == 400, "EIO=3 refused when v3 support is off", 400, resp.summary())


BAD_TRANSPORT = [
    ("missing", "EIO=4"),
    ("unknown", "EIO=4&transport=abc"),
    ("webtransport-over-http", "EIO=4&transport=webtransport"),
    ("both-bad", "EIO=abc&transport=abc"),
]


@pytest.mark.parametrize("label,q", BAD_TRANSPORT, ids=[b[0] for b in BAD_TRANSPORT])
def test_EIO_HS_05_bad_transport_rejected(case, target, label, q):
    resp = get(target, f"{SIO}?{q}")
    case.must(resp.status == 400, f"transport {label}: refused with 400", 400, resp.summary())
    case.should(
        json_body(resp) == {"code": 0, "message": "Transport unknown"},
        "error body (reference-compatible; transport is checked before EIO)",
        {"code": 0, "message": "Transport unknown"},
        resp.body,
    )


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_EIO_HS_06_handshake_must_be_get(case, target, method):
    resp = req(target, method, query(SIO, "polling"), body=b"40" if method != "DELETE" else None)
    case.must(resp.status == 400, f"{method} without sid is refused with 400", 400, resp.summary())
    case.should(
        json_body(resp) == {"code": 2, "message": "Bad handshake method"},
        "error body (reference-compatible)",
        {"code": 2, "message": "Bad handshake method"},
        resp.body,
    )


def test_EIO_HS_07_websocket_transport_without_upgrade(case, target):
    resp = get(target, query(SIO, "websocket"))
    case.check(resp.status == 400, "plain GET asking for transport=websocket without sid", 400, resp.summary())
    case.should(
        json_body(resp) == {"code": 3, "message": "Bad request"},
        "error body (reference-compatible)",
        {"code": 3, "message": "Bad request"},
        resp.body,
    )


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_EIO_HS_08_unknown_sid(case, target, method):
    url = query(SIO, "polling", "nosuchsessionid00000")
    resp = req(target, method, url, body=b"4hello" if method == "POST" else None)
    case.must(resp.status == 400, f"{method} with an unknown sid", 400, resp.summary())
    case.should(
        json_body(resp) == {"code": 1, "message": "Session ID unknown"},
        "error body (reference-compatible)",
        {"code": 1, "message": "Session ID unknown"},
        resp.body,
    )


def test_EIO_HS_08_unknown_sid_websocket(case, target):
    outcome, data = ws_outcome(target, query(SIO, "websocket", "nosuchsessionid00000"))
    case.must(
        outcome in ("rejected", "closed"),
        "WebSocket upgrade with an unknown sid is refused",
        "HTTP 400 before 101, or a closed WebSocket",
        (outcome, data),
    )


def test_EIO_HS_09_empty_sid(case, target):
    resp = get(target, f"{SIO}?EIO=4&transport=polling&sid=")
    info = open_packet(resp.text()) if resp.status == 200 else None
    case.informational(
        "an empty sid: fresh handshake (Node) or refusal", resp.summary() if info is None else "handshake"
    )


def test_EIO_HS_10_transport_mismatch(case, opener, target):
    s = opener.eio("websocket")
    resp = get(target, query(SIO, "polling", s.sid))
    case.must(resp.status == 400, "polling GET with the sid of a WebSocket session", 400, resp.summary())
    case.should(
        json_body(resp) == {"code": 3, "message": "Bad request"},
        "error body (reference-compatible)",
        {"code": 3, "message": "Bad request"},
        resp.body,
    )


def test_EIO_HS_11_eio_must_match_session(case, target):
    s = PollingSession.handshake(target, SIO)
    try:
        resp = req(target, "POST", f"{SIO}?transport=polling&sid={s.sid}", body=b"40")
        case.informational("POST with the session's sid but no EIO (400 strict, 200 lenient)", resp.summary())
    finally:
        s.close()


ERROR_TABLE = [
    ("transport-unknown", "GET", "?EIO=4&transport=zzz", 0),
    ("session-unknown", "GET", "?EIO=4&transport=polling&sid=zzzzzzzzzzzzzzzzzzzz", 1),
    ("bad-handshake-method", "POST", "?EIO=4&transport=polling", 2),
    ("bad-request", "GET", "?EIO=4&transport=websocket", 3),
    ("unsupported-protocol", "GET", "?EIO=9&transport=polling", 5),
]


@pytest.mark.parametrize("label,method,q,code", ERROR_TABLE, ids=[e[0] for e in ERROR_TABLE])
def test_EIO_HS_12_json_error_body(case, target, label, method, q, code):
    resp = req(target, method, SIO + q, body=b"" if method == "POST" else None)
    body = json_body(resp)
    actual = (
        resp.status,
        (resp.header("content-type") or "").split(";")[0],
        body.get("code") if isinstance(body, dict) else body,
    )
    case.check(
        actual == (400, "application/json", code) and isinstance(body.get("message"), str),
        "400 with a JSON body {code, message}",
        (400, "application/json", code),
        (actual, resp.body),
    )


def test_EIO_HS_13_rejected_upgrade_is_plain_http(case, target):
    outcome, data = ws_outcome(target, query(SIO, "websocket", "nosuchsessionid00000"))
    case.must(outcome != "open", "an upgrade for an unknown sid never yields a working WebSocket", "refused", data)
    if outcome == "rejected":
        answered = isinstance(data, HttpResponse)
        case.check(answered and data.status == 400, "refusal status", 400, data.summary() if answered else data)
    else:
        case.non_strict("refusal happens before 101", "HTTP 400 before 101", (outcome, data))


@pytest.mark.parametrize(
    "q",
    ["transport=websocket", "EIO=abc&transport=websocket", "EIO=7&transport=websocket"],
    ids=["missing", "abc", "seven"],
)
def test_EIO_HS_14_bad_eio_on_websocket(case, target, q):
    outcome, data = ws_outcome(target, f"{SIO}?{q}")
    if target.eio3 and outcome == "open":
        case.non_strict(
            "bad EIO refused (with v3 enabled Node takes every EIO other than 4 as v3: REQUIREMENTS.md §2.4)",
            "refused or closed",
            (outcome, data),
        )
    case.must(
        outcome in ("rejected", "closed"),
        "upgrade with a bad EIO: refused, or closed without an open packet",
        "refused or closed",
        (outcome, data),
    )
    if outcome == "closed":
        case.non_strict(
            "refusal happens before 101 (Node answers 101 first, REQUIREMENTS.md §2.3)",
            "HTTP 400 before 101",
            (outcome, data),
        )


def test_EIO_HS_15_upgrade_with_polling_transport(case, target):
    outcome, data = ws_outcome(target, query(SIO, "polling"))
    case.must(
        outcome in ("rejected", "closed"),
        "WebSocket upgrade asking for transport=polling",
        "refused or closed",
        (outcome, data),
    )


def test_EIO_HS_16_session_ids(case, opener, target):
    sids = []
    for _ in range(20):
        resp = get(target, query(SIO, "polling"))
        info = open_packet(resp.text()) or {}
        sids.append(info.get("sid"))
    case.must(all(isinstance(s, str) and s for s in sids), "every sid is a non-empty string", "strings", sids)
    case.must(len(set(sids)) == len(sids), "sids are unique", len(sids), len(set(sids)))
    c = opener.sio("websocket")
    case.must(
        c.sids["/"] != c.eio.sid,
        "Socket.IO socket id differs from the Engine.IO sid (v5)",
        f"!= {c.eio.sid}",
        c.sids["/"],
    )


def test_EIO_HS_17_cors(case, target):
    origin = [("Origin", "http://example.test")]
    resp = get(target, query(SIO, "polling"), headers=origin)
    err = get(target, f"{SIO}?EIO=4&transport=zzz", headers=origin)
    pre = req(target, "OPTIONS", query(SIO, "polling"), headers=origin + [("Access-Control-Request-Method", "POST")])
    observed = {
        "handshake": resp.header("access-control-allow-origin"),
        "error": err.header("access-control-allow-origin"),
        "preflight": (pre.status, pre.header("access-control-allow-origin")),
    }
    case.check(
        observed["handshake"] in ("*", "http://example.test")
        and observed["error"] is not None
        and pre.status in (200, 204),
        "fixture CORS (origin *) on handshake, errors and preflight",
        {"handshake": "*", "error": "*", "preflight": (204, "*")},
        observed,
    )


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_EIO_HS_18_allow_request_refusal(case, target, transport):
    reason = "not-today"
    url = query(SIO, transport, extra=f"&refuse={reason}")  # FIXTURE.md section 3: the app refuses
    if transport == "polling":
        resp = get(target, url)
        if resp.status == 200 and not target.has("refuse"):
            case.unimplemented("the handshake with refuse= was accepted: no refusal hook (FIXTURE.md section 3)")
        actual = (resp.status, (resp.header("content-type") or "").split(";")[0], json_body(resp))
        case.check(
            actual == (403, "application/json", {"code": 4, "message": reason}),
            "a handshake the application refuses: 403 with code 4 and the application's reason",
            (403, "application/json", {"code": 4, "message": reason}),
            (actual, resp.body),
        )
    else:
        outcome, data = ws_outcome(target, url)
        if outcome == "open" and not target.has("refuse"):
            case.unimplemented("the upgrade with refuse= was accepted: no refusal hook (FIXTURE.md section 3)")
        case.must(
            outcome != "open",
            "an upgrade the application refuses never yields a working WebSocket",
            "refused",
            (outcome, data),
        )
        refusal: tuple[Any, Any] = (data.status, data.body) if outcome == "rejected" else (outcome, data)
        case.check(
            refusal == (400, reason.encode()),
            "refused before 101: plain HTTP 400 whose body is the reason",
            (400, reason.encode()),
            refusal,
        )


def test_EIO_HS_19_other_methods_with_sid(case, opener, target):
    s = PollingSession.handshake(target, SIO)
    opener.adopt(s)
    resp = req(target, "PUT", s.url(), body=b"40")
    after = s.post("40")
    case.check(after.status == 200, "the session still accepts POSTs afterwards", 200, after.summary())
    case.informational("status for PUT with a live sid (Node: 500)", resp.summary())


def test_EIO_HS_20_sticky_cookie(case, target):
    resp = get(target, query(SIO, "polling"))
    case.informational("Set-Cookie on the handshake (off by default in Node)", resp.header("set-cookie"))


@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_EIO_HS_21_initial_packet(case: Case, target, transport):
    targets.need(case, target, "echo")
    targets.need(case, target, "initial-packet")
    with targets.private_instance(target, {"INITIAL_PACKET": "hello"}) as own:
        if own is None:
            case.not_applicable(targets.NO_PRIVATE_INSTANCE)
        url = query(own.eio_path, transport)
        if transport == "polling":
            packets = decode_payload(get(own, url).body)
            first = [p if p[:1] != "0" else "0{…}" for p in packets if isinstance(p, str)]
        else:
            ws = WsClient.connect(own.host, own.port, url, timeout=own.reply)
            try:
                first = []
                for _ in range(2):
                    msg = ws.recv(own.prompt)
                    first.append(
                        "0{…}"
                        if msg.kind == "text" and msg.text.startswith("0{")
                        else (msg.text if msg.kind == "text" else repr(msg))
                    )
            except TimeoutError:
                pass
            finally:
                ws.close()
    case.check(
        first == ["0{…}", "4hello"],
        "with an initial packet set, a message follows the open packet at once"
        + (" in the same response" if transport == "polling" else ""),
        ["0{…}", "4hello"],
        first,
    )


def test_EIO_HS_22_origin_with_invalid_characters(case, target):
    from harness import http as rawhttp

    data = rawhttp.build_request("GET", query(SIO, "polling"), target.port, [("Origin", "http://a\x01b")])
    try:
        resp = rawhttp.send_raw(target.host, target.port, data, target.reply)
        case.informational("Origin with a control character", resp.summary())
    except rawhttp.HttpConnectionLost as exc:
        case.informational("Origin with a control character", f"connection dropped: {exc}")


def test_EIO_HS_23_unrelated_query_keys_ignored(case, target):
    resp = get(target, f"{SIO}?EIO=4&transport=polling&t=Nx1a&foo=bar")
    case.must(resp.status == 200, "handshake with extra keys", 200, resp.summary())
    sid = (open_packet(resp.text()) or {}).get("sid")
    post = req(target, "POST", f"{SIO}?EIO=4&transport=polling&sid={sid}&t=abc&zzz=1", body=b"40")
    case.eq("POST with extra keys", 200, post.status)
    # A ping that falls due is answered (extra keys there too) and left out: when it comes is EIO-HB-01's.
    answers: list[str] = []
    packets: list[str] = []
    for _ in range(3):
        poll = get(target, f"{SIO}?EIO=4&transport=polling&sid={sid}&t=def")
        answers.append(poll.summary())
        records = poll.text().split("\x1e") if poll.status == 200 else []
        for _ in range(records.count("2")):
            req(target, "POST", f"{SIO}?EIO=4&transport=polling&sid={sid}&t=ghi", body=b"3")
        packets = [r for r in records if r != "2"]
        if packets or poll.status != 200:
            break
    case.check(
        packets[:1] != [] and packets[0].startswith("40"),
        "GET with extra keys returns the CONNECT reply (pings answered and left out)",
        "40{…}",
        answers,
    )


def test_EIO_HS_24_v3_handshake(case, target):
    if not target.eio3:
        case.not_applicable("EIO3-only behaviour; the target runs without EIO3 support")
    resp = get(target, f"{SIO}?EIO=3&transport=polling&b64=1")
    text = resp.text()
    head, _, rest = text.partition(":")
    case.must(
        resp.status == 200 and head.isdigit() and rest.startswith("0{"),
        "length-prefixed open packet",
        "<len>:0{…}",
        resp.summary(),
    )
    info = json.loads(rest[: int(head)][1:])
    case.check(
        {"sid", "upgrades", "pingInterval", "pingTimeout"} <= set(info),
        "v3 open packet keys",
        ["sid", "upgrades", "pingInterval", "pingTimeout"],
        sorted(info),
    )
