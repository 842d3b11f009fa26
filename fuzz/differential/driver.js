// Differential driver: reads diffgen records on stdin (see diffgen.c), decodes each input with the
// official parsers (engine.io-parser 5.2.3, socket.io-parser 4.2.7), compares with the codec's
// strict and compat results, and prints one JSON summary on stdout: totals and, per category of
// disagreement, a count and a few examples. One process, batch mode, no network.
"use strict";

const eio = require("engine.io-parser");
const sio = require("socket.io-parser");

const KINDS = { 1: "eio-packet", 2: "eio-payload", 3: "sio-packet", 4: "sio-message" };
const EIO_TYPES = { open: 0, close: 1, ping: 2, pong: 3, message: 4, upgrade: 5, noop: 6 };
const SEP = Buffer.from([0x00, 0xff, 0x41, 0x54]);
const EXAMPLES = 5;
// Compat disagreements keep their inputs (up to this many per category) so that classify.py can
// check each one against the known causes, not just the five examples.
const KEEP_INPUTS = 5000;

function hex(data) {
  if (data === undefined) return "";
  return Buffer.isBuffer(data) ? data.toString("hex") : Buffer.from(data, "utf8").toString("hex");
}

function eioValue(p) {
  return [EIO_TYPES[p.type], Buffer.isBuffer(p.data), hex(p.data)];
}

function nodeEioPacket(input) {
  const p = eio.decodePacket(input.toString("utf8"), "nodebuffer");
  if (p.type === "error") return { ok: false, err: "parser error" };
  return { ok: true, v: eioValue(p) };
}

function nodeEioPayload(input) {
  const packets = eio.decodePayload(input.toString("utf8"), "nodebuffer");
  if (packets.some((p) => p.type === "error")) return { ok: false, err: "parser error" };
  return { ok: true, v: packets.map(eioValue) };
}

// Field order as diffgen writes it, absent fields left out.
function sioValue(p) {
  const v = { t: p.type, nsp: p.nsp };
  if (p.id !== undefined) v.id = p.id;
  if (p.attachments !== undefined) v.att = p.attachments;
  if (p.data !== undefined) v.data = p.data;
  return v;
}

function nodeSioPacket(input) {
  try {
    return { ok: true, v: sioValue(new sio.Decoder().decodeString(input.toString("utf8"))) };
  } catch (e) {
    return { ok: false, err: e.message };
  }
}

function splitMessages(input) {
  const out = [];
  let rest = input;
  while (rest.length > 0) {
    let i = rest.indexOf(SEP);
    if (i < 0) i = rest.length;
    const chunk = rest.subarray(0, i);
    out.push({ binary: i > 0 && (chunk[0] & 1) === 1, bytes: i > 0 ? chunk.subarray(1) : chunk });
    rest = i < rest.length ? rest.subarray(i + SEP.length) : rest.subarray(rest.length);
  }
  return out;
}

// Buffers inside a reconstructed payload become {"$bin": hex}, as do the codec's attachments.
function binsToHex(data) {
  if (Buffer.isBuffer(data)) return { $bin: data.toString("hex") };
  if (Array.isArray(data)) return data.map(binsToHex);
  if (data && typeof data === "object") {
    const out = {};
    for (const k of Object.keys(data)) out[k] = binsToHex(data[k]);
    return out;
  }
  return data;
}

function messageValue(p) {
  const v = { t: p.type, nsp: p.nsp };
  if (p.id !== undefined) v.id = p.id;
  if (p.data !== undefined) v.data = binsToHex(p.data);
  return v;
}

function nodeSioMessage(input) {
  const decoder = new sio.Decoder();
  const done = [];
  decoder.on("decoded", (p) => done.push(messageValue(p)));
  try {
    for (const m of splitMessages(input)) decoder.add(m.binary ? Buffer.from(m.bytes) : m.bytes.toString("utf8"));
  } catch (e) {
    return { ok: false, err: e.message };
  }
  if (decoder.reconstructor) return { ok: false, err: "attachments pending at the end" };
  return { ok: true, v: done };
}

// The codec's message value in Node's shape: placeholders replaced, 5/6 reported as 2/3.
function placeholdersToHex(data, bins) {
  if (data && data._placeholder === true) return { $bin: bins[data.num] };
  if (Array.isArray(data)) return data.map((d) => placeholdersToHex(d, bins));
  if (data && typeof data === "object") {
    const out = {};
    for (const k of Object.keys(data)) out[k] = placeholdersToHex(data[k], bins);
    return out;
  }
  return data;
}

function codecMessages(list) {
  return list.map((p) => {
    const v = { t: p.t === 5 ? 2 : p.t === 6 ? 3 : p.t, nsp: p.nsp };
    if (p.id !== undefined) v.id = p.id;
    if (p.data !== undefined) v.data = p.att ? placeholdersToHex(p.data, p.bins) : p.data;
    return v;
  });
}

const NODE = { 1: nodeEioPacket, 2: nodeEioPayload, 3: nodeSioPacket, 4: nodeSioMessage };

function canonical(kind, r) {
  if (!r.ok) return "reject";
  return JSON.stringify(kind === 4 && r.fromCodec ? codecMessages(r.v) : r.v);
}

const stats = { total: 0, agree: 0, strict_only: 0, disagree: 0, categories: {} };

function note(key, info, keepInput) {
  const c = (stats.categories[key] = stats.categories[key] || { count: 0, examples: [] });
  c.count++;
  if (c.examples.length < EXAMPLES) c.examples.push(info);
  if (keepInput) {
    c.inputs = c.inputs || [];
    if (c.inputs.length < KEEP_INPUTS) c.inputs.push(info.input_hex);
  }
}

function compare(kind, input, strict, compat) {
  stats.total++;
  strict.fromCodec = compat.fromCodec = true;
  let node;
  try {
    node = NODE[kind](input);
  } catch (e) {
    node = { ok: false, err: "exception: " + e.message };
  }
  const n = canonical(kind, node), s = canonical(kind, strict), c = canonical(kind, compat);
  if (n === s && n === c) {
    stats.agree++;
    return;
  }
  const info = {
    input_hex: input.toString("hex"),
    input_text: input.toString("utf8"),
    node: node.ok ? n : "reject: " + node.err,
    strict: strict.ok ? s : "reject: " + strict.err,
    compat: compat.ok ? c : "reject: " + compat.err,
  };
  // Node's messages name the check that failed; numbers in them would split one cause in many.
  const nodeSide = node.ok ? "accepts" : "rejects(" + String(node.err).replace(/[0-9]+/g, "N") + ")";
  const side = (r, x) => (r.ok ? (x === n ? "same" : node.ok ? "other-value" : "accepts") : r.err);
  if (n === c) {
    stats.strict_only++;
    note(`${KINDS[kind]}|strict-only|node:${nodeSide}|strict:${side(strict, s)}`, info);
  } else {
    stats.disagree++;
    note(`${KINDS[kind]}|compat|node:${nodeSide}|compat:${side(compat, c)}`, info, true);
  }
}

// ---- reading records from stdin
let pending = Buffer.alloc(0);

function take(buf, at) {
  if (at + 4 > buf.length) return null;
  const len = buf.readUInt32LE(at);
  if (at + 4 + len > buf.length) return null;
  return { bytes: buf.subarray(at + 4, at + 4 + len), next: at + 4 + len };
}

function drain() {
  let at = 0;
  for (;;) {
    if (at + 1 > pending.length) break;
    const kind = pending[at];
    const input = take(pending, at + 1);
    if (!input) break;
    const strict = take(pending, input.next);
    if (!strict) break;
    const compat = take(pending, strict.next);
    if (!compat) break;
    compare(kind, Buffer.from(input.bytes), JSON.parse(strict.bytes.toString("utf8")),
      JSON.parse(compat.bytes.toString("utf8")));
    at = compat.next;
  }
  pending = pending.subarray(at);
}

process.stdin.on("data", (chunk) => {
  pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
  drain();
});
process.stdin.on("end", () => {
  drain();
  process.stdout.write(JSON.stringify(stats, null, 1) + "\n");
});
