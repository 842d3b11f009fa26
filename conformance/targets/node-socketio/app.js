// The fixture application (conformance/FIXTURE.md sections 2, 3 and 5) on a socket.io Server,
// whatever serves it: Node's http server (fixture.js) or Bun through @socket.io/bun-engine
// (../socketio-bun/fixture.js). It needs only the Server, the fixture-info answer and which
// version-dependent APIs the installed socket.io has.
"use strict";

// Disconnect and error records (FIXTURE.md section 5), drained by the `log` event.
let records = [];
function record(entry) {
  records.push(entry);
  process.stdout.write(JSON.stringify(entry) + "\n");
}

function lastIsAck(args) {
  return args.length > 0 && typeof args[args.length - 1] === "function";
}

function attachHandlers(socket, { fixtureInfo, has }) {
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

/**
 * Registers the fixture's namespaces and handlers on `io`. `fixtureInfo` is the `fixture-info`
 * answer; `has` says which APIs the installed socket.io has (`timeout`, `except`), so that an
 * older release leaves the part out instead of failing inside a handler. `extendSocket`, when
 * given, adds handlers of another part to each socket (the cluster events, cluster.js).
 */
function mountFixture(io, options) {
  function onConnection(socket) {
    // The CONNECT reply has already been written; `auth` must be the first event after it.
    socket.emit("auth", socket.handshake.auth || {});
    attachHandlers(socket, options);
    if (options.extendSocket) options.extendSocket(socket);
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
}

// A process setting (FIXTURE.md section 1): the command-line flag, else the environment variable,
// else the fallback. A flag without a value (e.g. `--eio3`) means "on".
function setting(flag, envName, fallback) {
  const i = process.argv.indexOf(flag);
  if (i !== -1) {
    const next = process.argv[i + 1];
    return next === undefined || next.startsWith("--") ? "1" : next;
  }
  const fromEnv = process.env[envName];
  return fromEnv === undefined || fromEnv === "" ? fallback : fromEnv;
}

module.exports = { mountFixture, setting };
