"""Records a real siocat session for the README ("Talk to a server by hand"): starts
build/reference-server --deterministic on a free port, runs build/siocat against it, types commands
one at a time (each once the answer to the previous one has been printed) and prints the
transcript: what siocat printed, with each typed command where it was typed, and the server's port
shown as 3000.

    python3 scripts/siocat_session.py [siocat options]
"""

from __future__ import annotations

import os
import re
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEADLINE_S = 10.0

# (command typed, line that shows its answer arrived)
SCRIPT = [
    ('emit message "hello" {"$bin":"AQID"}', '= event / message-back ["hello",{"$bin":"AQID"}]'),
    ("emitack message-with-ack 1 2", "= ack / message-with-ack [1,2]"),
    ("close", "= closed"),
]


def start_server() -> tuple[subprocess.Popen[bytes], int]:
    server = subprocess.Popen(
        [str(ROOT / "build" / "reference-server"), "--port", "0", "--deterministic"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert server.stdout is not None
    end = time.monotonic() + DEADLINE_S
    line = b""
    while not line.endswith(b"\n"):
        if not select.select([server.stdout], [], [], max(0.0, end - time.monotonic()))[0]:
            raise TimeoutError("no READY line")
        line += os.read(server.stdout.fileno(), 64)
    match = re.match(rb"READY (\d+)", line)
    assert match, line
    return server, int(match.group(1))


def main() -> int:
    server, port = start_server()
    url = f"http://127.0.0.1:{port}/"
    args = [*sys.argv[1:], url]
    # The server listens on a free port; the transcript shows it as 3000.
    shown = ["$ build/siocat " + " ".join([*args[:-1], "http://127.0.0.1:3000/"])]
    cond = threading.Condition()
    cat = subprocess.Popen(
        [str(ROOT / "build" / "siocat"), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )

    def read() -> None:
        assert cat.stdout is not None
        for raw in cat.stdout:
            with cond:
                shown.append(raw.rstrip("\n").replace(f":{port}", ":3000"))
                cond.notify_all()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        with cond:
            assert cond.wait_for(lambda: any(s.startswith("= connect / ") for s in shown), DEADLINE_S)
        for command, answer in SCRIPT:
            with cond:
                shown.append(command)
            assert cat.stdin is not None
            cat.stdin.write(command + "\n")
            cat.stdin.flush()
            with cond:
                assert cond.wait_for(lambda: answer in shown, DEADLINE_S), shown[-10:]  # noqa: B023
        status = cat.wait(timeout=DEADLINE_S)
        reader.join(timeout=DEADLINE_S)
    finally:
        if cat.poll() is None:
            cat.kill()
        server.terminate()
        server.wait(timeout=DEADLINE_S)
    print("\n".join(shown))
    print(f"$ echo $?\n{status}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
