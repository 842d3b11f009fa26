// Client fixture for socket.io-client 4.x (conformance/CLIENT-FIXTURE.md). Another version
// (`CLIENT=js@4.7.5`) runs a copy of this file beside that version's node_modules.
"use strict";
const io = require("socket.io-client");
const { version } = require("socket.io-client/package.json");
require("./fixture-core.js").run(io, version);
