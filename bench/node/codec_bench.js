#!/usr/bin/env node
// Codec throughput of socket.io-parser + engine.io-parser (and ws's frame parser for the
// WebSocket category) on the shared input file written by bench/gen_inputs.py.
//
// Decode follows the path Node's server takes for each wire message: ws Receiver (frames only),
// engine.io-parser decodePacket / decodePayload, then socket.io-parser's Decoder with binary
// attachments. Encode goes the other way from the decoded packets. One JSON object on stdout.
"use strict";

const fs = require("fs");
const eioParser = require("engine.io-parser");
const sioParser = require("socket.io-parser");
const { Receiver, Sender } = require("ws");

const CATEGORIES = [
  "small_event",
  "ack_event",
  "namespaced_event",
  "binary_event",
  "large_payload",
  "polling_payload",
  "ws_frame",
  "deep_binary",
];
const BINARY = 1;

// Reads the container format documented in bench/gen_inputs.py.
function readInputs(path) {
  const buf = fs.readFileSync(path);
  if (buf.toString("latin1", 0, 10) !== "SIOBENCH1\n") throw new Error(`${path}: bad magic`);
  const count = buf.readUInt32LE(10);
  let off = 14;
  const records = [];
  for (let i = 0; i < count; i++) {
    const cat = buf.readUInt8(off);
    const nparts = buf.readUInt8(off + 1);
    const packets = buf.readUInt32LE(off + 2);
    off += 6;
    const parts = [];
    for (let j = 0; j < nparts; j++) {
      const kind = buf.readUInt8(off);
      const len = buf.readUInt32LE(off + 1);
      off += 5;
      parts.push({ kind, data: Buffer.from(buf.subarray(off, off + len)) });
      off += len;
    }
    records.push({ category: CATEGORIES[cat], packets, parts });
  }
  return records;
}

// The server keeps one Decoder per client; the benchmark plays one client.
function makeDecoder(sink) {
  const decoder = new sioParser.Decoder();
  decoder.on("decoded", (packet) => sink.push(packet));
  return decoder;
}

// A server-side frame parser fed one frame per call, as one TCP read would deliver it.
function makeReceiver(onMessage) {
  const receiver = new Receiver({ isServer: true, maxPayload: 100 * 1024 * 1024 });
  receiver.on("message", (data, isBinary) => onMessage(isBinary ? data : data.toString()));
  return receiver;
}

function makeDecodeOne(category, sink) {
  const decoder = makeDecoder(sink);
  const feed = (raw) => {
    const eio = eioParser.decodePacket(raw, "nodebuffer");
    decoder.add(eio.data);
  };
  if (category === "polling_payload") {
    return (rec) => {
      for (const p of eioParser.decodePayload(rec.parts[0].data.toString(), "nodebuffer")) {
        decoder.add(p.data);
      }
    };
  }
  if (category === "ws_frame") {
    // ws unmasks in place, so each call gets a fresh copy, as a socket read would deliver.
    const receiver = makeReceiver(feed);
    return (rec) => receiver.write(Buffer.from(rec.parts[0].data));
  }
  return (rec) => {
    feed(rec.parts[0].data.toString());
    for (let i = 1; i < rec.parts.length; i++) feed(rec.parts[i].data);
  };
}

// Socket.IO packet -> Engine.IO wire messages, as socket.emit does it (encode callbacks
// of engine.io-parser run synchronously for strings and Buffers in Node). Every encode ends
// at wire bytes, as the C encoder's does: a text message is a JS string until Buffer.from
// writes it as UTF-8 (ws does that in send() before it frames it; decode starts from the
// bytes in the same way). Binary messages are Buffers already and are handed on as they are.
const encoder = new sioParser.Encoder();
const BASE_TYPE = { 5: 2, 6: 3 };

function encodeToEio(packet) {
  const fresh = { type: BASE_TYPE[packet.type] ?? packet.type, nsp: packet.nsp, data: packet.data };
  if (packet.id !== undefined) fresh.id = packet.id;
  const out = [];
  for (const part of encoder.encode(fresh)) {
    eioParser.encodePacket({ type: "message", data: part }, true, (enc) =>
      out.push(typeof enc === "string" ? Buffer.from(enc) : enc),
    );
  }
  return out;
}

function makeEncodeOne(category) {
  if (category === "polling_payload") {
    return (packets) => {
      const eio = [];
      for (const p of packets) {
        const fresh = { type: BASE_TYPE[p.type] ?? p.type, nsp: p.nsp, data: p.data };
        if (p.id !== undefined) fresh.id = p.id;
        for (const part of encoder.encode(fresh)) eio.push({ type: "message", data: part });
      }
      let body;
      eioParser.encodePayload(eio, (enc) => (body = enc));
      return Buffer.from(body);
    };
  }
  if (category === "ws_frame") {
    const opts = { fin: true, opcode: 1, mask: false, readOnly: false, rsv1: false };
    return (packets) => Sender.frame(encodeToEio(packets[0])[0], opts);
  }
  return (packets) => encodeToEio(packets[0]);
}

function now() {
  return Number(process.hrtime.bigint()) / 1e9;
}

// CPU seconds of the whole process (main thread, GC and compiler threads): the cores are
// shared, and time spent descheduled is not the parsers' cost.
function cpuNow() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// Warm-up, then `reps` repetitions of whole passes lasting at least repS seconds of CPU time;
// the median rate per CPU second is reported (same protocol as the C and Python benchmarks).
function measure(onePass, packets, bytes, t) {
  const warmEnd = now() + t.warmup;
  onePass();
  while (now() < warmEnd) onePass();
  const rates = [];
  const wallRates = [];
  for (let r = 0; r < t.reps; r++) {
    let passes = 0;
    const cpu0 = cpuNow();
    const wall0 = now();
    let cpu;
    do {
      onePass();
      passes++;
      cpu = cpuNow() - cpu0;
    } while (cpu < t.repS);
    rates.push(passes / cpu);
    wallRates.push(passes / (now() - wall0));
  }
  const med = median(rates);
  return {
    packets_per_s: med * packets,
    mb_per_s: (med * bytes) / 1e6,
    passes_per_s_reps: rates,
    wall_passes_per_s_reps: wallRates,
  };
}

// Payload of one whole WebSocket frame, unmasked when masked (RFC 6455 §5.2).
function framePayload(frame) {
  let len = frame[1] & 0x7f;
  let off = 2;
  if (len === 126) {
    len = frame.readUInt16BE(2);
    off = 4;
  } else if (len === 127) {
    len = Number(frame.readBigUInt64BE(2));
    off = 10;
  }
  if (!(frame[1] & 0x80)) return frame.subarray(off, off + len);
  const mask = frame.subarray(off, off + 4);
  const out = Buffer.from(frame.subarray(off + 4, off + 4 + len));
  for (let i = 0; i < out.length; i++) out[i] ^= mask[i & 3];
  return out;
}

const toBuffer = (x) => (typeof x === "string" ? Buffer.from(x) : Buffer.from(x));

// True when re-encoding the decoded record gives back the input bytes (for frames: the same
// payload, since clients mask and servers do not).
function roundtripIdentical(category, encoded, rec) {
  if (category === "ws_frame") {
    return framePayload(Buffer.concat(encoded)).equals(framePayload(rec.parts[0].data));
  }
  const got = category === "polling_payload" ? Buffer.from(encoded) : Buffer.concat(encoded.map(toBuffer));
  return got.equals(Buffer.concat(rec.parts.map((p) => p.data)));
}

function benchCategory(category, records, t) {
  const packets = records.reduce((n, r) => n + r.packets, 0);
  const bytes = records.reduce((n, r) => n + r.parts.reduce((m, p) => m + p.data.length, 0), 0);
  const sink = [];
  const decodeOne = makeDecodeOne(category, sink);
  const decoded = records.map((rec) => {
    sink.length = 0;
    decodeOne(rec);
    return [...sink];
  });
  const got = decoded.reduce((n, d) => n + d.length, 0);
  if (got !== packets) throw new Error(`${category}: decoded ${got} packets, expected ${packets}`);
  const decodePass = () => {
    for (const rec of records) decodeOne(rec);
    sink.length = 0;
  };
  const encodeOne = makeEncodeOne(category);
  const identical = records.filter((rec, i) => roundtripIdentical(category, encodeOne(decoded[i]), rec)).length;
  const encodePass = () => {
    for (const d of decoded) encodeOne(d);
  };
  return {
    packets,
    bytes,
    records: records.length,
    roundtrip_identical: identical,
    decode: measure(decodePass, packets, bytes, t),
    encode: measure(encodePass, packets, bytes, t),
  };
}

function parseArgs(argv) {
  const t = { warmup: 0.2, reps: 5, repS: 0.2, only: null, inputs: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--warmup") t.warmup = Number(argv[++i]);
    else if (a === "--reps") t.reps = Number(argv[++i]);
    else if (a === "--rep-time") t.repS = Number(argv[++i]);
    else if (a === "--only") t.only = argv[++i];
    else t.inputs = a;
  }
  if (!t.inputs) throw new Error("usage: codec_bench.js INPUTS [--warmup s] [--reps n] [--rep-time s]");
  return t;
}

function version(name) {
  const path = require.resolve(name).replace(/(node_modules\/[^/]+)\/.*$/, "$1/package.json");
  return JSON.parse(fs.readFileSync(path, "utf8")).version;
}

function main() {
  const t = parseArgs(process.argv.slice(2));
  const records = readInputs(t.inputs);
  const categories = {};
  for (const cat of CATEGORIES) {
    const recs = records.filter((r) => r.category === cat);
    if (recs.length && (!t.only || t.only === cat)) categories[cat] = benchCategory(cat, recs, t);
  }
  const versions = {
    "socket.io-parser": version("socket.io-parser"),
    "engine.io-parser": version("engine.io-parser"),
    ws: version("ws"),
    node: process.versions.node,
  };
  process.stdout.write(JSON.stringify({ impl: "node", versions, categories }) + "\n");
}

main();
