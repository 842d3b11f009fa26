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
const { mountFixture, setting } = require("./app");

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
// Optional (FIXTURE.md section 8): join a cluster through the classic Redis adapter.
const cluster = {
  url: setting("--adapter", "ADAPTER", ""),
  key: setting("--adapter-key", "ADAPTER_KEY", "socket.io"),
  requestsTimeout: Number(setting("--adapter-requests-timeout", "ADAPTER_REQUESTS_TIMEOUT_MS", "5000")),
  specificResponse: setting("--adapter-specific-response", "ADAPTER_SPECIFIC_RESPONSE", "0") === "1",
};

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
const parts = [
  "extended", "close-connection", "auth", "connect-error-data", "dynamic", "refuse", "volatile", "app-error",
  "echo", "log", "initial-packet",
];
if (has.recovery) parts.push("recovery");
// FIXTURE.md section 9: the cluster events, on a server that has joined a cluster.
if (cluster.url) parts.push("cluster", "cluster-ack", "cluster-rooms", "cluster-fetch", "cluster-sse", "cluster-remote");
const fixtureInfo = {
  name: "socket.io",
  version: socketio.version,
  parts,
  packages,
  settings: { upgradeTimeoutMs: upgradeTimeout, connectTimeoutMs: connectTimeout, eio3: allowEIO3 },
};
if (cluster.url) {
  fixtureInfo.settings.adapter = {
    protocol: "socket.io-redis-adapter",
    url: cluster.url,
    key: cluster.key,
    requestsTimeoutMs: cluster.requestsTimeout,
    specificResponse: cluster.specificResponse,
  };
}
// Loaded only for a cluster, so that an installation without the Redis adapter serves the rest.
const clusterPart = cluster.url ? require("./cluster.js") : null;
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

mountFixture(io, { fixtureInfo, has, extendSocket: clusterPart && clusterPart.attachClusterHandlers });

// READY once listening and, in a cluster, once every namespace's subscriptions are in place.
let redisClients = null;
async function start() {
  if (clusterPart) {
    redisClients = await clusterPart.joinCluster(io, cluster, fixtureInfo, () => httpServer.address().port, versionOf);
  }
  httpServer.listen(port, host, () => {
    process.stdout.write(`READY ${httpServer.address().port}\n`);
  });
}
start().catch((err) => {
  process.stderr.write(`fixture start failed: ${err && err.stack}\n`);
  process.exit(1);
});

// SIGTERM: the server's own shutdown, as an application would call it (SIO-DC-06), then exit; a
// hard exit follows if closing hangs.
function shutdown() {
  setTimeout(() => process.exit(0), 1500).unref();
  echo.close();
  io.close(() => {
    if (!redisClients) process.exit(0);
    Promise.allSettled([redisClients.pub.quit(), redisClients.sub.quit()]).then(() => process.exit(0));
  });
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
