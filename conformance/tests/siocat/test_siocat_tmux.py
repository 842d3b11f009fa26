"""siocat used interactively, as a person would: in a terminal (tmux, on a private socket), keys
typed one command at a time, what the terminal shows read back after each. Everything the pane
prints also goes through tmux's pipe-pane into a FIFO this test reads, so every wait is a read
with a deadline; the pane's command ends by printing siocat's exit status."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from serverkit import Server
from siocatkit import SIOCAT

SCREEN_DEADLINE_S = 8.0  # for each thing expected on the screen


class Terminal:
    def __init__(self, command: list[str]):
        if shutil.which("tmux") is None:
            pytest.fail("tmux is not installed (scripts/setup.sh installs it)")
        self.socket = f"siocat-test-{os.getpid()}"
        self.dir = tempfile.TemporaryDirectory()
        fifo = Path(self.dir.name) / "pane"
        os.mkfifo(fifo)
        self.shown = ""
        self.cond = threading.Condition()
        # The pane waits for a first Enter, so nothing is printed before pipe-pane is on.
        line = f"read go; {' '.join(command)}; echo siocat-exit=$?"
        self.tmux("-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "200", "-y", "60", f"sh -c '{line}'")
        self.fd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        self.keep = os.open(fifo, os.O_WRONLY)  # a writer always there: no end-of-file between writers
        self.closed = False
        self.tmux("pipe-pane", "-o", "-t", "t", f"cat >> {fifo}")
        threading.Thread(target=self._read, daemon=True).start()
        self.tmux("send-keys", "-t", "t", "Enter")

    def _read(self) -> None:
        while not self.closed:
            try:
                if not select.select([self.fd], [], [], SCREEN_DEADLINE_S)[0]:
                    continue
                chunk = os.read(self.fd, 65536)
            except (OSError, ValueError):  # closed by close()
                return
            with self.cond:
                self.shown += chunk.decode("utf-8", "replace").replace("\r", "")
                self.cond.notify_all()

    def tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], check=True, capture_output=True, text=True, timeout=10
        ).stdout

    def wait_for(self, text: str) -> None:
        with self.cond:
            found = self.cond.wait_for(lambda: text in self.shown, SCREEN_DEADLINE_S)
            assert found, f"{text!r} never shown; terminal:\n{self.shown[-3000:]}"

    def type(self, line: str) -> None:
        self.tmux("send-keys", "-t", "t", "-l", line)
        self.tmux("send-keys", "-t", "t", "Enter")

    def close(self) -> None:
        self.closed = True
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, timeout=10)
        os.close(self.keep)
        os.close(self.fd)
        self.dir.cleanup()


@pytest.fixture
def terminal(server: Server) -> Iterator[Terminal]:
    t = Terminal([str(SIOCAT), f"http://127.0.0.1:{server.port}/"])
    yield t
    t.close()


def test_interactive_session(terminal: Terminal) -> None:
    t = terminal
    t.wait_for("= connect / sid=")
    t.wait_for("EIO    open {")  # the handshake, decoded by layer
    t.type('emit message "hello" {"$bin":"AQID"}')
    t.wait_for('= event / message-back ["hello",{"$bin":"AQID"}]')
    t.wait_for("SIO      attachment 1 of 1 (3 bytes)")
    t.type("emitack message-with-ack 1 2")
    t.wait_for("= ack / message-with-ack [1,2]")
    t.type('join /custom {"token":"abc"}')
    t.wait_for('= event /custom auth [{"token":"abc"}]')
    t.type("leave /custom")
    t.wait_for("= disconnect /custom reason=io client disconnect")
    t.type("close")
    t.wait_for("= closed")
    t.wait_for("siocat-exit=0")
