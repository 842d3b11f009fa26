"""Delta debugging (Zeller's ddmin) over a finding's program: first the steps, then inside each step
the field that carries the input (records of a polling body, headers, a frame's payload, raw bytes).

The test is "running the candidate still shows the finding". Framing stays valid while a payload
shrinks because the renderer re-frames it. Every test runs the target for real, so the work is
bounded by a number of tests and a wall-clock limit, whichever comes first.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from .program import HttpStep, Program, RawStep, WsStep, copy_program, estimated_size

T = TypeVar("T")
MINIMISE_TESTS = 250
MINIMISE_SECONDS = 180.0


@dataclass
class Budget:
    tests: int = MINIMISE_TESTS
    seconds: float = MINIMISE_SECONDS
    used: int = 0
    started: float = 0.0

    def __post_init__(self) -> None:
        self.started = time.monotonic()

    def spent(self) -> bool:
        return self.used >= self.tests or time.monotonic() - self.started >= self.seconds


def ddmin(items: Sequence[T], test: Callable[[list[T]], bool], budget: Budget) -> list[T]:
    """A 1-minimal subsequence of `items` (as far as the budget goes) for which `test` holds; `test`
    is assumed to hold for `items` itself."""
    current = list(items)
    n = 2
    while len(current) >= 2 and not budget.spent():
        size = max(1, len(current) // n)
        chunks = [current[i : i + size] for i in range(0, len(current), size)]
        reduced = False
        for k in range(len(chunks)):
            if budget.spent():
                break
            complement = [x for j, c in enumerate(chunks) if j != k for x in c]
            budget.used += 1
            if test(complement):
                current = complement
                n = max(n - 1, 2)
                reduced = True
                break
        if not reduced:
            if n >= len(current):
                break
            n = min(len(current), 2 * n)
    return current


def _shrink_bytes(data: bytes, rebuild: Callable[[bytes], Program], test: Callable[[Program], bool],
                  budget: Budget) -> bytes:  # fmt: skip
    """ddmin over the bytes of one field: first in blocks of 1/256 of its size, then in blocks 16
    times smaller, down to single bytes."""
    unit = max(1, len(data) // 256)
    while len(data) >= 2 and not budget.spent():
        blocks = [data[i : i + unit] for i in range(0, len(data), unit)]
        data = b"".join(ddmin(blocks, lambda bs: test(rebuild(b"".join(bs))), budget))
        if unit == 1:
            break
        unit = max(1, min(unit // 16, len(data) // 256))
    return data


def minimise(program: Program, test: Callable[[Program], bool], budget: Budget) -> Program:
    """The smallest program (as far as the budget goes) that still shows the finding."""
    best = copy_program(program)

    def with_steps(steps: list) -> Program:
        p = copy_program(best)
        p.steps = list(steps)
        return p

    steps = ddmin(best.steps, lambda ss: test(with_steps(ss)), budget)
    best = with_steps(steps)
    # Largest steps first: most of the bytes usually sit in one payload.
    order = sorted(range(len(best.steps)), key=lambda i: -estimated_size(best.steps[i]))
    for i in order:
        if budget.spent():
            break
        best = _minimise_step(best, i, test, budget)
    return best


def _minimise_step(best: Program, i: int, test: Callable[[Program], bool], budget: Budget) -> Program:
    step = best.steps[i]

    def variant(change: Callable[[object], None]) -> Program:
        p = copy_program(best)
        change(p.steps[i])
        return p

    if isinstance(step, HttpStep):
        if step.records is not None and len(step.records) > 1:
            kept = ddmin(step.records, lambda rs: test(variant(lambda s: setattr(s, "records", list(rs)))), budget)
            best = variant(lambda s: setattr(s, "records", list(kept)))
        if len(step.headers) > 1:
            hs = ddmin(step.headers, lambda h: test(variant(lambda s: setattr(s, "headers", list(h)))), budget)
            best = variant(lambda s: setattr(s, "headers", list(hs)))
        cur = best.steps[i]
        assert isinstance(cur, HttpStep)
        if cur.records is not None:
            for j in range(len(cur.records)):
                data = cur.records[j].data

                def rebuild(d: bytes, j: int = j) -> Program:
                    return variant(lambda s: setattr(getattr(s, "records")[j], "data", d))  # noqa: B009

                best = rebuild(_shrink_bytes(data, rebuild, test, budget))
        elif cur.body:

            def rebuild_body(d: bytes) -> Program:
                return variant(lambda s: setattr(s, "body", d))

            best = rebuild_body(_shrink_bytes(cur.body, rebuild_body, test, budget))
        return best
    if isinstance(step, WsStep):
        shrunk = _shrink_bytes(step.payload, lambda d: variant(lambda s: setattr(s, "payload", d)), test, budget)
        return variant(lambda s: setattr(s, "payload", shrunk))
    if isinstance(step, RawStep):
        shrunk = _shrink_bytes(step.data, lambda d: variant(lambda s: setattr(s, "data", d)), test, budget)
        return variant(lambda s: setattr(s, "data", shrunk))
    return best
