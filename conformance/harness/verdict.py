"""Verdicts (as Autobahn reports them) and the per-test `Case` object tests use to state them.

pass           every check held
non-strict     a SHOULD missed, or behaviour differs from the reference where the spec is silent
informational  behaviour recorded, no judgement
fail           a MUST broken
unimplemented  an optional feature (or fixture part) absent
not-applicable the requirement cannot apply to this target (EIO3-only behaviour on a target without
               EIO3) or cannot be exercised over what the harness speaks; the reason is reported
"""

from __future__ import annotations

import time
from typing import Any, NoReturn

from .catalogue import Requirement

PASS, NON_STRICT, INFORMATIONAL, FAIL, UNIMPLEMENTED, NOT_APPLICABLE, UNTESTED, ERROR = (
    "pass",
    "non-strict",
    "informational",
    "fail",
    "unimplemented",
    "not-applicable",
    "untested",
    "error",
)
ORDER = [PASS, NON_STRICT, INFORMATIONAL, UNIMPLEMENTED, NOT_APPLICABLE, FAIL, ERROR, UNTESTED]


def show(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return repr(bytes(value)[:600]) + (f" … ({len(value)} bytes)" if len(value) > 600 else "")
    text = repr(value)
    return text if len(text) <= 800 else text[:800] + f" … ({len(text)} chars)"


class Verdict(Exception):
    kind = ""

    def __init__(self, message: str, expected: Any = None, actual: Any = None):
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.actual = actual


class NonStrict(Verdict):
    kind = NON_STRICT


class Informational(Verdict):
    kind = INFORMATIONAL


class Unimplemented(Verdict):
    kind = UNIMPLEMENTED


class NotApplicable(Verdict):
    kind = NOT_APPLICABLE


class Failure(AssertionError):
    kind = FAIL

    def __init__(self, message: str, expected: Any = None, actual: Any = None):
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.actual = actual


class Case:
    """What a test knows about the requirement it checks; every check goes through it."""

    def __init__(self, req: Requirement | None, req_id: str):
        self.req = req
        self.req_id = req_id
        self.expected: Any = None
        self.actual: Any = None
        self.notes: list[str] = []
        self.started = time.monotonic()

    @property
    def level(self) -> str:
        return self.req.level if self.req else "MUST"

    def _text(self, what: str, expected: Any, actual: Any) -> str:
        head = self.req.describe() if self.req else self.req_id
        return f"{head}\n  check:    {what}\n  expected: {show(expected)}\n  actual:   {show(actual)}"

    def record(self, expected: Any, actual: Any) -> None:
        self.expected, self.actual = expected, actual

    def check(self, cond: bool, what: str, expected: Any, actual: Any) -> None:
        """A check at the requirement's own level: MUST → fail, SHOULD/MAY → non-strict, INFO → informational."""
        self.record(expected, actual)
        if cond:
            return
        msg = self._text(what, expected, actual)
        if self.level == "MUST":
            raise Failure(msg, expected, actual)
        if self.level == "INFO":
            raise Informational(msg, expected, actual)
        raise NonStrict(msg, expected, actual)

    def eq(self, what: str, expected: Any, actual: Any) -> None:
        self.check(expected == actual, what, expected, actual)

    def must(self, cond: bool, what: str, expected: Any, actual: Any) -> None:
        """A MUST-level check whatever the requirement's level (for preconditions the spec makes hard)."""
        self.record(expected, actual)
        if not cond:
            raise Failure(self._text(what, expected, actual), expected, actual)

    def should(self, cond: bool, what: str, expected: Any, actual: Any) -> None:
        self.record(expected, actual)
        if not cond:
            raise NonStrict(self._text(what, expected, actual), expected, actual)

    def non_strict(self, what: str, expected: Any, actual: Any) -> NoReturn:
        raise NonStrict(self._text(what, expected, actual), expected, actual)

    def informational(self, what: str, actual: Any, expected: Any = None) -> NoReturn:
        raise Informational(self._text(what, expected, actual), expected, actual)

    def unimplemented(self, why: str) -> NoReturn:
        raise Unimplemented(f"{self.req_id}: {why}")

    def not_applicable(self, why: str) -> NoReturn:
        raise NotApplicable(f"{self.req_id}: {why}")
