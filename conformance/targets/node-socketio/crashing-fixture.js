// A purpose-built broken server for the suite's own tests: the official-suite fixture
// (official-fixture.js) plus two marker events on `/`. `exit-now` makes the process exit at once,
// as an uncaught exception would; `hang-now` blocks its event loop for good, so that it stops
// answering while staying alive. The suite must charge each to the case that sent it, restart the
// server and carry on (conformance/tests/selftest/test_crash_attribution.py).
"use strict";

const { io } = require("./official-fixture.js");

io.on("connection", (socket) => {
  socket.on("exit-now", () => {
    process.stderr.write("crashing-fixture: exit-now received, exiting with status 7\n");
    process.exit(7);
  });
  socket.on("hang-now", () => {
    process.stderr.write("crashing-fixture: hang-now received, blocking the event loop\n");
    for (;;) {
      // never yields: no request is answered from now on
    }
  });
});
