// Fixture application (conformance/FIXTURE.md) on socket.io served by Bun through
// @socket.io/bun-engine, Bun's own Engine.IO v4 implementation: Socket.IO on /socket.io/ and a bare
// Engine.IO echo on /engine.io/, one Bun.serve bound to HOST only. The Socket.IO application is the
// Node fixture's (../node-socketio/app.js); only the Engine.IO layer differs.
//
// Not available in bun-engine 0.1.2: Engine.IO v3 (allowEIO3) and initialPacket.
"use strict";

const { Server } = require("socket.io");
const { Server: Engine } = require("@socket.io/bun-engine");
// Node's app.js sits beside this file in an installation of another version (build/targets/).
const shared = require("fs").existsSync(`${__dirname}/app.js`) ? "./app" : "../node-socketio/app";
const { mountFixture, setting } = require(shared);

const host = setting("--host", "HOST", "127.0.0.1");
const port = Number(setting("--port", "PORT", "0"));
const pingInterval = Number(setting("--ping-interval", "PING_INTERVAL_MS", "300"));
const pingTimeout = Number(setting("--ping-timeout", "PING_TIMEOUT_MS", "200"));
const maxPayload = Number(setting("--max-payload", "MAX_PAYLOAD", "1000000"));
const connectTimeout = Number(setting("--connect-timeout", "CONNECT_TIMEOUT_MS", "1000"));
const upgradeTimeout = Number(setting("--upgrade-timeout", "UPGRADE_TIMEOUT_MS", "10000"));
const recovery = setting("--recovery", "RECOVERY", "0") === "1";
if (setting("--eio3", "EIO3", "0") === "1") {
  process.stderr.write("@socket.io/bun-engine has no Engine.IO v3 support\n");
  process.exit(2);
}

// Engine options live on the engine, not on the Socket.IO server.
const engineOptions = { pingInterval, pingTimeout, upgradeTimeout, maxHttpBufferSize: maxPayload, cors: { origin: "*" } };

// FIXTURE.md section 3: a handshake whose query has `refuse=<reason>` is turned down by the
// application (bun-engine's allowRequest rejects with the reason).
async function allowRequest(req) {
  const reason = new URL(req.url).searchParams.get("refuse");
  if (reason !== null) throw reason;
}

// The fixture-info answer (FIXTURE.md section 2): every part but initialPacket.
const versionOf = (name) => require(`${name}/package.json`).version;
const fixtureInfo = {
  name: "socket.io on @socket.io/bun-engine",
  version: versionOf("@socket.io/bun-engine"),
  parts: [
    "extended", "close-connection", "auth", "connect-error-data", "dynamic", "refuse", "volatile", "app-error",
    "echo", "log", "recovery",
  ],
  packages: {
    "socket.io": versionOf("socket.io"),
    "socket.io-parser": versionOf("socket.io-parser"),
    "engine.io-parser": versionOf("engine.io-parser"),
    "@socket.io/bun-engine": versionOf("@socket.io/bun-engine"),
    bun: Bun.version,
  },
  settings: { upgradeTimeoutMs: upgradeTimeout, connectTimeoutMs: connectTimeout, eio3: false },
};

const sioEngine = new Engine({ ...engineOptions, path: "/socket.io/", allowRequest });
const io = new Server({ ...(recovery ? { connectionStateRecovery: {} } : {}), connectTimeout });
io.bind(sioEngine);
mountFixture(io, { fixtureInfo, has: { timeout: true, except: true } });

const echo = new Engine({ ...engineOptions, path: "/engine.io/" });
echo.on("connection", (socket) => {
  // bun-engine names the message event "data" (engine.io calls it "message").
  socket.on("data", (data) => socket.write(data));
});

// One server for both engines. The WebSocket callbacks only forward to the transport stored on
// the connection, so the Socket.IO engine's callbacks serve both endpoints' WebSockets.
const handler = sioEngine.handler();
const server = Bun.serve({
  hostname: host,
  port,
  ...handler,
  fetch(req, srv) {
    const path = new URL(req.url).pathname;
    if (path === "/socket.io/") return sioEngine.handleRequest(req, srv);
    if (path === "/engine.io/") return echo.handleRequest(req, srv);
    return new Response("not found", { status: 404 });
  },
});
process.stdout.write(`READY ${server.port}\n`);

// SIGTERM: the server's own shutdown, as an application would call it (SIO-DC-06), then exit; a
// hard exit follows if closing hangs.
function shutdown() {
  setTimeout(() => process.exit(0), 1500).unref();
  echo.close();
  io.close(() => {
    server.stop(true);
    process.exit(0);
  });
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
