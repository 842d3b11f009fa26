// Runs the official socket.io-client against a server that implements conformance/FIXTURE.md and
// prints one JSON line: {"ok": true, "transport": …, "steps": […]} or {"ok": false, "error": …}.
//
//   node node-client.mjs http://127.0.0.1:PORT polling|upgrade|websocket
import { io } from "socket.io-client";

const [url, mode] = process.argv.slice(2);
const STEP_TIMEOUT_MS = 5000;
const transports = { polling: ["polling"], upgrade: ["polling", "websocket"], websocket: ["websocket"] }[mode];
const steps = [];

function once(emitter, event) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} event`)), STEP_TIMEOUT_MS);
    emitter.once(event, (...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

function check(name, condition, detail) {
  if (!condition) throw new Error(`${name}: ${JSON.stringify(detail)}`);
  steps.push(name);
}

async function run() {
  const socket = io(url, { transports, auth: { token: "t" }, reconnection: false, forceNew: true });
  const [auth] = await once(socket, "auth");
  check("connect with auth", socket.connected && auth.token === "t", auth);
  if (mode === "upgrade" && socket.io.engine.transport.name !== "websocket") {
    await once(socket.io.engine, "upgrade");
  }

  socket.emit("message", 1, "2", Buffer.from([1, 2, 3]));
  const back = await once(socket, "message-back");
  check("emit with binary", back[0] === 1 && back[1] === "2" && Buffer.from(back[2]).equals(Buffer.from([1, 2, 3])), back);

  const acked = await socket.timeout(STEP_TIMEOUT_MS).emitWithAck("message-with-ack", 1, { a: [true] });
  check("ack", acked === 1, acked);

  const binAck = await socket.timeout(STEP_TIMEOUT_MS).emitWithAck("message-with-ack", Buffer.from([9, 8]));
  check("binary ack", Buffer.from(binAck).equals(Buffer.from([9, 8])), binAck);

  const rooms = await socket.timeout(STEP_TIMEOUT_MS).emitWithAck("join", "r1");
  check("join room", rooms.includes("r1") && rooms.includes(socket.id), rooms);

  socket.on("need-ack", (value, callback) => callback(value + 1));
  socket.emit("server-ack", 41);
  const [result] = await once(socket, "ack-result");
  check("server-to-client ack", result === 42, result);

  const custom = socket.io.socket("/custom", { auth: { token: "c" } });
  const [customAuth] = await once(custom, "auth");
  check("second namespace on the same connection", customAuth.token === "c" && custom.id !== socket.id, customAuth);

  const transport = socket.io.engine.transport.name;
  custom.disconnect();
  socket.disconnect();
  check("disconnect", !socket.connected && !custom.connected, null);
  return transport;
}

run().then(
  (transport) => {
    console.log(JSON.stringify({ ok: true, transport, steps }));
    process.exit(0);
  },
  (err) => {
    console.log(JSON.stringify({ ok: false, error: String(err && err.message ? err.message : err), steps }));
    process.exit(1);
  },
);
