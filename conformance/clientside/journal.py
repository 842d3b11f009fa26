"""An append-only record that waiters query without consuming: nothing seen is ever lost.

Every observation a case makes (an HTTP request, an Engine.IO packet, a Socket.IO packet, a line the
fixture printed) goes into a journal with the time it arrived on the suite's clock. A case waits for
the first entry that matches a predicate; entries that do not match stay for later questions, and
order is asserted only where a requirement states one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from harness import tracking

T = TypeVar("T")


class Clock:
    """The scripted server's clock: milliseconds since the case started."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()

    def ms(self) -> float:
        return (time.monotonic() - self.t0) * 1000.0


@dataclass
class Entry(Generic[T]):
    t: float  # ms on the case's clock
    item: T


class Journal(Generic[T]):
    def __init__(self, clock: Clock, name: str):
        self.clock = clock
        self.name = name
        self.entries: list[Entry[T]] = []
        self.cond = threading.Condition()
        self.closed_reason: str | None = None

    def add(self, item: T, t: float | None = None) -> Entry[T]:
        """Appends `item`, stamped `t` (ms on the case's clock: when it reached the machine) or now."""
        with self.cond:
            e = Entry(self.clock.ms() if t is None else t, item)
            self.entries.append(e)
            self.cond.notify_all()
            return e

    def close(self, reason: str) -> None:
        """No more entries will come (the fixture exited): waiters stop early."""
        with self.cond:
            self.closed_reason = reason
            self.cond.notify_all()

    def snapshot(self) -> list[Entry[T]]:
        with self.cond:
            return list(self.entries)

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self.cond:
            return len(self.entries)

    def find(self, pred: Callable[[T], bool], start: int = 0) -> tuple[int, Entry[T]] | None:
        with self.cond:
            for i in range(start, len(self.entries)):
                if pred(self.entries[i].item):
                    return i, self.entries[i]
        return None

    def wait(
        self, pred: Callable[[T], bool], timeout: float, start: int = 0, interrupt: Callable[[], bool] | None = None
    ) -> Entry[T] | None:
        """First entry from index `start` matching `pred`, waiting up to `timeout` seconds; None if
        none came (or the journal was closed, or `interrupt()` became true, before one did)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            i = start
            while True:
                while i < len(self.entries):
                    if pred(self.entries[i].item):
                        return self.entries[i]
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or self.closed_reason is not None or (interrupt is not None and interrupt()):
                    return None
                self.cond.wait(min(left, 0.05) if interrupt is not None else left)

    def wait_count(
        self,
        pred: Callable[[T], bool],
        n: int,
        timeout: float,
        start: int = 0,
        interrupt: Callable[[], bool] | None = None,
    ) -> list[Entry[T]]:
        """The first `n` matching entries, or as many as came within `timeout` (or before `interrupt()`
        became true)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                got = [e for e in self.entries[start:] if pred(e.item)]
                left = deadline - time.monotonic()
                stop = left <= 0 or self.closed_reason is not None or (interrupt is not None and interrupt())
                if len(got) >= n or stop:
                    return got[:n]
                self.cond.wait(min(left, 0.05) if interrupt is not None else left)

    def quiet(self, pred: Callable[[T], bool], seconds: float, start: int = 0) -> Entry[T] | None:
        """Watches for `seconds`: the first matching entry if one came (a violation), else None."""
        return self.wait(pred, seconds, start)


def matches(**want: Any) -> Callable[[Any], bool]:
    """A predicate over dict items: every given key has the given value."""
    return lambda item: all(isinstance(item, dict) and item.get(k) == v for k, v in want.items())


NUMBER_RUN_MIN = tracking.RUN_MIN  # the shortest list of consecutive numbers `numbers_named` names, as on the wire


def numbers_named(value: Any) -> Any:
    """`value` with every list of NUMBER_RUN_MIN or more consecutive ascending integers (the padding some
    cases send) replaced by its name, `<the 2000 numbers 0..1999>`, which says every number it stands
    for; any other list, a padding that came back changed among them, stays as it is."""
    if isinstance(value, dict):
        return {k: numbers_named(v) for k, v in value.items()}
    if isinstance(value, list):
        if (
            len(value) >= NUMBER_RUN_MIN
            and all(type(v) is int for v in value)
            and all(b == a + 1 for a, b in zip(value, value[1:]))
        ):
            return f"<the {len(value)} numbers {value[0]}..{value[-1]}>"
        return [numbers_named(v) for v in value]
    return value
