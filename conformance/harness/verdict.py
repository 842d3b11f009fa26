"""Verdicts (as Autobahn reports them) and the per-test `Case` object tests use to state them.

pass           every check held
non-strict     a SHOULD missed, or behaviour differs from the reference where the spec is silent
informational  behaviour recorded, no judgement
fail           a MUST broken
unimplemented  an optional feature (or fixture part) absent
not-applicable the requirement cannot apply to this target (EIO3-only behaviour on a target without
               EIO3) or cannot be exercised over what the harness speaks; the reason is reported
precondition-failed
               the case could not judge its requirement: something it needs first did not happen (the
               reason says what; when another requirement's defect caused it, that requirement is named)

A step that only opens a case (a handshake, joining a namespace) raises `SetupFailed` naming the
requirement that step depends on; the case then reports precondition-failed caused by it, unless it
judges that very requirement, in which case the failed step is its own check.
"""

from __future__ import annotations

import time
from typing import Any, NoReturn

from . import catalogue
from .catalogue import Requirement

PASS, NON_STRICT, INFORMATIONAL, FAIL, UNIMPLEMENTED, NOT_APPLICABLE, PRECONDITION, UNTESTED, ERROR = (
    "pass",
    "non-strict",
    "informational",
    "fail",
    "unimplemented",
    "not-applicable",
    "precondition-failed",
    "untested",
    "error",
)
ORDER = [PASS, NON_STRICT, INFORMATIONAL, UNIMPLEMENTED, NOT_APPLICABLE, PRECONDITION, FAIL, ERROR, UNTESTED]


def show(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return repr(bytes(value)[:600]) + (f" … ({len(value)} bytes)" if len(value) > 600 else "")
    text = repr(value)
    return text if len(text) <= 800 else text[:800] + f" … ({len(text)} chars)"


class Verdict(Exception):
    kind = ""

    def __init__(self, message: str, expected: Any = None, actual: Any = None, caused_by: str | None = None):
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.actual = actual
        self.caused_by = caused_by


class NonStrict(Verdict):
    kind = NON_STRICT


class Informational(Verdict):
    kind = INFORMATIONAL


class Unimplemented(Verdict):
    kind = UNIMPLEMENTED


class NotApplicable(Verdict):
    kind = NOT_APPLICABLE


class PreconditionFailed(Verdict):
    kind = PRECONDITION


class Failure(AssertionError):
    kind = FAIL

    def __init__(self, message: str, expected: Any = None, actual: Any = None):
        super().__init__(message)
        self.message = message
        self.expected = expected
        self.actual = actual
        self.caused_by: str | None = None


class SetupFailed(AssertionError):
    """A step that opens a case (an Engine.IO handshake, the join of a namespace) did not succeed.
    Raised where the case is not known (the harness's session and client helpers); the plugin turns
    it into the case's verdict with `Case.setup_verdict`. `actual` is what the target was seen to do."""

    def __init__(self, requirement: str, what: str, expected: Any, actual: Any):
        super().__init__(f"{what}: expected {show(expected)}, actual {show(actual)}")
        self.requirement = requirement
        self.what = what
        self.expected = expected
        self.actual = actual


_CATALOGUE: dict[str, Requirement] | None = None


def requirement(rid: str) -> Requirement | None:
    global _CATALOGUE
    if _CATALOGUE is None:
        _CATALOGUE = catalogue.load()
    return _CATALOGUE.get(rid)


class Case:
    """What a test knows about the requirement it checks; every check goes through it.

    A case judges at its requirement's level, or, when it exercises a behaviour that a more specific
    requirement rates (an ERR case sending a client ping, which EIO-HB-05 rates SHOULD), at that
    requirement's level: `judge_as(rid)`. Levels come from REQUIREMENTS.md only."""

    def __init__(self, req: Requirement | None, req_id: str):
        self.req = req
        self.req_id = req_id
        self.judged_as: Requirement | None = None
        self.expected: Any = None
        self.actual: Any = None
        self.notes: list[str] = []
        self.started = time.monotonic()

    def judge_as(self, rid: str) -> None:
        """Judge at the level of requirement `rid`, the one that rates the behaviour this case exercises."""
        other = requirement(rid)
        if other is None:
            raise KeyError(f"{rid} is not in REQUIREMENTS.md")
        self.judged_as = other

    @property
    def level(self) -> str:
        if self.judged_as is not None:
            return self.judged_as.level
        return self.req.level if self.req else "MUST"

    def head(self) -> str:
        head = self.req.describe() if self.req else self.req_id
        if self.judged_as is not None:
            j = self.judged_as
            head += f"\n  judged at the level of {j.id} [{j.level}]: {j.text}"
        return head

    def _text(self, what: str, expected: Any, actual: Any) -> str:
        return f"{self.head()}\n  check:    {what}\n  expected: {show(expected)}\n  actual:   {show(actual)}"

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
        """`actual` must equal `expected`, at the requirement's level."""
        self.check(expected == actual, what, expected, actual)

    def must_eq(self, what: str, expected: Any, actual: Any) -> None:
        """`actual` must equal `expected`, at MUST level whatever the requirement's level."""
        self.must(expected == actual, what, expected, actual)

    def precondition(self, cond: bool, what: str, expected: Any, actual: Any, caused_by: str | None = None) -> None:
        """Something the case needs before it can judge its requirement. When it fails the case reports
        that, not a verdict on its requirement; `caused_by` names the requirement whose defect it is."""
        self.record(expected, actual)
        if cond:
            return
        msg = self._text(f"precondition: {what}", expected, actual)
        if caused_by:
            other = requirement(caused_by)
            msg += f"\n  follows from {caused_by}" + (f" [{other.level}]: {other.text}" if other else "")
        raise PreconditionFailed(msg, expected, actual, caused_by)

    def setup_verdict(self, failed: SetupFailed) -> Verdict | Failure:
        """The verdict of a case whose opening step failed: precondition-failed caused by the step's
        requirement, or, when the case judges that requirement itself, the step's check at its level."""
        own = {self.req_id} | ({self.judged_as.id} if self.judged_as else set())
        try:
            if failed.requirement in own:
                self.check(False, failed.what, failed.expected, failed.actual)
            self.precondition(False, failed.what, failed.expected, failed.actual, caused_by=failed.requirement)
        except (Verdict, Failure) as verdict:
            return verdict
        raise AssertionError("unreachable: a failed check always raises")

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
        raise Unimplemented(f"{self.head()}\n  unimplemented: {why}")

    def not_applicable(self, why: str) -> NoReturn:
        raise NotApplicable(f"{self.head()}\n  not applicable: {why}")
