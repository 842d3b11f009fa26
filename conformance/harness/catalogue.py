"""The requirement catalogues, parsed: ID → level and text.

conformance/REQUIREMENTS.md judges servers (EIO-, SIO-, ERR-, WS- IDs); conformance/CLIENT-REQUIREMENTS.md
judges clients (CEIO-, CSIO-, CERR- IDs) and conformance/CLUSTER-REQUIREMENTS.md clusters of servers
(CL- IDs), in the same format.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

PATH = Path(__file__).resolve().parents[1] / "REQUIREMENTS.md"
CLIENT_PATH = Path(__file__).resolve().parents[1] / "CLIENT-REQUIREMENTS.md"
CLUSTER_PATH = Path(__file__).resolve().parents[1] / "CLUSTER-REQUIREMENTS.md"
LINE = re.compile(
    r"^- \*\*(?P<id>C?(?:EIO|SIO)-[A-Z]+-\d{2}|CL-[A-Z]+-\d{2}|(?:C?ERR|WS)-\d{2})\*\* · "
    r"(?P<level>MUST|SHOULD|MAY|INFO) · (?P<text>.+)$"
)
TEST_NAME = re.compile(r"^test_(?P<id>C?(?:EIO|SIO)_[A-Z]+_\d{2}|CL_[A-Z]+_\d{2}|(?:C?ERR|WS)_\d{2})(?:_|$)")
LEVELS = {"MUST": "MUST", "SHOULD": "SHOULD", "MAY": "optional", "INFO": "informational"}


@dataclass(frozen=True)
class Requirement:
    id: str
    level: str
    text: str
    group: str

    def describe(self) -> str:
        return f"{self.id} [{self.level}] {self.text}"


def load(path: Path = PATH) -> dict[str, Requirement]:
    out: dict[str, Requirement] = {}
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").splitlines():
        m = LINE.match(line.strip())
        if m:
            rid = m["id"]
            out[rid] = Requirement(rid, m["level"], m["text"].strip(), rid.rsplit("-", 1)[0])
    return out


def id_from_test_name(name: str) -> str | None:
    m = TEST_NAME.match(name)
    return m["id"].replace("_", "-") if m else None
