// Fixture application (conformance/FIXTURE.md) on socket.io 2.5.1 (Engine.IO v3, Socket.IO protocol v4).
// This generation has no CONNECT payload (auth is always {}), no connect timeout, no `except` and no
// ack timeouts or broadcast acks; those fixture events are left unhandled so the suite reports them.
"use strict";

const fs = require("fs");
const http = require("http");
const path = require("path");

// Which version of each protocol package this process loads: the one resolved from the package
// that depends on it, as Node itself resolves it (nested copies included). The package's entry
// point is resolved, then the package.json above it that names it with a version (some releases
// do not export their package.json, and some hold a partial one next to their build).
function versionOf(name, from) {
  let dir;
  try {
    dir = path.dirname(require.resolve(name, { paths: [from] }));
  } catch (err) {
    return null;
  }
  for (; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (fs.existsSync(manifest)) {
      const found = JSON.parse(fs.readFileSync(manifest, "utf8"));
      if (found.name === name && found.version) return { version: found.version, dir };
    }
  }
  return null;
}
const sioPackage = versionOf("socket.io", __dirname);
const eioPackage = sioPackage && versionOf("engine.io", sioPackage.dir);
const packages = {};
for (const [name, found] of [
  ["socket.io", sioPackage],
  ["engine.io", eioPackage],
  ["socket.io-parser", sioPackage && versionOf("socket.io-parser", sioPackage.dir)],
  ["engine.io-parser", eioPackage && versionOf("engine.io-parser", eioPackage.dir)],
  ["ws", eioPackage && versionOf("ws", eioPackage.dir)],
]) {
  if (found) packages[name] = found.version;
}
// This fixture drives socket.io 2.x only (Engine.IO v3, Socket.IO protocol v4).
if (!sioPackage || !sioPackage.version.startsWith("2.")) {
  process.stdout.write(`UNSUPPORTED socket.io ${sioPackage ? sioPackage.version : "(not installed)"}: ` +
    "this fixture drives socket.io 2.x; use node-socketio for 3.x and 4.x\n");
  process.exit(3);
}

const socketio = require("socket.io");
const engine = require("engine.io");

function setting(flag, envName, fallback) {
  const i = process.argv.indexOf(flag);
  if (i !== -1) {
    const next = process.argv[i + 1];
    return next === undefined || next.startsWith("--") ? "1" : next;
  }
  const fromEnv = process.env[envName];
  return fromEnv === undefined || fromEnv === "" ? fallback : fromEnv;
}

const host = setting("--host", "HOST", "127.0.0.1");
const port = Number(setting("--port", "PORT", "0"));
const pingInterval = Number(setting("--ping-interval", "PING_INTERVAL_MS", "300"));
const upgradeTimeout = Number(setting("--upgrade-timeout", "UPGRADE_TIMEOUT_MS", "10000"));
// Optional (FIXTURE.md section 1): a message the echo endpoint sends right after the open packet.
const initialPacket = setting("--initial-packet", "INITIAL_PACKET", "") || undefined;
const pingTimeout = Number(setting("--ping-timeout", "PING_TIMEOUT_MS", "200"));
const maxPayload = Number(setting("--max-payload", "MAX_PAYLOAD", "1000000"));

const httpServer = http.createServer((req, res) => {
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("not found");
});

// FIXTURE.md section 3: a Socket.IO handshake whose query has `refuse=<reason>` is turned down by
// the application, with that reason (EIO-HS-18).
function allowRequest(req, callback) {
  const reason = new URL(req.url, "http://fixture").searchParams.get("refuse");
  callback(reason, reason === null);
}

const io = socketio(httpServer, { allowRequest, pingInterval, pingTimeout, upgradeTimeout, maxHttpBufferSize: maxPayload });

const echo = engine.attach(httpServer, { path: "/engine.io", initialPacket, pingInterval, pingTimeout, upgradeTimeout, maxHttpBufferSize: maxPayload });
echo.on("connection", (socket) => socket.on("message", (data) => socket.send(data)));

// FIXTURE.md section 2, fixture-info: the parts this fixture offers on socket.io 2.
const fixtureInfo = {
  name: "socket.io",
  version: sioPackage.version,
  parts: [
    "extended", "close-connection", "auth", "connect-error-data", "dynamic", "refuse", "volatile", "app-error",
    "echo", "log", "initial-packet",
  ],
  packages,
  settings: { upgradeTimeoutMs: upgradeTimeout, eio3: true },
};

let records = [];
function record(entry) {
  records.push(entry);
  process.stdout.write(JSON.stringify(entry) + "\n");
}

function attachHandlers(socket) {
  const nsp = socket.nsp;
  const roomList = () => Object.keys(socket.rooms);
  socket.on("message", (...args) => socket.emit("message-back", ...args));
  socket.on("fixture-info", (ack) => typeof ack === "function" && ack(fixtureInfo));
  socket.on("message-with-ack", (...args) => {
    if (typeof args[args.length - 1] === "function") {
      const ack = args.pop();
      ack(...args);
    }
  });
  socket.on("join", (room, ack) => socket.join(room, () => typeof ack === "function" && ack(roomList())));
  socket.on("leave", (room, ack) => socket.leave(room, () => typeof ack === "function" && ack(roomList())));
  socket.on("rooms", (ack) => typeof ack === "function" && ack(roomList()));
  socket.on("to", (room, ...args) => socket.to(room).emit("to", ...args));
  socket.on("to-many", (rooms, ...args) => {
    let op = socket;
    for (const r of rooms) op = op.to(r);
    op.emit("to", ...args);
  });
  socket.on("broadcast", (...args) => socket.broadcast.emit("bc", ...args));
  socket.on("nsp-emit", (...args) => nsp.emit("nsp", ...args));
  socket.on("server-ack", (...args) => {
    socket.emit("need-ack", ...args, (...reply) => socket.emit("ack-result", ...reply));
  });
  socket.on("double-ack", (ack) => {
    if (typeof ack === "function") {
      ack(1);
      ack(2);
    }
  });
  socket.on("server-bin", () => socket.emit("bin", Buffer.from([1, 2]), { x: [Buffer.from([3])] }));
  socket.on("disconnect-me", (close) => socket.disconnect(Boolean(close)));
  socket.on("log", (ack) => {
    const out = records;
    records = [];
    if (typeof ack === "function") ack(out);
  });
  socket.on("disconnecting", (reason) =>
    record({ event: "disconnecting", nsp: nsp.name, sid: socket.id, reason, rooms: roomList() }));
  socket.on("disconnect", (reason) =>
    record({ event: "disconnect", nsp: nsp.name, sid: socket.id, reason, rooms: roomList() }));
  socket.on("error", (err) =>
    record({ event: "error", nsp: nsp.name, sid: socket.id, message: String(err && err.message) }));
  // FIXTURE.md section 3: a volatile emit, and an event the application fails on (a middleware
  // error, reported through the "error" listener above).
  socket.on("volatile", (...args) => socket.volatile.emit("vol", ...args));
  socket.use((packet, next) => next(packet[0] === "app-error" ? new Error("app-error") : undefined));
}

function onConnection(socket) {
  socket.emit("auth", {});
  attachHandlers(socket);
}

io.of("/").on("connection", onConnection);
io.of("/custom").on("connection", onConnection);
io.of(/^\/dyn-\d+$/).on("connection", onConnection);
const authNsp = io.of("/auth");
authNsp.use((socket, next) => {
  const q = socket.handshake.query || {};
  if (q.token === "ok") return next();
  const err = new Error("not authorized");
  if ("withData" in q) err.data = { message: "not authorized", data: { code: 42 } };
  return next(err);
});
authNsp.on("connection", onConnection);

httpServer.listen(port, host, () => process.stdout.write(`READY ${httpServer.address().port}\n`));
// SIGTERM: the server's own shutdown (SIO-DC-06), then exit; a hard exit follows if closing hangs.
function shutdown() {
  setTimeout(() => process.exit(0), 1500).unref();
  echo.close();
  io.close(() => process.exit(0));
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
