"""show_bytes(compact=True): runs of identical bytes and of consecutive numbers are named, never guessed:
expanding every name gives back the exact bytes, which the SHA-256 at the end confirms."""

from __future__ import annotations

import hashlib
import re

from harness.tracking import RUN_MIN, SHOWN_BYTES, show_bytes

NAME = re.compile(r"⟪(?:(.) × (\d+)|(\d+) numbers (\d+)\.\.(\d+), comma-separated)⟫")


def expand(shown: str) -> tuple[bytes, int, str]:
    """The bytes a compact text stands for, with the length and digest it ends with."""
    whole = re.fullmatch(r"(.*) \((\d+) bytes, sha256 ([0-9a-f]{16})…\)", shown, re.S)
    assert whole is not None, shown
    body, length, digest = whole.groups()
    out = []
    pos = 0
    for m in NAME.finditer(body):
        out.append(body[pos : m.start()].encode())
        if m.group(1) is not None:
            out.append(m.group(1).encode() * int(m.group(2)))
        else:
            numbers = range(int(m.group(4)), int(m.group(5)) + 1)
            assert len(numbers) == int(m.group(3))
            out.append(",".join(map(str, numbers)).encode())
        pos = m.end()
    out.append(body[pos:].encode())
    return b"".join(out), int(length), digest


PADDING = ",".join(map(str, range(2000))).encode()
MESSAGES = [
    b'42["many","' + b"x" * 5000 + b'"]',
    b'462-0[{"_placeholder":true,"num":0},[' + PADDING + b"]]",
    b"1,2,3,5," + PADDING + b",7,7,2001",
    b"a" * RUN_MIN + b"b" * (RUN_MIN - 1) + b"c",
    b"[" + b",".join(str(n).encode() for n in range(10, 10 + RUN_MIN)) + b",99]",
]


def test_every_name_expands_to_the_exact_bytes():
    for data in MESSAGES:
        shown = show_bytes(data, compact=True)
        back, length, digest = expand(shown)
        assert back == data, shown
        assert length == len(data) and digest == hashlib.sha256(data).hexdigest()[:16]
    assert len(show_bytes(MESSAGES[1], compact=True)) < 140  # the tail after the padding is shown too


def test_short_runs_and_gaps_in_a_sequence_are_shown_as_they_are():
    assert show_bytes(b"a" * (RUN_MIN - 1), compact=True) == "a" * (RUN_MIN - 1)
    broken = ",".join(str(n) for n in range(40) if n != 20).encode()  # two runs of 20 and 19: too short
    assert show_bytes(broken, compact=True) == broken.decode()
    assert show_bytes(b"x" * 5000) == "x" * SHOWN_BYTES + " … (5000 bytes)"  # the default is unchanged


def test_a_message_without_runs_is_still_cut_at_the_limit():
    data = bytes(range(48, 58)) * 500
    assert show_bytes(data, compact=True) == show_bytes(data)


def test_a_run_is_named_from_run_min_on():
    assert show_bytes(b"a" * RUN_MIN, compact=True).startswith(f"⟪a × {RUN_MIN}⟫ (")
    at_bound = ",".join(map(str, range(10, 10 + RUN_MIN))).encode()
    assert show_bytes(at_bound, compact=True).startswith(f"⟪{RUN_MIN} numbers 10..{9 + RUN_MIN}, comma-separated⟫ (")
    one_short = ",".join(map(str, range(10, 9 + RUN_MIN))).encode()
    assert show_bytes(one_short, compact=True) == one_short.decode()
