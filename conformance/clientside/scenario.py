"""One case's world: a scripted server, the client's fixture process, and the questions a case asks.

`Run` starts the server, then the fixture with a configuration pointing at it; the case steers the
server and waits for what the client sends (`packet`, `request`) or reports (`line`). Every wait has
a deadline; when it passes, the failure names what was awaited and what came instead, and a fixture
that died on the way is reported as the crash it is.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness import tracking
from harness.verdict import Case, Failure, Unimplemented

from . import agents, wire
from .journal import Clock, Entry
from .server import EioSeen, HttpSeen, Profile, ScriptedServer, Session, SioSeen

WAIT_S = 4.0  # how long a case waits for something a correct client does at once
UPGRADE_WAIT_S = 2.0  # how long `ready()` lets the upgrade take before the case goes on without it
# How many times a case starts a client configured for polling then WebSocket before giving up on a start
# that begins with the polling handshake (a client choosing its first transport at random, CEIO-HS-01).
FIRST_TRANSPORT_STARTS = 6
STARTS_AT_ONCE = 8  # fixture processes `fresh_starts` runs at a time, each against a scripted server of its own
SETTLE_S = 0.1  # how long a start followed to its join is watched after it, for a late packet


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
        self.http_mark = 0  # requests the server had seen when the running fixture process started
        self.launched_ms = 0.0  # when the running fixture process was started (the case's clock)
        # The session the client joined `/` on (1 unless it gave up a session before joining): later
        # sessions are counted from it (`nth`).
        self.joined_on = 1
        self.shown: Start | None = None  # a fresh start whose bytes the report shows (`show_start`)

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

    def start(self, *, any_first_transport: bool = False, **overrides: Any) -> Run:
        """Starts the fixture; `overrides` replace top-level config keys; `reconnection` keys merge.

        A client told to start with polling and then upgrade, whose first request is a WebSocket
        handshake anyway, breaks CEIO-HS-01, and that case judges it (`any_first_transport`). Every other
        case judges what follows a polling start: such a start is ended, the server forgets it, and the
        client is started again, up to FIRST_TRANSPORT_STARTS times; the case's notes name each start
        left out. A case thus judges its own requirement on every run instead of on the runs where a
        client choosing at random happened to begin with polling."""
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
        self._launch()
        transports = cfg.get("transports") or []
        if not any_first_transport and transports[:1] == ["polling"] and "websocket" in transports:
            self._until_a_polling_start()
        return self

    def _until_a_polling_start(self) -> None:
        left_out: list[str] = []
        for n in range(1, FIRST_TRANSPORT_STARTS + 1):
            self._await_startup()
            first = self.srv.http.wait(lambda h: True, WAIT_S, self.http_mark, self.pointless)
            if first is None or not first.item.request.is_websocket:
                return  # began with polling (or never sent a request: the case's own waits report that)
            left_out.append(f"start {n}: {first.item.request.summary()}")
            again = "; started again" if n < FIRST_TRANSPORT_STARTS else ""
            self.case.notes.append(
                f"start {n} of the client began with a WebSocket handshake ({first.item.request.summary()}) "
                f"although told to start with polling (CEIO-HS-01 judges that){again}"
            )
            if again:
                self.fx.stop()
                self.srv.forget()
                self._launch()
        self.case.precondition(
            False,
            f"a start that begins with the polling handshake, in {FIRST_TRANSPORT_STARTS} starts",
            "GET ?EIO=…&transport=polling first",
            left_out,
            caused_by="CEIO-HS-01",
        )

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

    def pointless(self) -> bool:
        """Waiting is pointless: the fixture died, printed an uncaught exception (the case fails by the
        crash rule whatever comes next), or said it cannot do what was asked."""
        if self.fixture is None:
            return False
        if not self.fixture.running and not self.fixture.expect_exit:
            return True
        if self.fixture.crash_line is not None:
            return True
        return self.fixture.lines.find(lambda d: d.get("ev") == "unsupported") is not None

    def stalled_ms(self, from_ms: float, to_ms: float) -> float:
        """How long the suite's own process did not run (machine load: harness/tracking.py's stall watch)
        between two times of the case's clock. A timing measured across such a stall says as much about
        the machine as about the client: the suite could neither read nor stamp what came meanwhile."""
        total = 0.0
        for a, b in tracking.current_stalls():
            a_ms, b_ms = (a - self.clock.t0) * 1000.0, (b - self.clock.t0) * 1000.0
            total += max(0.0, min(b_ms, to_ms) - max(a_ms, from_ms))
        return round(total)

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

    def _await_startup(self) -> None:
        """Waits, up to the client's start-up time (its registry tolerance), until the client has started:
        its first request reached the server, or the fixture printed a line. A deadline counted after
        this gives a slow starter (a JVM) its whole time without making a fast one wait for nothing."""
        if self.fixture is None or len(self.fixture.lines) > 0 or len(self.srv.http) > self.http_mark:
            return
        self.srv.http.wait(
            lambda h: True,
            self.spec.tolerance.startup_s,
            self.http_mark,
            lambda: self.pointless() or len(self.fx.lines) > 0,
        )

    def _from_start(self, timeout: float, start: int) -> float:
        """A wait that looks at the fixture's output from its first line begins once the client started."""
        if start == 0:
            self._await_startup()
        return timeout

    def line(self, ev: str, timeout: float = WAIT_S, start: int = 0, **fields: Any) -> Entry[dict[str, Any]]:
        """The first line the fixture printed with this `ev` (and these field values)."""
        got = self.fx.lines.wait(_line_matcher(ev, fields), self._from_start(timeout, start), start, self.pointless)
        if got is None:
            raise self._timeout(f"fixture line {{ev: {ev!r}, {fields}}}", [e.item for e in self.fx.lines])
        return got

    def maybe_line(
        self, ev: str | tuple[str, ...], timeout: float, start: int = 0, **fields: Any
    ) -> Entry[dict[str, Any]] | None:
        """The first line with this `ev` (or one of these) and these field values, or None."""
        return self.fx.lines.wait(_line_matcher(ev, fields), self._from_start(timeout, start), start, self.pointless)

    def lines(self, ev: str | None = None) -> list[dict[str, Any]]:
        return [e.item for e in self.fx.lines if ev is None or e.item.get("ev") == ev]

    def connected(self, nsp: str = "/", timeout: float = WAIT_S, start: int = 0) -> Entry[dict[str, Any]]:
        """The fixture's `connect` line for `nsp`; the first one may take the client's start-up time too."""
        return self.line("connect", timeout, start, nsp=nsp)

    def packet(
        self,
        pred: Callable[[wire.SioPacket], bool],
        what: str,
        timeout: float = WAIT_S,
        start: int = 0,
        on: Session | None = None,
    ) -> Entry[SioSeen]:
        """The first packet from `start` matching `pred`. With `on`, the wait also ends once that session
        is over (what the server asked of the client there can no longer come)."""
        stop = self.pointless if on is None else (lambda: self.pointless() or on.closed is not None)
        got = self.srv.sio.wait(lambda s: pred(s.packet), timeout, start, stop)
        if got is None:
            raise self._timeout(what, [s.item.packet for s in self.srv.sio])
        return got

    def maybe_packet(
        self, pred: Callable[[wire.SioPacket], bool], timeout: float, start: int = 0
    ) -> Entry[SioSeen] | None:
        return self.srv.sio.wait(lambda s: pred(s.packet), timeout, start, self.pointless)

    def event(
        self, name: str, nsp: str = "/", timeout: float = WAIT_S, start: int = 0, on: Session | None = None
    ) -> Entry[SioSeen]:
        return self.packet(lambda p: p.event == name and p.nsp == nsp, f"event {name!r} on {nsp}", timeout, start, on)

    def eio_packet(
        self, pred: Callable[[EioSeen], bool], what: str, timeout: float = WAIT_S, start: int = 0
    ) -> Entry[EioSeen]:
        got = self.srv.eio.wait(pred, timeout, start, self.pointless)
        if got is None:
            raise self._timeout(what, [e.item.packet for e in self.srv.eio])
        return got

    def request(
        self, pred: Callable[[HttpSeen], bool], what: str, timeout: float = WAIT_S, start: int = 0
    ) -> Entry[HttpSeen]:
        got = self.srv.http.wait(pred, timeout, start, self.pointless)
        if got is None:
            raise self._timeout(what, [h.item.request.summary() for h in self.srv.http])
        return got

    def nth(self, n: int) -> int:
        """The server's number of the client's n-th session, counted from the one it joined on (n = 1)."""
        return n if n == 1 else self.joined_on - 1 + n

    def session(self, n: int = 1, timeout: float = WAIT_S) -> Session:
        """The n-th Engine.IO session (1-based) once the client opened it (the first one may take the
        client's start-up time too); from the second on, counted from the session the client joined on."""
        if n == 1:
            self._await_startup()
        s = self.srv.wait_session(self.nth(n), timeout, self.pointless)
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
        return self.settle(self.joined_session(nsp))

    def joined_session(self, nsp: str = "/") -> Session:
        """The session whose CONNECT for `nsp` the client is connected by: the first one, unless the client
        gave that one up before joining (zishang520's Go client at times sends no CONNECT on a fresh
        session, WebSocket or polling, and joins on the next session, after its connect timeout)."""
        first = self.session(1)
        connects = [e.item.sid for e in self.srv.sio if e.item.packet.type == wire.CONNECT and e.item.packet.nsp == nsp]
        # The first session that carried a CONNECT: a client that joined and then lost that session (to a
        # failed upgrade, CEIO-UP-04) is judged on it, not on the one it joined again on.
        if not connects or connects[0] == first.sid:
            return first
        with self.srv.lock:
            later = [s for s in self.srv.session_order if s.sid == connects[0]]
        if later:
            self.case.notes.append(f"the client joined {nsp} on session {later[0].sid}, not on the first one")
            self.joined_on = self.srv.ordinal(later[0])
            return later[0]
        return first

    def settle(self, s: Session) -> Session:
        """Waits until session `s` is on its final transport (the upgrade finished, when the configuration
        leads to one). A transport killed in the middle of an upgrade is noticed by a client through
        whichever of its requests fails first, so a case timing the client's reaction acts on a settled one."""
        if self.upgrade_expected() and s.transport == "polling":
            # A client that never upgrades is judged by the CEIO-UP cases, not by whichever case waits here.
            got = self.srv.eio.wait(lambda e: e.packet == "5" and e.sid == s.sid, UPGRADE_WAIT_S, 0, self.pointless)
            if got is None:
                self.case.notes.append(f"no upgrade within {UPGRADE_WAIT_S} s; the case ran on polling")
        self._connect_call_returned()
        return s

    def _connect_call_returned(self) -> None:
        """Some clients connect through a call that returns only after their connect callbacks ran, and
        count themselves connected only then (python-socketio's `connect()`); their fixture declares
        `"ready": true` and prints a `ready` line when the call returned. Until then such a client may
        mishandle what arrives (python-socketio drops a DISCONNECT then, and a transport lost then leaves it
        counting itself connected, with no transport and no reconnection; a case of CSIO-NSP-09 judges that
        window), so a case acting on a connected client waits for the line after the first `connect` line
        of the current connection (after the last `disconnect`): the call may return before a second
        namespace is joined (python-socketio's did, for `/a`, one run in five)."""
        if not self.caps.get("ready"):
            return
        lines = [e.item.get("ev") for e in self.fx.lines]
        since = max((i for i, ev in enumerate(lines) if ev == "disconnect"), default=-1) + 1
        first = next((i for i in range(since, len(lines)) if lines[i] == "connect"), None)
        self.line("ready", start=first + 1 if first is not None else since)

    def fresh_starts(
        self, count: int, joined: bool = False, stop: Callable[[Start], bool] | None = None
    ) -> list[Start]:
        """`count` more starts of the client with this case's configuration, each judged on its own: with
        the `restart` capability, in the running fixture one after another (`do-restart` on the session
        the client is connected on: a JVM then starts once, not once per start); otherwise STARTS_AT_ONCE
        processes at a time, each against a scripted server of its own, stopped once seen. With `joined`,
        each start is followed until the client reported `connect` for every configured namespace and
        its upgrade (when one is expected) finished, and the Start carries the CONNECT packets of the
        first session it opened. `stop(start)` true ends the starts early (the first violation)."""
        out: list[Start] = []
        while len(out) < count and not (out and stop is not None and stop(out[-1])):
            if self.has("restart"):
                out.append(self._restarted(joined))
            else:
                for start in self._started_apart(min(STARTS_AT_ONCE, count - len(out)), joined):
                    out.append(start)
                    if stop is not None and stop(start):
                        break
        return out

    def show_start(self, start: Start, label: str) -> None:
        """The report's wire transcript and fixture lines become those of `start` (named `label` in the case's
        notes), when it ran against a scripted server of its own: the bytes of the start a verdict names."""
        if start.server is not None and start.server is not self.server:
            self.shown = start
            self.case.notes.append(f"the wire transcript and the fixture lines are those of {label}")

    def _restarted(self, joined: bool) -> Start:
        """One start by `do-restart`: the first request after it that names no session is the new
        client's (the old one's last requests name theirs)."""
        srv = self.srv
        s = srv.session(-1)
        assert s is not None, "a running client to restart"
        http_mark, line_mark = len(srv.http), len(self.fx.lines)
        sessions = len(srv.session_order)
        self.command(s, "do-restart")
        got = srv.http.wait(lambda h: h.request.param("sid") is None, WAIT_S, http_mark, self.pointless)
        first = srv.wait_session(sessions + 1, WAIT_S, self.pointless)
        for nsp in self.config.get("namespaces") or ["/"]:
            self.line("connect", WAIT_S, line_mark, nsp=nsp)
        if first is not None and joined:
            joined_on = [e.item.sid for e in srv.sio if e.item.packet.type == wire.CONNECT][-1:]
            with srv.lock:
                latest = [x for x in srv.session_order if x.sid in joined_on]
            self.settle(latest[0] if latest else first)
            srv.sio.quiet(lambda e: False, SETTLE_S)
        return Start(
            got.item.request if got else None, _connects_on(srv, first) if joined else None, srv, self.fx, first
        )

    def _started_apart(self, count: int, joined: bool) -> list[Start]:
        servers = [ScriptedServer(self.profile, self.clock) for _ in range(count)]
        fixtures = [agents.Fixture(self.spec, {**self.config, "url": srv.url}, self.clock) for srv in servers]
        upgrade = self.upgrade_expected()
        try:
            for fixture in fixtures:
                fixture.start()
            firsts: list[Entry[HttpSeen] | None] = []
            for srv, fixture in zip(servers, fixtures):
                ended = _ended(fixture)
                got = srv.http.wait(lambda h: True, self.spec.tolerance.startup_s + WAIT_S, 0, ended)
                firsts.append(got)
                if not joined:
                    fixture.signal_stop()  # nothing more is needed from it: its CPU goes to the others' start-up
                    continue
                for nsp in self.config.get("namespaces") or ["/"]:
                    fixture.lines.wait(_line_matcher("connect", {"nsp": nsp}), WAIT_S, 0, ended)
                first = srv.wait_session(1, 0.0)
                if first is not None and upgrade and got is not None and not got.item.request.is_websocket:
                    srv.eio.wait(_upgrade_of(first.sid), UPGRADE_WAIT_S, 0, ended)
            if joined:
                # Every start of the batch has joined (or given up) by now: one wait watches each of them for
                # a late packet for at least SETTLE_S after its join.
                time.sleep(SETTLE_S)
            starts: list[Start] = []
            for srv, fixture, got in zip(servers, fixtures, firsts):
                connects = _connects_on(srv, srv.wait_session(1, 0.0)) if joined else None
                request = got.item.request if got is not None else None
                starts.append(Start(request, connects, srv, fixture, srv.wait_session(1, 0.0)))
                fixture.signal_stop()
            return starts
        finally:
            for fixture in fixtures:
                fixture.stop()
            for srv in servers:
                srv.stop()

    def _launch(self) -> None:
        """A fixture process with the current configuration; requests from here on are its own."""
        self.http_mark = len(self.srv.http)
        self.launched_ms = self.clock.ms()
        self.fixture = agents.Fixture(self.spec, self.config, self.clock)
        self.fixture.start()

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


@dataclass
class Start:
    """One fresh start of the client (`Run.fresh_starts`): its first request (None when it sent none in
    time) and, when followed to its join, the CONNECT packets of the first session it opened (an empty
    list when it opened none, or joined nothing there). `server` and `fixture` are the scripted server it
    ran against and its fixture process (the case's own for a start by `do-restart`): `Run.show_start`
    makes them what the report shows; `session` is the first session it opened there."""

    first: wire.Request | None
    connects: list[wire.SioPacket] | None = None
    server: ScriptedServer | None = None
    fixture: agents.Fixture | None = None
    session: Session | None = None  # the first session it opened


def _upgrade_of(sid: str) -> Callable[[EioSeen], bool]:
    return lambda e: e.packet == "5" and e.sid == sid


def _connects_on(srv: ScriptedServer, s: Session | None) -> list[wire.SioPacket]:
    if s is None:
        return []
    return [e.item.packet for e in srv.sio if e.item.packet.type == wire.CONNECT and e.item.sid == s.sid]


class WaitTimeout(Exception):
    """What a case waited for never came (the client did not react). Not a Failure: the harness judges
    it at the level of the case's requirement, showing `what` and `seen`."""

    def __init__(self, what: str, seen: list[Any]):
        super().__init__(f"no {what} within the deadline; seen instead: {seen!r}")
        self.what, self.seen = what, seen


def _ended(fixture: agents.Fixture) -> Callable[[], bool]:
    return lambda: not fixture.running


def _line_matcher(ev: str | tuple[str, ...], fields: dict[str, Any]) -> Callable[[dict[str, Any]], bool]:
    evs = (ev,) if isinstance(ev, str) else ev

    def match(d: dict[str, Any]) -> bool:
        return d.get("ev") in evs and all(d.get(k) == v for k, v in fields.items())

    return match


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in (text or "(empty)").splitlines())
