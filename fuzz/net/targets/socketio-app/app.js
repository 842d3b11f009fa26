// A chat server written the way most socket.io applications are: one connection handler, a few
// events, no `error` listener and no process-level handlers. Started like every fixture
// (conformance/FIXTURE.md section 1: settings as flags or environment, `READY <port>` on stdout).
"use strict";

const http = require("http");
const { Server } = require("socket.io");

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
const httpServer = http.createServer();
const io = new Server(httpServer, {
  pingInterval: Number(setting("--ping-interval", "PING_INTERVAL_MS", "25000")),
  pingTimeout: Number(setting("--ping-timeout", "PING_TIMEOUT_MS", "20000")),
  maxHttpBufferSize: Number(setting("--max-payload", "MAX_PAYLOAD", "1000000")),
  connectTimeout: Number(setting("--connect-timeout", "CONNECT_TIMEOUT_MS", "45000")),
  allowEIO3: setting("--eio3", "EIO3", "0") === "1",
});

const users = new Map();

io.on("connection", (socket) => {
  users.set(socket.id, { name: "anonymous" });
  socket.on("set name", (name, ack) => {
    users.get(socket.id).name = String(name);
    if (typeof ack === "function") ack("ok");
  });
  socket.on("chat message", (msg) => io.emit("chat message", users.get(socket.id).name, msg));
  socket.on("join", (room) => socket.join(room));
  socket.on("message", (...args) => socket.emit("message-back", ...args));
  socket.on("disconnect", () => users.delete(socket.id));
});

io.of("/custom").on("connection", (socket) => {
  socket.on("message", (...args) => socket.emit("message-back", ...args));
});

httpServer.listen(port, host, () => {
  process.stdout.write(`READY ${httpServer.address().port}\n`);
});

process.on("SIGTERM", () => io.close(() => process.exit(0)));
