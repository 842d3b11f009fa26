//! Client fixture (conformance/CLIENT-FIXTURE.md) for rust_socketio.
//! The scripted server holds the scenario: this program connects as configured, obeys do-* events
//! and prints one JSON line per thing it saw. rust_socketio has one namespace per client, no API to
//! answer a server's ack, and binary payloads of one buffer only: those capabilities are not declared.
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use rust_socketio::client::Client;
use rust_socketio::{ClientBuilder, Event, Payload, RawClient, TransportType};
use serde_json::{json, Value};
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

const FEATURES: &[&str] = &["auth-object", "binary", "ws-only", "polling-only", "upgrade"];

static CLIENT: OnceLock<Client> = OnceLock::new();

fn say(v: Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{v}");
    let _ = out.flush();
}

/// `{"$bin": base64}` stands for bytes. rust_socketio sends binary only as a whole payload of one
/// buffer, so arguments are either plain JSON or exactly one buffer.
fn payload_of(args: &[Value]) -> Result<Payload, String> {
    let is_bin = |v: &Value| v.as_object().map(|o| o.len() == 1 && o.contains_key("$bin")).unwrap_or(false);
    if args.len() == 1 && is_bin(&args[0]) {
        let raw = STANDARD.decode(args[0]["$bin"].as_str().unwrap_or("")).map_err(|e| e.to_string())?;
        return Ok(Payload::Binary(raw.into()));
    }
    if args.iter().any(|a| a.to_string().contains("\"$bin\"")) {
        return Err("binary mixed with other arguments, or nested".into());
    }
    Ok(Payload::Text(args.to_vec()))
}

fn wire_of(p: &Payload) -> Value {
    match p {
        Payload::Binary(b) => json!([{"$bin": STANDARD.encode(b)}]),
        Payload::Text(v) => Value::Array(v.clone()),
        #[allow(deprecated)]
        Payload::String(s) => json!([s]),
    }
}

fn perform(action: &Value, where_: &str) {
    let kind = action["do"].as_str().unwrap_or("");
    let nsp = action["nsp"].as_str().unwrap_or("/");
    let Some(client) = CLIENT.get() else {
        say(json!({"ev": "error", "message": "client not ready", "command": kind}));
        return;
    };
    match kind {
        "emit" | "emit-ack" => {
            if action["volatile"].as_bool().unwrap_or(false) {
                say(json!({"ev": "unsupported", "command": "volatile"}));
                return;
            }
            let count = action["count"].as_u64();
            let event = action["event"].as_str().unwrap_or("").to_string();
            for i in 0..count.unwrap_or(1) {
                let mut args: Vec<Value> = action["args"].as_array().cloned().unwrap_or_default();
                if count.is_some() {
                    args.push(json!(i));
                }
                let payload = match payload_of(&args) {
                    Ok(p) => p,
                    Err(why) => {
                        say(json!({"ev": "unsupported", "command": kind, "why": why}));
                        return;
                    }
                };
                let result = if kind == "emit-ack" {
                    let tag = action["tag"].clone();
                    let ns = nsp.to_string();
                    client.emit_with_ack(event.clone(), payload, Duration::from_secs(30), move |p: Payload, _| {
                        // rust_socketio hands an ACK's argument array over as one value: its items are the arguments.
                        let args = match &p {
                            Payload::Text(v) if v.len() == 1 && v[0].is_array() => v[0].clone(),
                            other => wire_of(other),
                        };
                        say(json!({"ev": "ack", "nsp": ns, "tag": tag, "args": args}));
                    })
                } else {
                    client.emit(event.clone(), payload)
                };
                if let Err(e) = result {
                    say(json!({"ev": "error", "message": e.to_string(), "command": kind}));
                }
            }
        }
        "disconnect" => {
            let _ = client.disconnect();
            std::thread::spawn(|| {
                std::thread::sleep(Duration::from_millis(300));
                std::process::exit(0);
            });
        }
        _ => say(json!({"ev": "unsupported", "command": kind, "where": where_})),
    }
}

fn main() {
    let arg = std::env::args().nth(1).unwrap_or_default();
    if arg == "--capabilities" {
        say(json!({"agent": concat!("rust_socketio ", env!("RUST_SOCKETIO_VERSION")), "features": FEATURES}));
        return;
    }
    let config: Value = serde_json::from_str(&arg).expect("config JSON");
    let nsps: Vec<String> = config["namespaces"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect())
        .unwrap_or_else(|| vec!["/".into()]);
    let nsp = nsps.first().cloned().unwrap_or_else(|| "/".into());
    if nsps.len() > 1 {
        say(json!({"ev": "unsupported", "command": "namespaces", "why": "one namespace per client"}));
    }
    let mut url = format!("{}{}", config["url"].as_str().unwrap_or(""), config["path"].as_str().unwrap_or("/socket.io/"));
    if let Some(q) = config["query"].as_object() {
        let pairs: Vec<String> = q.iter().map(|(k, v)| format!("{k}={}", v.as_str().map(String::from).unwrap_or(v.to_string()))).collect();
        url = format!("{url}?{}", pairs.join("&"));
    }
    let transports: Vec<&str> = config["transports"].as_array().map(|a| a.iter().filter_map(|v| v.as_str()).collect()).unwrap_or_default();
    let upgrade = config["upgrade"].as_bool().unwrap_or(true);
    let transport = match (transports.as_slice(), upgrade) {
        (["websocket"], _) => TransportType::Websocket,
        (["polling"], _) | (_, false) => TransportType::Polling,
        _ => TransportType::Any,
    };
    let rc = &config["reconnection"];
    let leaving = Arc::new(Mutex::new(false));
    let on_disconnect: Vec<Value> = config["on_disconnect"].as_array().cloned().unwrap_or_default();
    let on_connect: Vec<Value> = config["on_connect"].as_array().cloned().unwrap_or_default();
    let (n1, n2, n3, n4) = (nsp.clone(), nsp.clone(), nsp.clone(), nsp.clone());
    let mut builder = ClientBuilder::new(url)
        .namespace(nsp.clone())
        .transport_type(transport)
        .reconnect(rc["enabled"].as_bool().unwrap_or(true))
        .reconnect_on_disconnect(false)
        .on(Event::Connect, move |_p: Payload, _c: RawClient| {
            say(json!({"ev": "connect", "nsp": n1, "id": null}));
            for a in &on_connect {
                if a["nsp"].as_str().unwrap_or("/") == n1 {
                    let a = a.clone();
                    std::thread::spawn(move || perform(&a, "on_connect"));
                }
            }
        })
        .on(Event::Close, move |p: Payload, _c: RawClient| {
            say(json!({"ev": "disconnect", "nsp": n2, "reason": wire_of(&p)}));
            if !*leaving.lock().unwrap() {
                for a in &on_disconnect {
                    if a["on"].as_str().unwrap_or("/") == n2 {
                        perform(a, "on_disconnect");
                    }
                }
            }
        })
        .on(Event::Error, move |p: Payload, _c: RawClient| {
            say(json!({"ev": "connect_error", "nsp": n3, "message": wire_of(&p), "data": null}));
        })
        .on_any(move |ev: Event, p: Payload, _c: RawClient| {
            let name = match &ev {
                Event::Custom(s) => s.clone(),
                other => other.as_str().to_string(),
            };
            let args = wire_of(&p);
            say(json!({"ev": "event", "nsp": n4, "name": name, "args": args, "ack": false}));
            if let Some(cmd) = name.strip_prefix("do-") {
                let mut action = args.get(0).cloned().unwrap_or(json!({}));
                if let Some(o) = action.as_object_mut() {
                    o.insert("do".into(), json!(cmd));
                }
                std::thread::spawn(move || perform(&action, "command"));
            }
        });
    if let (Some(min), Some(max)) = (rc["delayMs"].as_u64(), rc["delayMaxMs"].as_u64()) {
        builder = builder.reconnect_delay(min, max);
    }
    if let Some(n) = rc["attempts"].as_u64() {
        builder = builder.max_reconnect_attempts(n.min(255) as u8);
    }
    if config["auth"].is_object() {
        builder = builder.auth(config["auth"].clone());
    }
    let started = std::time::Instant::now();
    loop {
        match builder.clone().connect() {
            Ok(client) => {
                let _ = CLIENT.set(client);
                break;
            }
            Err(e) => {
                say(json!({"ev": "connect_error", "nsp": nsp, "message": e.to_string(), "data": null}));
                if started.elapsed() > Duration::from_secs(20) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(rc["delayMs"].as_u64().unwrap_or(1000)));
            }
        }
    }
    loop {
        std::thread::park();
    }
}
