// Client fixture (conformance/CLIENT-FIXTURE.md) for the JavaScript socket.io-client, v4 and v2.
// The scripted server holds the scenario: this program connects as configured, obeys do-* events,
// answers every server ack by echoing the arguments, and prints one JSON line per thing it saw.
"use strict";

function run(io, version) {
  const major = Number(version.split(".")[0]);
  const arg = process.argv[2];
  if (arg === "--capabilities") {
    const features = ["multiplex", "dynamic-join", "binary", "ack-answer", "buffer", "ws-only", "polling-only",
      "upgrade", "leave", "attempts", "timeout", "restart"];
    if (major >= 3) features.push("auth-object", "volatile");
    if (major >= 4 && Number(version.split(".")[1]) >= 6) features.push("recovery");
    console.log(JSON.stringify({ agent: `socket.io-client ${version} (node ${process.version})`, features }));
    return;
  }
  const config = JSON.parse(arg);
  const say = (obj) => process.stdout.write(JSON.stringify(obj) + "\n");

  // {"$bin": base64} anywhere in a value stands for bytes, both ways.
  const toNative = (v) => {
    if (Array.isArray(v)) return v.map(toNative);
    if (v && typeof v === "object") {
      if (typeof v.$bin === "string" && Object.keys(v).length === 1) return Buffer.from(v.$bin, "base64");
      const out = {};
      for (const k of Object.keys(v)) out[k] = toNative(v[k]);
      return out;
    }
    return v;
  };
  const toWire = (v) => {
    if (Buffer.isBuffer(v)) return { $bin: v.toString("base64") };
    if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("base64") };
    if (ArrayBuffer.isView(v)) return { $bin: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") };
    if (Array.isArray(v)) return v.map(toWire);
    if (v && typeof v === "object") {
      const out = {};
      for (const k of Object.keys(v)) out[k] = toWire(v[k]);
      return out;
    }
    return v;
  };

  const rc = config.reconnection || {};
  const opts = {
    path: config.path || "/socket.io/",
    transports: config.transports || ["polling", "websocket"],
    upgrade: config.upgrade !== false,
    reconnection: rc.enabled !== false,
    autoConnect: false,
  };
  if (rc.delayMs !== undefined) opts.reconnectionDelay = rc.delayMs;
  if (rc.delayMaxMs !== undefined) opts.reconnectionDelayMax = rc.delayMaxMs;
  // socket.io-client 2.x takes `randomizationFactor || 0.5`, so 0 cannot turn its jitter off there; the
  // smallest positive factor gives a deviation of floor(random * factor * delay) = 0 ms on every version.
  if (rc.jitter !== undefined) opts.randomizationFactor = rc.jitter === 0 ? Number.MIN_VALUE : rc.jitter;
  if (rc.attempts !== undefined && rc.attempts !== null) opts.reconnectionAttempts = rc.attempts;
  if (config.timeoutMs !== undefined) opts.timeout = config.timeoutMs;
  if (config.query) opts.query = config.query;
  if (config.tryAllTransports) opts.tryAllTransports = true;
  // One client: its manager, its sockets by namespace, and whether it is leaving for good.
  function open() {
    const manager = new io.Manager(config.url, opts);
    manager.on("reconnect_attempt", (n) => say({ ev: "reconnect_attempt", n }));
    manager.on("reconnect_failed", () => say({ ev: "reconnect_failed" }));
    manager.on("reconnect", (n) => say({ ev: "reconnect", n }));
    manager.on("error", (err) => say({ ev: "error", message: String(err && err.message || err) }));
    const client = { manager, sockets: new Map(), leaving: false };
    for (const nsp of config.namespaces || ["/"]) join(client, nsp, config.auth);
  }

  function perform(client, action, where) {
    const { sockets } = client;
    const kind = action.do;
    try {
      if (kind === "emit" || kind === "emit-ack") {
        const s = sockets.get(action.nsp || "/");
        if (!s) return say({ ev: "error", message: `not joined: ${action.nsp}`, command: kind });
        const count = action.count || 1;
        for (let i = 0; i < count; i++) {
          const args = toNative(action.args || []);
          if (action.count) args.push(i);
          let target = s;
          if (action.volatile) {
            if (!s.volatile) return say({ ev: "unsupported", command: "volatile" });
            target = s.volatile;
          }
          if (kind === "emit-ack") {
            const tag = action.tag;
            target.emit(action.event, ...args, (...res) => say({ ev: "ack", nsp: action.nsp || "/", tag, args: toWire(res) }));
          } else {
            target.emit(action.event, ...args);
          }
        }
      } else if (kind === "join") {
        join(client, action.nsp, action.auth);
      } else if (kind === "leave") {
        const s = sockets.get(action.nsp);
        if (s) s.disconnect();
      } else if (kind === "restart") {
        // A new client from the same configuration, as at start; this one leaves for good.
        client.leaving = true;
        for (const s of sockets.values()) s.disconnect();
        open();
      } else if (kind === "disconnect") {
        client.leaving = true;
        for (const s of sockets.values()) s.disconnect();
        // Let the close packets leave before the process ends.
        setTimeout(() => process.exit(0), 300);
      } else {
        say({ ev: "unsupported", command: kind, where });
      }
    } catch (err) {
      say({ ev: "error", message: String(err && err.message || err), command: kind });
    }
  }

  function join(client, nsp, auth) {
    const { manager, sockets } = client;
    const sockOpts = {};
    if (auth !== undefined && auth !== null) {
      if (major >= 3) sockOpts.auth = auth;
      else sockOpts.query = auth;
    }
    const s = manager.socket(nsp, sockOpts);
    sockets.set(nsp, s);
    s.on("connect", () => {
      const line = { ev: "connect", nsp, id: s.id };
      if (s.recovered !== undefined) line.recovered = s.recovered;
      say(line);
      for (const a of config.on_connect || []) {
        if ((a.nsp || "/") === nsp || a.when === "any") perform(client, a, "on_connect");
      }
    });
    s.on("connect_error", (err) => say({ ev: "connect_error", nsp, message: String(err && err.message || err),
      data: err && err.data !== undefined ? toWire(err.data) : null }));
    s.on("disconnect", (reason) => {
      say({ ev: "disconnect", nsp, reason });
      if (!client.leaving) {
        for (const a of config.on_disconnect || []) if ((a.on || "/") === nsp) perform(client, a, "on_disconnect");
      }
    });
    if (major < 3) s.on("error", (err) => say({ ev: "connect_error", nsp, message: String(err), data: null }));
    const onAny = (name, ...args) => {
      let ack = null;
      if (args.length && typeof args[args.length - 1] === "function") ack = args.pop();
      say({ ev: "event", nsp, name, args: toWire(args), ack: ack !== null });
      if (ack) ack(...args);
      if (typeof name === "string" && name.startsWith("do-")) {
        const cmd = args[0] || {};
        perform(client, { ...cmd, do: name.slice(3) }, "command");
      }
    };
    if (typeof s.onAny === "function") {
      s.onAny(onAny);
    } else {
      // v2 has no onAny: wrap the packet handler.
      const onevent = s.onevent;
      s.onevent = function (packet) {
        const args = packet.data || [];
        const copy = args.slice();
        if (packet.id != null) copy.push(this.ack(packet.id));
        onAny(...copy);
      };
      void onevent;
    }
    s.open();
    return s;
  }

  open();
  process.on("SIGTERM", () => process.exit(0));
  // Stay alive until told to leave or stopped, even when the client has nothing left to do.
  setInterval(() => {}, 1 << 30);
}

module.exports = { run };
