// Client fixture for socket.io-client 2.x (Engine.IO 3, Socket.IO 4): the same program as the v4
// fixture, given this folder's installed client.
"use strict";
const dir = process.env.SOCKETIO_CLIENT_DIR || "socket.io-client";
const io = require(dir);
const { version } = require(`${dir}/package.json`);
require("../js-socketio-client/fixture-core.js").run(io, version);
