"""Byte-level comparison of two recordings of the same client script against two servers (the
walkthrough against the reference server and against Node's socket.io).

Every byte range where the recordings differ becomes a `Difference` that names the message, the
field and the range on each side. A difference is explained when it lies inside a field marked
variable in both recordings (same name, same place), or when it is one of the HTTP header
differences listed in SERVER_HEADERS / LAYOUT with the reason it is not a protocol difference.
Anything else is unexplained, and `Comparison.ok` is false.

    python -m recorder.compare FIRST.json SECOND.json
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

from . import session, wire

# Header lines one server sends and the other does not, with the reason this is allowed. The
# reasons are shown on the pages, so they are prose without numbers.
SERVER_HEADERS = {
    "keep-alive": "Keep-Alive only advertises how long an idle connection stays open; Node's HTTP "
    "server sends it, the protocol does not use it",
    "cache-control": "the requirement catalogue asks for cache-control on polling GET answers only; a POST answer "
    "is not cacheable without it, and Node sends the header on both",
    "date": "the time of the response; deterministic servers leave it out",
}
# Header differences of form rather than content.
LAYOUT = {
    "order": "HTTP gives no meaning to the order of header fields with different names",
    "name case": "HTTP header field names are case-insensitive",
}
# Headers whose absence is only allowed on some responses: name -> predicate on the response body.
ONLY_ABSENT_WHEN = {"cache-control": lambda body: body == b"ok"}


@dataclass
class Difference:
    message: int
    title: str
    field: str
    first: tuple[int, int]  # (offset, length) in the first recording's bytes; length 0: absent
    second: tuple[int, int]
    first_bytes: bytes
    second_bytes: bytes
    reason: str | None = None  # why the difference is allowed; None: unexplained

    def describe(self, names: tuple[str, str] = ("first", "second")) -> str:
        def side(name: str, rng: tuple[int, int], data: bytes) -> str:
            if rng[1] == 0 and not data:
                return f"absent in {name}"
            return f"{name} bytes {rng[0]}+{rng[1]} {data[:80]!r}"

        verdict = f"explained: {self.reason}" if self.reason else "UNEXPLAINED"
        return (
            f"message {self.message} ({self.title}), {self.field}: "
            f"{side(names[0], self.first, self.first_bytes)}; "
            f"{side(names[1], self.second, self.second_bytes)} -- {verdict}"
        )


@dataclass
class Comparison:
    messages: int = 0
    identical: int = 0
    bytes_compared: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def unexplained(self) -> list[Difference]:
        return [d for d in self.differences if d.reason is None]

    @property
    def ok(self) -> bool:
        return not self.unexplained


def runs(a: bytes, b: bytes) -> list[tuple[int, int]]:
    """Maximal runs (offset, length) where two equally long byte strings differ."""
    out: list[tuple[int, int]] = []
    start = None
    for i in range(len(a) + 1):
        differs = i < len(a) and a[i] != b[i]
        if differs and start is None:
            start = i
        elif not differs and start is not None:
            out.append((start, i - start))
            start = None
    return out


def covering_variable(msg: dict, offset: int, length: int) -> dict | None:
    for v in msg.get("variable", []):
        if v["offset"] <= offset and offset + length <= v["offset"] + v["length"]:
            return v
    return None


def label_at(msg: dict, offset: int) -> str:
    for a in msg.get("annotations", []):
        if a["offset"] <= offset < a["offset"] + a["length"]:
            return a["label"]
    return "bytes"


class _Comparer:
    def __init__(self, first: dict, second: dict):
        self.first, self.second = first, second
        self.result = Comparison()

    def add(self, e: dict, a: dict, fld: str, r1: tuple[int, int], r2: tuple[int, int], reason: str | None) -> None:
        d1, d2 = session.message_bytes(e), session.message_bytes(a)
        self.result.differences.append(
            Difference(
                e["index"],
                e.get("title") or e["summary"],
                fld,
                r1,
                r2,
                d1[r1[0] : r1[0] + r1[1]],
                d2[r2[0] : r2[0] + r2[1]],
                reason,
            )
        )

    def positional(self, e: dict, a: dict, start1: int, start2: int, length: int, fld: str | None = None) -> None:
        """Compares `length` bytes at `start1` of e with those at `start2` of a; every differing run
        must lie in a variable field of e with a same-named variable field at the same place in a."""
        b1 = session.message_bytes(e)[start1 : start1 + length]
        b2 = session.message_bytes(a)[start2 : start2 + length]
        self.result.bytes_compared += length
        seen: set[tuple[int, int]] = set()
        for off, n in runs(b1, b2):
            v1 = covering_variable(e, start1 + off, n)
            if v1 and start1 <= v1["offset"] and v1["offset"] + v1["length"] <= start1 + length:
                # Name the whole variable field once, not each run of bytes that happen to differ.
                off, n = v1["offset"] - start1, v1["length"]
                if (off, n) in seen:
                    continue
                seen.add((off, n))
            v2 = covering_variable(a, start2 + off, n)
            reason = None
            if (
                v1
                and v2
                and v1["name"] == v2["name"]
                and v1["offset"] - start1 == v2["offset"] - start2
                and v1["length"] == v2["length"]
            ):
                reason = f"inside the variable field {v1['name']}"
            name = fld or label_at(e, start1 + off)
            if v1:
                name += f" ({v1['name']})"
            self.add(e, a, name, (start1 + off, n), (start2 + off, n), reason)

    def whole(self, e: dict, a: dict, fld: str) -> None:
        d1, d2 = session.message_bytes(e), session.message_bytes(a)
        if len(d1) == len(d2):
            self.positional(e, a, 0, 0, len(d1), None)
        else:
            self.result.bytes_compared += min(len(d1), len(d2))
            self.add(e, a, f"{fld} length", (0, len(d1)), (0, len(d2)), None)

    def http_response(self, e: dict, a: dict) -> None:
        d1, d2 = session.message_bytes(e), session.message_bytes(a)
        h1, h2 = wire.parse_head(d1), wire.parse_head(d2)
        if h1 is None or h2 is None:
            self.add(e, a, "HTTP head", (0, len(d1)), (0, len(d2)), None)
            return
        s1, s2 = len(h1.start_line) + 2, len(h2.start_line) + 2
        if s1 == s2:
            self.positional(e, a, 0, 0, s1, "status line")
        else:
            self.add(e, a, "status line", (0, s1), (0, s2), None)
        lines1, lines2 = header_lines(d1, h1, s1), header_lines(d2, h2, s2)
        body1, body2 = d1[h1.head_length :], d2[h2.head_length :]
        common = [k for k in lines1 if k in lines2]
        for k in common:
            (o1, n1, name1, _), (o2, n2, name2, _) = lines1[k], lines2[k]
            if name1 != name2:
                self.add(e, a, f"header {k} name", (o1, len(name1)), (o2, len(name2)), LAYOUT["name case"])
            value1, value2 = o1 + len(name1), o2 + len(name2)
            if n1 - len(name1) == n2 - len(name2):
                self.positional(e, a, value1, value2, n1 - len(name1), f"header {k}")
            else:
                self.add(
                    e,
                    a,
                    f"header {k} value",
                    (value1, n1 - len(name1)),
                    (value2, n2 - len(name2)),
                    SERVER_HEADERS.get(k),
                )
            self.result.bytes_compared += len(name1)
        # In the order the headers were sent, so that the list is the same on every run.
        for k in [k for k in lines1 if k not in lines2]:
            self.absent(e, a, k, lines1[k], body1, first_has=True)
        for k in [k for k in lines2 if k not in lines1]:
            self.absent(e, a, k, lines2[k], body1, first_has=False)
        if [k for k in lines1 if k in common] != [k for k in lines2 if k in common]:
            self.add(
                e, a, "header order", (s1, h1.head_length - 2 - s1), (s2, h2.head_length - 2 - s2), LAYOUT["order"]
            )
        # End of head and body, aligned at the end of each head.
        if len(body1) == len(body2):
            self.positional(e, a, h1.head_length - 2, h2.head_length - 2, len(body1) + 2)
        else:
            self.add(e, a, "body", (h1.head_length, len(body1)), (h2.head_length, len(body2)), None)

    def absent(self, e: dict, a: dict, key: str, line: tuple[int, int, str, str], body: bytes, first_has: bool) -> None:
        """A header line only one side sent; `body` is the response body (compared separately)."""
        off, n, _, _ = line
        reason = SERVER_HEADERS.get(key)
        if reason and key in ONLY_ABSENT_WHEN and not ONLY_ABSENT_WHEN[key](body):
            reason = None
        r = (off, n)
        if first_has:
            self.add(e, a, f"header {key}", r, (0, 0), reason)
        else:
            self.add(e, a, f"header {key}", (0, 0), r, reason)

    def run(self) -> Comparison:
        em, am = self.first["messages"], self.second["messages"]
        if len(em) != len(am):
            self.result.differences.append(
                Difference(min(len(em), len(am)), "message count", "messages", (0, len(em)), (0, len(am)), b"", b"")
            )
        for e, a in zip(em, am):
            before = len(self.result.differences)
            self.result.messages += 1
            shape = ("connection", "direction", "kind", "transport")
            if any(e[k] != a[k] for k in shape):
                d1, d2 = session.message_bytes(e), session.message_bytes(a)
                self.add(e, a, "message shape " + "/".join(str(a[k]) for k in shape), (0, len(d1)), (0, len(d2)), None)
                continue
            if e["kind"] == "http-response":
                self.http_response(e, a)
            else:
                self.whole(e, a, e["kind"])
            if len(self.result.differences) == before:
                self.result.identical += 1
        return self.result


def header_lines(data: bytes, head: wire.HttpHead, start: int) -> dict[str, tuple[int, int, str, str]]:
    """lower-case name -> (offset of the line, length of the line with its CRLF, name as sent
    with its colon, value)."""
    out, pos = {}, start
    for name, value in head.headers:
        end = data.index(b"\r\n", pos) + 2
        out[name.lower()] = (pos, end - pos, name + ":", value)
        pos = end
    return out


def compare(first: dict, second: dict) -> Comparison:
    """Every difference between two recordings of the same client script (see the module doc)."""
    return _Comparer(first, second).run()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("first", type=Path)
    ap.add_argument("second", type=Path)
    ap.add_argument("--quiet", action="store_true", help="list only the unexplained differences")
    args = ap.parse_args(argv)
    result = compare(session.load(args.first), session.load(args.second))
    names = (args.first.stem, args.second.stem)
    for d in result.unexplained if args.quiet else result.differences:
        print(d.describe(names))
    print(
        f"{result.messages} messages compared, {result.identical} byte-identical, "
        f"{result.bytes_compared} bytes compared, {len(result.differences)} differences, "
        f"{len(result.unexplained)} unexplained"
    )
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
