"""Targets at any published version: `node-socketio@4.6.1+engine.io@6.4.1+socket.io-parser@4.2.2`.

A registry target (targets.py) names a `Source`: the registry its server comes from, the package the
`@version` applies to, and the committed fixture directory. The pinned versions are installed from
that directory's lock file by `make`; any other version is installed on demand, beside them, under
build/targets/<fixture dir>/<request>/, with a copy of the same fixture program. Pins after `+` fix
protocol packages the registry would otherwise resolve to their newest matching release, so that a
historic combination is rebuilt as its users ran it.

Each registry is a `Kind`: npm, PyPI, Bun (npm packages run by Bun), crates.io (cargo), Go modules
and Maven Central. A Kind writes a manifest with the requested versions, runs the registry's own
client (and, for a compiled fixture, its build, cached in the install directory), says how to start
the installed fixture and which version of each protocol package it resolved. For the compiled and
Bun fixtures the versions in a report come from the fixture's own fixture-info answer (what the
binary was built with, what Bun loaded); the install reads them from the lock or the jars only to
check that the registry gave the requested version.

    python -m harness.packages install node-socketio@4.6.1+engine.io@6.4.1
    python -m harness.packages install socketioxide@0.18.8
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
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
# Go module paths have slashes, Maven coordinates `group:artifact`.
_PACKAGE = re.compile(r"^(@[a-z0-9][a-z0-9._-]*/)?[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$")


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
    # Two targets built differently from one fixture directory install apart (socketioxide, -v4).
    variant: str = ""
    build_args: tuple[str, ...] = ()  # added to the build command (cargo: `--features v4`)
    # Files of another fixture directory the program loads (the Bun fixture shares Node's app.js).
    shared_files: tuple[Path, ...] = ()

    def install_root(self, request: VersionRequest) -> Path:
        return INSTALL_ROOT / (self.fixture_dir.name + self.variant) / request.label


class Kind(Protocol):
    """One package registry, driven through its ordinary client."""

    # The manifest and lock of the committed fixture: written anew for a request, never copied.
    manifest_files: frozenset[str]
    # The fixture reports the versions it runs (fixture-info): a report takes them from there.
    reports_itself: bool

    def spelling(self, version: str) -> str:
        """The version as the registry writes it (Go modules: `v3.0.5` for `3.0.5`)."""

    def install(self, source: Source, request: VersionRequest, root: Path) -> None:
        """Installs `request` into `root` (which holds a copy of the fixture program)."""

    def build(self, source: Source, root: Path) -> None:
        """Compiles the fixture installed in `root` (nothing to do for an interpreted one); run again
        whenever the fixture's sources changed."""

    def command(self, source: Source, root: Path) -> list[str]:
        """The argv that starts the fixture installed in `root` (run with cwd=root)."""

    def resolved(self, source: Source, root: Path) -> dict[str, str]:
        """The version of each protocol package installed in `root` that the server really loads."""


def _run(argv: list[str], cwd: Path, what: str, env: dict[str, str] | None = None) -> str:
    """Runs a registry client or a build; its last error line becomes the one-line PackageError.
    Returns its standard output."""
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, env=_env(env))
    except subprocess.TimeoutExpired:
        raise PackageError(f"{what}: {argv[0]} did not finish within {INSTALL_TIMEOUT_S:.0f} s") from None
    if done.returncode != 0:
        lines = [ln.strip() for ln in (done.stderr + done.stdout).splitlines() if ln.strip()]
        errors = [ln for ln in lines if "ERR" in ln or "error" in ln.lower()] or lines or ["no output"]
        raise PackageError(f"{what}: {argv[0]} failed: {errors[-1][:300]}")
    return done.stdout


def _shown(path: Path) -> str:
    """A path as messages show it: relative to the repository when inside it."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _env(extra: dict[str, str] | None) -> dict[str, str] | None:
    return None if extra is None else {**os.environ, **extra}


class _Interpreted:
    """A fixture run from source: nothing to build, the version spelt as given."""

    reports_itself = False

    def spelling(self, version: str) -> str:
        return version

    def build(self, source: Source, root: Path) -> None:
        pass


class Npm(_Interpreted):
    """npm: a package.json with the exact version, pins as both dependencies and `overrides` (so
    that the server's own dependency on them resolves to the pin too), then `npm install`."""

    manifest_files = frozenset({"package.json", "package-lock.json"})

    def install(self, source: Source, request: VersionRequest, root: Path) -> None:
        _npm_install(root, {source.package: request.version or "", **dict(request.pins)}, dict(request.pins))

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


def _npm_install(root: Path, deps: dict[str, str], overrides: dict[str, str]) -> None:
    manifest = {
        "name": "siotest-target",
        "version": "1.0.0",
        "private": True,
        "license": "MIT",
        "dependencies": deps,
        "overrides": overrides,
    }
    (root / "package.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    what = f"npm install {' '.join(f'{p}@{v}' for p, v in deps.items())}"
    _run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], root, what)


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


class Pypi(_Interpreted):
    """PyPI: a virtual environment under the install root, `pip install package==version` plus the
    pins; the fixture's other dependencies (its transport library) keep the committed pins of its
    requirements.txt unless pinned on the command line."""

    manifest_files = frozenset({"requirements.txt"})

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


class Bun(Npm):
    """Bun from its npm package: installed like npm, run by the `bun` binary the install brings. The
    runtime packages of the committed package.json other than the Socket.IO family (bun itself, the
    engine adapter) keep their committed versions unless pinned; the server package follows the
    request."""

    reports_itself = True

    def install(self, source: Source, request: VersionRequest, root: Path) -> None:
        _npm_install(root, self.dependencies(source, request), dict(request.pins))

    @staticmethod
    def dependencies(source: Source, request: VersionRequest) -> dict[str, str]:
        committed = _npm_manifest(source.fixture_dir).get("dependencies", {})
        runtime = {p: v for p, v in committed.items() if p != source.package and p not in _NPM_FAMILY}
        return {**runtime, source.package: request.version or "", **dict(request.pins)}

    def command(self, source: Source, root: Path) -> list[str]:
        return [str(root / "node_modules" / ".bin" / "bun"), source.entry]

    def resolved(self, source: Source, root: Path) -> dict[str, str]:
        """The server package's chain (as npm), and the other protocol packages where the fixture
        requires them from, its own directory."""
        found = super().resolved(source, root)
        for package in source.protocol_packages:
            where = _node_lookup(root, root, package)
            if package not in found and where is not None:
                found[package] = _npm_manifest(where)["version"]
        return found


def copy_fixture_dir(fixture_dir: Path, root: Path) -> None:
    """Every file of a fixture directory except the manifest, the lock and installed packages (a
    fixture program may be split over several files: fixture.js loads ./app)."""
    skip = {"node_modules", "package.json", "package-lock.json", "requirements.txt", "__pycache__"}
    for item in fixture_dir.iterdir():
        if item.name not in skip and item.is_file():
            shutil.copyfile(item, root / item.name)


# The packages that follow a requested socket.io version rather than the committed pins.
_NPM_FAMILY = {"socket.io", "engine.io", "socket.io-parser", "engine.io-parser", "ws"}


class Cargo:
    """crates.io through cargo. The fixture's Cargo.toml with the server crate at `=version` and each
    pin added or re-pinned the same way. Another crate of the family that the fixture names itself
    (engineioxide beside socketioxide) is given the requirement the server crate declares on it,
    read from `cargo metadata`, so that one copy of it is built, the one the server uses. Then
    `cargo generate-lockfile` and a release build with two jobs into the install directory."""

    manifest_files = frozenset({"Cargo.toml", "Cargo.lock"})
    reports_itself = True

    def spelling(self, version: str) -> str:
        return version

    def install(self, source: Source, request: VersionRequest, root: Path) -> None:
        committed = (source.fixture_dir / "Cargo.toml").read_text(encoding="utf-8")
        (root / "Cargo.toml").write_text(self.manifest(committed, source, request, {}), encoding="utf-8")
        if self.followers(committed, source, request):
            metadata = json.loads(_run(["cargo", "metadata", "--format-version", "1"], root, "cargo metadata"))
            asks = _cargo_requirements(metadata, source.package)
            (root / "Cargo.toml").write_text(self.manifest(committed, source, request, asks), encoding="utf-8")
        _run(["cargo", "generate-lockfile"], root, f"cargo generate-lockfile ({source.package} ={request.version})")

    @staticmethod
    def followers(committed: str, source: Source, request: VersionRequest) -> list[str]:
        """The family crates the fixture names itself, other than the server crate and the pins."""
        pinned = {source.package, *dict(request.pins)}
        return [c for c in source.protocol_packages if c not in pinned and toml_requirement(committed, c) is not None]

    def manifest(self, committed: str, source: Source, request: VersionRequest, asks: dict[str, str]) -> str:
        """The committed Cargo.toml with the request; each follower gets what the server crate asks
        of it (`asks`), or any version until that is known."""
        text = toml_require(committed, source.package, f"={request.version}")
        for crate, version in request.pins:
            text = toml_require(text, crate, f"={version}")
        for crate in self.followers(committed, source, request):
            text = toml_require(text, crate, asks.get(crate, "*"))
        return text

    def build(self, source: Source, root: Path) -> None:
        argv = ["cargo", "build", "--release", "--locked", "-j", "2", "-q", *source.build_args]
        _run(argv, root, f"cargo build in {_shown(root)}", {"CARGO_TARGET_DIR": str(root / "target")})

    def command(self, source: Source, root: Path) -> list[str]:
        return [str(root / "target" / "release" / source.entry)]

    def resolved(self, source: Source, root: Path) -> dict[str, str]:
        """From Cargo.lock; a crate locked at two versions is reported with both."""
        versions: dict[str, list[str]] = {}
        lock = (root / "Cargo.lock").read_text(encoding="utf-8")
        for name, version in re.findall(r'^name = "([^"]+)"\nversion = "([^"]+)"', lock, re.MULTILINE):
            versions.setdefault(name, []).append(version)
        return {p: ", ".join(versions[p]) for p in source.protocol_packages if p in versions}


def toml_requirement(manifest: str, crate: str) -> str | None:
    """The version requirement of `crate` in a [dependencies] line (`c = "1"` or `c = { version = "1", … }`)."""
    for line in manifest.splitlines():
        m = _TOML_DEP.match(line)
        if m and m.group("name") == crate:
            return m.group("short") if m.group("short") is not None else m.group("long")
    return None


def toml_require(manifest: str, crate: str, requirement: str) -> str:
    """Sets `crate`'s version requirement, keeping its other keys; adds it under [dependencies]."""
    lines = manifest.splitlines()
    for i, line in enumerate(lines):
        m = _TOML_DEP.match(line)
        if m and m.group("name") == crate:
            group = "short" if m.group("short") is not None else "long"
            lines[i] = line[: m.start(group)] + requirement + line[m.end(group) :]
            return "\n".join(lines) + "\n"
    at = lines.index("[dependencies]") + 1
    lines.insert(at, f'{crate} = "{requirement}"')
    return "\n".join(lines) + "\n"


_TOML_DEP = re.compile(
    r'^(?P<name>[A-Za-z0-9_-]+) = (?:"(?P<short>[^"]*)"|\{ *version = "(?P<long>[^"]*)"[^}]*\})\s*(#.*)?$'
)


def _cargo_requirements(metadata: dict, crate: str) -> dict[str, str]:
    """What `crate` (the resolved package of that name) asks of each of its dependencies."""
    for package in metadata.get("packages", []):
        if package.get("name") == crate and package.get("source"):
            return {d["name"]: d["req"] for d in package.get("dependencies", []) if d.get("kind") is None}
    return {}


class GoModules:
    """The Go module proxy through the go command. A go.mod that requires only the server module at
    the requested version (and the pins); `go mod tidy` then adds the modules the fixture imports at
    the versions that module requires, the other modules of the same repository included, which
    thus follow it. Then `go build` with two jobs. Module and build caches are the ones
    conformance/thirdparty.mk uses (build/thirdparty/)."""

    manifest_files = frozenset({"go.mod", "go.sum"})
    reports_itself = True

    def spelling(self, version: str) -> str:
        return version if version.startswith("v") else f"v{version}"

    def install(self, source: Source, request: VersionRequest, root: Path) -> None:
        committed = (source.fixture_dir / "go.mod").read_text(encoding="utf-8")
        (root / "go.mod").write_text(self.manifest(committed, source, request), encoding="utf-8")
        (root / "go.sum").unlink(missing_ok=True)
        what = f"go mod tidy ({source.package} {self.spelling(request.version or '')})"
        _run(["go", "mod", "tidy"], root, what, _GO_ENV)

    def manifest(self, committed: str, source: Source, request: VersionRequest) -> str:
        """The committed module name and go directive, requiring only the server module and the pins."""
        module = re.search(r"^module (\S+)", committed, re.MULTILINE)
        go = re.search(r"^go (\S+)", committed, re.MULTILINE)
        if module is None or go is None:
            raise PackageError(f"{source.fixture_dir.name}/go.mod has no module or go line")
        requires = {source.package: request.version or "", **dict(request.pins)}
        lines = "".join(f"\t{p} {self.spelling(v)}\n" for p, v in requires.items())
        return f"module {module.group(1)}\n\ngo {go.group(1)}\n\nrequire (\n{lines})\n"

    def build(self, source: Source, root: Path) -> None:
        argv = ["go", "build", "-mod=readonly", "-p", "2", "-o", str(root / source.entry), "."]
        _run(argv, root, f"go build in {_shown(root)}", _GO_ENV)

    def command(self, source: Source, root: Path) -> list[str]:
        return [str(root / source.entry)]

    def resolved(self, source: Source, root: Path) -> dict[str, str]:
        """From go.mod, which after `go mod tidy` lists every module the build uses."""
        text = (root / "go.mod").read_text(encoding="utf-8")
        versions = dict(re.findall(r"^\s*(?:require\s+)?(\S+) (v\S+)", text, re.MULTILINE))
        return {p: versions[p] for p in source.protocol_packages if p in versions}


_GO_CACHE = ROOT / "build" / "thirdparty"
_GO_ENV = {
    "GOMODCACHE": str(_GO_CACHE / "gomod"),
    "GOCACHE": str(_GO_CACHE / "gocache"),
    "GOFLAGS": "-modcacherw",
    "GOMAXPROCS": "2",
}


class Maven:
    """Maven Central through mvn. The fixture's pom.xml with the server artifact (the properties
    socketio.groupId, socketio.artifactId, socketio.version) set to the request, each pin
    (`group:artifact@version`) in a dependencyManagement section; `mvn package` then resolves,
    compiles and copies the runtime jars into the install directory (the layout of the pinned
    build: the fixture jar beside lib/). Artifacts are cached in build/thirdparty/m2."""

    manifest_files = frozenset({"pom.xml", "jars.sha256"})
    reports_itself = True

    def spelling(self, version: str) -> str:
        return version

    def install(self, source: Source, request: VersionRequest, root: Path) -> None:
        committed = (source.fixture_dir / "pom.xml").read_text(encoding="utf-8")
        (root / "pom.xml").write_text(self.manifest(committed, source, request), encoding="utf-8")

    def manifest(self, committed: str, source: Source, request: VersionRequest) -> str:
        """The committed pom.xml with the socketio.* properties set to the request and the pins managed."""
        pom = committed
        group, _, artifact = source.package.partition(":")
        for prop, value in (("groupId", group), ("artifactId", artifact), ("version", request.version or "")):
            tag = f"socketio.{prop}"
            pom, found = re.subn(rf"<{re.escape(tag)}>[^<]*</{re.escape(tag)}>", f"<{tag}>{value}</{tag}>", pom)
            if found != 1:
                raise PackageError(f"{source.fixture_dir.name}/pom.xml has no {tag} property")
        if request.pins:
            managed = "".join(_maven_dependency(p, v) for p, v in request.pins)
            section = f"  <dependencyManagement>\n    <dependencies>\n{managed}    </dependencies>\n  </dependencyManagement>\n\n"
            pom = pom.replace("\n  <dependencies>\n", "\n" + section + "  <dependencies>\n", 1)
        return pom

    def build(self, source: Source, root: Path) -> None:
        argv = [
            "mvn",
            "-q",
            "-B",
            "-T",
            "1",
            f"-Dmaven.repo.local={_GO_CACHE / 'm2'}",
            f"-Dfixture.out={root}",
            "package",
        ]
        _run(argv, root, f"mvn package in {_shown(root)}")

    def command(self, source: Source, root: Path) -> list[str]:
        jar = root / f"{_pom_value(root / 'pom.xml', 'artifactId')}-{_pom_value(root / 'pom.xml', 'version')}.jar"
        return ["java", "-XX:TieredStopAtLevel=1", "-cp", f"{jar}:{root / 'lib' / '*'}", source.entry]

    def resolved(self, source: Source, root: Path) -> dict[str, str]:
        """From the file names of the runtime jars in lib/ (`artifact-version.jar`)."""
        versions: dict[str, str] = {}
        for package in source.protocol_packages:
            artifact = package.partition(":")[2] or package
            for jar in sorted((root / "lib").glob(f"{artifact}-*.jar")):
                version = jar.name[len(artifact) + 1 : -len(".jar")]
                if version[:1].isdigit() and "-linux-" not in version:
                    versions[package] = version
        return versions


def _maven_dependency(package: str, version: str) -> str:
    group, colon, artifact = package.partition(":")
    if not colon:
        raise PackageError(f"{package}@{version}: a Maven pin is group:artifact@version")
    return (
        f"      <dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId>"
        f"<version>{version}</version></dependency>\n"
    )


def _pom_value(pom: Path, tag: str) -> str:
    """The project's own `<tag>` (the first one after </parent>, if any, at the top level)."""
    text = pom.read_text(encoding="utf-8")
    text = re.sub(r"<(parent|properties|dependencies|dependencyManagement|build)>.*?</\1>", "", text, flags=re.DOTALL)
    m = re.search(rf"<{tag}>([^<]+)</{tag}>", text)
    if m is None:
        raise PackageError(f"{pom}: no <{tag}>")
    return m.group(1).strip()


KINDS: dict[str, Kind] = {
    "npm": Npm(),
    "pypi": Pypi(),
    "bun": Bun(),
    "cargo": Cargo(),
    "go": GoModules(),
    "maven": Maven(),
}


def _fixture_files(source: Source) -> list[tuple[Path, Path]]:
    """(file, path relative to the install root) for every file of the fixture program: the fixture
    directory, sources in subdirectories included, without the manifest, the lock and installed
    packages; and the files it shares with another fixture."""
    skip = KINDS[source.kind].manifest_files | {"node_modules", "__pycache__", "target"}
    files = [(f, Path(f.name)) for f in source.shared_files]
    for item in sorted(source.fixture_dir.rglob("*")):
        relative = item.relative_to(source.fixture_dir)
        if item.is_file() and not skip.intersection(relative.parts):
            files.append((item, relative))
    return files


def _copy_fixture(source: Source, root: Path) -> str:
    """Copies the fixture program into the install root, at each use so that edits carry over; only
    what differs is written, so that an unchanged compiled fixture is not rebuilt. Returns a digest
    of the program: a build is redone when it changes."""
    digest = hashlib.sha256()
    for src, relative in _fixture_files(source):
        data, dst = src.read_bytes(), root / relative
        digest.update(str(relative).encode() + b"\0" + hashlib.sha256(data).digest())
        if not dst.is_file() or dst.read_bytes() != data:
            dst.parent.mkdir(parents=True, exist_ok=True)
            dst.write_bytes(data)
    return digest.hexdigest()


def ensure_installed(source: Source, request: VersionRequest) -> Path:
    """Installs the request once (a lock serialises concurrent runs), builds it when the fixture's
    sources changed since the last build, and returns its root."""
    root = source.install_root(request)
    root.mkdir(parents=True, exist_ok=True)
    kind = KINDS[source.kind]
    with open(root.parent / f".{request.label}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        digest = _copy_fixture(source, root)
        stamp, built = root / ".installed", root / ".built"
        if not stamp.exists():
            print(f"installing {source.package} {request.label} into {_shown(root)}", file=sys.stderr)
            kind.install(source, request, root)
            kind.build(source, root)  # Maven resolves the jars only here
            built.write_text(digest, encoding="utf-8")
            resolved = kind.resolved(source, root)
            wanted = kind.spelling(request.version or "")
            if resolved.get(source.package) != wanted:
                raise PackageError(
                    f"{source.package}@{wanted}: the registry client installed {resolved.get(source.package, 'nothing')}"
                )
            stamp.write_text(json.dumps(resolved, indent=1) + "\n", encoding="utf-8")
        elif not built.exists() or built.read_text(encoding="utf-8") != digest:
            kind.build(source, root)
            built.write_text(digest, encoding="utf-8")
    return root


def installed_root(source: Source, request: VersionRequest, install: bool, name: str, how: str) -> Path:
    """The install root of a request: installed (and built) now when `install` is true, else it must
    have been installed already (`how` says what installs it)."""
    root = source.install_root(request)
    if install:
        ensure_installed(source, request)
    elif not (root / ".installed").exists():
        raise PackageError(f"{name} is not installed ({how} installs it)")
    return root


def main(argv: list[str]) -> int:
    # Run as `python -m harness.packages`, this module is __main__: the errors targets raises are
    # those of harness.packages.
    from . import packages, targets

    if len(argv) != 2 or argv[0] != "install":
        print("usage: python -m harness.packages install TARGET@VERSION[+PACKAGE@VERSION…]", file=sys.stderr)
        return 2
    try:
        spec = targets.lookup(argv[1], install=True)
    except (packages.PackageError, KeyError) as err:
        print(f"{argv[1]}: {err}", file=sys.stderr)
        return 1
    print(f"{spec.name}: {spec.cwd}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
