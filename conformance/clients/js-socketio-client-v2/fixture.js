// Client fixture for socket.io-client 2.x (Engine.IO 3, Socket.IO 4): the same program as the v4
// fixture (SIOTEST_JS_FIXTURE_CORE names it when this file runs as a copy for another version).
"use strict";
const io = require("socket.io-client");
const { version } = require("socket.io-client/package.json");
require(process.env.SIOTEST_JS_FIXTURE_CORE || "../js-socketio-client/fixture-core.js").run(io, version);
