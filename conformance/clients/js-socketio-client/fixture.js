// Client fixture for socket.io-client 4.x (conformance/CLIENT-FIXTURE.md). SOCKETIO_CLIENT_DIR
// points at another installed version (`CLIENT=js@4.7.5`); by default the locked one is used.
"use strict";
const dir = process.env.SOCKETIO_CLIENT_DIR || "socket.io-client";
const io = require(dir);
const { version } = require(`${dir}/package.json`);
require("./fixture-core.js").run(io, version);
