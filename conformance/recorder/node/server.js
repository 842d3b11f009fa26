// Runs the shared fixture application (conformance/targets/node-socketio/fixture.js) on the socket.io
// and engine.io pinned in this folder, so that recordings never depend on another folder's install.
//
// --deterministic replaces the two random id generators with counters, which makes every byte the
// server sends a function of what the client sent (see vectors/sessions/README.md, "Deterministic
// mode"): the n-th Engine.IO session is "eio-session-" + n as 8 digits, the n-th Socket.IO socket
// "sio-socket--" + n as 8 digits (both 20 characters, like the random ids they replace), and HTTP
// responses carry no Date header.
"use strict";

const Module = require("module");
const path = require("path");

const originalResolve = Module._resolveFilename;
const pinned = new Map(["socket.io", "engine.io"].map((name) =>
  [name, originalResolve.call(Module, name, module, false, { paths: [__dirname] })]));
Module._resolveFilename = function resolvePinned(request, parent, isMain, options) {
  if (pinned.has(request)) return pinned.get(request);
  return originalResolve.call(this, request, parent, isMain, options);
};

function counterIds(prefix) {
  let n = 0;
  return () => {
    n += 1;
    return prefix + String(n).padStart(8, "0");
  };
}

const deterministic = process.argv.includes("--deterministic");
if (deterministic) {
  const eioIds = require(path.join(path.dirname(pinned.get("engine.io")),
    "contrib", "base64id.js")).base64id;
  const sioIds = require(path.join(path.dirname(pinned.get("socket.io")),
    "contrib", "base64id.js")).base64id;
  eioIds.generateId = counterIds("eio-session-");
  sioIds.generateId = counterIds("sio-socket--");
  // The Date header is the only other thing that changes from run to run.
  const http = require("http");
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function emitWithoutDate(event, req, res) {
    if (event === "request" && res) res.sendDate = false;
    return emit.apply(this, arguments);
  };
  process.argv = process.argv.filter((a) => a !== "--deterministic");
}

require(path.join(__dirname, "..", "..", "targets", "node-socketio", "fixture.js"));
