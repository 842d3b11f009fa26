"""Self-tests of `CLIENT=name@version` for every shipped client and of the versions a client report
names. They run no registry client and build nothing: the install is a stand-in under a temporary
root, the manifests are read back with tomllib / ElementTree, the versions from the committed locks."""

from __future__ import annotations

import tomllib
import xml.etree.ElementTree as ElementTree
from pathlib import Path
from typing import Any

import client_matrix
import pytest

from clientside import agents
from harness import packages

FROM_REGISTRIES = ("js", "js-v2", "python-sync", "python-async", "rust", "java", "go")
ENTRY = {
    "npm": "fixture.js",
    "pypi": "fixture.py",
    "cargo": "rust-socketio-fixture",
    "maven": "Fixture",
    "go": "go-socketio-fixture",
}


def _source(name: str) -> packages.Source:
    source = agents.REGISTRY[name].source
    assert source is not None, f"{name} has no registry source"
    return source


def _committed(name: str, file: str) -> str:
    return (_source(name).fixture_dir / file).read_text(encoding="utf-8")


def _stand_in_install(name: str, request: str) -> Path:
    """What ensure_installed leaves behind, without a registry: the stamps (and Maven's pom.xml, which
    the command is read from)."""
    source = _source(name)
    root = source.install_root(packages.parse(request))
    root.mkdir(parents=True)
    (root / ".installed").write_text("{}")
    (root / ".built").write_text("")
    if source.kind == "maven":
        (root / "pom.xml").write_text(_committed(name, "pom.xml"))
    return root


def test_shipped_clients_come_from_registries_and_the_reference_client_is_built_here() -> None:
    assert sorted(n for n, s in agents.REGISTRY.items() if s.source is not None) == sorted(FROM_REGISTRIES)
    with pytest.raises(ValueError, match="built here"):
        agents.resolve("reference@1.0.0")


@pytest.mark.parametrize("name", FROM_REGISTRIES)
def test_every_shipped_client_takes_a_version(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packages, "INSTALL_ROOT", tmp_path)
    request = f"{name}@9.9.9"
    with pytest.raises(ValueError, match="not installed"):
        agents.resolve(request)  # never installed by a run that was not asked to
    root = _stand_in_install(name, request)
    spec = agents.resolve(request)
    pinned, source = agents.REGISTRY[name], _source(name)
    assert spec.name == request and spec.cwd == root and spec.request == packages.parse(request)
    assert spec.description == f"{source.package} 9.9.9 ({source.kind}, installed on demand)"
    assert spec.eio == pinned.eio and spec.tolerance == pinned.tolerance
    assert ENTRY[source.kind] in spec.command[-1 - len(pinned.extra_args)]
    assert spec.command[len(spec.command) - len(pinned.extra_args) :] == pinned.extra_args  # --sync / --async
    assert all(p.is_relative_to(root) for p in spec.needs)


def test_a_malformed_request_is_one_line() -> None:
    for bad in ("rust@0.5.0+rust_engineio", "java@2.1.1+okhttp@3.12.0", "go@not a version"):
        with pytest.raises(ValueError) as err:
            agents.resolve(bad)
        assert "\n" not in str(err.value) and bad.partition("@")[0] in str(err.value)


def test_cargo_builds_the_rust_fixture_at_the_requested_crate() -> None:
    source, committed = _source("rust"), _committed("rust", "Cargo.toml")
    request = packages.parse("rust@0.5.0+rust_engineio@0.5.0")
    assert packages.Cargo().followers(committed, source, request) == []  # the fixture names rust_socketio only
    manifest = tomllib.loads(packages.Cargo().manifest(committed, source, request, {}))
    original = tomllib.loads(committed)
    assert manifest["dependencies"]["rust_socketio"] == "=0.5.0"
    assert manifest["dependencies"]["rust_engineio"] == "=0.5.0"
    assert manifest["dependencies"]["serde_json"] == original["dependencies"]["serde_json"]
    assert manifest["package"] == original["package"]
    # The build script that names the locked version in the agent line is part of the program.
    copied = {str(rel) for _, rel in packages._fixture_files(source)}
    assert {"build.rs", "src/main.rs"} <= copied and not {"Cargo.toml", "Cargo.lock"} & copied


def test_go_modules_require_the_client_module_and_let_its_siblings_follow() -> None:
    source = _source("go")
    text = packages.GoModules().manifest(_committed("go", "go.mod"), source, packages.parse("go@3.0.5"))
    assert text.startswith("module siotest/clients/go-socketio-client\n\ngo ")
    assert f"\t{agents.ZISHANG520}/clients/socket/v3 v3.0.5\n" in text
    assert f"{agents.ZISHANG520}/clients/engine/v3" not in text  # follows clients/socket/v3


def test_maven_builds_the_java_fixture_at_the_requested_artifact(tmp_path: Path) -> None:
    source = _source("java")
    pom = packages.Maven().manifest(_committed("java", "pom.xml"), source, packages.parse("java@2.1.1"))
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    props = ElementTree.fromstring(pom).find("m:properties", ns)
    assert props is not None
    assert [props.findtext(f"m:socketio.{t}", namespaces=ns) for t in ("groupId", "artifactId", "version")] == [
        "io.socket",
        "socket.io-client",
        "2.1.1",
    ]
    # The pinned client is started the way the Maven kind starts any version: jar beside lib/.
    (tmp_path / "pom.xml").write_text(_committed("java", "pom.xml"))
    # (its class-data-sharing archive added when `make clients-java` wrote one; the fixture flags on both)
    archive = {f"-XX:SharedArchiveFile={source.pinned_root / agents.JAVA_ARCHIVE}", *agents.JAVA_ARCHIVE_FLAGS}
    pinned = [a for a in agents.REGISTRY["java"].command if a not in archive]
    built = agents.with_fixture_flags(source, packages.Maven().command(source, tmp_path))
    assert built[1 : 1 + len(agents.JAVA_FIXTURE_FLAGS)] == list(agents.JAVA_FIXTURE_FLAGS)
    assert [a.replace(str(source.pinned_root), str(tmp_path)) for a in pinned] == built
    assert agents.JAVA_JAR in built[-2]


def test_pinned_clients_report_what_their_locks_pin() -> None:
    rust = agents.resolved_packages(agents.REGISTRY["rust"])
    wanted = tomllib.loads(_committed("rust", "Cargo.toml"))["dependencies"]["rust_socketio"].lstrip("=")
    assert rust["rust_socketio"] == wanted and "rust_engineio" in rust
    go = agents.resolved_packages(agents.REGISTRY["go"])
    assert list(go) == list(agents.GO_PROTOCOL) and go[f"{agents.ZISHANG520}/clients/socket/v3"] == "v3.0.6"
    codec = agents.resolved_packages(agents.REGISTRY["reference"])
    assert codec == agents.resolved_packages(agents.REGISTRY["reference-eio3"]) == {"libsiocodec": "0.1.0"}
    assert agents.resolved_packages(agents.resolve("/bin/true")) == {}  # anyone's fixture: nothing known


def test_a_version_reports_its_own_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(packages, "INSTALL_ROOT", tmp_path)
    root = _stand_in_install("rust", "rust@0.5.0")
    (root / "Cargo.lock").write_text(
        '[[package]]\nname = "rust_engineio"\nversion = "0.5.0"\n\n[[package]]\nname = "rust_socketio"\nversion = "0.5.0"\n'
    )
    spec = agents.resolve("rust@0.5.0")
    assert agents.resolved_packages(spec) == {"rust_socketio": "0.5.0", "rust_engineio": "0.5.0"}
    java = _stand_in_install("java", "java@2.1.1")
    (java / "lib").mkdir()
    for jar in ("socket.io-client-2.1.1.jar", "engine.io-client-2.1.0.jar", "okhttp-3.12.12.jar", "okio-1.15.0.jar"):
        (java / "lib" / jar).write_bytes(b"")
    assert agents.resolved_packages(agents.resolve("java@2.1.1")) == {
        "io.socket:socket.io-client": "2.1.1",
        "io.socket:engine.io-client": "2.1.0",
        "com.squareup.okhttp3:okhttp": "3.12.12",
    }


def test_the_client_matrix_names_each_clients_versions() -> None:
    info: dict[str, Any] = {
        "packages": {"rust_socketio": "0.6.0", "rust_engineio": "0.6.0"},
        "agent": "rust_socketio 0.6.0",
    }
    indexes: list[dict[str, Any]] = [
        {"target": "rust", "target_info": info, "cases": []},
        {"target": "./mine", "cases": []},
    ]
    md = client_matrix.markdown(indexes, {})
    assert "| rust | rust_socketio 0.6.0, rust_engineio 0.6.0 | rust_socketio 0.6.0 |" in md
    assert "| ./mine | not recorded | not recorded |" in md
