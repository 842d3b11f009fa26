"""Self-tests of `@version` for the third-party targets (harness/packages.py: Bun, Cargo, GoModules,
Maven) that run no registry client and build nothing: the manifests written for a request, the
versions read back from a lock, a go.mod or a jar directory, the install root and command of every
third-party target, and when an installed fixture is installed or rebuilt."""

from __future__ import annotations

import json
import tomllib
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from harness import packages, targets

THIRD_PARTY = (
    "socketioxide",
    "socketioxide-v4",
    "zishang520-socketio",
    "zishang520-socketio-eio3",
    "netty-socketio",
    "socketio-bun",
)


def _source(name: str) -> packages.Source:
    source = targets.REGISTRY[name].source
    assert source is not None, f"{name} has no registry source"
    return source


def _committed(name: str, file: str) -> str:
    return (_source(name).fixture_dir / file).read_text(encoding="utf-8")


def test_requests_name_go_modules_and_maven_coordinates():
    go = packages.parse("zishang520-socketio@v3.0.5+github.com/zishang520/socket.io/servers/engine/v3@v3.0.4")
    assert go.pins == (("github.com/zishang520/socket.io/servers/engine/v3", "v3.0.4"),)
    jv = packages.parse("netty-socketio@2.0.13+io.netty:netty-codec-http@4.1.118.Final")
    assert jv.pins == (("io.netty:netty-codec-http", "4.1.118.Final"),)
    with pytest.raises(packages.PackageError):
        packages.parse('socketioxide@0.18.8+serde"@1')


@pytest.mark.parametrize("name", THIRD_PARTY)
def test_every_third_party_target_takes_a_version(name, tmp_path, monkeypatch):
    """Installed (a stand-in installation under a temporary root): the spec runs the fixture from the
    install root, says which package and version it is, and takes its parts from fixture-info."""
    monkeypatch.setattr(packages, "INSTALL_ROOT", tmp_path)
    request = f"{name}@9.9.9"
    with pytest.raises(packages.PackageError, match="not installed"):
        targets.lookup(request)
    source = _source(name)
    root = source.install_root(packages.parse(request))
    root.mkdir(parents=True)
    (root / ".installed").write_text("{}")
    if source.kind == "maven":
        (root / "pom.xml").write_text(_committed(name, "pom.xml"))
    spec = targets.lookup(request)
    assert spec.cwd == root and spec.name == request
    assert spec.description == f"{source.package} 9.9.9 ({source.kind}, installed on demand)"
    assert spec.command[-1].endswith(
        {"cargo": "siotest-fixture-socketioxide", "go": "fixture", "maven": "siotest.Fixture", "bun": "fixture.js"}[
            source.kind
        ]
    )
    assert str(root) in " ".join(spec.command), spec.command
    assert spec.features == frozenset() and spec.eio3 == targets.REGISTRY[name].eio3
    # The report's versions come from the fixture's fixture-info answer, not from the disk.
    assert targets.resolved_packages(spec) == {}


def test_the_two_socketioxide_builds_install_apart():
    request = packages.parse("socketioxide@0.18.8")
    v5, v4 = _source("socketioxide"), _source("socketioxide-v4")
    assert v5.install_root(request) != v4.install_root(request)
    assert v4.build_args == ("--features", "v4") and v5.build_args == ()


def test_cargo_manifest_pins_the_server_crate_and_lets_its_engine_follow():
    source = _source("socketioxide")
    committed = _committed("socketioxide", "Cargo.toml")
    request = packages.parse("socketioxide@0.18.8+socketioxide-core@0.19.0")
    cargo = packages.Cargo()
    assert cargo.followers(committed, source, request) == ["engineioxide"]
    before = tomllib.loads(cargo.manifest(committed, source, request, {}))
    after = tomllib.loads(cargo.manifest(committed, source, request, {"engineioxide": "^0.17"}))
    assert before["dependencies"]["socketioxide"] == {"version": "=0.18.8"}
    assert before["dependencies"]["engineioxide"] == {"version": "*"}
    assert after["dependencies"]["engineioxide"] == {"version": "^0.17"}
    assert after["dependencies"]["socketioxide-core"] == "=0.19.0"
    # Everything else as committed: features, the other crates, the profile.
    original = tomllib.loads(committed)
    assert after["features"] == original["features"] and after["profile"] == original["profile"]
    assert after["dependencies"]["tokio"] == original["dependencies"]["tokio"]
    pinned_engine = packages.parse("socketioxide@0.18.8+engineioxide@0.17.8")
    assert cargo.followers(committed, source, pinned_engine) == []
    text = cargo.manifest(committed, source, pinned_engine, {"engineioxide": "^0.17"})
    assert tomllib.loads(text)["dependencies"]["engineioxide"] == {"version": "=0.17.8"}


def test_cargo_reads_what_the_server_crate_asks_and_what_was_locked(tmp_path):
    metadata = {
        "packages": [
            {"name": "siotest-fixture-socketioxide", "source": None, "dependencies": []},
            {
                "name": "socketioxide",
                "source": "registry+https://github.com/rust-lang/crates.io-index",
                "dependencies": [
                    {"name": "engineioxide", "req": "^0.17.1", "kind": None},
                    {"name": "tokio", "req": "^1.40", "kind": "dev"},
                ],
            },
        ]
    }
    assert packages._cargo_requirements(metadata, "socketioxide") == {"engineioxide": "^0.17.1"}
    (tmp_path / "Cargo.lock").write_text(
        '[[package]]\nname = "engineioxide"\nversion = "0.16.2"\n\n'
        '[[package]]\nname = "engineioxide"\nversion = "0.17.9"\n\n'
        '[[package]]\nname = "socketioxide"\nversion = "0.18.8"\nsource = "registry+…"\n\n'
        '[[package]]\nname = "serde"\nversion = "1.0.0"\n'
    )
    assert packages.Cargo().resolved(_source("socketioxide"), tmp_path) == {
        "socketioxide": "0.18.8",
        "engineioxide": "0.16.2, 0.17.9",  # two copies: both named
    }


def test_the_committed_cargo_lock_gives_the_pinned_versions():
    versions = packages.Cargo().resolved(_source("socketioxide"), _source("socketioxide").pinned_root)
    wanted = tomllib.loads(_committed("socketioxide", "Cargo.toml"))["dependencies"]["socketioxide"]["version"]
    assert versions["socketioxide"] == wanted.lstrip("=")


def test_go_mod_requires_the_server_module_only_and_tidy_output_is_read_back(tmp_path):
    source = _source("zishang520-socketio")
    go = packages.GoModules()
    request = packages.parse(f"zishang520-socketio@3.0.5+{targets.ZISHANG520}/parsers/socket/v3@3.0.4")
    text = go.manifest(_committed("zishang520-socketio", "go.mod"), source, request)
    assert text.startswith("module siotest/fixture-zishang520\n\ngo ")
    assert f"\t{source.package} v3.0.5\n" in text
    assert f"\t{targets.ZISHANG520}/parsers/socket/v3 v3.0.4\n" in text
    assert f"{targets.ZISHANG520}/servers/engine/v3" not in text  # follows the server module
    (tmp_path / "go.mod").write_text(
        text.replace(")\n", f"\t{targets.ZISHANG520}/servers/engine/v3 v3.0.5 // indirect\n)\n")
        + f"\nrequire {targets.ZISHANG520}/v3 v3.0.5\n"
    )
    assert go.resolved(source, tmp_path) == {
        source.package: "v3.0.5",
        f"{targets.ZISHANG520}/servers/engine/v3": "v3.0.5",
        f"{targets.ZISHANG520}/v3": "v3.0.5",
        f"{targets.ZISHANG520}/parsers/socket/v3": "v3.0.4",
    }
    assert go.spelling("3.0.5") == go.spelling("v3.0.5") == "v3.0.5"
    pinned = go.resolved(source, source.pinned_root)
    assert pinned[source.package] == "v3.0.6"


def test_maven_pom_sets_the_artifact_and_manages_the_pins(tmp_path):
    source = _source("netty-socketio")
    maven = packages.Maven()
    request = packages.parse("netty-socketio@2.0.13+io.netty:netty-codec-http@4.1.118.Final")
    pom = maven.manifest(_committed("netty-socketio", "pom.xml"), source, request)
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    project = ElementTree.fromstring(pom)
    assert project.findtext("m:properties/m:socketio.version", namespaces=ns) == "2.0.13"
    assert project.findtext("m:properties/m:socketio.groupId", namespaces=ns) == "com.corundumstudio.socketio"
    managed = project.find("m:dependencyManagement/m:dependencies/m:dependency", ns)
    assert managed is not None
    assert [managed.findtext(f"m:{t}", namespaces=ns) for t in ("groupId", "artifactId", "version")] == [
        "io.netty",
        "netty-codec-http",
        "4.1.118.Final",
    ]
    # Another artifact with the same fixture (a fork under other coordinates).
    fork = packages.Source("maven", "com.example:socketio-fork", source.fixture_dir, "siotest.Fixture", (), tmp_path)
    fork_pom = ElementTree.fromstring(maven.manifest(pom, fork, packages.parse("netty-socketio@4.0.1")))
    assert fork_pom.findtext("m:properties/m:socketio.artifactId", namespaces=ns) == "socketio-fork"
    with pytest.raises(packages.PackageError, match="group:artifact"):
        maven.manifest(pom, source, packages.parse("netty-socketio@2.0.13+netty-codec-http@4.1.118.Final"))
    (tmp_path / "pom.xml").write_text(pom)
    assert maven.command(source, tmp_path)[-2:] == [
        f"{tmp_path / 'fixture-netty-socketio-1.0.0.jar'}:{tmp_path / 'lib' / '*'}",
        "siotest.Fixture",
    ]
    lib = tmp_path / "lib"
    lib.mkdir()
    for jar in ("netty-socketio-2.0.13.jar", "netty-codec-http-4.1.118.Final.jar", "netty-codec-4.1.118.Final.jar"):
        (lib / jar).write_bytes(b"")
    assert maven.resolved(source, tmp_path) == {
        "com.corundumstudio.socketio:netty-socketio": "2.0.13",
        "io.netty:netty-codec-http": "4.1.118.Final",
    }


def test_bun_keeps_its_runtime_and_follows_the_requested_socket_io(tmp_path):
    source = _source("socketio-bun")
    committed = json.loads(_committed("socketio-bun", "package.json"))["dependencies"]
    deps = packages.Bun.dependencies(source, packages.parse("socketio-bun@4.8.1+bun@1.3.0"))
    assert deps == {**committed, "socket.io": "4.8.1", "bun": "1.3.0"}
    assert packages.Bun().command(source, tmp_path) == [str(tmp_path / "node_modules" / ".bin" / "bun"), "fixture.js"]
    for where, name, version in (
        ("node_modules/socket.io", "socket.io", "4.8.1"),
        ("node_modules/@socket.io/bun-engine", "@socket.io/bun-engine", "0.1.2"),
        ("node_modules/bun", "bun", "1.3.0"),
    ):
        (tmp_path / where).mkdir(parents=True)
        (tmp_path / where / "package.json").write_text(json.dumps({"name": name, "version": version}))
    assert packages.Bun().resolved(source, tmp_path) == {
        "socket.io": "4.8.1",
        "@socket.io/bun-engine": "0.1.2",
        "bun": "1.3.0",
    }


class _Recorder:
    """A registry kind that writes what it was asked to do (the install flow under test is
    ensure_installed's, not a registry's)."""

    manifest_files = frozenset({"manifest.toml"})
    reports_itself = True

    def __init__(self) -> None:
        self.calls: list[str] = []

    def spelling(self, version: str) -> str:
        return version

    def install(self, source: packages.Source, request: packages.VersionRequest, root: Path) -> None:
        self.calls.append("install")

    def build(self, source: packages.Source, root: Path) -> None:
        self.calls.append("build")

    def command(self, source: packages.Source, root: Path) -> list[str]:
        return [str(root / "bin")]

    def resolved(self, source: packages.Source, root: Path) -> dict[str, str]:
        return {source.package: "1.0.0"}


def test_an_install_is_built_again_only_when_the_fixture_changes(tmp_path, monkeypatch):
    fixture, shared = tmp_path / "fixture", tmp_path / "other" / "app.js"
    (fixture / "src" / "deep").mkdir(parents=True)
    (fixture / "src" / "deep" / "main.rs").write_text("fn main() {}\n")
    (fixture / "manifest.toml").write_text("[package]\n")
    shared.parent.mkdir()
    shared.write_text("module.exports = {};\n")
    recorder = _Recorder()
    monkeypatch.setitem(packages.KINDS, "recorder", recorder)
    monkeypatch.setattr(packages, "INSTALL_ROOT", tmp_path / "installs")
    source = packages.Source("recorder", "server", fixture, "bin", ("server",), fixture, shared_files=(shared,))
    request = packages.parse("x@1.0.0")

    root = packages.ensure_installed(source, request)
    assert recorder.calls == ["install", "build"]
    assert (root / "src" / "deep" / "main.rs").read_text() == "fn main() {}\n"
    assert (root / "app.js").is_file() and not (root / "manifest.toml").exists()
    assert json.loads((root / ".installed").read_text()) == {"server": "1.0.0"}

    packages.ensure_installed(source, request)
    assert recorder.calls == ["install", "build"]  # nothing changed: neither installed nor built again

    (fixture / "src" / "deep" / "main.rs").write_text("fn main() { println!(); }\n")
    packages.ensure_installed(source, request)
    assert recorder.calls == ["install", "build", "build"]
    assert "println" in (root / "src" / "deep" / "main.rs").read_text()

    shared.write_text("module.exports = { changed: true };\n")
    packages.ensure_installed(source, request)
    assert recorder.calls == ["install", "build", "build", "build"]


def test_an_install_that_resolved_another_version_is_refused(tmp_path, monkeypatch):
    fixture = tmp_path / "fixture"
    fixture.mkdir()
    monkeypatch.setitem(packages.KINDS, "recorder", _Recorder())
    monkeypatch.setattr(packages, "INSTALL_ROOT", tmp_path / "installs")
    source = packages.Source("recorder", "server", fixture, "bin", ("server",), fixture)
    with pytest.raises(packages.PackageError, match="installed 1.0.0"):
        packages.ensure_installed(source, packages.parse("x@2.0.0"))
    assert not (source.install_root(packages.parse("x@2.0.0")) / ".installed").exists()
