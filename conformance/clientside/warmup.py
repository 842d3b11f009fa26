"""One ordinary session of a client fixture against the scripted server, then SIGTERM: what a start-up
cache needs to see. The Java fixture's class-data-sharing archive is written this way (the JVM run with
-XX:ArchiveClassesAtExit dumps every class it loaded when it exits), so that each case's JVM maps the
classes of a connection instead of loading and verifying them again.

    python -m clientside.warmup -- <fixture command...>

Exits 0 once the fixture connected, upgraded, answered a command and exited; 1 otherwise.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from .journal import Clock
from .scenario import default_config
from .server import Profile, ScriptedServer

STARTUP_S = 60.0  # a first JVM start on a busy machine
STEP_S = 10.0
EXIT_S = 30.0  # the archive is written while the process exits


def warm_up(command: list[str]) -> str | None:
    """Runs the session; the reason it failed, or None."""
    server = ScriptedServer(Profile(), Clock())
    config = default_config(server)
    proc = subprocess.Popen(
        [*command, json.dumps(config)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        session = server.wait_session(1, STARTUP_S)
        if session is None:
            return "no handshake"
        if server.eio.wait(lambda e: e.packet == "5", STEP_S) is None:
            return "no upgrade"
        mark = len(server.sio)
        session.command("/", "do-emit-ack", {"event": "warm", "args": [{"$bin": "AAE="}, "text"], "tag": "w"})
        if server.sio.wait(lambda s: s.packet.event == "warm", STEP_S, mark) is None:
            return "no emit"
        return None
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(EXIT_S)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        except ProcessLookupError:
            pass
        server.stop()


def main() -> int:
    args = sys.argv[1:]
    command = args[args.index("--") + 1 :] if "--" in args else args
    if not command:
        print(__doc__, file=sys.stderr)
        return 2
    why = warm_up(command)
    if why is not None:
        print(f"warm-up of {' '.join(command)}: {why}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
