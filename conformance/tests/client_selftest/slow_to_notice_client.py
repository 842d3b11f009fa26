"""A polling-only Socket.IO client written for the CSIO-RC-03 self-test (a fixture by command line,
CLIENT-FIXTURE.md): it notices a dropped connection NOTICE seconds late, prints `disconnect`, then waits
FIRST seconds before its first reconnection attempt and doubles the wait (at most 0.2 s) after each
refused one. Usage: slow_to_notice_client.py NOTICE FIRST '<config-json>' | --capabilities."""

from __future__ import annotations

import http.client
import json
import sys
import time
import urllib.parse


def say(**line: object) -> None:
    print(json.dumps(line), flush=True)


def main() -> None:
    if sys.argv[-1] == "--capabilities":
        say(agent="slow-to-notice test client", features=["polling-only"])
        return
    notice, first = float(sys.argv[1]), float(sys.argv[2])
    cfg = json.loads(sys.argv[-1])
    url = urllib.parse.urlparse(cfg["url"])

    def request(method: str, query: str, body: bytes | None = None) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(url.hostname or "127.0.0.1", url.port, timeout=10)
        try:
            conn.request(method, f"{cfg['path']}?EIO=4&transport=polling{query}", body=body)
            answer = conn.getresponse()
            return answer.status, answer.read()
        finally:
            conn.close()

    wait = first
    while True:
        status, body = request("GET", "")
        if status != 200:
            time.sleep(wait)
            wait = min(wait * 2, 0.2)
            continue
        sid = json.loads(body[1:])["sid"]
        request("POST", f"&sid={sid}", b"40")
        try:
            while True:
                status, body = request("GET", f"&sid={sid}")
                if status != 200:
                    raise ConnectionError(status)
                for packet in body.decode().split("\x1e"):
                    if packet == "2":
                        request("POST", f"&sid={sid}", b"3")
                    elif packet.startswith("40"):
                        say(ev="connect", nsp="/", id=json.loads(packet[2:])["sid"])
        except (OSError, http.client.HTTPException):
            time.sleep(notice)
            say(ev="disconnect", nsp="/", reason="transport error")
            time.sleep(first)
            wait = min(first * 2, 0.2)


if __name__ == "__main__":
    main()
