"""wirefuzz: a structure-aware network fuzzer for Socket.IO servers (fuzz/net/README.md).

It reuses the conformance harness (target start and stop, the raw HTTP reader), the session
recorder's stream splitter and the ctypes binding of libsiocodec, all under conformance/.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
CONFORMANCE = ROOT / "conformance"
if str(CONFORMANCE) not in sys.path:
    sys.path.insert(0, str(CONFORMANCE))
