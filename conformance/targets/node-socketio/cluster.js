// The cluster part of the fixture (conformance/FIXTURE.md sections 8 and 9): joining a cluster
// through Node's classic Redis adapter, and the events that act across it. Loaded by fixture.js
// only when ADAPTER is set, so a socket.io installed without @socket.io/redis-adapter still runs
// every other part.
"use strict";

const path = require("path");

function lastIsAck(args) {
  return args.length > 0 && typeof args[args.length - 1] === "function";
}


// FIXTURE.md section 9: what the cluster does for one namespace. Every answer is one object, with
// `error` when the adapter reported a failure (a timeout), so a test sees partial results too.
function attachClusterHandlers(socket) {
  // What fetch-sockets reports as the socket's data.
  socket.data = { auth: socket.handshake.auth || {} };
  const nsp = socket.nsp;
  const answer = (ack, promise, shape) => {
    if (typeof ack !== "function") return;
    promise.then((value) => ack(shape(value)), (err) => ack({ error: String(err && err.message) }));
  };
  const describe = (s) => ({ id: s.id, rooms: [...s.rooms], data: s.data, handshake: s.handshake });
  socket.on("local-emit", (...args) => nsp.local.emit("local", ...args));
  socket.on("volatile-broadcast", (...args) => nsp.volatile.compress(false).emit("vol", ...args));
  socket.on("public-rooms", (ack) =>
    answer(ack, Promise.all([nsp.adapter.allRooms(), nsp.fetchSockets()]), ([rooms, sockets]) => {
      const ids = new Set(sockets.map((s) => s.id));
      return { rooms: [...rooms].filter((r) => !ids.has(r)) };
    }));
  socket.on("room-size", (room, ack) =>
    answer(ack, nsp.in(room).fetchSockets(), (sockets) => ({ size: sockets.length })));
  socket.on("fetch-sockets", (room, ack) =>
    answer(ack, (room === null ? nsp : nsp.in(room)).fetchSockets(), (sockets) => ({
      sockets: sockets.map(describe),
    })));
  socket.on("server-side-emit", (...args) => nsp.serverSideEmit("fixture-sse", ...args));
  socket.on("server-side-emit-ack", (...args) => {
    const ack = lastIsAck(args) ? args.pop() : null;
    nsp.serverSideEmit("fixture-sse-ack", ...args, (err, responses) => {
      if (ack) ack({ error: err ? String(err.message) : null, responses: responses || [] });
    });
  });
  socket.on("remote-join", (room, target, ack) => {
    nsp.in(target).socketsJoin(room);
    if (typeof ack === "function") ack();
  });
  socket.on("remote-leave", (room, target, ack) => {
    nsp.in(target).socketsLeave(room);
    if (typeof ack === "function") ack();
  });
  socket.on("remote-disconnect", (target, close, ack) => {
    nsp.in(target).disconnectSockets(Boolean(close));
    if (typeof ack === "function") ack();
  });
}

// Server-side events from the other nodes (FIXTURE.md section 9): `fixture-sse` is passed on to
// this node's own clients of the namespace; `fixture-sse-ack` is answered with this node's port.
function attachServerSideHandlers(nsp, port) {
  nsp.on("fixture-sse", (...args) => nsp.local.emit("sse", ...args));
  nsp.on("fixture-sse-ack", (...args) => {
    const ack = lastIsAck(args) ? args.pop() : null;
    if (ack) ack(port());
  });
}

// The classic Redis adapter (FIXTURE.md section 8): a publishing and a subscribing connection.
// READY only once the subscriptions of every namespace are in place: node-redis sends the commands
// of one connection in order, so the reply to one more SUBSCRIBE comes after theirs.
// `versionOf(name, from)` is fixture.js's resolver of installed package versions.
async function joinCluster(io, cluster, fixtureInfo, port, versionOf) {
  let adapterModule, redis;
  try {
    adapterModule = require("@socket.io/redis-adapter");
    redis = require("redis");
  } catch (err) {
    process.stdout.write(`UNSUPPORTED ADAPTER given but @socket.io/redis-adapter or redis is not installed here\n`);
    process.exit(3);
  }
  const pub = redis.createClient({ url: cluster.url });
  const sub = pub.duplicate();
  for (const [name, client] of [["pub", pub], ["sub", sub]]) {
    client.on("error", (err) => process.stderr.write(`redis ${name}: ${err.message}\n`));
  }
  await Promise.all([pub.connect(), sub.connect()]);
  io.adapter(adapterModule.createAdapter(pub, sub, {
    key: cluster.key,
    requestsTimeout: cluster.requestsTimeout,
    publishOnSpecificResponseChannel: cluster.specificResponse,
  }));
  for (const name of ["/", "/custom", "/auth"]) attachServerSideHandlers(io.of(name), port);
  const marker = `${cluster.key}-fixture-ready#${process.pid}`;
  await sub.subscribe(marker, () => {});
  await sub.unsubscribe(marker);
  const adapterDir = path.dirname(require.resolve("@socket.io/redis-adapter"));
  for (const name of ["@socket.io/redis-adapter", "redis", "socket.io-adapter", "notepack.io"]) {
    const found = versionOf(name, name === "socket.io-adapter" || name === "notepack.io" ? adapterDir : __dirname);
    if (found) fixtureInfo.packages[name] = found.version;
  }
  return { pub, sub };
}

module.exports = { attachClusterHandlers, joinCluster };
