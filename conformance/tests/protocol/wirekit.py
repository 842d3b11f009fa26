"""Small helpers shared by the wire-level cases."""

from __future__ import annotations

import json
from typing import Any

from harness import http as rawhttp
from harness.http import HttpResponse
from harness.targets import Target


def get(target: Target, url: str, headers: list[tuple[str, str]] | None = None) -> HttpResponse:
    return rawhttp.request(target.host, target.port, "GET", url, headers=headers, timeout=target.reply + 1.0)


def req(
    target: Target, method: str, url: str, body: bytes | None = None, headers: list[tuple[str, str]] | None = None
) -> HttpResponse:
    return rawhttp.request(
        target.host, target.port, method, url, headers=headers, body=body, timeout=target.reply + 1.0
    )


def json_body(resp: HttpResponse) -> Any:
    try:
        return json.loads(resp.body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def open_packet(text: str) -> dict | None:
    first = text.split("\x1e")[0]
    if not first.startswith("0"):
        return None
    try:
        return json.loads(first[1:])
    except json.JSONDecodeError:
        return None
