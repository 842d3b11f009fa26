"""What a target's fixture offers, learnt before the first case.

In order of precedence:
1. the command line: `--target-features`, `--target-upgrade-timeout`, `--target-info FILE` (a JSON
   file shaped like the fixture-info answer);
2. the fixture's own `fixture-info` answer (FIXTURE.md section 2, item 6): its parts, settings,
   implementation name and version, and the versions of its protocol packages;
3. probes, when the fixture does not answer fixture-info: each part that can be seen on the wire is
   tried once; a part that cannot (app-error, the private-instance settings) comes from the registry
   entry for a shipped target, and is otherwise *unknown*: cases that need it say that the suite
   could not tell, never that the target lacks it.

A shipped target at its pinned version must declare exactly the parts of its registry entry, so a
fixture cannot lose a part unnoticed.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import http as rawhttp
from . import packages, targets, wire
from .eio import SessionEnded, open_session, query
from .sio import CONNECT, CONNECT_ERROR, SioClient
from .ws import WsRejected

UNPROBEABLE = targets.UNPROBEABLE
UPGRADE_TIMEOUT = "upgrade-timeout"  # a setting, tracked with the parts in Target.unknown


@dataclass
class Declared:
    """What the command line says about a target (every field optional)."""

    features: frozenset[str] | None = None
    upgrade_timeout_ms: int | None = None
    info: dict[str, Any] = field(default_factory=dict)
    # Given on the command line (--connect-timeout, --eio3): a fixture-info answer does not override them.
    connect_timeout_given: bool = False
    eio3_given: bool = False


def parse_features(text: str) -> frozenset[str]:
    """`--target-features extended,auth,echo` (or `all`, or `none`); unknown names are an error."""
    words = {w.strip() for w in text.split(",") if w.strip()}
    if words == {"all"}:
        return targets.FULL_FIXTURE
    if words == {"none"}:
        return frozenset()
    unknown = sorted(words - set(targets.PARTS))
    if unknown:
        raise ValueError(f"unknown fixture part(s) {', '.join(unknown)}; known: {', '.join(targets.PARTS)}")
    return frozenset(words)


def load_info_file(path: str) -> dict[str, Any]:
    """A fixture-info answer kept in a file, for a server whose fixture cannot answer it."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"--target-info {path}: {err}") from None
    problem = info_problem(data)
    if problem:
        raise ValueError(f"--target-info {path}: {problem}")
    return data


def info_problem(info: Any) -> str | None:
    """What is wrong with a fixture-info answer, or None (FIXTURE.md gives its shape)."""
    if not isinstance(info, dict):
        return f"not a JSON object: {info!r:.120}"
    parts = info.get("parts", [])
    if not isinstance(parts, list) or not all(isinstance(p, str) for p in parts):
        return f"`parts` is not a list of names: {parts!r:.120}"
    for key in ("packages", "settings"):
        if not isinstance(info.get(key, {}), dict):
            return f"`{key}` is not an object"
    return None


# A shipped fixture that implements fixture-info, starting up on a loaded machine (a JVM's first
# request), can miss one reply deadline; the matrix's version row comes from this answer.
FIXTURE_INFO_ATTEMPTS = 3


def ask_fixture_info_patiently(target: targets.Target, attempts: int) -> tuple[dict[str, Any] | None, str]:
    """ask_fixture_info, asked again on a fresh session while no answer comes, `attempts` times at most;
    an answer that came (usable or not) is final. Why there is none names every attempt."""
    failures: list[str] = []
    for _ in range(attempts):
        info, how, answered = ask_fixture_info(target)
        if answered:
            return info, how
        failures.append(how)
    return None, failures[0] if len(failures) == 1 else f"{len(failures)} attempts: " + "; ".join(failures)


def ask_fixture_info(target: targets.Target) -> tuple[dict[str, Any] | None, str, bool]:
    """The fixture-info answer (None when there is none or it is unusable), how it went ("answered", or
    why there is none), and whether an answer came at all, usable or not."""
    try:
        client = SioClient(open_session(target, "websocket"))
    except Exception as err:  # the target is unusable; the first case will say how
        return None, f"no session for fixture-info ({type(err).__name__}: {err})", False
    try:
        reply = client.connect("/")
        if reply.type != CONNECT:
            return None, f"CONNECT to / refused: {reply!r}", False
        ack_id = client.emit("fixture-info", ack=True)
        assert ack_id is not None
        try:
            answer = client.expect_ack(ack_id, "/", target.reply)
        except TimeoutError:
            return None, "fixture-info not answered", False
        data = answer.data[0] if isinstance(answer.data, list) and answer.data else None
        problem = info_problem(data)
        return (None, f"fixture-info answer unusable: {problem}", True) if problem else (data, "answered", True)
    except (TimeoutError, SessionEnded, AssertionError) as err:
        return None, f"fixture-info: {type(err).__name__}: {err}", False
    finally:
        client.close()


# ---------------------------------------------------------------------------- probes
_serial = itertools.count(1)


def _probe_namespace(target: targets.Target, nsp: str, auth: Any = None) -> bool:
    client = SioClient(open_session(target, "websocket"))
    try:
        return client.connect(nsp, auth).type == CONNECT
    finally:
        client.close()


def _probe_event(target: targets.Target, event: str, *args: Any) -> bool:
    """An acked event of the fixture is answered within the target's reply deadline."""
    client = SioClient(open_session(target, "websocket"))
    try:
        client.connect("/")
        client.call(event, *args, timeout=target.reply)
        return True
    except TimeoutError:
        return False
    finally:
        client.close()


def _probe_refusal_data(target: targets.Target) -> bool:
    """The /auth refusal asked for with `withData` carries a `data` member."""
    client = SioClient(open_session(target, "websocket"))
    try:
        reply = client.connect("/auth", {"withData": True})
        return reply.type == CONNECT_ERROR and isinstance(reply.data, dict) and "data" in reply.data
    finally:
        client.close()


def _probe_close_connection(target: targets.Target) -> bool:
    """`disconnect-me` with `true` ends the Engine.IO session within the reply deadline."""
    client = SioClient(open_session(target, "websocket"))
    try:
        client.connect("/")
        client.emit("disconnect-me", True)
        deadline = time.monotonic() + target.reply
        while time.monotonic() < deadline:
            try:
                client.recv(timeout=max(0.01, deadline - time.monotonic()))
            except SessionEnded:
                return True
        return False
    finally:
        client.close()


def _probe_volatile(target: targets.Target) -> bool:
    client = SioClient(open_session(target, "websocket"))
    try:
        client.connect("/")
        client.emit("volatile", "probe")
        client.expect_event("vol", "/", target.reply)
        return True
    except TimeoutError:
        return False
    finally:
        client.close()


def _probe_echo(target: targets.Target) -> bool:
    resp = rawhttp.request(target.host, target.port, "GET", query(target.eio_path, "polling"), timeout=target.reply)
    if resp.status != 200:
        return False
    # A v4 open packet, or a v3 one (length-prefixed); its keys may come in any order.
    return any(wire.open_packet_of_body(resp.body, eio) is not None for eio in (4, 3))


def _probe_refuse(target: targets.Target) -> bool:
    url = query(target.sio_path, "polling", extra="&refuse=probe")
    resp = rawhttp.request(target.host, target.port, "GET", url, timeout=target.reply)
    return not (resp.status == 200 and resp.body.startswith(b"0{"))


def probe(target: targets.Target) -> frozenset[str]:
    """The parts that can be seen on the wire, each tried once."""
    checks = {
        "echo": lambda: _probe_echo(target),
        "auth": lambda: _probe_namespace(target, "/auth", {"token": "ok"}),
        "dynamic": lambda: _probe_namespace(target, f"/dyn-{int(time.time()) % 100000}{next(_serial)}"),
        "extended": lambda: _probe_event(target, "rooms"),
        "close-connection": lambda: _probe_close_connection(target),
        "connect-error-data": lambda: _probe_refusal_data(target),
        "log": lambda: _probe_event(target, "log"),
        "volatile": lambda: _probe_volatile(target),
        "refuse": lambda: _probe_refuse(target),
    }
    return frozenset(part for part, check in checks.items() if _answered(check))


def _answered(check: Callable[[], bool]) -> bool:
    """A probe that gets no usable answer (silence, a closed connection, a refusal) finds nothing."""
    try:
        return check()
    except (OSError, TimeoutError, SessionEnded, AssertionError, WsRejected, rawhttp.HttpConnectionLost, ValueError):
        return False


# ---------------------------------------------------------------------------- learning
def learn(target: targets.Target, declared: Declared, pinned: bool) -> list[str]:
    """Sets the target's parts, settings, implementation and package versions; returns notes for
    the terminal. `pinned`: a shipped target at its locked version (its parts are checked)."""
    notes: list[str] = []
    # Only a shipped fixture known to answer is asked more than once: one without fixture-info would
    # cost a reply deadline per attempt.
    answers = pinned and target.spec is not None and bool(target.spec.features)
    attempts = FIXTURE_INFO_ATTEMPTS if answers else 1
    info, how = (
        (declared.info, "given by --target-info") if declared.info else ask_fixture_info_patiently(target, attempts)
    )
    if info is not None:
        _apply_info(target, info, declared)
    elif declared.features is None:
        _apply_probe(target)
        vouched = sorted(target.features & UNPROBEABLE)
        notes.append(
            f"{target.name}: {how}; parts found by probing: {', '.join(sorted(target.features - UNPROBEABLE)) or 'none'}"
            + (f"; from the registry entry: {', '.join(vouched)}" if vouched else "")
        )
    elif target.spec is None:
        target.unknown = target.unknown | {UPGRADE_TIMEOUT}
    if declared.features is not None:
        target.features, target.parts_from = declared.features, "command line"
        target.unknown = target.unknown - targets.FULL_FIXTURE - {"recovery"}
    if declared.upgrade_timeout_ms is not None:
        target.upgrade_timeout_ms = declared.upgrade_timeout_ms
        target.unknown = target.unknown - {UPGRADE_TIMEOUT}
    if pinned and target.spec is not None and declared.features is None:
        _check_registry(target, target.spec)
    return notes


def _apply_info(target: targets.Target, info: dict[str, Any], declared: Declared) -> None:
    parts = frozenset(p for p in info.get("parts", []) if p in targets.PARTS)
    target.features, target.parts_from, target.unknown = parts, "fixture-info", frozenset()
    name, version = info.get("name"), info.get("version")
    if name:
        target.implementation = f"{name} {version}" if version else str(name)
    reported = {str(k): str(v) for k, v in info.get("packages", {}).items()}
    target.packages = target.packages or reported  # an installation read from disk wins
    settings = info.get("settings", {})
    if "upgradeTimeoutMs" in settings:
        value = settings["upgradeTimeoutMs"]
        target.upgrade_timeout_ms = int(value) if isinstance(value, (int, float)) else None
    elif target.spec is None:
        target.unknown = target.unknown | {UPGRADE_TIMEOUT}
    if target.spec is None:  # settings the suite did not choose itself
        if isinstance(settings.get("connectTimeoutMs"), int) and not declared.connect_timeout_given:
            target.connect_timeout_ms = settings["connectTimeoutMs"]
        if isinstance(settings.get("eio3"), bool) and not declared.eio3_given:
            target.eio3 = settings["eio3"]


def _apply_probe(target: targets.Target) -> None:
    found = probe(target)
    spec = target.spec
    if spec is not None and not spec.shell:
        # A shipped target's registry entry vouches for what probes cannot show.
        target.features = found | (spec.features & UNPROBEABLE)
        target.unknown = frozenset()
    else:
        target.features = found
        target.unknown = UNPROBEABLE | ({UPGRADE_TIMEOUT} if spec is None else frozenset())
    target.parts_from = "probe"


def _check_registry(target: targets.Target, spec: targets.TargetSpec) -> None:
    """A pinned shipped target whose fixture declares other parts than its registry entry is a
    broken fixture or entry: the run stops instead of quietly judging fewer cases."""
    if target.features != spec.features:
        missing = sorted(spec.features - target.features)
        extra = sorted(target.features - spec.features)
        raise targets.StartError(
            f"target {spec.name}: the fixture's parts ({target.parts_from}) differ from its registry entry: "
            f"missing {missing or 'none'}, not in the entry {extra or 'none'}"
        )


def is_pinned(name: str) -> bool:
    return packages.parse(name).version is None
