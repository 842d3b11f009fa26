// A purpose-built broken server for the suite's own tests: the official-suite fixture
// (official-fixture.js) plus two marker events on `/`. `exit-now` makes the process exit at once,
// as an uncaught exception would; `hang-now` blocks its event loop for good, so that it stops
// answering while staying alive. The suite must charge each to the case that sent it, restart the
// server and carry on (conformance/tests/selftest/test_crash_attribution.py).
"use strict";

const { io } = require("./official-fixture.js");

const HANG_LIMIT_MS = 30000;

io.on("connection", (socket) => {
  socket.on("exit-now", () => {
    process.stderr.write("crashing-fixture: exit-now received, exiting with status 7\n");
    process.exit(7);
  });
  socket.on("hang-now", () => {
    process.stderr.write("crashing-fixture: hang-now received, blocking the event loop\n");
    // Blocks the only thread without spinning: nothing is answered, SIGTERM is never handled (the
    // suite has to SIGKILL it), and a copy nobody stops still goes away after HANG_LIMIT_MS.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, HANG_LIMIT_MS);
    process.exit(8);
  });
});
