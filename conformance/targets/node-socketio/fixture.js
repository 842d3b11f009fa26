// Fixture application (conformance/FIXTURE.md) on Node's official socket.io server.
// Socket.IO on /socket.io/, a bare Engine.IO echo on /engine.io/, bound to HOST only.
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
const socketio = versionOf("socket.io", __dirname);
const engineio = socketio && versionOf("engine.io", socketio.dir);
const packages = {};
for (const [name, found] of [
  ["socket.io", socketio],
  ["engine.io", engineio],
  ["socket.io-parser", socketio && versionOf("socket.io-parser", socketio.dir)],
  ["engine.io-parser", engineio && versionOf("engine.io-parser", engineio.dir)],
  ["ws", engineio && versionOf("ws", engineio.dir)],
]) {
  if (found) packages[name] = found.version;
}

// This fixture drives socket.io 3 and 4 (Socket.IO protocol v5); 2.x has a fixture of its own
// (conformance/targets/node-socketio-v2). Anything else is refused in one line.
const major = socketio ? Number(socketio.version.split(".")[0]) : 0;
if (major < 3 || major > 4) {
  process.stdout.write(`UNSUPPORTED socket.io ${socketio ? socketio.version : "(not installed)"}: ` +
    "this fixture drives socket.io 3.x and 4.x; use node-socketio-v2 for 2.x\n");
  process.exit(3);
}

const { Server } = require("socket.io");
const engine = require("engine.io");

function setting(flag, envName, fallback) {
  const i = process.argv.indexOf(flag);
  if (i !== -1) {
    const next = process.argv[i + 1];
    // A flag without a value (e.g. `--eio3`) means "on".
    return next === undefined || next.startsWith("--") ? "1" : next;
  }
  const fromEnv = process.env[envName];
  return fromEnv === undefined || fromEnv === "" ? fallback : fromEnv;
}

const host = setting("--host", "HOST", "127.0.0.1");
const port = Number(setting("--port", "PORT", "0"));
const pingInterval = Number(setting("--ping-interval", "PING_INTERVAL_MS", "300"));
const pingTimeout = Number(setting("--ping-timeout", "PING_TIMEOUT_MS", "200"));
const maxPayload = Number(setting("--max-payload", "MAX_PAYLOAD", "1000000"));
const connectTimeout = Number(setting("--connect-timeout", "CONNECT_TIMEOUT_MS", "1000"));
const allowEIO3 = setting("--eio3", "EIO3", "0") === "1";
const upgradeTimeout = Number(setting("--upgrade-timeout", "UPGRADE_TIMEOUT_MS", "10000"));
// Optional (FIXTURE.md section 1): a message the echo endpoint sends right after the open packet.
const initialPacket = setting("--initial-packet", "INITIAL_PACKET", "") || undefined;
// Optional (FIXTURE.md section 1): connection-state recovery with socket.io's defaults.
const recovery = setting("--recovery", "RECOVERY", "0") === "1";

// Requests for neither endpoint get a plain 404 instead of hanging.
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

// Parts of FIXTURE.md this fixture offers on the installed version (fixture-info); an API an
// older release lacks leaves its part out instead of failing inside a handler.
const exported = require("socket.io");
const methodsOf = (cls) => (cls && cls.prototype) || {};
const has = {
  timeout: typeof methodsOf(exported.Socket).timeout === "function",
  except: typeof methodsOf(exported.Namespace).except === "function",
  recovery: (() => {
    const [maj, min] = socketio.version.split(".").map(Number);
    return maj > 4 || (maj === 4 && min >= 6);
  })(),
};
const parts = ["extended", "auth", "dynamic", "refuse", "volatile", "app-error", "echo", "log", "initial-packet"];
if (has.recovery) parts.push("recovery");
const fixtureInfo = {
  name: "socket.io",
  version: socketio.version,
  parts,
  packages,
  settings: { upgradeTimeoutMs: upgradeTimeout, connectTimeoutMs: connectTimeout, eio3: allowEIO3 },
};
if (recovery && !has.recovery) {
  process.stdout.write(`UNSUPPORTED socket.io ${socketio.version}: no connection-state recovery before 4.6\n`);
  process.exit(3);
}

const io = new Server(httpServer, {
  ...(recovery ? { connectionStateRecovery: {} } : {}),
  allowRequest,
  pingInterval,
  pingTimeout,
  upgradeTimeout,
  maxHttpBufferSize: maxPayload,
  connectTimeout,
  allowEIO3,
  cors: { origin: "*" },
});

const echo = new engine.Server({
  initialPacket,
  pingInterval,
  pingTimeout,
  upgradeTimeout,
  maxHttpBufferSize: maxPayload,
  allowEIO3,
  cors: { origin: "*" },
});
echo.attach(httpServer, { path: "/engine.io/" });
echo.on("connection", (socket) => {
  socket.on("message", (data) => socket.send(data));
});

// Disconnect and error records (FIXTURE.md section 5), drained by the `log` event.
let records = [];
function record(entry) {
  records.push(entry);
  process.stdout.write(JSON.stringify(entry) + "\n");
}

function lastIsAck(args) {
  return args.length > 0 && typeof args[args.length - 1] === "function";
}

function attachHandlers(socket) {
  const nsp = socket.nsp;
  const roomList = () => [...socket.rooms];

  socket.on("message", (...args) => socket.emit("message-back", ...args));
  socket.on("message-with-ack", (...args) => {
    if (lastIsAck(args)) {
      const ack = args.pop();
      ack(...args);
    }
  });
  socket.on("fixture-info", (ack) => {
    if (typeof ack === "function") ack(fixtureInfo);
  });
  socket.on("join", (room, ack) => {
    socket.join(room);
    if (typeof ack === "function") ack(roomList());
  });
  socket.on("leave", (room, ack) => {
    socket.leave(room);
    if (typeof ack === "function") ack(roomList());
  });
  socket.on("rooms", (ack) => {
    if (typeof ack === "function") ack(roomList());
  });
  socket.on("to", (room, ...args) => socket.to(room).emit("to", ...args));
  socket.on("to-many", (rooms, ...args) => socket.to(rooms).emit("to", ...args));
  socket.on("broadcast", (...args) => socket.broadcast.emit("bc", ...args));
  socket.on("nsp-emit", (...args) => nsp.emit("nsp", ...args));
  if (has.except) {
    socket.on("except", (room, ...args) => nsp.except(room).emit("except", ...args));
    socket.on("to-except", (room, exceptRoom, ...args) =>
      nsp.to(room).except(exceptRoom).emit("except", ...args));
  }
  socket.on("server-ack", (...args) => {
    socket.emit("need-ack", ...args, (...reply) => socket.emit("ack-result", ...reply));
  });
  if (has.timeout) {
    socket.on("server-ack-timeout", (ms, ...args) => {
      socket.timeout(ms).emit("need-ack", ...args, (err, ...reply) => {
        if (err) socket.emit("ack-timeout");
        else socket.emit("ack-result", ...reply);
      });
    });
  }
  if (typeof nsp.timeout === "function") {
    socket.on("bc-ack", (ms, ...args) => {
      nsp.timeout(ms).emit("need-ack", ...args, (err, responses) => {
        socket.emit("bc-ack-result", Boolean(err), responses || []);
      });
    });
  }
  socket.on("double-ack", (ack) => {
    if (typeof ack === "function") {
      ack(1);
      ack(2);
    }
  });
  socket.on("server-bin", () => {
    socket.emit("bin", Buffer.from([1, 2]), { x: [Buffer.from([3])] });
  });
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
  // The CONNECT reply has already been written; `auth` must be the first event after it.
  socket.emit("auth", socket.handshake.auth || {});
  attachHandlers(socket);
}

io.of("/").on("connection", onConnection);
io.of("/custom").on("connection", onConnection);
io.of(/^\/dyn-\d+$/).on("connection", onConnection);

const authNsp = io.of("/auth");
authNsp.use((socket, next) => {
  const auth = socket.handshake.auth;
  if (auth && auth.token === "ok") return next();
  const err = new Error("not authorized");
  if (auth && typeof auth === "object" && Object.prototype.hasOwnProperty.call(auth, "withData")) {
    err.data = { code: 42 };
  }
  return next(err);
});
authNsp.on("connection", onConnection);

httpServer.listen(port, host, () => {
  process.stdout.write(`READY ${httpServer.address().port}\n`);
});

// SIGTERM: the server's own shutdown, as an application would call it (SIO-DC-06), then exit; a
// hard exit follows if closing hangs.
function shutdown() {
  setTimeout(() => process.exit(0), 1500).unref();
  echo.close();
  io.close(() => process.exit(0));
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
