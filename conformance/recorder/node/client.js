// Drives Node's official socket.io-client through one named scenario against a server URL (normally
// the recording proxy). Usage: node client.js <scenario> <url>. Exits 0 when the scenario saw every
// reply it expects, 1 otherwise; the process ends by itself once every connection is closed.
"use strict";

const { io } = require("socket.io-client");

const STEP_DEADLINE_MS = 5000;

function expectEvent(socket, name) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${name}" within ${STEP_DEADLINE_MS} ms`)),
      STEP_DEADLINE_MS);
    socket.once(name, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

function open(url, nsp, options) {
  return io(url + nsp, { forceNew: true, reconnection: false, ...options });
}

async function connected(socket) {
  const [auth] = await expectEvent(socket, "auth");
  return auth;
}

function closeAll(...sockets) {
  for (const s of sockets) s.disconnect();
}

const POLLING = { transports: ["polling"] };
const WEBSOCKET = { transports: ["websocket"] };

const scenarios = {
  async "handshake-polling"(url) {
    const s = open(url, "/", POLLING);
    await connected(s);
    closeAll(s);
  },
  async "handshake-websocket"(url) {
    const s = open(url, "/", WEBSOCKET);
    await connected(s);
    closeAll(s);
  },
  async "upgrade"(url) {
    const s = open(url, "/", { transports: ["polling", "websocket"] });
    await connected(s);
    if (s.io.engine.transport.name !== "websocket") await expectEvent(s.io.engine, "upgrade");
    s.emit("message", "after upgrade");
    await expectEvent(s, "message-back");
    closeAll(s);
  },
  async "namespaces-multiplexed"(url) {
    const root = open(url, "/", WEBSOCKET);
    await connected(root);
    const custom = root.io.socket("/custom");
    await connected(custom);
    custom.emit("message", "on /custom");
    await expectEvent(custom, "message-back");
    root.emit("message", "on /");
    await expectEvent(root, "message-back");
    custom.disconnect();
    root.disconnect();
  },
  async "namespace-dynamic"(url) {
    const s = open(url, "/dyn-7", WEBSOCKET);
    await connected(s);
    closeAll(s);
  },
  async "namespace-unknown"(url) {
    const s = open(url, "/random", WEBSOCKET);
    const [err] = await expectEvent(s, "connect_error");
    if (err.message !== "Invalid namespace") throw new Error(`unexpected refusal: ${err.message}`);
    s.io.engine.close();
  },
  async "auth-accepted"(url) {
    const s = open(url, "/auth", { ...WEBSOCKET, auth: { token: "ok" } });
    await connected(s);
    closeAll(s);
  },
  async "auth-refused"(url) {
    const s = open(url, "/auth", { ...WEBSOCKET, auth: { token: "wrong", withData: true } });
    const [err] = await expectEvent(s, "connect_error");
    if (err.data.code !== 42) throw new Error("refusal without data");
    s.io.engine.close();
  },
  async "event-echo"(url) {
    const s = open(url, "/", POLLING);
    await connected(s);
    s.emit("message", "text", 42, { nested: [true, null] });
    await expectEvent(s, "message-back");
    closeAll(s);
  },
  async "ack-client-to-server"(url) {
    const s = open(url, "/", WEBSOCKET);
    await connected(s);
    await s.timeout(STEP_DEADLINE_MS).emitWithAck("message-with-ack", 1, "two");
    await s.timeout(STEP_DEADLINE_MS).emitWithAck("message-with-ack", "second");
    closeAll(s);
  },
  async "ack-server-to-client"(url) {
    const s = open(url, "/", POLLING);
    await connected(s);
    s.on("need-ack", (question, reply) => reply("answer to " + question));
    s.emit("server-ack", "question");
    await expectEvent(s, "ack-result");
    closeAll(s);
  },
  async "ack-timeout"(url) {
    const s = open(url, "/", WEBSOCKET);
    await connected(s);
    s.on("need-ack", () => { /* never answers */ });
    s.emit("server-ack-timeout", 100, "late");
    await expectEvent(s, "ack-timeout");
    closeAll(s);
  },
  async "ack-double"(url) {
    const s = open(url, "/", WEBSOCKET);
    await connected(s);
    const [first] = await new Promise((resolve) => s.emit("double-ack", (...a) => resolve(a)));
    if (first !== 1) throw new Error("first ack is not 1");
    await s.timeout(STEP_DEADLINE_MS).emitWithAck("message-with-ack", "still alive");
    closeAll(s);
  },
  async "binary-polling"(url) {
    const s = open(url, "/", POLLING);
    await connected(s);
    s.emit("message", Buffer.from([1, 2, 3]), { inner: Buffer.from("hi") });
    await expectEvent(s, "message-back");
    closeAll(s);
  },
  async "binary-websocket"(url) {
    const s = open(url, "/", WEBSOCKET);
    await connected(s);
    s.emit("message", Buffer.from([0, 255]), "between", Buffer.from([7]));
    await expectEvent(s, "message-back");
    s.emit("server-bin");
    await expectEvent(s, "bin");
    const reply = await s.timeout(STEP_DEADLINE_MS).emitWithAck("message-with-ack", Buffer.from([9]));
    if (!Buffer.isBuffer(reply)) throw new Error("binary ack lost its buffer");
    closeAll(s);
  },
  async "rooms"(url) {
    const s = open(url, "/custom", WEBSOCKET);
    await connected(s);
    await s.timeout(STEP_DEADLINE_MS).emitWithAck("join", "r1");
    await s.timeout(STEP_DEADLINE_MS).emitWithAck("join", "r2");
    await s.timeout(STEP_DEADLINE_MS).emitWithAck("leave", "r1");
    await s.timeout(STEP_DEADLINE_MS).emitWithAck("rooms");
    closeAll(s);
  },
  async "broadcast"(url) {
    const a = open(url, "/custom", WEBSOCKET);
    await connected(a);
    const b = open(url, "/custom", WEBSOCKET);
    await connected(b);
    const got = expectEvent(b, "bc");
    a.emit("broadcast", "to everyone else");
    await got;
    const all = Promise.all([expectEvent(a, "nsp"), expectEvent(b, "nsp")]);
    a.emit("nsp-emit", "to everyone");
    await all;
    closeAll(a, b);
  },
  async "room-broadcast"(url) {
    const a = open(url, "/custom", WEBSOCKET);
    await connected(a);
    const b = open(url, "/custom", WEBSOCKET);
    await connected(b);
    await a.timeout(STEP_DEADLINE_MS).emitWithAck("join", "lobby");
    await b.timeout(STEP_DEADLINE_MS).emitWithAck("join", "lobby");
    const got = expectEvent(b, "to");
    a.emit("to", "lobby", "hello lobby");
    await got;
    closeAll(a, b);
  },
  async "disconnecting"(url) {
    const root = open(url, "/", WEBSOCKET);
    await connected(root);
    const custom = root.io.socket("/custom");
    await connected(custom);
    await custom.timeout(STEP_DEADLINE_MS).emitWithAck("join", "r1");
    custom.disconnect();
    const records = await root.timeout(STEP_DEADLINE_MS).emitWithAck("log");
    if (records.length !== 2) throw new Error(`expected 2 records, got ${records.length}`);
    root.disconnect();
  },
  async "server-disconnect"(url) {
    const root = open(url, "/", WEBSOCKET);
    await connected(root);
    const custom = root.io.socket("/custom");
    await connected(custom);
    const gone = expectEvent(custom, "disconnect");
    custom.emit("disconnect-me", false);
    await gone;
    const closed = expectEvent(root, "disconnect");
    root.emit("disconnect-me", true);
    await closed;
  },
  async "heartbeat"(url) {
    const s = open(url, "/", WEBSOCKET);
    await connected(s);
    await expectEvent(s.io.engine, "ping");
    s.emit("message", "after ping");
    await expectEvent(s, "message-back");
    closeAll(s);
  },
};

async function main() {
  const [name, url] = process.argv.slice(2);
  const scenario = scenarios[name];
  if (!scenario || !url) {
    process.stderr.write(`usage: node client.js <${Object.keys(scenarios).join("|")}> <url>\n`);
    process.exit(2);
  }
  const watchdog = setTimeout(() => {
    process.stderr.write(`scenario ${name}: still running after 20 s\n`);
    process.exit(1);
  }, 20000);
  watchdog.unref();
  try {
    await scenario(url);
  } catch (err) {
    process.stderr.write(`scenario ${name}: ${err.message}\n`);
    process.exit(1);
  }
}

if (process.argv[2] === "--list") {
  process.stdout.write(Object.keys(scenarios).join("\n") + "\n");
} else {
  main();
}
