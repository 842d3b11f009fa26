// The official-suite part of the fixture contract only (conformance/FIXTURE.md section 2): what the
// test suite of the socket.io-protocol repository asks of a server, and nothing more. No Engine.IO
// echo endpoint, no extended events, no /auth, no dynamic namespaces, no disconnect log, no
// fixture-info. It is shipped as a target (`node-socketio-official`) so that the suite is checked
// against a server whose fixture is partial: every case that needs a missing part has to come out
// `unimplemented`, never `fail`.
//
// Process settings follow FIXTURE.md section 1 (port 0 and the READY line, heartbeat, payload and
// timeouts from the environment), since the suite starts this server itself.
"use strict";

const http = require("http");
const { Server } = require("socket.io");

const env = (name, fallback) => (process.env[name] === undefined || process.env[name] === "" ? fallback : process.env[name]);

const httpServer = http.createServer();
const io = new Server(httpServer, {
  pingInterval: Number(env("PING_INTERVAL_MS", "300")),
  pingTimeout: Number(env("PING_TIMEOUT_MS", "200")),
  maxHttpBufferSize: Number(env("MAX_PAYLOAD", "1000000")),
  connectTimeout: Number(env("CONNECT_TIMEOUT_MS", "1000")),
  upgradeTimeout: Number(env("UPGRADE_TIMEOUT_MS", "10000")),
  cors: { origin: "*" },
});

// `/`: the CONNECT payload comes back as `auth`, `message` is echoed as `message-back`, and
// `message-with-ack` is answered with its own arguments.
io.on("connection", (socket) => {
  socket.emit("auth", socket.handshake.auth);
  socket.on("message", (...args) => socket.emit("message-back", ...args));
  socket.on("message-with-ack", (...args) => {
    const ack = args.pop();
    if (typeof ack === "function") ack(...args);
  });
});

// `/custom`: admitted, and greets with `auth`; the official suite asks nothing else of it.
io.of("/custom").on("connection", (socket) => socket.emit("auth", socket.handshake.auth));

httpServer.listen(Number(env("PORT", "0")), env("HOST", "127.0.0.1"), () => {
  process.stdout.write(`READY ${httpServer.address().port}\n`);
});

function shutdown() {
  setTimeout(() => process.exit(0), 1500).unref();
  io.close(() => process.exit(0));
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);

module.exports = { io };
