#!/usr/bin/env node
// The fixture application of conformance/FIXTURE.md, reduced to what the server benchmarks
// drive (echo, ack, rooms, room emit, broadcast), on Node's socket.io. Configuration from the
// environment as the contract says; binds only HOST; prints "READY <port>" when listening.
"use strict";

const http = require("http");
const { Server } = require("socket.io");

const env = (name, fallback) => (process.env[name] === undefined ? fallback : process.env[name]);
const host = env("HOST", "127.0.0.1");
const port = Number(env("PORT", "0"));

const httpServer = http.createServer();
const io = new Server(httpServer, {
  pingInterval: Number(env("PING_INTERVAL_MS", "300")),
  pingTimeout: Number(env("PING_TIMEOUT_MS", "200")),
  maxHttpBufferSize: Number(env("MAX_PAYLOAD", "1000000")),
  connectTimeout: Number(env("CONNECT_TIMEOUT_MS", "1000")),
  cors: { origin: "*" },
});

// The last argument is the ack callback when the client asked for one.
function withAck(args) {
  const ack = typeof args[args.length - 1] === "function" ? args.pop() : null;
  return [args, ack];
}

function onConnection(socket) {
  socket.emit("auth", socket.handshake.auth || {});
  socket.on("message", (...args) => socket.emit("message-back", ...args));
  socket.on("message-with-ack", (...raw) => {
    const [args, ack] = withAck(raw);
    if (ack) ack(...args);
  });
  socket.on("join", (...raw) => {
    const [args, ack] = withAck(raw);
    socket.join(args[0]);
    if (ack) ack([...socket.rooms]);
  });
  socket.on("leave", (...raw) => {
    const [args, ack] = withAck(raw);
    socket.leave(args[0]);
    if (ack) ack([...socket.rooms]);
  });
  socket.on("to", (room, ...args) => socket.to(room).emit("to", ...args));
  socket.on("broadcast", (...args) => socket.broadcast.emit("bc", ...args));
}

io.of("/").on("connection", onConnection);
io.of("/custom").on("connection", onConnection);

httpServer.listen(port, host, () => {
  process.stdout.write(`READY ${httpServer.address().port}\n`);
});

process.on("SIGTERM", () => {
  io.close();
  process.exit(0);
});
