"""Judging one program against the target for one oracle: what triage, minimisation, replay and the
conformance regression cases all ask ("does this input still show the finding?").

  crash   the owned process exits (for an URL target: connections are refused) within
          `CRASH_WAIT_S` of the program's end
  hang    the process lives but a fresh handshake is not answered within the hang bound
  rss     the owned process's resident memory passes the bound (judged by the campaign over many
          inputs, not per program)
  the protocol oracles of execute.py: the same oracle fires again on this program alone
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field

from .execute import REPLY_S, Transcript, run_program
from .program import Program
from .target import HEALTH_TIMEOUT_S, Handle

CRASH_WAIT_S = 0.3
SURVIVAL_ORACLES = ("crash", "hang", "rss")


@dataclass
class Evidence:
    oracle: str
    summary: str
    stderr: list[str] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)


def ready(h: Handle, hang_s: float = HEALTH_TIMEOUT_S) -> None:
    """Makes sure an owned target runs and answers before a test (restarting it after a crash or hang)."""
    if not h.owned:
        return
    if h.exit_status() is not None or h.health(hang_s) is not None:
        h.restart()


def _transcript_lines(t: Transcript) -> list[str]:
    return [r.describe() for r in t.received[:60]]


def judge(h: Handle, program: Program, oracle: str, hang_s: float = HEALTH_TIMEOUT_S) -> Evidence | None:
    """Runs `program` once on a ready target and returns the evidence if `oracle` fires. A target that
    crashed or hung is restarted before returning, so the next test finds it ready."""
    ready(h, hang_s)
    # A hung target answers nothing: each step's wait for an answer is cut to the hang bound.
    t = run_program(h.host, h.port, program, reply_s=min(REPLY_S, hang_s))
    if oracle == "crash":
        evidence = _crashed(h, t)
    elif oracle == "hang":
        status = h.health(hang_s)
        hung = status is not None and status.startswith("target stopped answering")
        evidence = Evidence("hang", status or "", h.stderr_tail(), _transcript_lines(t)) if hung else None
    else:
        found = [p for p in t.problems if p.oracle == oracle]
        return Evidence(oracle, found[0].detail, h.stderr_tail(), _transcript_lines(t)) if found else None
    if evidence is not None and h.owned:
        h.restart()
    return evidence


def _crashed(h: Handle, t: Transcript) -> Evidence | None:
    proc = h.target.process
    if proc is not None:
        try:
            proc.wait(timeout=CRASH_WAIT_S)
        except subprocess.TimeoutExpired:
            pass
        status = h.exit_status()
        if status is not None:
            return Evidence("crash", f"target died ({status})", h.stderr_tail(), _transcript_lines(t))
    status_line = h.health(HEALTH_TIMEOUT_S)
    if status_line is not None and status_line.startswith("target died"):
        return Evidence("crash", status_line, h.stderr_tail(), _transcript_lines(t))
    return None
