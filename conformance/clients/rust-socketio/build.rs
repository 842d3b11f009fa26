// Names the locked rust_socketio version for the `--capabilities` agent line: Cargo gives a crate no
// version of its dependencies, so it is read from the Cargo.lock beside Cargo.toml (the committed one,
// or the one `CLIENT=rust@VERSION` generates for another version).
use std::{env, fs, path::Path};

fn main() {
    let lock = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("Cargo.lock");
    println!("cargo:rerun-if-changed={}", lock.display());
    let text = fs::read_to_string(&lock).unwrap_or_default();
    let version = text
        .split("[[package]]")
        .find(|entry| entry.contains("\nname = \"rust_socketio\"\n"))
        .and_then(|entry| entry.lines().find_map(|line| line.strip_prefix("version = \"")))
        .map(|v| v.trim_end_matches('"').to_string())
        .unwrap_or_else(|| "(version unknown)".into());
    println!("cargo:rustc-env=RUST_SOCKETIO_VERSION={version}");
}
