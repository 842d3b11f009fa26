#!/usr/bin/env python3
"""Writes the adapter vectors (vectors/adapter/*.json) from the list below: each message's bytes,
every byte labelled (msgpack values one by one, JSON bodies member by member), and the outcome the
reference server's adapter decoder gives (asked through build/libsiocluster.so, then checked by
hand before a vector is committed: `make test-vectors` replays them all).

    build/venv/bin/python vectors/adapter/generate.py          # rewrite the files
    build/venv/bin/python vectors/adapter/generate.py --check  # fail if a file would change
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "conformance"))

from harness.msgpack import Ext, Undefined, pack  # noqa: E402
from recorder.adapter_notes import annotate_json, annotate_msgpack  # noqa: E402
from siocodec.adapter import ADAPTERS, AdapterError  # noqa: E402

CAPTURE = "bytes captured from two socket.io 4.8.3 servers joined by @socket.io/redis-adapter 8.3.0 (notepack.io 3.0.1), uids made deterministic"
BUILT = "built in the layout of the captures (notepack.io 3.0.1's choices), for the case named"
NODE = "@socket.io/redis-adapter 8.3.0 + notepack.io 3.0.1 + socket.io 4.8.3 (npm)"


# ------------------------------------------------------------------------------ the vectors
def bc(
    uid: str,
    data: list,
    rooms: list | None = None,
    except_: list | None = None,
    flags: dict | None = None,
    nsp: str = "/",
) -> bytes:
    return pack(
        [
            uid,
            {"type": 2, "data": data, "nsp": nsp},
            {"rooms": rooms or [], "except": except_ or [], "flags": flags or {}},
        ]
    )


VECTORS: list[dict[str, Any]] = [
    # ---- broadcasts, captured
    dict(
        name="y_broadcast_room_except",
        layer="adapter-broadcast",
        req=["CL-BC-02", "CL-BC-03"],
        source=CAPTURE,
        description='io.to("room1").except("room2").emit("hello", 1) on node r00001, published on socket.io#/#room1#.',
        bytes=bytes.fromhex(
            "93a672303030303183a47479706502a46461746192a568656c6c6f01a36e7370a12f83a5726f6f6d7391a5726f6f6d31a665786365707491a5726f6f6d32a5666c61677380"
        ),
    ),
    dict(
        name="y_broadcast_binary",
        layer="adapter-broadcast",
        req=["CL-BC-08"],
        source=CAPTURE,
        description='io.emit("bin", Buffer [1,2,3]): the packet stays type 2, the bytes travel inline as bin 8.',
        bytes=bytes.fromhex(
            "93a672303030303183a47479706502a46461746192a362696ec403010203a36e7370a12f83a5726f6f6d7390a665786365707490a5666c61677380"
        ),
    ),
    dict(
        name="y_broadcast_volatile_compress",
        layer="adapter-broadcast",
        req=["CL-BC-06"],
        source=CAPTURE,
        description="io.volatile.compress(false).emit: both flags in the options, in the order the application chained them.",
        bytes=bytes.fromhex(
            "93a672303030303183a47479706502a46461746192a176a178a36e7370a12f83a5726f6f6d7390a665786365707490a5666c61677382a8766f6c6174696c65c3a8636f6d7072657373c2"
        ),
    ),
    dict(
        name="y_broadcast_to_socket_id",
        layer="adapter-broadcast",
        req=["CL-BC-04"],
        source=CAPTURE,
        description="io.to(<socket id of a client of B>).emit on A: a socket id is a room, published on socket.io#/#<sid>#.",
        bytes=bytes.fromhex(
            "93a672303030303183a47479706502a46461746192a664697265637402a36e7370a12f83a5726f6f6d7391b46b797971366c6376476c454e4a65524741414141a665786365707490a5666c61677380"
        ),
    ),
    dict(
        name="y_broadcast_sender_excepted",
        layer="adapter-broadcast",
        req=["CL-BC-04"],
        source=CAPTURE,
        description="socket.broadcast.emit on node r00002: the sender's own id is the one room excepted.",
        bytes=bytes.fromhex(
            "93a672303030303283a47479706502a46461746192a2626303a36e7370a12f83a5726f6f6d7390a665786365707491b46b797971366c6376476c454e4a65524741414141a5666c61677380"
        ),
    ),
    dict(
        name="y_broadcast_emitter",
        layer="adapter-broadcast",
        req=["CL-BC-09"],
        source=CAPTURE + "; @socket.io/redis-emitter 5.1.0",
        description="The Redis emitter's broadcast: uid \"emitter\" and the options in the order rooms, flags, except.",
        bytes=bytes.fromhex(
            "93a7656d697474657283a47479706502a46461746192ac66726f6d2d656d697474657201a36e7370a12f83a5726f6f6d7391a5726f6f6d31a5666c61677380a665786365707490"
        ),
        encoded=bc("emitter", ["from-emitter", 1], ["room1"]),
    ),
    dict(
        name="y_broadcast_namespace_chat",
        layer="adapter-broadcast",
        req=["CL-BC-07"],
        source=CAPTURE,
        description="A broadcast in /chat (node uid r00007 there: one uid per namespace), published on socket.io#/chat#r#.",
        bytes=bytes.fromhex(
            "93a672303030303783a47479706502a46461746191a178a36e7370a52f6368617483a5726f6f6d7391a172a665786365707490a5666c61677380"
        ),
    ),
    # ---- broadcasts, built
    dict(
        name="y_broadcast_nested_binary",
        layer="adapter-broadcast",
        req=["CL-BC-08"],
        source=BUILT,
        description="Two byte arrays, one nested in an object: placeholders numbered depth-first, as socket.io-parser deconstructs.",
        bytes=bc("r00001", ["up", b"\x01\x02", {"x": [b"\x03"]}]),
    ),
    dict(
        name="y_broadcast_long_forms",
        layer="adapter-broadcast",
        req=["CL-BC-03"],
        source=BUILT,
        description="A 40-byte string (str 8, not str 16) and integers 300, 70000, -200 in their shortest forms.",
        bytes=bc("r00001", ["long", "x" * 40, 300, 70000, -200]),
    ),
    dict(
        name="y_broadcast_numeric_rooms",
        layer="adapter-broadcast",
        req=["CL-BC-02"],
        source=BUILT,
        description="Room names a Node application gave as numbers arrive as msgpack integers; they are their decimal text.",
        bytes=pack(["r00001", {"type": 2, "data": ["n"], "nsp": "/"}, {"rooms": [7, 1.5], "except": [], "flags": {}}]),
        encoded=bc("r00001", ["n"], ["7", "1.5"]),
    ),
    dict(
        name="y_broadcast_nsp_absent",
        layer="adapter-broadcast",
        req=["CL-BC-07"],
        source=BUILT,
        description="A packet without nsp is for / (Node's adapter fills it in).",
        bytes=pack(["r00001", {"type": 2, "data": ["e"]}, {"rooms": [], "except": [], "flags": {}}]),
        encoded=bc("r00001", ["e"]),
    ),
    dict(
        name="y_broadcast_extra_element",
        layer="adapter-broadcast",
        req=["CL-BC-01"],
        source=BUILT,
        description="A fourth array element is ignored, as Node's destructuring [uid, packet, opts] ignores it.",
        bytes=pack(["r00001", {"type": 2, "data": ["e"], "nsp": "/"}, {"rooms": [], "except": [], "flags": {}}, 9]),
        encoded=bc("r00001", ["e"]),
    ),
    dict(
        name="y_broadcast_timeout_flag",
        layer="adapter-broadcast",
        req=["CL-BC-03"],
        source=BUILT,
        description="A broadcast with a timeout flag (io.timeout(2500).emit without a callback waiting remotely).",
        bytes=bc("r00001", ["t"], flags={"timeout": 2500}),
    ),
    # ---- requests
    dict(
        name="y_request_broadcast_with_ack",
        layer="adapter-request",
        req=["CL-ACK-01"],
        source=CAPTURE,
        description="io.timeout(1000).emit(\"ask\", 42, cb): request type 7, the one request sent as msgpack.",
        bytes=bytes.fromhex(
            "85a3756964a6723030303031a9726571756573744964a6723030303033a47479706507a67061636b657483a47479706502a46461746192a361736b2aa36e7370a12fa46f70747383a5726f6f6d7390a665786365707490a5666c61677381a774696d656f7574cd03e8"
        ),
    ),
    dict(
        name="y_request_fetch_sockets",
        layer="adapter-request",
        req=["CL-RQ-01"],
        source=CAPTURE,
        description='io.in("room1").fetchSockets(): request type 5, JSON, options without flags.',
        text='{"uid":"r00001","requestId":"r00004","type":5,"opts":{"rooms":["room1"],"except":[]}}',
    ),
    dict(
        name="y_request_sockets_join",
        layer="adapter-request",
        req=["CL-RQ-02"],
        source=CAPTURE,
        description='io.in("room2").socketsJoin("room3"): no requestId, no answer; the origin acts on its own echo.',
        text='{"uid":"r00001","type":2,"opts":{"rooms":["room2"],"except":[]},"rooms":["room3"]}',
    ),
    dict(
        name="y_request_sockets_leave",
        layer="adapter-request",
        req=["CL-RQ-02"],
        source=CAPTURE,
        description='io.in("room3").socketsLeave("room3").',
        text='{"uid":"r00001","type":3,"opts":{"rooms":["room3"],"except":[]},"rooms":["room3"]}',
    ),
    dict(
        name="y_request_disconnect_sockets",
        layer="adapter-request",
        req=["CL-RQ-02"],
        source=CAPTURE,
        description='io.in("room2").disconnectSockets(true).',
        text='{"uid":"r00001","type":4,"opts":{"rooms":["room2"],"except":[]},"close":true}',
    ),
    dict(
        name="y_request_server_side_emit",
        layer="adapter-request",
        req=["CL-RQ-03"],
        source=CAPTURE,
        description='io.serverSideEmit("ping", 1): no requestId when no answer is wanted.',
        text='{"uid":"r00001","type":6,"data":["ping",1]}',
    ),
    dict(
        name="y_request_server_side_emit_with_ack",
        layer="adapter-request",
        req=["CL-RQ-03"],
        source=CAPTURE,
        description='io.serverSideEmitWithAck("ping", 2): with a requestId.',
        text='{"uid":"r00001","requestId":"r00005","type":6,"data":["ping",2]}',
    ),
    dict(
        name="y_request_all_rooms",
        layer="adapter-request",
        req=["CL-RQ-04"],
        source=CAPTURE,
        description="adapter.allRooms(): request type 1.",
        text='{"uid":"r00001","requestId":"r00006","type":1}',
    ),
    dict(
        name="y_request_legacy_remote_join",
        layer="adapter-request",
        req=["CL-RQ-02"],
        source="the legacy form Node's adapter still answers (remoteJoin of adapters before 7.x)",
        description="The legacy remote join {requestId, sid, room}: one socket by id, answered with {requestId}.",
        text='{"uid":"old","requestId":"q1","type":2,"sid":"abc","room":"r"}',
        reencode=False,
        why="the server never sends the legacy form, so there is no encoder for it",
    ),
    dict(
        name="y_request_unknown_type",
        layer="adapter-request",
        req=["CL-RQ-02"],
        source=BUILT,
        description="A request of a type no version defines is decoded as unknown (-1) and ignored, as Node ignores it.",
        text='{"uid":"x","requestId":"q","type":42}',
        reencode=False,
        why="an unknown type has no encoder",
    ),
    # ---- responses
    dict(
        name="y_response_client_count",
        layer="adapter-response",
        req=["CL-ACK-01"],
        source=CAPTURE,
        description="Type 8: how many clients of the answering node got the broadcast, as JSON.",
        text='{"type":8,"requestId":"r00003","clientCount":2}',
    ),
    dict(
        name="y_response_broadcast_ack",
        layer="adapter-response",
        req=["CL-ACK-01"],
        source=CAPTURE,
        description="Type 9: one client's first ack argument, as msgpack.",
        bytes=bytes.fromhex("83a47479706509a9726571756573744964a6723030303033a67061636b6574a861636b2d63314042"),
    ),
    dict(
        name="y_response_server_side_emit",
        layer="adapter-response",
        req=["CL-RQ-03"],
        source=CAPTURE,
        description="Type 6: the first argument a node's application acked a server-side event with, on the shared channel.",
        text='{"type":6,"requestId":"r00005","data":"pong-from-B"}',
    ),
    dict(
        name="y_response_all_rooms",
        layer="adapter-response",
        req=["CL-RQ-04"],
        source=CAPTURE,
        description="The answer to ALL_ROOMS: every room of the node, socket ids included.",
        text='{"requestId":"r00006","rooms":["kyyq6lcvGlENJeRGAAAA","room1","n3B4PntaAOpMIhmjAAAB","room2"]}',
    ),
    dict(
        name="y_response_fetch_sockets",
        layer="adapter-response",
        req=["CL-RQ-01"],
        source=BUILT,
        description="The answer to REMOTE_FETCH: each socket with id, handshake (without sessionStore), rooms and data.",
        text='{"requestId":"r00004","sockets":[{"id":"kyyq6lcvGlENJeRGAAAA","handshake":{"headers":{"host":"127.0.0.1:39091"},'
        '"time":"Sun Dec 06 2026 22:57:30 GMT+0000 (Coordinated Universal Time)","address":"127.0.0.1","xdomain":false,'
        '"secure":false,"issued":1796597850122,"url":"/socket.io/?EIO=4&transport=websocket","query":{"EIO":"4",'
        '"transport":"websocket"},"auth":{"name":"c1@B"}},"rooms":["kyyq6lcvGlENJeRGAAAA","room1"],"data":{}}]}',
    ),
    dict(
        name="y_response_legacy_join",
        layer="adapter-response",
        req=["CL-RQ-02"],
        source="the legacy form Node's adapter still answers",
        description="The answer to a legacy remote join: only the requestId.",
        text='{"requestId":"q1"}',
    ),
    # ---- refused
    dict(
        name="n_broadcast_truncated",
        layer="adapter-broadcast",
        req=["CL-BC-01"],
        source=BUILT,
        description="The captured broadcast cut after 40 bytes.",
        error="CLUSTER_ERR_MSGPACK_TRUNCATED",
        bytes=bytes.fromhex(
            "93a672303030303183a47479706502a46461746192a568656c6c6f01a36e7370a12f83a5726f6f6d7391a5726f6f6d31"
        ),
    ),
    dict(
        name="n_broadcast_reserved_byte",
        layer="adapter-broadcast",
        req=["CL-BC-01"],
        source="msgpack specification: 0xc1 is never used",
        description="Byte 0xc1 where a value should start.",
        bytes=bytes.fromhex("93a178c1"),
        error="CLUSTER_ERR_MSGPACK_RESERVED",
    ),
    dict(
        name="n_broadcast_count_past_end",
        layer="adapter-broadcast",
        req=["CL-BC-01"],
        source=BUILT,
        description="An array 32 announcing 4,294,967,295 elements in a 7-byte message: refused before anything is allocated.",
        bytes=bytes.fromhex("93a178ddffffffff"),
        error="CLUSTER_ERR_MSGPACK_COUNT",
    ),
    dict(
        name="n_broadcast_trailing_bytes",
        layer="adapter-broadcast",
        req=["CL-BC-01"],
        source=BUILT,
        description="A whole broadcast followed by one more byte.",
        error="CLUSTER_ERR_MSGPACK_TRAILING",
        bytes=bc("r00001", ["e"]) + b"\x00",
    ),
    dict(
        name="n_broadcast_too_deep",
        layer="adapter-broadcast",
        req=["CL-BC-01"],
        source=BUILT,
        description="Arguments nested 33 arrays deep counting the message's own: past CLUSTER_MAX_DEPTH (32).",
        error="CLUSTER_ERR_DEPTH",
        bytes=bytes.fromhex("93a17883a47479706502a46461746192a165")
        + bytes.fromhex("91" * 30)
        + bytes.fromhex("c0a36e7370a12f80"),
    ),
    dict(
        name="y_broadcast_depth_32",
        layer="adapter-broadcast",
        req=["CL-BC-01"],
        source=BUILT,
        description="Arguments nested to exactly CLUSTER_MAX_DEPTH (32) levels counting the message's own.",
        bytes=bytes.fromhex("93a17883a47479706502a46461746192a165")
        + bytes.fromhex("91" * 29)
        + bytes.fromhex("c0a36e7370a12f80"),
        encoded=bytes.fromhex("93a17883a47479706502a46461746192a165")
        + bytes.fromhex("91" * 29)
        + bytes.fromhex("c0a36e7370a12f83a5726f6f6d7390a665786365707490a5666c61677380"),
    ),
    dict(
        name="n_broadcast_not_array",
        layer="adapter-broadcast",
        req=["CL-BC-01"],
        source=BUILT,
        description="A map where [uid, packet, opts] should be.",
        bytes=pack({"uid": "x"}),
        error="CLUSTER_ERR_SHAPE",
    ),
    dict(
        name="n_broadcast_two_elements",
        layer="adapter-broadcast",
        req=["CL-BC-01"],
        source=BUILT,
        description="[uid, packet] without options.",
        bytes=pack(["x", {"type": 2, "data": ["e"]}]),
        error="CLUSTER_ERR_SHAPE",
    ),
    dict(
        name="n_broadcast_json_body",
        layer="adapter-broadcast",
        req=["CL-BC-01"],
        source=BUILT,
        description="A JSON text on a broadcast channel: broadcasts are msgpack only; `{` is the integer 123 and the rest is left over.",
        text='{"uid":"x"}',
        error="CLUSTER_ERR_MSGPACK_TRAILING",
    ),
    dict(
        name="n_broadcast_binary_event_type",
        layer="adapter-broadcast",
        req=["CL-BC-08"],
        source=BUILT,
        description="Packet type 5 (BINARY_EVENT) with a placeholder: a publisher must keep type 2 with the bytes inline.",
        bytes=pack(
            [
                "x",
                {"type": 5, "data": ["e", {"_placeholder": True, "num": 0}], "nsp": "/"},
                {"rooms": [], "except": [], "flags": {}},
            ]
        ),
        error="CLUSTER_ERR_PACKET_TYPE",
    ),
    dict(
        name="n_broadcast_data_not_array",
        layer="adapter-broadcast",
        req=["CL-BC-01"],
        source=BUILT,
        description="Packet data that is a string, not [name, ...args].",
        bytes=pack(["x", {"type": 2, "data": "e", "nsp": "/"}, {"rooms": [], "except": [], "flags": {}}]),
        error="CLUSTER_ERR_FIELD",
    ),
    dict(
        name="n_broadcast_map_key_array",
        layer="adapter-broadcast",
        req=["CL-BC-01"],
        source=BUILT,
        description="A map key that is an array: JavaScript would name the property \"1\" (String([1])); refused here.",
        bytes=bytes.fromhex("93a17883a47479706502a46461746192a165819101c0a36e7370a12f80"),
        error="CLUSTER_ERR_KEY",
    ),
    dict(
        name="n_broadcast_too_many_byte_arrays",
        layer="adapter-broadcast",
        req=["CL-BC-08"],
        source=BUILT,
        description="257 byte arrays in one event: past CLUSTER_MAX_ATTACHMENTS (256).",
        bytes=bc("x", ["e", *[b"\x00"] * 257]),
        error="CLUSTER_ERR_ATTACHMENTS",
    ),
    dict(
        name="y_broadcast_256_byte_arrays",
        layer="adapter-broadcast",
        req=["CL-BC-08"],
        source=BUILT,
        description="256 byte arrays in one event: exactly CLUSTER_MAX_ATTACHMENTS.",
        bytes=bc("x", ["e", *[b"\x00"] * 256]),
    ),
    dict(
        name="n_request_invalid_json",
        layer="adapter-request",
        req=["CL-RQ-01"],
        source=BUILT,
        description="A body starting with { that is not JSON.",
        text='{"uid":"x",}',
        error="CLUSTER_ERR_JSON",
    ),
    dict(
        name="n_request_json_too_deep",
        layer="adapter-request",
        req=["CL-RQ-03"],
        source=BUILT,
        description="A JSON request nested 33 deep: past CLUSTER_MAX_DEPTH.",
        text='{"uid":"x","type":6,"data":' + "[" * 32 + "]" * 32 + "}",
        error="CLUSTER_ERR_DEPTH",
    ),
    dict(
        name="n_request_not_map",
        layer="adapter-request",
        req=["CL-RQ-01"],
        source=BUILT,
        description="A msgpack request that is an array, not a map.",
        bytes=pack([1]),
        error="CLUSTER_ERR_SHAPE",
    ),
    dict(
        name="n_request_server_side_emit_data_string",
        layer="adapter-request",
        req=["CL-RQ-03"],
        source=BUILT,
        description="SERVER_SIDE_EMIT whose data is not [name, ...args].",
        text='{"uid":"x","type":6,"data":"ping"}',
        error="CLUSTER_ERR_FIELD",
    ),
    dict(
        name="n_response_invalid_utf8",
        layer="adapter-response",
        req=["CL-ACK-01"],
        source=BUILT,
        description="A type 9 response whose ack is a string with a byte 0xff.",
        bytes=bytes.fromhex("83a47479706509a9726571756573744964a171a67061636b6574a2ff41"),
        error="CLUSTER_ERR_UTF8",
    ),
    # ---- implementation-defined: JavaScript's value model, reproduced
    dict(
        name="i_broadcast_undefined",
        layer="adapter-broadcast",
        req=["CL-BC-08"],
        source=BUILT,
        description="notepack's undefined (d4 00 00): in an array it is written null, as an object property it is left out.",
        bytes=pack(
            [
                "x",
                {"type": 2, "data": ["e", Undefined, {"a": Undefined, "b": 1}], "nsp": "/"},
                {"rooms": [], "except": [], "flags": {}},
            ]
        ),
        behaviours=[
            {"who": NODE, "does": "decodes undefined; JSON.stringify writes [\"e\",null,{\"b\":1}] to clients"},
            {"who": "reference server", "does": "the same text"},
        ],
    ),
    dict(
        name="i_broadcast_integer_keys_first",
        layer="adapter-broadcast",
        req=["CL-BC-03"],
        source=BUILT,
        description="A map whose keys are \"b\", then \"1\": a JavaScript object enumerates array-index names first.",
        bytes=pack(
            ["x", {"type": 2, "data": ["e", {"b": 1, "1": 2}], "nsp": "/"}, {"rooms": [], "except": [], "flags": {}}]
        ),
        behaviours=[
            {"who": NODE, "does": "clients get {\"1\":2,\"b\":1}; re-published, \"1\" comes first"},
            {"who": "reference server", "does": "the same order"},
        ],
    ),
    dict(
        name="i_broadcast_duplicate_key",
        layer="adapter-broadcast",
        req=["CL-BC-03"],
        source=BUILT,
        description="A key given twice: the object keeps the first position and the last value.",
        bytes=bytes.fromhex("93a17883a47479706502a46461746192a16583a16101a16202a16103a36e7370a12f80"),
        behaviours=[{"who": NODE, "does": "{\"a\":3,\"b\":2}"}, {"who": "reference server", "does": "the same"}],
    ),
    dict(
        name="i_broadcast_proto_key",
        layer="adapter-broadcast",
        req=["CL-BC-03"],
        source=BUILT,
        description="A __proto__ key: notepack assigns it, which sets the prototype rather than a property; it reaches no client.",
        bytes=pack(
            [
                "x",
                {"type": 2, "data": ["e", {"__proto__": {"p": 1}, "k": 2}], "nsp": "/"},
                {"rooms": [], "except": [], "flags": {}},
            ]
        ),
        behaviours=[{"who": NODE, "does": "clients get {\"k\":2}"}, {"who": "reference server", "does": "the same"}],
    ),
    dict(
        name="i_broadcast_number_key",
        layer="adapter-broadcast",
        req=["CL-BC-03"],
        source=BUILT,
        description="Integer, nil and boolean map keys become their JavaScript property names.",
        bytes=bytes.fromhex("93a17883a47479706502a46461746192a16583070ac001c302a36e7370a12f80"),
        behaviours=[
            {"who": NODE, "does": "{\"7\":10,\"null\":1,\"true\":2}"},
            {"who": "reference server", "does": "the same"},
        ],
    ),
    dict(
        name="i_broadcast_dates",
        layer="adapter-broadcast",
        req=["CL-BC-08"],
        source=BUILT,
        description="Timestamps 32 and 64, and notepack's legacy date: each a Date, written as its ISO string.",
        bytes=pack(
            [
                "x",
                {
                    "type": 2,
                    "data": [
                        "e",
                        Ext(-1, struct.pack(">I", 1796597850)),
                        Ext(-1, struct.pack(">II", (122000000 << 2) | 0, 1796597850)),
                        Ext(0, struct.pack(">q", 1796597850122)),
                    ],
                    "nsp": "/",
                },
                {"rooms": [], "except": [], "flags": {}},
            ]
        ),
        behaviours=[
            {"who": NODE, "does": "Dates; JSON.stringify writes toISOString()"},
            {"who": "reference server", "does": "the same strings"},
        ],
    ),
    dict(
        name="i_broadcast_array_buffer_and_ext",
        layer="adapter-broadcast",
        req=["CL-BC-08"],
        source=BUILT,
        description="ext 8 of type 0 (notepack's ArrayBuffer) is binary; any other extension becomes [type, bytes].",
        bytes=pack(
            [
                "x",
                {"type": 2, "data": ["e", Ext(0, b"\x01\x02\x03"), Ext(5, b"\xaa\xbb")], "nsp": "/"},
                {"rooms": [], "except": [], "flags": {}},
            ]
        ),
        behaviours=[
            {"who": NODE, "does": "an ArrayBuffer (an attachment), and [5, Buffer]"},
            {"who": "reference server", "does": "the same"},
        ],
    ),
    dict(
        name="i_broadcast_numbers",
        layer="adapter-broadcast",
        req=["CL-BC-03"],
        source=BUILT,
        description="NaN, a float 32, 2^64-1 and -2^63 as JavaScript writes them: null, the float's double, rounded doubles.",
        bytes=bytes.fromhex(
            "93a17883a47479706502a46461746195a165cb7ff8000000000000ca3dcccccdcfffffffffffffffffd38000000000000000a36e7370a12f80"
        ),
        behaviours=[
            {"who": NODE, "does": "[\"e\",null,0.10000000149011612,18446744073709552000,-9223372036854776000]"},
            {"who": "reference server", "does": "the same text"},
        ],
    ),
    dict(
        name="i_broadcast_invalid_utf8",
        layer="adapter-broadcast",
        req=["CL-BC-01"],
        source=BUILT,
        description="A string argument with a byte 0xff.",
        bytes=bytes.fromhex("93a17883a47479706502a46461746192a165a2ff41a36e7370a12f80"),
        error="CLUSTER_ERR_UTF8",
        behaviours=[
            {"who": NODE, "does": "decodes it with U+FFFD in place of the byte and delivers it"},
            {"who": "reference server", "does": "refuses the message (its clients get nothing)"},
        ],
    ),
    dict(
        name="i_broadcast_ack_packet_type",
        layer="adapter-broadcast",
        req=["CL-BC-01"],
        source=BUILT,
        description="A broadcast whose packet has type 3 (ACK).",
        bytes=pack(["x", {"type": 3, "data": ["e"], "nsp": "/"}, {"rooms": [], "except": [], "flags": {}}]),
        error="CLUSTER_ERR_PACKET_TYPE",
        behaviours=[
            {"who": NODE, "does": "encodes the packet as it is: every client gets an ACK packet without an id"},
            {"who": "reference server", "does": "refuses anything but EVENT"},
        ],
    ),
    dict(
        name="i_broadcast_short_timestamp_96",
        layer="adapter-broadcast",
        req=["CL-BC-01"],
        source=BUILT,
        description="ext 8 of type -1 with 4 bytes: notepack reads every ext 8 of type -1 as a 12-byte timestamp.",
        bytes=bytes.fromhex("93a17883a47479706502a46461746192a165c704ff00000001a36e7370a12f80"),
        error="CLUSTER_ERR_FIELD",
        behaviours=[
            {
                "who": NODE,
                "does": "reads 8 bytes past the extension and decodes the rest of the message from the wrong offset",
            },
            {"who": "reference server", "does": "refuses the message"},
        ],
    ),
]


def build(v: dict) -> dict:
    layer = v["layer"]
    data = v["text"].encode() if "text" in v else v["bytes"]
    is_json = "text" in v and not v.get("error", "").startswith("CLUSTER_ERR_MSGPACK")
    chunk: dict[str, Any] = {"text": v["text"]} if "text" in v else {"hex": data.hex()}
    chunk["annotations"] = annotate_json(v["text"]) if is_json else annotate_msgpack(data)
    if not chunk["annotations"] and data == b"":
        chunk["annotations"] = []
    out: dict[str, Any] = {"description": v["description"], "layer": layer, "protocol": 0, "requirements": v["req"],
                           "source": v["source"], "input": [chunk]}  # fmt: skip
    adapter = ADAPTERS[layer]
    try:
        outcome: dict[str, Any] = {"decoded": adapter.decode([data], ["binary"], {})}
    except AdapterError as exc:
        outcome = {"error": exc.name}
    verdict = v["name"][0]
    if verdict == "i":
        out["strict"] = outcome
        out["compat"] = outcome
        out["behaviours"] = v["behaviours"]
        want = {"error": v["error"]} if "error" in v else None
        if want is not None and outcome != want:
            raise SystemExit(f"{v['name']}: decoder gives {outcome}, the vector says {want}")
    elif verdict == "n":
        if outcome != {"error": v["error"]}:
            raise SystemExit(f"{v['name']}: decoder gives {outcome}, the vector says {v['error']}")
        out["error"] = v["error"]
    else:
        if "decoded" not in outcome:
            raise SystemExit(f"{v['name']}: decoder refuses it: {outcome}")
        out["decoded"] = outcome["decoded"]
        if "encoded" in v:
            out["encoded"] = [{"hex": v["encoded"].hex()}]
        if v.get("reencode") is False:
            out["reencode"] = False
            out["why"] = v["why"]
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    if not ADAPTERS:
        raise SystemExit("build/libsiocluster.so missing: make build/libsiocluster.so")
    changed = []
    for v in VECTORS:
        path = HERE / f"{v['name']}.json"
        text = json.dumps(build(v), indent=1, ensure_ascii=False) + "\n"
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            changed.append(path.name)
            if not args.check:
                path.write_text(text, encoding="utf-8")
    print(f"{len(VECTORS)} vectors, {len(changed)} changed" + (f": {', '.join(changed)}" if changed else ""))
    return 1 if args.check and changed else 0


if __name__ == "__main__":
    sys.exit(main())
