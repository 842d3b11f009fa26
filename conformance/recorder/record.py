"""Records sessions of Node's official socket.io-client talking to Node's official socket.io server
through the recording proxy, one file per scenario of conformance/recorder/node/client.js.

    python -m recorder.record [--out DIR] [--scenario NAME ...]
    python -m recorder.record --upstream PORT --name NAME --out FILE.json -- CLIENT-COMMAND {url} ...

The second form records any client against any server already listening on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from . import proxy, servers, session

CLIENT_DEADLINE_S = 30.0
IDLE_DEADLINE_S = 10.0
NODE_VERSIONS = {
    "server": "socket.io 4.8.4 (engine.io 6.6.12), fixture conformance/targets/node-socketio",
    "client": "socket.io-client 4.8.4 (engine.io-client 6.6.x) on Node.js",
}
# Scenario name -> (what it shows, server settings). Short heartbeats only where a ping is the point.
SCENARIOS: dict[str, tuple[str, servers.Settings]] = {
    "handshake-polling": (
        "Engine.IO handshake and Socket.IO CONNECT over HTTP long-polling, then a client disconnect.",
        servers.Settings(),
    ),
    "handshake-websocket": (
        "Engine.IO handshake directly over a WebSocket (transports: websocket only), CONNECT and disconnect.",
        servers.Settings(),
    ),
    "upgrade": (
        "Polling handshake, then the upgrade to WebSocket (probe, noop, upgrade) and an event on the new transport.",
        servers.Settings(),
    ),
    "namespaces-multiplexed": (
        "Two namespaces, / and /custom, multiplexed on one Engine.IO connection.",
        servers.Settings(),
    ),
    "namespace-dynamic": ("A dynamic namespace (/dyn-7) created by its first CONNECT.", servers.Settings()),
    "namespace-unknown": (
        "CONNECT to an unknown namespace, refused with CONNECT_ERROR (WebSocket).",
        servers.Settings(),
    ),
    "auth-accepted": ("CONNECT with an auth payload that the namespace middleware admits.", servers.Settings()),
    "auth-refused": ("CONNECT refused by middleware, with the error's data in the CONNECT_ERROR.", servers.Settings()),
    "event-echo": ("An event with several JSON arguments and the server's echo, over polling.", servers.Settings()),
    "ack-client-to-server": ("Events with an ack id and the server's ACK replies.", servers.Settings()),
    "ack-server-to-client": (
        "The server emits an event with an ack id; the client answers with an ACK.",
        servers.Settings(),
    ),
    "ack-timeout": ("The server waits for an ack that never comes and reports the timeout.", servers.Settings()),
    "ack-double": (
        "The server application calls an ack twice; only the first ACK reaches the wire.",
        servers.Settings(),
    ),
    "binary-polling": ("A binary event with two attachments over polling (base64 records).", servers.Settings()),
    "binary-websocket": (
        "Binary events and a binary ACK over WebSocket (attachments as binary frames).",
        servers.Settings(),
    ),
    "rooms": ("Joining and leaving rooms; the socket's own id is always one of its rooms.", servers.Settings()),
    "broadcast": (
        "Two clients: a broadcast that excludes the sender and a namespace-wide emit that includes it.",
        servers.Settings(),
    ),
    "room-broadcast": ("Two clients in a room; an emit to the room reaches the other one only.", servers.Settings()),
    "disconnecting": (
        "A socket in a room leaves its namespace; the fixture's log shows the rooms at "
        "disconnecting and at disconnect.",
        servers.Settings(),
    ),
    "server-disconnect": (
        "The server removes the client from one namespace, then closes the whole connection.",
        servers.Settings(),
    ),
    "heartbeat": (
        "A short ping interval: the server's ping and the client's pong over WebSocket.",
        servers.Settings(ping_interval_ms=300, ping_timeout_ms=2000),
    ),
}


def record(name: str, out_dir: Path) -> Path:
    description, settings = SCENARIOS[name]
    with servers.Server("node", settings, deterministic=True) as server:
        relay = proxy.RecordingProxy(server.port)
        try:
            client = subprocess.run(
                ["node", str(servers.NODE_DIR / "client.js"), name, f"http://127.0.0.1:{relay.port}"],
                capture_output=True,
                timeout=CLIENT_DEADLINE_S,
                cwd=servers.NODE_DIR,
            )
            if client.returncode != 0:
                raise RuntimeError(f"{name}: client failed: {client.stderr.decode(errors='replace')}")
            if not relay.wait_idle(IDLE_DEADLINE_S):
                raise RuntimeError(f"{name}: connections still open after the client exited")
            if relay.errors:
                raise RuntimeError(f"{name}: " + "; ".join(relay.errors))
            raws = list(relay.raws)
        finally:
            relay.close()
    recorded = {
        "by": "recorder (TCP proxy on 127.0.0.1)",
        **NODE_VERSIONS,
        "settings": settings.as_json(),
        "deterministic_ids": True,
    }
    data = session.build(f"node-{name}", description, recorded, raws)
    path = out_dir / f"node-{name}.json"
    session.write(data, path)
    return path


def record_command(upstream_port: int, name: str, description: str, command: list[str], out: Path) -> Path:
    """Records any client (`command`, where `{url}` becomes the proxy's URL) against a server that
    already listens on 127.0.0.1:`upstream_port`."""
    relay = proxy.RecordingProxy(upstream_port)
    try:
        url = f"http://127.0.0.1:{relay.port}"
        client = subprocess.run(
            [a.replace("{url}", url) for a in command], capture_output=True, timeout=CLIENT_DEADLINE_S
        )
        if client.returncode != 0:
            raise RuntimeError(f"client exited with {client.returncode}: {client.stderr.decode(errors='replace')}")
        if not relay.wait_idle(IDLE_DEADLINE_S):
            raise RuntimeError("connections still open after the client exited")
        if relay.errors:
            raise RuntimeError("; ".join(relay.errors))
        raws = list(relay.raws)
    finally:
        relay.close()
    recorded = {
        "by": "recorder (TCP proxy on 127.0.0.1)",
        "server": f"127.0.0.1:{upstream_port}",
        "client": " ".join(command),
        "settings": {},
        "deterministic_ids": False,
    }
    data = session.build(name, description, recorded, raws)
    session.write(data, out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=session.SESSIONS_DIR, help="folder for scenarios; file with --upstream")
    ap.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    ap.add_argument(
        "--upstream",
        type=int,
        metavar="PORT",
        help="record any client against a server already listening on 127.0.0.1:PORT; the "
        "client command follows `--`, with {url} standing for the proxy's URL",
    )
    ap.add_argument("--name", default="custom")
    ap.add_argument("--description", default="A session recorded with the recording proxy.")
    ap.add_argument("command", nargs="*")
    args = ap.parse_args(argv)
    if args.upstream:
        if not args.command:
            ap.error("--upstream needs a client command after --")
        out = args.out if args.out.suffix == ".json" else args.out / f"{args.name}.json"
        try:
            path = record_command(args.upstream, args.name, args.description, args.command, out)
        except (RuntimeError, subprocess.TimeoutExpired, ValueError, AssertionError) as e:
            print(f"FAILED {args.name}: {e}", file=sys.stderr)
            return 1
        print(f"recorded {path}: {len(session.load(path)['messages'])} messages")
        return 0
    status = 0
    for name in args.scenario or list(SCENARIOS):
        try:
            path = record(name, args.out)
            n = len(session.load(path)["messages"])
            print(
                f"recorded {path.relative_to(session.ROOT) if path.is_relative_to(session.ROOT) else path}"
                f": {n} messages"
            )
        except (RuntimeError, subprocess.TimeoutExpired, ValueError, AssertionError) as e:
            print(f"FAILED {name}: {e}", file=sys.stderr)
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
