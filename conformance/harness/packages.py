"""Targets at any published version: `node-socketio@4.6.1+engine.io@6.4.1+socket.io-parser@4.2.2`.

A registry target (targets.py) names a `Source`: the registry its server comes from, the package the
`@version` applies to, and the committed fixture directory. The pinned versions are installed from
that directory's lock file by `make`; any other version is installed on demand, beside them, under
build/targets/<fixture dir>/<request>/, with a copy of the same fixture program. Pins after `+` fix
protocol packages the registry would otherwise resolve to their newest matching release, so that a
historic combination is rebuilt as its users ran it.

Each registry is a `Kind` (npm and PyPI here); another registry (crates.io, Go modules, Maven, Bun
from npm) plugs in by adding a Kind to KINDS: it writes a manifest with the requested versions,
runs its own client, says how to start the installed fixture and which version of each protocol
package it resolved.

    python -m harness.packages install node-socketio@4.6.1+engine.io@6.4.1
"""

from __future__ import annotations

import fcntl
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

ROOT = Path(__file__).resolve().parents[2]
INSTALL_ROOT = ROOT / "build" / "targets"
INSTALL_TIMEOUT_S = 600.0
# A version or pin is a registry version string: digits, letters, `.`, `-`, `_` (no ranges, no tags
# with spaces); a package name as the registry spells it, scoped npm names included.
_VERSION = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")
_PACKAGE = re.compile(r"^(@[a-z0-9][a-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class PackageError(Exception):
    """A version request that cannot be installed or run; the message is one line for the user."""


@dataclass(frozen=True)
class VersionRequest:
    """`base@version+pkg@version…` split into its parts; pins keep the order they were written in."""

    base: str
    version: str | None
    pins: tuple[tuple[str, str], ...] = ()

    @property
    def label(self) -> str:
        """The request without the target name: `4.6.1+engine.io@6.4.1` (the install directory)."""
        return "+".join([self.version or "pinned", *(f"{p}@{v}" for p, v in self.pins)])


def parse(name: str) -> VersionRequest:
    """Splits a target name. `node-socketio` has no version; `node-socketio@4.6.1+engine.io@6.4.1` has
    one and one pin. Raises PackageError for a malformed request."""
    head, *pin_texts = name.split("+")
    base, at, version = head.partition("@")
    if not at:
        if pin_texts:
            raise PackageError(f"{name}: pins need a version first (name@version+package@version)")
        return VersionRequest(base, None)
    if not _VERSION.match(version):
        raise PackageError(f"{name}: {version!r} is not a version (exact versions only, such as 4.6.1)")
    pins = []
    for text in pin_texts:
        package, at, pin = text.rpartition("@")
        if not at or not _PACKAGE.match(package) or not _VERSION.match(pin):
            raise PackageError(f"{name}: pin {text!r} is not package@version")
        pins.append((package, pin))
    return VersionRequest(base, version, tuple(pins))


@dataclass(frozen=True)
class Source:
    """Where a registry target's server comes from."""

    kind: str  # a key of KINDS
    package: str  # the package `@version` applies to
    fixture_dir: Path  # the committed fixture: program, manifest, lock file
    entry: str  # the fixture program, relative to the install root
    protocol_packages: tuple[str, ...]  # named, with their resolved versions, in every report
    pinned_root: Path  # where `make` installs the locked versions

    def install_root(self, request: VersionRequest) -> Path:
        return INSTALL_ROOT / self.fixture_dir.name / request.label


class Kind(Protocol):
    """One package registry, driven through its ordinary client."""

    def install(self, source: Source, request: VersionRequest, root: Path) -> None:
        """Installs `request` into `root` (which holds a copy of the fixture program)."""

    def command(self, source: Source, root: Path) -> list[str]:
        """The argv that starts the fixture installed in `root` (run with cwd=root)."""

    def resolved(self, source: Source, root: Path) -> dict[str, str]:
        """The version of each protocol package installed in `root` that the server really loads."""


def _run(argv: list[str], cwd: Path, what: str) -> None:
    """Runs a registry client; its last error line becomes the one-line PackageError."""
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise PackageError(f"{what}: {argv[0]} did not finish within {INSTALL_TIMEOUT_S:.0f} s") from None
    if done.returncode != 0:
        lines = [ln.strip() for ln in (done.stderr + done.stdout).splitlines() if ln.strip()]
        errors = [ln for ln in lines if "ERR" in ln or "error" in ln.lower()] or lines or ["no output"]
        raise PackageError(f"{what}: {argv[0]} failed: {errors[-1][:300]}")


class Npm:
    """npm: a package.json with the exact version, pins as both dependencies and `overrides` (so
    that the server's own dependency on them resolves to the pin too), then `npm install`."""

    def install(self, source: Source, request: VersionRequest, root: Path) -> None:
        deps = {source.package: request.version, **dict(request.pins)}
        manifest = {
            "name": "siotest-target",
            "version": "1.0.0",
            "private": True,
            "license": "MIT",
            "dependencies": deps,
            "overrides": dict(request.pins),
        }
        (root / "package.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        what = f"npm install {' '.join(f'{p}@{v}' for p, v in deps.items())}"
        _run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], root, what)

    def command(self, source: Source, root: Path) -> list[str]:
        return ["node", source.entry]

    def resolved(self, source: Source, root: Path) -> dict[str, str]:
        """Walks the dependency chain of the Socket.IO family from the main package, looking each
        dependency up from the package that declares it (Node's nearest-node_modules rule), so that
        the copy reported is the one the server loads, nested copies included."""
        main = _node_lookup(root, root, source.package)
        found: dict[str, Path] = {} if main is None else {source.package: main}
        pending = list(found.values())
        while pending:
            here = pending.pop(0)
            for dep in _npm_manifest(here).get("dependencies", {}):
                if dep in source.protocol_packages and dep not in found:
                    where = _node_lookup(root, here, dep)
                    if where is not None:
                        found[dep] = where
                        pending.append(where)
        return {p: _npm_manifest(found[p])["version"] for p in source.protocol_packages if p in found}


def _npm_manifest(package_dir: Path) -> dict:
    return json.loads((package_dir / "package.json").read_text(encoding="utf-8"))


def _node_lookup(root: Path, start: Path, package: str) -> Path | None:
    """The directory `require(package)` from `start` would load, looking no higher than `root`."""
    here = start
    while True:
        candidate = here / "node_modules" / package
        if (candidate / "package.json").is_file():
            return candidate
        if here == root or root not in here.parents:
            return None
        here = here.parent
        while here.name == "node_modules" or here.name.startswith("@"):
            here = here.parent


class Pypi:
    """PyPI: a virtual environment under the install root, `pip install package==version` plus the
    pins; the fixture's other dependencies (its transport library) keep the committed pins of its
    requirements.txt unless pinned on the command line."""

    def install(self, source: Source, request: VersionRequest, root: Path) -> None:
        venv = root / "venv"
        if not (venv / "bin" / "python").exists():
            _run(["/usr/bin/python3", "-m", "venv", str(venv)], root, "python3 -m venv")
        wanted = {source.package: request.version or "", **dict(request.pins)}
        for line in (source.fixture_dir / "requirements.txt").read_text(encoding="utf-8").splitlines():
            name, eq, version = line.strip().partition("==")
            if eq and name not in wanted and name.lower() not in _PYPI_FAMILY:
                wanted[name] = version
        argv = [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check"]
        _run(argv + [f"{p}=={v}" for p, v in wanted.items()], root, f"pip install {source.package}=={request.version}")

    def command(self, source: Source, root: Path) -> list[str]:
        return [str(root / "venv" / "bin" / "python"), source.entry]

    def resolved(self, source: Source, root: Path) -> dict[str, str]:
        """Read from the dist-info directories of the environment (`root/venv`, or `root` itself
        when it is one, as the pinned environment is)."""
        venv = root / "venv" if (root / "venv").is_dir() else root
        versions: dict[str, str] = {}
        for info in venv.glob("lib/python3*/site-packages/*.dist-info"):
            name, _, version = info.name[: -len(".dist-info")].partition("-")
            versions[_pypi_key(name)] = version
        return {p: versions[_pypi_key(p)] for p in source.protocol_packages if _pypi_key(p) in versions}


# Packages of the Socket.IO family that must follow the requested version, not the committed pins.
_PYPI_FAMILY = {"python-socketio", "python-engineio"}


def _pypi_key(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


KINDS: dict[str, Kind] = {"npm": Npm(), "pypi": Pypi()}


def copy_fixture_dir(fixture_dir: Path, root: Path) -> None:
    """Every file of a fixture directory except the manifest, the lock and installed packages (a
    fixture program may be split over several files: fixture.js loads ./app)."""
    skip = {"node_modules", "package.json", "package-lock.json", "requirements.txt", "__pycache__"}
    for item in fixture_dir.iterdir():
        if item.name not in skip and item.is_file():
            shutil.copyfile(item, root / item.name)


def _copy_fixture(source: Source, root: Path) -> None:
    """The same fixture program as the pinned target, copied again at each use so edits carry over."""
    copy_fixture_dir(source.fixture_dir, root)


def ensure_installed(source: Source, request: VersionRequest) -> Path:
    """Installs the request once (a lock serialises concurrent runs) and returns its root."""
    root = source.install_root(request)
    root.mkdir(parents=True, exist_ok=True)
    with open(root.parent / f".{request.label}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _copy_fixture(source, root)
        stamp = root / ".installed"
        if not stamp.exists():
            print(f"installing {source.package} {request.label} into {root.relative_to(ROOT)}", file=sys.stderr)
            KINDS[source.kind].install(source, request, root)
            resolved = KINDS[source.kind].resolved(source, root)
            if resolved.get(source.package) != request.version:
                raise PackageError(
                    f"{source.package}@{request.version}: the registry client installed "
                    f"{resolved.get(source.package, 'nothing')}"
                )
            stamp.write_text(json.dumps(resolved, indent=1) + "\n", encoding="utf-8")
    return root


def main(argv: list[str]) -> int:
    from . import targets

    if len(argv) != 2 or argv[0] != "install":
        print("usage: python -m harness.packages install TARGET@VERSION[+PACKAGE@VERSION…]", file=sys.stderr)
        return 2
    try:
        spec = targets.lookup(argv[1], install=True)
    except (PackageError, KeyError) as err:
        print(f"{argv[1]}: {err}", file=sys.stderr)
        return 1
    print(f"{spec.name}: {spec.cwd}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
