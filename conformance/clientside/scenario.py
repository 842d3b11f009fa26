"""One case's world: a scripted server, the client's fixture process, and the questions a case asks.

`Run` starts the server, then the fixture with a configuration pointing at it; the case steers the
server and waits for what the client sends (`packet`, `request`) or reports (`line`). Every wait has
a deadline; when it passes, the failure names what was awaited and what came instead, and a fixture
that died on the way is reported as the crash it is.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from harness.verdict import Case, Failure, Unimplemented

from . import agents, wire
from .journal import Clock, Entry
from .server import EioSeen, HttpSeen, Profile, ScriptedServer, Session, SioSeen

WAIT_S = 4.0  # how long a case waits for something a correct client does at once
UPGRADE_WAIT_S = 2.0  # how long `ready()` lets the upgrade take before the case goes on without it


def default_config(server: ScriptedServer) -> dict[str, Any]:
    return {
        "url": server.url,
        "path": "/socket.io/",
        "transports": ["polling", "websocket"],
        "namespaces": ["/"],
        "auth": None,
        "timeoutMs": 2000,
        "reconnection": {"enabled": True, "delayMs": 50, "delayMaxMs": 200, "jitter": 0, "attempts": None},
        "on_connect": [],
        "on_disconnect": [],
    }


class Run:
    def __init__(self, spec: agents.ClientSpec, caps: dict[str, Any], case: Case):
        self.spec, self.caps, self.case = spec, caps, case
        self.clock = Clock()
        self.profile = Profile(eio=spec.eio)
        self.server: ScriptedServer | None = None
        self.fixture: agents.Fixture | None = None
        self.config: dict[str, Any] = {}

    # ------------------------------------------------------------------ set-up
    @property
    def eio(self) -> int:
        return self.spec.eio

    def has(self, feature: str) -> bool:
        return feature in self.caps.get("features", [])

    def need(self, *features: str) -> None:
        """The case needs these capabilities; a client without one gets `unimplemented`."""
        missing = [f for f in features if not self.has(f)]
        if missing:
            self.case.unimplemented(
                f"the client's fixture declares no {', '.join(missing)} capability (CLIENT-FIXTURE.md section 2)"
            )

    def only_eio(self, version: int, why: str = "") -> None:
        if self.eio != version:
            self.case.not_applicable(
                why or f"an Engine.IO {version} behaviour; this client speaks Engine.IO {self.eio}"
            )

    def serve(self, **profile: Any) -> ScriptedServer:
        """Starts the scripted server (before the fixture, so hooks can be set first)."""
        for k, v in profile.items():
            setattr(self.profile, k, v)
        self.server = ScriptedServer(self.profile, self.clock)
        return self.server

    def start(self, **overrides: Any) -> Run:
        """Starts the fixture; `overrides` replace top-level config keys; `reconnection` keys merge."""
        if self.server is None:
            self.serve()
        assert self.server is not None
        cfg = default_config(self.server)
        for k, v in overrides.items():
            if k == "reconnection" and isinstance(v, dict):
                cfg["reconnection"] = {**cfg["reconnection"], **v}
            else:
                cfg[k] = copy.deepcopy(v)
        self.config = cfg
        self.fixture = agents.Fixture(self.spec, cfg, self.clock)
        self.fixture.start()
        return self

    def stop(self) -> None:
        if self.fixture is not None:
            self.fixture.stop()
        if self.server is not None:
            self.server.stop()

    # ------------------------------------------------------------------ observing
    @property
    def srv(self) -> ScriptedServer:
        assert self.server is not None, "serve() first"
        return self.server

    @property
    def fx(self) -> agents.Fixture:
        assert self.fixture is not None, "start() first"
        return self.fixture

    def _dead(self) -> bool:
        """Waiting is pointless: the fixture died, or it said it cannot do what was asked."""
        if self.fixture is None:
            return False
        if not self.fixture.running and not self.fixture.expect_exit:
            return True
        return self.fixture.lines.find(lambda d: d.get("ev") == "unsupported") is not None

    def unsupported(self) -> list[dict[str, Any]]:
        return self.lines("unsupported") if self.fixture is not None else []

    def crash_report(self) -> str | None:
        why = self.fixture.crash() if self.fixture is not None else None
        if why is None:
            return None
        last = self.server.bytes_from_client(600) if self.server else b""
        sent = self._last_server_bytes()
        return (
            f"{why}\n  stderr (last lines):\n{_indent(self.fx.stderr_tail())}\n"
            f"  last bytes the server sent: {sent!r}\n  last bytes the client sent: {last[-300:]!r}"
        )

    def _last_server_bytes(self) -> bytes:
        if self.server is None:
            return b""
        out = [r.data for r in self.server.transcript if r.direction == "out"]
        return b"".join(out[-3:])[-400:]

    def _timeout(self, what: str, seen: list[Any]) -> Exception:
        missing = self.unsupported()
        if missing:
            return Unimplemented(f"{self.case.req_id}: the fixture cannot do what the case asks: {missing[:3]}")
        crash = self.crash_report()
        if crash:
            return Failure(f"{self.case.req_id}: while waiting for {what}: {crash}", what, crash)
        return WaitTimeout(what, seen[-12:])

    def _from_start(self, timeout: float, start: int) -> float:
        """A wait that looks at the fixture's output from its first line includes its start-up time."""
        return timeout + self.spec.tolerance.startup_s if start == 0 else timeout

    def line(self, ev: str, timeout: float = WAIT_S, start: int = 0, **fields: Any) -> Entry[dict[str, Any]]:
        """The first line the fixture printed with this `ev` (and these field values)."""
        got = self.fx.lines.wait(_line_matcher(ev, fields), self._from_start(timeout, start), start)
        if got is None:
            raise self._timeout(f"fixture line {{ev: {ev!r}, {fields}}}", [e.item for e in self.fx.lines])
        return got

    def maybe_line(self, ev: str, timeout: float, start: int = 0, **fields: Any) -> Entry[dict[str, Any]] | None:
        return self.fx.lines.wait(_line_matcher(ev, fields), self._from_start(timeout, start), start)

    def lines(self, ev: str | None = None) -> list[dict[str, Any]]:
        return [e.item for e in self.fx.lines if ev is None or e.item.get("ev") == ev]

    def connected(self, nsp: str = "/", timeout: float = WAIT_S, start: int = 0) -> Entry[dict[str, Any]]:
        """The fixture's `connect` line for `nsp`; the first one may take the client's start-up time too."""
        return self.line("connect", timeout, start, nsp=nsp)

    def packet(
        self, pred: Callable[[wire.SioPacket], bool], what: str, timeout: float = WAIT_S, start: int = 0
    ) -> Entry[SioSeen]:
        got = self.srv.sio.wait(lambda s: pred(s.packet), timeout, start, self._dead)
        if got is None:
            raise self._timeout(what, [s.item.packet for s in self.srv.sio])
        return got

    def maybe_packet(
        self, pred: Callable[[wire.SioPacket], bool], timeout: float, start: int = 0
    ) -> Entry[SioSeen] | None:
        return self.srv.sio.wait(lambda s: pred(s.packet), timeout, start, self._dead)

    def event(self, name: str, nsp: str = "/", timeout: float = WAIT_S, start: int = 0) -> Entry[SioSeen]:
        return self.packet(lambda p: p.event == name and p.nsp == nsp, f"event {name!r} on {nsp}", timeout, start)

    def eio_packet(
        self, pred: Callable[[EioSeen], bool], what: str, timeout: float = WAIT_S, start: int = 0
    ) -> Entry[EioSeen]:
        got = self.srv.eio.wait(pred, timeout, start, self._dead)
        if got is None:
            raise self._timeout(what, [e.item.packet for e in self.srv.eio])
        return got

    def request(
        self, pred: Callable[[HttpSeen], bool], what: str, timeout: float = WAIT_S, start: int = 0
    ) -> Entry[HttpSeen]:
        got = self.srv.http.wait(pred, timeout, start, self._dead)
        if got is None:
            raise self._timeout(what, [h.item.request.summary() for h in self.srv.http])
        return got

    def session(self, n: int = 1, timeout: float = WAIT_S) -> Session:
        """The n-th Engine.IO session (1-based) once the client opened it (the first one may take the
        client's start-up time too)."""
        s = self.srv.wait_session(n, timeout + (self.spec.tolerance.startup_s if n == 1 else 0.0))
        if s is None:
            raise self._timeout(f"Engine.IO handshake number {n}", [h.item.request.summary() for h in self.srv.http])
        return s

    def handshakes(self) -> list[Entry[HttpSeen]]:
        return [h for h in self.srv.http if h.item.sid == "new"]

    def upgrade_expected(self) -> bool:
        return (
            "websocket" in self.config.get("transports", [])
            and "polling" in self.config.get("transports", [])
            and self.config.get("upgrade", True) is not False
            and "websocket" in self.profile.upgrades
            and self.has("upgrade")
        )

    def ready(self, nsp: str = "/", timeout: float = WAIT_S) -> Session:
        """The usual start: the client connected to `nsp`, and settled on its final transport (the
        upgrade finished, when the configuration leads to one), so that a case acts on a known state."""
        self.connected(nsp, timeout)
        return self.settle(self.session(1))

    def settle(self, s: Session) -> Session:
        """Waits until session `s` is on its final transport (the upgrade finished, when the configuration
        leads to one). A transport killed in the middle of an upgrade is noticed by a client through
        whichever of its requests fails first, so a case timing the client's reaction acts on a settled one."""
        if self.upgrade_expected() and s.transport == "polling":
            # A client that never upgrades is judged by the CEIO-UP cases, not by whichever case waits here.
            got = self.srv.eio.wait(lambda e: e.packet == "5" and e.sid == s.sid, UPGRADE_WAIT_S, 0, self._dead)
            if got is None:
                self.case.notes.append(f"no upgrade within {UPGRADE_WAIT_S} s; the case ran on polling")
        return s

    def restart(self) -> int:
        """Stops the fixture and starts a new one with the same configuration, against the same server.
        Returns the first connection id the new process can have: requests of the old one may still
        be read after it was stopped."""
        self.fx.stop()
        first_conn = next(self.srv.ids)
        self.fixture = agents.Fixture(self.spec, self.config, self.clock)
        self.fixture.start()
        return first_conn

    def command(
        self, s: Session, name: str, arg: dict[str, Any] | None = None, nsp: str = "/", then_hold: bool = False
    ) -> int:
        """Sends a fixture command; returns the index in the Socket.IO journal to look from. With
        `then_hold`, the GETs after the one that carries the command are held (polling)."""
        mark = len(self.srv.sio)
        if name == "do-disconnect":
            self.fx.expect_exit = True
        if then_hold:
            s.send_then_hold(*wire.sio_encode(wire.EVENT, nsp, [name, arg or {}]))
        else:
            s.command(nsp, name, arg)
        return mark

    def quiet_packets(self, pred: Callable[[wire.SioPacket], bool], seconds: float, start: int = 0) -> SioSeen | None:
        got = self.srv.sio.quiet(lambda s: pred(s.packet), seconds, start)
        return got.item if got else None


class WaitTimeout(Exception):
    """What a case waited for never came (the client did not react). Not a Failure: the harness judges
    it at the level of the case's requirement, showing `what` and `seen`."""

    def __init__(self, what: str, seen: list[Any]):
        super().__init__(f"no {what} within the deadline; seen instead: {seen!r}")
        self.what, self.seen = what, seen


def _line_matcher(ev: str, fields: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    def match(d: dict[str, Any]) -> bool:
        return d.get("ev") == ev and all(d.get(k) == v for k, v in fields.items())

    return match


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in (text or "(empty)").splitlines())
