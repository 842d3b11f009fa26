"""build/reference-server at the Socket.IO level, running the fixture of conformance/FIXTURE.md:
the official suite's part (connect, auth, message, acks, binary) and the extended part (rooms,
broadcast, server acks, disconnects and their log)."""

from __future__ import annotations

import json
import time

import pytest
from serverkit import eio_url, http, polling_open, ws_open


def connect(port: int, nsp: str = "/", auth: str = ""):
    """A WebSocket session joined to `nsp`; returns (ws, socket id)."""
    ws, _ = ws_open(port)
    prefix = "" if nsp == "/" else nsp + ","
    ws.send("40" + prefix + auth)
    reply = ws.recv_skip_pings()
    assert reply.startswith("40" + prefix), reply
    info = json.loads(reply[2 + len(prefix) :])
    assert list(info) == ["sid"]
    assert ws.recv_skip_pings() == f'42{prefix}["auth",{auth or "{}"}]'
    return ws, info["sid"]


def ack_of(ws, ack_id: int):
    """The payload array of ACK `ack_id` (pings are answered meanwhile)."""
    msg = ws.recv_skip_pings()
    assert msg.startswith(f"43{ack_id}["), msg
    return json.loads(msg[len(f"43{ack_id}") :])


def poll_records(port: int, sid: str, count: int) -> list[str]:
    """GETs until `count` payload records have arrived (they may come in several bodies)."""
    records: list[str] = []
    while len(records) < count:
        r = http(port, "GET", eio_url(sid=sid))
        assert r.status == 200
        records += r.text.split("\x1e")
    return records


def log_records(ws, ack_id: int = 900) -> list:
    ws.send(f'42{ack_id}["log"]')
    return ack_of(ws, ack_id)[0]


# ---------------------------------------------------------------- connect (official part)


def test_connect_main_namespace_SIO_PKT_13_SIO_NSP_11(server):
    ws, sid = connect(server.port)
    ws2, sid2 = connect(server.port, auth='{"token":"123"}')
    assert sid != sid2 and len(sid) == 20


def test_connect_custom_namespace_without_comma_SIO_PKT_02(server):
    ws, _ = ws_open(server.port)
    ws.send("40/custom")
    assert ws.recv().startswith('40/custom,{"sid":"')
    assert ws.recv() == '42/custom,["auth",{}]'
    ws.send('40/custom,{"token":"abc"}')  # duplicate CONNECT closes (SIO-NSP-05)
    assert ws.wait_closed(1.0)


def test_unknown_namespace_SIO_PKT_14_SIO_NSP_04(server):
    ws, _ = ws_open(server.port)
    for name in ("/random", "/Custom", "/custom/", "/dyn-x"):
        ws.send("40" + name)
        assert ws.recv() == f'44{name},{{"message":"Invalid namespace"}}'
    ws.send("40")  # the connection is still usable
    assert ws.recv().startswith('40{"sid":')


def test_connect_timeout_SIO_NSP_01(server):
    ws, _ = ws_open(server.port)
    t0 = time.monotonic()
    while True:  # answer pings so that only the connect timeout can close
        try:
            assert ws.recv(2.0) == "2"
            ws.send("3")
        except ConnectionError:
            break
    assert 0.9 < time.monotonic() - t0 < 1.5


@pytest.mark.parametrize(
    "packet",
    [
        "4abc",
        '42{}',
        '42abc["message"]',
        "47",
        '42/custom,["message"]',
        '44{"message":"x"}',
        '41{}',
        '42["disconnecting"]',
    ],
)
def test_protocol_violations_close_ERR_03(server, packet):
    ws, _ = connect(server.port)
    ws.send(packet)
    assert ws.wait_closed(1.0)


def test_auth_middleware_SIO_NSP_07(server):
    ws, _ = ws_open(server.port)
    ws.send('40/auth,{"token":"no"}')
    assert ws.recv() == '44/auth,{"message":"not authorized"}'
    ws.send('40/auth,{"withData":1}')
    assert ws.recv() == '44/auth,{"message":"not authorized","data":{"code":42}}'
    ws.send('40/auth,{"token":"ok"}')
    assert ws.recv().startswith('40/auth,{"sid":')


def test_dynamic_namespace_SIO_NSP_08(server):
    ws, _ = connect(server.port, "/dyn-12")
    ws.send('42/dyn-12,["message","x"]')
    assert ws.recv_skip_pings() == '42/dyn-12,["message-back","x"]'


# ---------------------------------------------------------------- messages and acks


def test_message_echo_SIO_PKT_17(server):
    ws, _ = connect(server.port)
    ws.send('42["message",1,"2",{"3":[true]}]')
    assert ws.recv_skip_pings() == '42["message-back",1,"2",{"3":[true]}]'


def test_message_echo_respelled_where_whitespace_or_escaped_names_SIO_PKT_17(server):
    """Arguments without whitespace or backslashes are echoed as received; any whitespace between
    tokens, or a backslash anywhere, sends them through the JSON writer, which drops the
    whitespace and writes member names unescaped. A backslash or whitespace at every offset of the
    first 24 bytes, so that it falls in every position of the server's eight-byte scan and its
    byte-by-byte tail."""
    ws, _ = connect(server.port)
    for at in range(24):
        pad = "p" * at
        ws.send(f'42["message",{{"{pad}\\u0041":1}}]')
        assert ws.recv_skip_pings() == f'42["message-back",{{"{pad}A":1}}]', at
        ws.send(f'42["message",["{pad}",\t{at}]]')
        assert ws.recv_skip_pings() == f'42["message-back",["{pad}",{at}]]', at
        ws.send(f'42["message","{pad}\\"q"]')  # an escaped quote in a value: same bytes either way
        assert ws.recv_skip_pings() == f'42["message-back","{pad}\\"q"]', at
        ws.send(f'42["message","{pad}",{at}]')
        assert ws.recv_skip_pings() == f'42["message-back","{pad}",{at}]', at


def test_client_ack_SIO_ACK_01(server):
    ws, _ = connect(server.port)
    ws.send('42456["message-with-ack",1,"2",{"3":[false]}]')
    assert ws.recv_skip_pings() == '43456[1,"2",{"3":[false]}]'
    ws.send('425["double-ack"]')
    assert ws.recv_skip_pings() == "435[1]"
    ws.send('42["message","after"]')  # nothing else was sent in between
    assert ws.recv_skip_pings() == '42["message-back","after"]'


def test_binary_event_and_ack_SIO_PKT_09_SIO_ACK_02(server):
    ws, _ = connect(server.port)
    ws.send('452-["message",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]')
    ws.send(b"\x01\x02")
    ws.send(b"\x03")
    assert ws.recv_skip_pings() == '452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'
    assert ws.recv_skip_pings() == b"\x01\x02"
    assert ws.recv_skip_pings() == b"\x03"
    ws.send('452-789["message-with-ack",{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]')
    ws.send(b"\x0a")
    ws.send(b"\x0b")
    # placeholders are renumbered in the order they are written: the reply starts with 0b
    assert ws.recv_skip_pings() == '462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]'
    assert ws.recv_skip_pings() == b"\x0b"
    assert ws.recv_skip_pings() == b"\x0a"
    ws.send('42["server-bin"]')
    assert ws.recv_skip_pings() == '452-["bin",{"_placeholder":true,"num":0},{"x":[{"_placeholder":true,"num":1}]}]'
    assert ws.recv_skip_pings() == b"\x01\x02"
    assert ws.recv_skip_pings() == b"\x03"


def test_binary_over_polling_SIO_PKT_09(server):
    sid, _ = polling_open(server.port)
    assert http(server.port, "POST", eio_url(sid=sid), b"40").text == "ok"
    body = poll_records(server.port, sid, 2)
    assert body[0].startswith('40{"sid":') and body[1] == '42["auth",{}]'
    http(server.port, "POST", eio_url(sid=sid), b'451-["message",{"_placeholder":true,"num":0}]\x1ebAQID')
    assert (
        http(server.port, "GET", eio_url(sid=sid)).text == '451-["message-back",{"_placeholder":true,"num":0}]\x1ebAQID'
    )


def test_server_to_client_ack_SIO_ACK_03_04(server):
    a, _ = connect(server.port, "/custom")
    b, _ = connect(server.port, "/custom")
    ids = []
    for ws in (a, b):
        ws.send('42/custom,["server-ack","q"]')
        msg = ws.recv_skip_pings()
        prefix = '42/custom,'
        assert msg.startswith(prefix) and msg.endswith('["need-ack","q"]')
        ids.append(int(msg[len(prefix) : msg.index("[")]))
    assert ids[1] > ids[0]
    b.send(f'43/custom,{ids[1]}["r",1]')
    assert b.recv_skip_pings() == '42/custom,["ack-result","r",1]'
    b.send(f'43/custom,{ids[1]}["again"]')  # a replay is ignored
    b.send(f'43/custom,{ids[0]}["not yours"]')  # an id sent to another socket is ignored
    b.send('42/custom,["server-ack-timeout",150,"t"]')
    assert b.recv_skip_pings().endswith('["need-ack","t"]')
    t0 = time.monotonic()
    assert b.recv_skip_pings() == '42/custom,["ack-timeout"]'
    assert 0.1 < time.monotonic() - t0 < 0.5


def test_broadcast_ack_SIO_ACK_05(server):
    socks = [connect(server.port, "/dyn-77")[0] for _ in range(3)]
    socks[0].send('42/dyn-77,["bc-ack",300,"x"]')
    for i, ws in enumerate(socks[:2]):
        msg = ws.recv_skip_pings()
        ack_id = msg[len("42/dyn-77,") : msg.index("[")]
        ws.send(f'43/dyn-77,{ack_id}["r{i}"]')
    msg = socks[0].recv_skip_pings()
    assert msg.startswith("42/dyn-77,") and msg.endswith('["need-ack","x"]') is False
    event = json.loads(msg[len("42/dyn-77,") :])
    assert event[0] == "bc-ack-result" and event[1] is True and sorted(event[2]) == ["r0", "r1"]


# ---------------------------------------------------------------- rooms and broadcast


def test_rooms_SIO_ROOM_01(server):
    ws, sid = connect(server.port)
    ws.send('421["rooms"]')
    assert ack_of(ws, 1) == [[sid]]
    ws.send('422["join","r1"]')
    assert sorted(ack_of(ws, 2)[0]) == sorted([sid, "r1"])
    ws.send('423["leave","r1"]')
    assert ack_of(ws, 3) == [[sid]]


def test_broadcast_and_rooms_SIO_BC_01_to_05(server):
    nsp = "/dyn-5"
    (a, sa), (b, sb), (c, sc) = (connect(server.port, nsp) for _ in range(3))
    p = nsp + ","
    for ws, rooms in ((a, ["r1"]), (b, ["r1", "r2"]), (c, ["r2"])):
        for i, r in enumerate(rooms):
            ws.send(f'42{p}{10 + i}["join","{r}"]')
            ack_of_nsp = ws.recv_skip_pings()
            assert ack_of_nsp.startswith(f"43{p}{10 + i}")
    a.send(f'42{p}["to","r1","hello"]')  # b only: the sender is excluded (SIO-BC-03)
    assert b.recv_skip_pings() == f'42{p}["to","hello"]'
    a.send(f'42{p}["to-many",["r1","r2"],"u"]')  # b once, c once (SIO-BC-04)
    assert b.recv_skip_pings() == f'42{p}["to","u"]'
    assert c.recv_skip_pings() == f'42{p}["to","u"]'
    a.send(f'42{p}["broadcast",1]')  # everyone but a (SIO-BC-02)
    assert b.recv_skip_pings() == f'42{p}["bc",1]'
    assert c.recv_skip_pings() == f'42{p}["bc",1]'
    a.send(f'42{p}["except","r2",2]')  # a itself included (SIO-BC-05)
    assert a.recv_skip_pings() == f'42{p}["except",2]'
    a.send(f'42{p}["to-except","r1","{sb}",3]')
    assert a.recv_skip_pings() == f'42{p}["except",3]'
    a.send(f'42{p}["nsp-emit",4]')  # all three (SIO-BC-01)
    for ws in (a, b, c):
        assert ws.recv_skip_pings() == f'42{p}["nsp",4]'
    # Nothing else was delivered to b or c: the next message each gets is its own echo.
    for ws in (b, c):
        ws.send(f'42{p}["message","end"]')
        assert ws.recv_skip_pings() == f'42{p}["message-back","end"]'


# ---------------------------------------------------------------- disconnect


def test_client_namespace_disconnect_SIO_DC_01_02(server):
    ws, _ = connect(server.port)
    other, osid = connect(server.port, "/custom")
    other.send('42/custom,1["join","gone"]')
    ack = other.recv_skip_pings()
    assert ack.startswith("43/custom,1")
    log_records(ws, 800)  # start from an empty log
    other.send("41/custom")
    assert other.recv(0.5) == "2"  # nothing but the next ping; Engine.IO stays open
    records = [r for r in log_records(ws) if r["sid"] == osid]
    assert records == [
        {
            "event": "disconnecting",
            "nsp": "/custom",
            "sid": osid,
            "reason": "client namespace disconnect",
            "rooms": records[0]["rooms"],
        },
        {"event": "disconnect", "nsp": "/custom", "sid": osid, "reason": "client namespace disconnect", "rooms": []},
    ]
    assert sorted(records[0]["rooms"]) == sorted([osid, "gone"])
    other.send("3")
    other.send("40/custom")  # can join again, with a new id
    assert other.recv_skip_pings().startswith('40/custom,{"sid":')


def test_server_namespace_disconnect_SIO_DC_03(server):
    ws, sid = connect(server.port, "/custom")
    ws.send('42/custom,["disconnect-me",false]')
    assert ws.recv_skip_pings() == "41/custom,"
    ws.send("40")
    assert ws.recv_skip_pings().startswith('40{"sid":')


def test_server_closes_connection_SIO_DC_04_05(server):
    ws, sid = connect(server.port)
    ws.send("40/custom")
    assert ws.recv_skip_pings().startswith("40/custom,")
    ws.recv_skip_pings()
    ws.send('42["disconnect-me",true]')
    got = {ws.recv_skip_pings(), ws.recv_skip_pings()}
    assert got == {"41", "41/custom,"}
    assert ws.wait_closed(1.0)
    watcher, _ = connect(server.port)
    reasons = {r["reason"] for r in log_records(watcher) if r["sid"] == sid}
    assert reasons == {"server namespace disconnect"}


def test_transport_close_reason_SIO_DC_05(server):
    ws, sid = connect(server.port)
    ws.close()
    watcher, _ = connect(server.port)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        reasons = {r["reason"] for r in log_records(watcher) if r["sid"] == sid}
        if reasons:
            break
    assert reasons == {"transport close"}


def test_polling_server_close_SIO_DC_04(server):
    sid, _ = polling_open(server.port)
    http(server.port, "POST", eio_url(sid=sid), b"40")
    assert poll_records(server.port, sid, 2)[0].startswith("40")
    http(server.port, "POST", eio_url(sid=sid), b'42["disconnect-me",true]')
    assert http(server.port, "GET", eio_url(sid=sid)).text == "41"
    assert http(server.port, "GET", eio_url(sid=sid)).text == "1"
    assert http(server.port, "GET", eio_url(sid=sid)).status == 400


def test_decode_error_logged_SIO_DC_08(server):
    ws, sid = connect(server.port)
    ws.send("4abc")
    assert ws.wait_closed(1.0)
    watcher, _ = connect(server.port)
    records = [r for r in log_records(watcher) if r["sid"] == sid]
    assert [r["event"] for r in records] == ["error", "disconnecting", "disconnect"]
    assert records[0]["nsp"] == "/" and records[0]["message"]
    assert records[1]["reason"] == records[2]["reason"] == "forced close"
