"""The README's limits table names only constants and error codes that the codec really defines."""

from __future__ import annotations

import re

from siocodec import ROOT


def _defined_names() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "codec" / "include" / "sio").iterdir():
        text = path.read_text()
        names.update(re.findall(r"#define\s+(SIO_[A-Z0-9_]+)", text))
        names.update(re.findall(r"SIO_ERROR\((SIO_[A-Z0-9_]+)", text))
    return names


def test_limits_table_names_exist():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Limits", 1)[1].split("\n## ", 1)[0]
    cited = set(re.findall(r"`(SIO_[A-Z0-9_]+)`", section))
    assert len(cited) >= 10
    missing = sorted(cited - _defined_names())
    assert not missing, f"README cites names the codec does not define: {missing}"
