"""build/reference-server at the Engine.IO level: handshake and request checks (group B), polling
and WebSocket echo, heartbeat, close, polling discipline, limits, upgrade (groups A, C, D)."""

from __future__ import annotations

import json
import re
import time

import pytest
from serverkit import DEADLINE, WebSocket, eio_url, http, polling_open, read_response, start_request, ws_open

ECHO = "/engine.io/"


# ---------------------------------------------------------------- handshake (EIO-HS)


def test_polling_handshake_EIO_HS_01(server):
    r = http(server.port, "GET", eio_url())
    assert r.status == 200
    assert r.headers["content-type"] == "text/plain; charset=UTF-8"
    info = json.loads(r.body[1:])
    assert set(info) == {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}
    assert info["upgrades"] == ["websocket"]
    assert (info["pingInterval"], info["pingTimeout"], info["maxPayload"]) == (300, 200, 1000000)
    assert r.headers["access-control-allow-origin"] == "*"


def test_websocket_handshake_EIO_HS_02(server):
    ws, info = ws_open(server.port)
    assert info["upgrades"] == []
    assert set(info) == {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}
    ws.close()


@pytest.mark.parametrize(
    "query,code,message",
    [
        ("EIO=abc&transport=polling", 5, "Unsupported protocol version"),
        ("transport=polling", 5, "Unsupported protocol version"),
        ("EIO=3&transport=polling", 5, "Unsupported protocol version"),
        ("EIO=4&transport=abc", 0, "Transport unknown"),
        ("EIO=abc&transport=abc", 0, "Transport unknown"),
        ("EIO=4", 0, "Transport unknown"),
        ("EIO=4&transport=websocket", 3, "Bad request"),
        ("EIO=4&transport=polling&sid=nope", 1, "Session ID unknown"),
    ],
)
def test_rejections_EIO_HS_04_05_07_08_12(server, query, code, message):
    r = http(server.port, "GET", "/socket.io/?" + query)
    assert r.status == 400
    assert r.headers["content-type"] == "application/json"
    assert json.loads(r.body) == {"code": code, "message": message}
    assert r.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE"])
def test_handshake_method_EIO_HS_06(server, method):
    r = http(server.port, method, eio_url())
    assert r.status == 400 and json.loads(r.body) == {"code": 2, "message": "Bad handshake method"}


def test_sids_distinct_EIO_HS_16(server):
    sids = {polling_open(server.port)[0] for _ in range(50)}
    assert len(sids) == 50 and all(len(s) == 20 for s in sids)


def test_cors_preflight_EIO_HS_17(server):
    r = http(
        server.port,
        "OPTIONS",
        eio_url(),
        headers={"Origin": "http://a.example", "Access-Control-Request-Headers": "x-a"},
    )
    assert r.status == 204
    assert r.headers["access-control-allow-origin"] == "*"
    assert r.headers["access-control-allow-methods"] == "GET,HEAD,PUT,PATCH,POST,DELETE"
    assert r.headers["access-control-allow-headers"] == "x-a"


def test_other_method_with_sid_EIO_HS_19(server):
    sid, _ = polling_open(server.port, ECHO)
    assert http(server.port, "PUT", eio_url(ECHO, sid)).status == 500
    assert http(server.port, "POST", eio_url(ECHO, sid), b"4still").text == "ok"


def test_refused_upgrade_is_raw_400_EIO_HS_13(server):
    ws = WebSocket(server.port, eio_url(sid="nope", transport="websocket"))
    assert ws.status == 400
    assert ws.headers["content-type"] == "text/html"


def test_unknown_path_404(server):
    assert http(server.port, "GET", "/elsewhere/?EIO=4&transport=polling").status == 404


def test_malformed_request_head_400(server):
    import socket

    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as s:
        s.sendall(b"GET /socket.io/ HTTP/9.9\r\n\r\n")
        assert read_response(s).status == 400


# ---------------------------------------------------------------- echo (EIO-PKT, EIO-POLL)


def test_polling_echo_text_and_binary_EIO_PKT_06_07(server):
    sid, _ = polling_open(server.port, ECHO)
    r = http(server.port, "POST", eio_url(ECHO, sid), b"4hello\x1ebAQIDBA==\x1e4")
    assert (r.status, r.text, r.headers["content-type"]) == (200, "ok", "text/html")
    assert http(server.port, "GET", eio_url(ECHO, sid)).body == b"4hello\x1ebAQIDBA==\x1e4"


def test_polling_utf8_content_length_EIO_PKT_12(server):
    sid, _ = polling_open(server.port, ECHO)
    body = "4€é\x1e4😀".encode()
    http(server.port, "POST", eio_url(ECHO, sid), body)
    r = http(server.port, "GET", eio_url(ECHO, sid))
    assert r.body == body and int(r.headers["content-length"]) == len(body)


def test_websocket_echo_EIO_PKT_05_11(server):
    ws, _ = ws_open(server.port, ECHO)
    ws.send("4hello")
    assert ws.recv() == "4hello"
    ws.send(b"\x01\x02\x03\x04")
    assert ws.recv() == b"\x01\x02\x03\x04"
    ws.send("4a\x1e4b")
    assert ws.recv() == "4a\x1e4b"
    ws.close()


def test_websocket_fragmented_message(server):
    ws, _ = ws_open(server.port, ECHO)
    ws.send_frame(1, b"4fra", fin=False)
    ws.send_frame(0, b"gmen", fin=False)
    ws.send_frame(0, b"ted", fin=True)
    assert ws.recv() == "4fragmented"
    ws.close()


def test_invalid_packet_closes_EIO_PKT_02(server):
    sid, _ = polling_open(server.port, ECHO)
    http(server.port, "POST", eio_url(ECHO, sid), b"abc")
    assert http(server.port, "GET", eio_url(ECHO, sid)).status == 400
    ws, _ = ws_open(server.port, ECHO)
    ws.send("abc")
    assert ws.wait_closed(1.0)


def test_stray_control_packets_ignored_EIO_POLL_07(server):
    sid, _ = polling_open(server.port, ECHO)
    http(server.port, "POST", eio_url(ECHO, sid), b"0\x1e5\x1e6\x1e4after")
    assert http(server.port, "GET", eio_url(ECHO, sid)).body == b"4after"


def test_octet_stream_post_rejected_EIO_PKT_14(server):
    sid, _ = polling_open(server.port, ECHO)
    r = http(server.port, "POST", eio_url(ECHO, sid), b"4hello", headers={"Content-Type": "application/octet-stream"})
    assert r.status == 400
    assert http(server.port, "GET", eio_url(ECHO, sid)).status == 400


@pytest.mark.server_args("--max-payload", "1000", "--ping-interval", "2000", "--ping-timeout", "1000")
def test_payload_limit_EIO_POLL_05_06(fresh_server):
    port = fresh_server.port
    sid, info = polling_open(port, ECHO)
    assert info["maxPayload"] == 1000
    assert http(port, "POST", eio_url(ECHO, sid), b"4" + b"x" * 1000).status == 413
    assert http(port, "POST", eio_url(ECHO, sid), b"4" + b"x" * 999).text == "ok"  # exactly the limit
    assert http(port, "GET", eio_url(ECHO, sid)).body == b"4" + b"x" * 999
    ws, _ = ws_open(port, ECHO)
    ws.send("4" + "y" * 999)
    assert ws.recv() == "4" + "y" * 999
    ws.send("4" + "y" * 1000)
    assert ws.wait_closed(1.0) and ws.close_code == 1009


def test_duplicate_get_EIO_POLL_01(server):
    sid, _ = polling_open(server.port, ECHO)
    held = start_request(server.port, "GET", eio_url(ECHO, sid))
    # Barrier: the GET's bytes were sent before the POST's connection was opened, and the server
    # serves connections in accept order, so once this noop POST is answered the GET is held.
    assert http(server.port, "POST", eio_url(ECHO, sid), b"6").text == "ok"
    second = http(server.port, "GET", eio_url(ECHO, sid))
    assert second.status == 400
    assert read_response(held).body == b"1"
    held.close()
    assert http(server.port, "GET", eio_url(ECHO, sid)).status == 400


# ---------------------------------------------------------------- heartbeat and close (EIO-HB, EIO-CL)


def test_polling_ping_pong_EIO_HB_01(server):
    sid, _ = polling_open(server.port, ECHO)
    for _ in range(3):
        t0 = time.monotonic()
        assert http(server.port, "GET", eio_url(ECHO, sid)).body == b"2"
        assert time.monotonic() - t0 < 0.6
        assert http(server.port, "POST", eio_url(ECHO, sid), b"3").text == "ok"


def test_polling_ping_timeout_EIO_HB_03_07(server):
    sid, _ = polling_open(server.port, ECHO)
    t0 = time.monotonic()
    assert http(server.port, "GET", eio_url(ECHO, sid)).body == b"2"
    assert http(server.port, "GET", eio_url(ECHO, sid)).body == b"1"  # released by the timeout
    assert time.monotonic() - t0 < 0.5 + 0.1
    assert http(server.port, "GET", eio_url(ECHO, sid)).status == 400


def test_websocket_ping_pong_and_timeout_EIO_HB_01_03(server):
    ws, _ = ws_open(server.port, ECHO)
    for _ in range(3):
        assert ws.recv(1.0) == "2"
        ws.send("3")
    t0 = time.monotonic()
    assert ws.wait_closed(1.0)
    assert time.monotonic() - t0 < 0.6


def test_client_ping_is_violation_EIO_HB_05(server):
    ws, _ = ws_open(server.port, ECHO)
    ws.send("2")
    assert ws.wait_closed(0.25)


def test_polling_client_close_EIO_CL_01(server):
    sid, _ = polling_open(server.port, ECHO)
    held = start_request(server.port, "GET", eio_url(ECHO, sid))
    assert http(server.port, "POST", eio_url(ECHO, sid), b"6").text == "ok"
    assert http(server.port, "POST", eio_url(ECHO, sid), b"1").text == "ok"
    assert read_response(held).body == b"6"
    held.close()
    assert http(server.port, "GET", eio_url(ECHO, sid)).status == 400


def test_aborted_get_ends_session_EIO_POLL_03(server):
    sid, _ = polling_open(server.port, ECHO)
    held = start_request(server.port, "GET", eio_url(ECHO, sid))
    assert http(server.port, "POST", eio_url(ECHO, sid), b"6").text == "ok"
    held.close()
    deadline = time.monotonic() + DEADLINE
    while http(server.port, "POST", eio_url(ECHO, sid), b"6").status == 200:
        assert time.monotonic() < deadline


# ---------------------------------------------------------------- upgrade (EIO-UP)


def test_upgrade_EIO_UP_01_02_03_04(server):
    sid, _ = polling_open(server.port, ECHO)
    http(server.port, "POST", eio_url(ECHO, sid), b"4buffered")
    ws = WebSocket(server.port, eio_url(ECHO, sid, "websocket"))
    assert ws.status == 101
    ws.send("2probe")
    assert ws.recv() == "3probe"
    assert http(server.port, "GET", eio_url(ECHO, sid)).body == b"4buffered"
    assert http(server.port, "GET", eio_url(ECHO, sid)).body == b"6"
    http(server.port, "POST", eio_url(ECHO, sid), b"4during")
    ws.send("5")
    assert ws.recv() == "4during"
    ws.send("4hello")
    assert ws.recv() == "4hello"
    r = http(server.port, "GET", eio_url(ECHO, sid))
    assert r.status == 400 and json.loads(r.body)["code"] == 3
    assert http(server.port, "POST", eio_url(ECHO, sid), b"4x").status == 400
    second = WebSocket(server.port, eio_url(ECHO, sid, "websocket"))
    assert second.wait_closed(1.0)
    ws.send("4still")
    assert ws.recv() == "4still"
    ws.close()


def test_held_get_released_by_probe_EIO_UP_02(server):
    sid, _ = polling_open(server.port, ECHO)
    held = start_request(server.port, "GET", eio_url(ECHO, sid))
    assert http(server.port, "POST", eio_url(ECHO, sid), b"6").text == "ok"
    ws = WebSocket(server.port, eio_url(ECHO, sid, "websocket"))
    ws.send("2probe")
    assert ws.recv() == "3probe"
    assert read_response(held).body == b"6"
    ws.send("5")
    ws.send("4x")
    assert ws.recv() == "4x"


def test_wrong_probe_packet_EIO_UP_07(server):
    sid, _ = polling_open(server.port, ECHO)
    ws = WebSocket(server.port, eio_url(ECHO, sid, "websocket"))
    ws.send("4early")
    assert ws.wait_closed(1.0)
    assert http(server.port, "POST", eio_url(ECHO, sid), b"4ok").text == "ok"
    assert http(server.port, "GET", eio_url(ECHO, sid)).body == b"4ok"


@pytest.mark.server_args("--upgrade-timeout", "300", "--ping-interval", "5000", "--ping-timeout", "5000")
@pytest.mark.parametrize("probed", [True, False])
def test_upgrade_timeout_closes_the_probe_EIO_UP_08(fresh_server, probed):
    """A WebSocket opened for an upgrade that does not finish it within --upgrade-timeout gets a close
    frame 1000; the session itself goes on over polling."""
    port = fresh_server.port
    sid, _ = polling_open(port, ECHO)
    ws = WebSocket(port, eio_url(ECHO, sid, "websocket"))
    assert ws.status == 101
    if probed:
        ws.send("2probe")
        assert ws.recv() == "3probe"
    start = time.monotonic()
    assert ws.wait_closed(0.3 + 2.0), "the probe WebSocket was not closed after --upgrade-timeout"
    assert time.monotonic() - start >= 0.2, "closed long before the upgrade timeout"
    assert ws.close_code == 1000
    assert http(port, "POST", eio_url(ECHO, sid), b"4after").text == "ok"
    assert http(port, "GET", eio_url(ECHO, sid)).body == b"4after"
    again = WebSocket(port, eio_url(ECHO, sid, "websocket"))  # a new upgrade attempt is allowed
    again.send("2probe")
    assert again.recv() == "3probe"
    again.send("5")
    again.send("4up")
    assert again.recv() == "4up"
    again.close()


def test_second_websocket_on_websocket_session_EIO_UP_09(server):
    ws, info = ws_open(server.port, ECHO)
    second = WebSocket(server.port, eio_url(ECHO, info["sid"], "websocket"))
    assert second.wait_closed(1.0)
    ws.send("4first")
    assert ws.recv() == "4first"


# ---------------------------------------------------------------- Engine.IO v3 and JSONP (--allow-eio3)


def _v3_open(port: int, path: str) -> str:
    r = http(port, "GET", f"{path}?EIO=3&transport=polling")
    assert r.status == 200 and re.match(rb"\d+:0\{", r.body)  # EIO-HS-24: length-prefixed
    return json.loads(r.body.split(b":", 1)[1][1:])["sid"]


@pytest.mark.server_args("--allow-eio3", "--ping-interval", "300", "--ping-timeout", "200")
def test_eio3_polling_EIO_PKT_15_16_17_HB_08(fresh_server):
    port = fresh_server.port
    sid = _v3_open(port, ECHO)
    url = f"{ECHO}?EIO=3&transport=polling&sid={sid}"
    assert http(port, "POST", url, b"6:4hello2:4\xe2\x82\xac").text == "ok"
    assert http(port, "GET", url).body == b"6:4hello2:4\xe2\x82\xac"  # lengths in UTF-16 units
    assert http(port, "POST", url, b"1:2").text == "ok"  # the client pings in v3
    assert http(port, "GET", url).body == b"1:3"
    assert http(port, "POST", url, b"5:42[]").text == "ok"  # bad length: whole payload refused
    assert http(port, "GET", url).status == 400


@pytest.mark.server_args("--allow-eio3", "--ping-interval", "300", "--ping-timeout", "200")
def test_eio3_binary_reply_and_timeout_EIO_PKT_17_HB_08(fresh_server):
    port = fresh_server.port
    sid = _v3_open(port, ECHO)
    url = f"{ECHO}?EIO=3&transport=polling&sid={sid}"
    http(port, "POST", url, b"6:4hello10:b4AQIDBA==")
    r = http(port, "GET", url)
    assert r.headers["content-type"] == "application/octet-stream"
    assert r.body == b"\x00\x06\xff4hello\x01\x05\xff\x04\x01\x02\x03\x04"
    t0 = time.monotonic()  # no client ping: closed after pingInterval + pingTimeout
    assert http(port, "GET", url).body == b"1:1"
    assert time.monotonic() - t0 < 0.6


@pytest.mark.server_args("--allow-eio3")
def test_eio3_websocket_and_upgrade_EIO_PKT_18_UP_11(fresh_server):
    port = fresh_server.port
    ws = WebSocket(port, f"{ECHO}?EIO=3&transport=websocket")
    assert ws.recv().startswith("0{")
    ws.send(b"\x04\x01\x02\x03")
    assert ws.recv() == b"\x04\x01\x02\x03"
    sid = _v3_open(port, ECHO)
    url = f"{ECHO}?EIO=3&transport=polling&sid={sid}"
    probe = WebSocket(port, f"{ECHO}?EIO=3&transport=websocket&sid={sid}")
    probe.send("2probe")
    assert probe.recv() == "3probe"
    assert http(port, "GET", url).body == b"1:6"
    probe.send("5")
    probe.send("4up")
    assert probe.recv() == "4up"


@pytest.mark.server_args("--allow-eio3")
def test_eio3_socketio_v4_SIO_PKT_19(fresh_server):
    port = fresh_server.port
    sid = _v3_open(port, "/socket.io/")
    url = f"/socket.io/?EIO=3&transport=polling&sid={sid}"
    first = http(port, "GET", url).body  # joined to "/" at once; the handler's auth follows
    assert first.startswith(b"2:40")
    if first == b"2:40":
        first += http(port, "GET", url).body
    assert first == b'2:4013:42["auth",{}]'
    connect = b"40/custom?token=abc,"
    http(port, "POST", url, b"%d:%s" % (len(connect), connect))
    reply = b'42/custom,["auth",{"token":"abc"}]'
    got = http(port, "GET", url).body
    if got == b"10:40/custom,":
        got += http(port, "GET", url).body
    assert got == b"10:40/custom,%d:%s" % (len(reply), reply)
    refused = b"40/auth?token=no,"
    http(port, "POST", url, b"%d:%s" % (len(refused), refused))
    assert http(port, "GET", url).body == b'24:44/auth,"not authorized"'


def test_jsonp_EIO_PKT_20(server):
    r = http(server.port, "GET", f"{ECHO}?EIO=4&transport=polling&j=3")
    assert r.body.startswith(b'___eio[3]("0{') and r.body.endswith(b'");')
    sid = r.text.split('\\"sid\\":\\"')[1].split('\\"')[0]
    url = f"{ECHO}?EIO=4&transport=polling&sid={sid}&j=3"
    assert (
        http(
            server.port,
            "POST",
            url,
            b"d=4hello%1E4x%5Cn",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ).text
        == "ok"
    )
    assert http(server.port, "GET", url).body == b'___eio[3]("4hello\\u001e4x\\n");'


@pytest.mark.server_args("--allow-eio3")
@pytest.mark.parametrize(
    ("eio", "posted", "echoed"),
    [
        (3, b"d=6%3Ab4AQID6%3Ab4AQID2%3A40", b"6:b4AQID6:b4AQID2:40"),
        (3, b"d=2%3A4a6%3Ab4AQID2%3A4b6%3Ab4BAUG", b"2:4a6:b4AQID2:4b6:b4BAUG"),
        (4, b"d=4a%1EbAQID%1EbBAUG%1E4z", b"4a\\u001ebAQID\\u001ebBAUG\\u001e4z"),
    ],
    ids=["v3-two-records", "v3-text-around-records", "v4"],
)
def test_jsonp_base64_records_EIO_PKT_20(fresh_server, eio: int, posted: bytes, echoed: bytes):
    """Base64 records in a JSONP body are decoded while the rest of the body is still read (once a
    heap use after free in the session); the echo sends them back as base64 records."""
    port = fresh_server.port
    r = http(port, "GET", f"{ECHO}?EIO={eio}&transport=polling&j=0")
    assert r.body.startswith(b'___eio[0]("') and r.body.endswith(b'");')
    sid = r.text.split('\\"sid\\":\\"')[1].split('\\"')[0]
    url = f"{ECHO}?EIO={eio}&transport=polling&sid={sid}&j=0"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    assert http(port, "POST", url, posted, headers=form).text == "ok"
    assert http(port, "GET", url).body == b'___eio[0]("' + echoed + b'");'


@pytest.mark.server_args("--app", "engineio-echo", "--path", "/custom-path/", "--echo-path", "", "--cors-origin", "")
def test_app_path_and_cors_options(fresh_server):
    port = fresh_server.port
    sid, _ = polling_open(port, "/custom-path/")
    http(port, "POST", eio_url("/custom-path/", sid), b"4echoed")
    r = http(port, "GET", eio_url("/custom-path/", sid))
    assert r.body == b"4echoed" and "access-control-allow-origin" not in r.headers
    assert http(port, "GET", eio_url("/socket.io/")).status == 404
    assert http(port, "GET", eio_url(ECHO)).status == 404
    assert http(port, "OPTIONS", eio_url("/custom-path/")).status == 400  # no CORS: a bad handshake


def test_sid_belongs_to_its_endpoint(server):
    sid, _ = polling_open(server.port, ECHO)
    r = http(server.port, "GET", eio_url("/socket.io/", sid))
    assert r.status == 400 and json.loads(r.body)["code"] == 1


# ---------------------------------------------------------------------------- --initial-packet limit


@pytest.mark.server_args("--initial-packet", "é" * 500)  # 1000 bytes of UTF-8: the limit itself
def test_initial_packet_at_the_limit_is_sent_after_the_open_packet(fresh_server):
    r = http(fresh_server.port, "GET", eio_url("/engine.io/"))
    packets = r.body.decode("utf-8").split("\x1e")
    assert packets[0].startswith("0{") and packets[1:] == ["4" + "é" * 500]
    # The Socket.IO endpoint never gets it: a message there would be a Socket.IO packet.
    assert "\x1e" not in http(fresh_server.port, "GET", eio_url()).body.decode()


@pytest.mark.parametrize("value", ["x" * 1001, "\udcff"], ids=["1001-bytes", "not-utf8"])
def test_initial_packet_over_the_limit_or_not_utf8_is_refused_at_start(value):
    import os
    import subprocess

    from serverkit import SERVER

    arg = value.encode("utf-8", "surrogateescape")
    proc = subprocess.run(
        [str(SERVER), "--port", "0", "--initial-packet", os.fsdecode(arg)], capture_output=True, timeout=DEADLINE
    )
    assert proc.returncode == 2
    assert b"--initial-packet: at most 1000 bytes of UTF-8" in proc.stderr
