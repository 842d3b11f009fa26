//! Fixture application (conformance/FIXTURE.md) on socketioxide.
//!
//! Socket.IO on /socket.io/ and a bare Engine.IO echo on /engine.io/ (engineioxide), one hyper
//! HTTP/1.1 server bound to HOST only, on tokio's multi-threaded runtime as applications run it.
//!
//! What socketioxide's API cannot express, the fixture leaves out (the target's registry entry
//! says so): a handshake refused by the application (no allowRequest hook), CONNECT_ERROR with
//! `data` (the error is a message string), closing a client's whole connection from a handler
//! (`disconnect-me` with `true`), a second call of one ack, Engine.IO's `initialPacket`, and
//! connection-state recovery.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use bytes::Bytes;
use engineioxide::config::EngineIoConfig;
use engineioxide::handler::EngineIoHandler;
use engineioxide::service::{EngineIoService, NotFoundService};
use engineioxide::{DisconnectReason as EioReason, Socket as EioSocket, Str};
use futures_util::StreamExt;
use hyper_util::rt::TokioIo;
use rmpv::Value as Arg;
use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeTuple, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef, TryData};
use socketioxide::handler::ConnectHandler;
use socketioxide::socket::DisconnectReason;

// ------------------------------------------------------------------------------------ settings
struct Settings {
    host: String,
    port: u16,
    ping_interval_ms: u64,
    ping_timeout_ms: u64,
    max_payload: u64,
    connect_timeout_ms: u64,
    upgrade_timeout_ms: u64,
    eio3: bool,
}

/// A flag wins over the environment (FIXTURE.md section 1); a flag without a value means "on".
fn setting(args: &[String], flag: &str, env: &str, fallback: &str) -> String {
    if let Some(i) = args.iter().position(|a| a == flag) {
        return match args.get(i + 1) {
            Some(v) if !v.starts_with("--") => v.clone(),
            _ => "1".into(),
        };
    }
    std::env::var(env)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| fallback.into())
}

fn number(args: &[String], flag: &str, env: &str, fallback: &str) -> u64 {
    let text = setting(args, flag, env, fallback);
    text.parse().unwrap_or_else(|_| panic!("{flag}: not a number: {text}"))
}

fn settings() -> Settings {
    let a: Vec<String> = std::env::args().collect();
    Settings {
        host: setting(&a, "--host", "HOST", "127.0.0.1"),
        port: number(&a, "--port", "PORT", "0") as u16,
        ping_interval_ms: number(&a, "--ping-interval", "PING_INTERVAL_MS", "300"),
        ping_timeout_ms: number(&a, "--ping-timeout", "PING_TIMEOUT_MS", "200"),
        max_payload: number(&a, "--max-payload", "MAX_PAYLOAD", "1000000"),
        connect_timeout_ms: number(&a, "--connect-timeout", "CONNECT_TIMEOUT_MS", "1000"),
        upgrade_timeout_ms: number(&a, "--upgrade-timeout", "UPGRADE_TIMEOUT_MS", "10000"),
        eio3: setting(&a, "--eio3", "EIO3", "0") == "1",
    }
}

// ------------------------------------------------------------------------------------ arguments
/// Every argument of an event, in order, binary ones included. socketioxide treats a tuple-like
/// type as "all the arguments" (any other type takes the first one only), and its common parser
/// hands each binary placeholder to `deserialize_any` as bytes, which rmpv keeps as Binary and
/// serializes back as bytes, so attachments return as attachments in their positions.
#[derive(Debug, Clone, Default)]
struct Args(Vec<Arg>);

impl Serialize for Args {
    fn serialize<S: Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        let mut t = ser.serialize_tuple(self.0.len())?;
        for a in &self.0 {
            t.serialize_element(a)?;
        }
        t.end()
    }
}

impl<'de> Deserialize<'de> for Args {
    fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        struct ArgsVisitor;
        impl<'de> Visitor<'de> for ArgsVisitor {
            type Value = Args;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("the arguments of an event")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Args, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = seq.next_element::<Arg>()? {
                    out.push(v);
                }
                Ok(Args(out))
            }
        }
        de.deserialize_tuple(usize::MAX, ArgsVisitor)
    }
}

impl Args {
    /// The first argument as a string (a room name), and the rest.
    fn split_room(mut self) -> Option<(String, Args)> {
        if self.0.is_empty() {
            return None;
        }
        let first = self.0.remove(0);
        first.as_str().map(|s| (s.to_string(), self))
    }
}

/// The rooms as socketioxide reports them (its sockets are not members of a room named after
/// their own id, as Node's are: the fixture lists what the server has, adding nothing).
fn rooms_of(s: &SocketRef) -> Vec<String> {
    let set: BTreeSet<String> = s.rooms().into_iter().map(|r| r.to_string()).collect();
    set.into_iter().collect()
}

fn room_list(v: &Arg) -> Vec<Cow<'static, str>> {
    match v {
        Arg::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(|s| Cow::Owned(s.to_string())))
            .collect(),
        other => other
            .as_str()
            .map(|s| vec![Cow::Owned(s.to_string())])
            .unwrap_or_default(),
    }
}

// ------------------------------------------------------------------------------------ fixture-info
/// The lock file this binary was built from (`cargo build --locked`): the versions it names are the
/// ones compiled in.
const CARGO_LOCK: &str = include_str!("../Cargo.lock");
const PROTOCOL_CRATES: [&str; 6] = [
    "socketioxide",
    "engineioxide",
    "socketioxide-core",
    "engineioxide-core",
    "socketioxide-parser-common",
    "hyper",
];

/// `name = "x"` followed by `version = "y"` in a `[[package]]` block of Cargo.lock.
fn locked_versions() -> serde_json::Map<String, Json> {
    let mut out = serde_json::Map::new();
    for block in CARGO_LOCK.split("[[package]]") {
        let field = |key: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(key).map(|v| v.trim().trim_matches('"').to_string()))
        };
        if let (Some(name), Some(version)) = (field("name = "), field("version = ")) {
            if PROTOCOL_CRATES.contains(&name.as_str()) {
                out.insert(name, Json::String(version));
            }
        }
    }
    out
}

/// The answer to `fixture-info` (FIXTURE.md section 2): the parts socketioxide's API lets the
/// fixture offer (see the header of this file) and the crates it was built with.
fn fixture_info(cfg: &Settings) -> Json {
    let packages = locked_versions();
    json!({
        "name": "socketioxide",
        "version": packages.get("socketioxide").cloned().unwrap_or(Json::Null),
        "parts": ["extended", "auth", "dynamic", "volatile", "app-error", "echo", "log"],
        "packages": packages,
        "settings": {
            "upgradeTimeoutMs": cfg.upgrade_timeout_ms,
            "connectTimeoutMs": cfg.connect_timeout_ms,
            "eio3": cfg.eio3,
        },
    })
}

static INFO: std::sync::OnceLock<Json> = std::sync::OnceLock::new();

// ------------------------------------------------------------------------------------ disconnect log
static RECORDS: LazyLock<Mutex<Vec<Json>>> = LazyLock::new(|| Mutex::new(Vec::new()));

fn record(entry: Json) {
    println!("{entry}");
    RECORDS.lock().unwrap().push(entry);
}

// ------------------------------------------------------------------------------------ Socket.IO handlers
async fn on_connect(s: SocketRef, TryData(auth): TryData<Json>) {
    // The CONNECT reply is already written when this handler runs: `auth` comes right after it.
    let auth = auth.unwrap_or_else(|_| json!({}));
    s.emit("auth", &auth).ok();
    attach_handlers(&s);
}

fn attach_handlers(s: &SocketRef) {
    s.on("message", async |s: SocketRef, Data(args): Data<Args>| {
        s.emit("message-back", &args).ok();
    });
    s.on("message-with-ack", async |Data(args): Data<Args>, ack: AckSender| {
        ack.send(&args).ok();
    });
    s.on("fixture-info", async |ack: AckSender| {
        ack.send(INFO.get().unwrap_or(&Json::Null)).ok();
    });
    s.on(
        "join",
        async |s: SocketRef, Data(room): Data<String>, ack: AckSender| {
            s.join(room);
            ack.send(&rooms_of(&s)).ok();
        },
    );
    s.on(
        "leave",
        async |s: SocketRef, Data(room): Data<String>, ack: AckSender| {
            s.leave(room);
            ack.send(&rooms_of(&s)).ok();
        },
    );
    s.on("rooms", async |s: SocketRef, ack: AckSender| {
        ack.send(&rooms_of(&s)).ok();
    });
    s.on("to", async |s: SocketRef, Data(args): Data<Args>| {
        if let Some((room, rest)) = args.split_room() {
            s.to(room).emit("to", &rest).await.ok();
        }
    });
    s.on("to-many", async |s: SocketRef, Data(mut args): Data<Args>| {
        if !args.0.is_empty() {
            let rooms = room_list(&args.0.remove(0));
            s.to(rooms).emit("to", &args).await.ok();
        }
    });
    s.on("broadcast", async |s: SocketRef, Data(args): Data<Args>| {
        s.broadcast().emit("bc", &args).await.ok();
    });
    s.on(
        "nsp-emit",
        async |s: SocketRef, io: SocketIo, Data(args): Data<Args>| {
            if let Some(nsp) = io.of(s.ns()) {
                nsp.emit("nsp", &args).await.ok();
            }
        },
    );
    s.on("except", async |s: SocketRef, io: SocketIo, Data(args): Data<Args>| {
        if let (Some((room, rest)), Some(nsp)) = (args.split_room(), io.of(s.ns())) {
            nsp.except(room).emit("except", &rest).await.ok();
        }
    });
    s.on(
        "to-except",
        async |s: SocketRef, io: SocketIo, Data(args): Data<Args>| {
            let Some((room, rest)) = args.split_room() else { return };
            let Some((except, rest)) = rest.split_room() else {
                return;
            };
            if let Some(nsp) = io.of(s.ns()) {
                nsp.to(room).except(except).emit("except", &rest).await.ok();
            }
        },
    );
    s.on("server-ack", async |s: SocketRef, Data(args): Data<Args>| {
        if let Ok(ack) = s.emit_with_ack::<_, Args>("need-ack", &args) {
            if let Ok(reply) = ack.await {
                s.emit("ack-result", &reply).ok();
            }
        }
    });
    s.on(
        "server-ack-timeout",
        async |s: SocketRef, Data(mut args): Data<Args>| {
            let ms = if args.0.is_empty() {
                0
            } else {
                args.0.remove(0).as_u64().unwrap_or(0)
            };
            let Ok(ack) = s
                .timeout(Duration::from_millis(ms))
                .emit_with_ack::<_, Args>("need-ack", &args)
            else {
                return;
            };
            match ack.await {
                Ok(reply) => s.emit("ack-result", &reply).ok(),
                Err(_) => s.emit("ack-timeout", &Args::default()).ok(), // no arguments
            };
        },
    );
    s.on(
        "bc-ack",
        async |s: SocketRef, io: SocketIo, Data(mut args): Data<Args>| {
            let ms = if args.0.is_empty() {
                0
            } else {
                args.0.remove(0).as_u64().unwrap_or(0)
            };
            let Some(nsp) = io.of(s.ns()) else { return };
            let Ok(stream) = nsp
                .timeout(Duration::from_millis(ms))
                .emit_with_ack::<_, Args>("need-ack", &args)
                .await
            else {
                return;
            };
            let mut stream = std::pin::pin!(stream);
            let (mut timed_out, mut responses) = (false, Vec::new());
            while let Some((_, result)) = stream.next().await {
                match result {
                    Ok(reply) => responses.push(reply.0.into_iter().next().unwrap_or(Arg::Nil)),
                    Err(_) => timed_out = true,
                }
            }
            s.emit(
                "bc-ack-result",
                &Args(vec![Arg::Boolean(timed_out), Arg::Array(responses)]),
            )
            .ok();
        },
    );
    s.on("double-ack", async |ack: AckSender| {
        // AckSender::send consumes the sender: the second call of FIXTURE.md cannot be written.
        ack.send(&1).ok();
    });
    s.on("server-bin", async |s: SocketRef| {
        let bin = |b: &[u8]| Arg::Binary(b.to_vec());
        let obj = Arg::Map(vec![(Arg::from("x"), Arg::Array(vec![bin(&[3])]))]);
        s.emit("bin", &Args(vec![bin(&[1, 2]), obj])).ok();
    });
    s.on("disconnect-me", async |s: SocketRef, Data(close): Data<Json>| {
        // Only the namespace can be left from a handler; `true` (close the whole connection) has
        // no API, so the fixture does nothing then rather than something else.
        if close != Json::Bool(true) {
            s.disconnect().ok();
        }
    });
    s.on("log", async |ack: AckSender| {
        let out: Vec<Json> = std::mem::take(&mut *RECORDS.lock().unwrap());
        ack.send(&out).ok();
    });
    s.on("volatile", async |s: SocketRef, Data(args): Data<Args>| {
        s.volatile().emit("vol", &args).ok();
    });
    s.on("app-error", async |s: SocketRef| {
        // The Rust counterpart of a handler that raises: the handler's task panics.
        panic!("app-error on {} {}", s.ns(), s.id);
    });
    s.on_disconnect(async |s: SocketRef, reason: DisconnectReason| {
        // socketioxide has no separate `disconnecting` step; rooms are still readable here.
        let (nsp, sid, reason) = (s.ns().to_string(), s.id.to_string(), reason.to_string());
        record(json!({"event": "disconnecting", "nsp": nsp, "sid": sid, "reason": reason, "rooms": rooms_of(&s)}));
        record(json!({"event": "disconnect", "nsp": nsp, "sid": sid, "reason": reason, "rooms": []}));
    });
}

#[derive(Debug)]
struct Refused(&'static str);
impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// `/auth` admits a CONNECT whose payload has `token: "ok"`; the refusal carries only a message.
async fn auth_middleware(TryData(auth): TryData<Json>) -> Result<(), Refused> {
    match auth {
        Ok(a) if a.get("token") == Some(&json!("ok")) => Ok(()),
        _ => Err(Refused("not authorized")),
    }
}

/// Dynamic namespaces are `^/dyn-\d+$`; socketioxide's router matches `/dyn-{n}` for any `n`, so
/// names with other characters are refused here with the message of an unknown namespace.
async fn dyn_middleware(s: SocketRef) -> Result<(), Refused> {
    let digits = s.ns().strip_prefix("/dyn-").unwrap_or("");
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(Refused("Invalid namespace"))
    }
}

// ------------------------------------------------------------------------------------ Engine.IO echo
#[derive(Debug, Default)]
struct Echo;

impl EngineIoHandler for Echo {
    type Data = ();
    fn on_connect(self: Arc<Self>, _: Arc<EioSocket<()>>) {}
    fn on_disconnect(&self, _: Arc<EioSocket<()>>, _: EioReason) {}
    fn on_message(self: &Arc<Self>, msg: Str, socket: Arc<EioSocket<()>>) {
        socket.emit(msg).ok();
    }
    fn on_binary(self: &Arc<Self>, data: Bytes, socket: Arc<EioSocket<()>>) {
        socket.emit_binary(data).ok();
    }
}

// ------------------------------------------------------------------------------------ main
#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let cfg = settings();
    if cfg.eio3 && !cfg!(feature = "v4") {
        eprintln!("this build has no Engine.IO v3 support: build it with --features v4");
        std::process::exit(2);
    }
    INFO.set(fixture_info(&cfg)).ok();
    let ms = Duration::from_millis;
    let echo_config = EngineIoConfig::builder()
        .req_path("/engine.io")
        .ping_interval(ms(cfg.ping_interval_ms))
        .ping_timeout(ms(cfg.ping_timeout_ms))
        .upgrade_timeout(ms(cfg.upgrade_timeout_ms))
        .max_payload(cfg.max_payload)
        .build();
    let echo = EngineIoService::with_config_inner(NotFoundService, Arc::new(Echo), echo_config);
    let (svc, io) = SocketIo::builder()
        .ping_interval(ms(cfg.ping_interval_ms))
        .ping_timeout(ms(cfg.ping_timeout_ms))
        .upgrade_timeout(ms(cfg.upgrade_timeout_ms))
        .max_payload(cfg.max_payload)
        .connect_timeout(ms(cfg.connect_timeout_ms))
        // `server-ack` has no deadline in FIXTURE.md; socketioxide's default would time it out at 5 s.
        .ack_timeout(Duration::from_secs(3600))
        .build_with_inner_svc(echo);
    io.ns("/", on_connect);
    io.ns("/custom", on_connect);
    io.ns("/auth", on_connect.with(auth_middleware));
    io.dyn_ns("/dyn-{n}", on_connect.with(dyn_middleware))
        .expect("dynamic namespace pattern");

    let addr: SocketAddr = format!("{}:{}", cfg.host, cfg.port).parse().expect("HOST:PORT");
    let listener = tokio::net::TcpListener::bind(addr).await.expect("bind");
    println!("READY {}", listener.local_addr().expect("local address").port());

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("SIGTERM");
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let svc = svc.clone();
                tokio::spawn(async move {
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .with_upgrades();
                    conn.await.ok();
                });
            }
            _ = term.recv() => break,
            _ = tokio::signal::ctrl_c() => break,
        }
    }
    // SIGTERM: the server's own shutdown, as an application would call it (SIO-DC-06).
    drop(listener);
    tokio::time::timeout(Duration::from_millis(1500), io.close()).await.ok();
    std::process::exit(0);
}
