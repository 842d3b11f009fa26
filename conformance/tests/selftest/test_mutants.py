"""The mutant table (conformance/mutants/README.md) and the sources agree: every switch in the C
sources is a row of the table, every row's switch is in the files it names, every requirement it
names exists, every requirement family the reference server implements has a mutant, and no build
rule but the mutants' own defines a switch. Runs no server."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from harness import catalogue

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "conformance" / "mutants"))
import mutants  # noqa: E402

SWITCH = re.compile(r"\bMUTANT_[A-Z0-9_]+\b")
C_SOURCES = sorted(p for d in ("codec/src", "codec/include/sio", "reference-server") for p in (ROOT / d).glob("*.[ch]"))
# Families whose requirements the reference server leaves out on purpose (MAY features it does not have).
FAMILIES_WITHOUT_MUTANT = {"SIO-CSR": "connection-state recovery is a MAY the reference server does not implement"}


def _macro(name: str) -> str:
    return "MUTANT_" + name.upper()


def test_table_rows_are_well_formed() -> None:
    table, explained = mutants.read_tables()
    names = [m.name for m in table]
    assert len(names) >= 20, names
    assert len(names) == len(set(names)), "a mutant is listed twice"
    reqs = catalogue.load()
    for m in table:
        assert m.requirement in reqs, (m.name, m.requirement)
        assert reqs[m.requirement].level in ("MUST", "SHOULD"), (m.name, "an INFO or MAY requirement cannot kill")
        assert m.files and m.defect, m.name
    for (name, rid), why in explained.items():
        assert name in names, f"cascade explanation for unknown mutant {name}"
        assert rid in reqs, (name, rid)
        assert why, (name, rid)


def test_every_switch_is_in_the_table_and_in_its_files() -> None:
    table, _ = mutants.read_tables()
    listed = {_macro(m.name): m for m in table}
    found: dict[str, set[str]] = {}
    for path in C_SOURCES:
        for macro in SWITCH.findall(path.read_text(encoding="utf-8")):
            found.setdefault(macro, set()).add(str(path.relative_to(ROOT)))
    assert set(found) == set(listed), {
        "in sources only": set(found) - set(listed),
        "in table only": set(listed) - set(found),
    }
    for macro, m in listed.items():
        assert found[macro] == set(m.files), (
            m.name,
            "files in the table",
            m.files,
            "files with the switch",
            found[macro],
        )


def test_every_family_has_a_mutant() -> None:
    table, _ = mutants.read_tables()
    family = lambda rid: rid.rsplit("-", 1)[0]  # noqa: E731
    all_families = {family(rid) for rid in catalogue.load()}
    covered = {family(m.requirement) for m in table}
    assert all_families - covered == set(FAMILIES_WITHOUT_MUTANT), all_families - covered


def test_no_normal_build_defines_a_switch() -> None:
    rules = [ROOT / "Makefile", *ROOT.glob("*/*.mk"), *ROOT.glob("*/*/*.mk")]
    for path in rules:
        if path.name == "mutants.mk":
            continue
        assert "MUTANT_" not in path.read_text(encoding="utf-8"), path
