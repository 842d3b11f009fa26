"""Cases run against conformance/targets/node-socketio/crashing-fixture.js by test_crash_attribution.py
(the file name keeps them out of ordinary collection). The file order is the run order: a case that
works, the exit marker, a case that must find a working (restarted) server, the hang marker, and
again a case that must work."""

from __future__ import annotations

from harness.eio import SessionEnded


def _answers(case, opener, word: str) -> None:
    c = opener.sio("websocket")
    case.must(c.call("message-with-ack", word) == [word], "the server answers", [word], "no answer")


def test_1_answers_before(case, opener):
    _answers(case, opener, "before")


def test_2_exit_marker(case, opener, target):
    c = opener.sio("websocket")
    c.emit("exit-now", "marker-exit")
    try:
        c.eio.wait_ended(target.reply)
    except SessionEnded:
        pass


def test_3_answers_after_exit(case, opener):
    _answers(case, opener, "after-exit")


def test_4_hang_marker(case, opener):
    c = opener.sio("websocket")
    c.emit("hang-now", "marker-hang")
    c.call("message-with-ack", "anyone there?")  # times out: the case ends in an exception


def test_5_answers_after_hang(case, opener):
    _answers(case, opener, "after-hang")
