#!/usr/bin/env node
// A recording proxy for scripts/capture-clients.sh: it sits between a real client and a running
// gateway, relays every HTTP request and WebSocket frame both ways unchanged, and writes what the
// client sent as one JSON file per request or message, numbered in arrival order:
//
//   node scripts/lib/capture-proxy.mjs --target http://127.0.0.1:8787 --out DIR [--port 0]
//                                      [--cut-streams N]
//
// It prints "listening <port>" on stdout once it accepts connections. `--cut-streams N` ends the
// first N event-stream answers right after their first event (a clean end without a terminal
// event): Claude Code then retries the turn without streaming, its non-streaming fallback.
//
// The files are raw: machine paths and ids are still in them. write-captures.mjs (with
// neutralise.mjs) is the step that makes them fit to commit. Node built-ins and `ws` only, so it runs before anything
// else is installed beyond `npm ci`.
import { mkdirSync, writeFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";
import { WebSocket, WebSocketServer } from "ws";

const options = parseArguments(process.argv.slice(2));
const target = new URL(options.target);
mkdirSync(options.out, { recursive: true });

let sequence = 0;
let connections = 0;
let streamsToCut = options.cutStreams;

/** Writes one record as `<NNNN>-<kind>.json`; the number is taken when the request arrives. */
function writeRecord(number, record) {
  const name = `${String(number).padStart(4, "0")}-${record.kind}.json`;
  writeFileSync(join(options.out, name), `${JSON.stringify(record, null, 2)}\n`);
}

// Hop-by-hop headers (RFC 9110 §7.6.1) are the proxy's own business on each leg.
const hopByHop = new Set(["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer"]);

const server = http.createServer((request, response) => {
  const number = ++sequence;
  const chunks = [];
  request.on("data", (chunk) => chunks.push(chunk));
  request.on("end", () => {
    const raw = Buffer.concat(chunks);
    const record = {
      kind: "http",
      method: request.method,
      url: request.url,
      headers: { ...request.headers },
      ...describeBody(raw, request.headers["content-encoding"]),
    };
    relayHttp(request, raw, response, record, number);
  });
});

function relayHttp(request, raw, response, record, number) {
  const headers = {};
  for (const [name, value] of Object.entries(request.headers)) if (!hopByHop.has(name)) headers[name] = value;
  headers.host = target.host;
  const started = Date.now();
  const upstream = http.request(new URL(request.url, target), { method: request.method, headers }, (answer) => {
    const contentType = String(answer.headers["content-type"] ?? "");
    record.response = { status: answer.statusCode, content_type: contentType || undefined };
    const streamed = contentType.includes("text/event-stream");
    const cut = streamed && streamsToCut > 0;
    if (cut) streamsToCut -= 1;
    const events = streamed ? eventNameCollector() : undefined;
    const answerHeaders = { ...answer.headers };
    for (const name of hopByHop) delete answerHeaders[name];
    // A cut stream cannot announce its length; every other answer keeps the gateway's framing.
    if (cut) delete answerHeaders["content-length"];
    response.writeHead(answer.statusCode ?? 502, answerHeaders);
    const finish = () => {
      record.response.ms = Date.now() - started;
      if (events) record.response.events = events.names;
      if (cut) record.response.cut_after_first_event = true;
      writeRecord(number, record);
    };
    answer.on("data", (chunk) => {
      if (response.writableEnded) return; // what was already read of a cut stream
      if (!events) return void response.write(chunk);
      const boundary = events.feed(chunk);
      if (cut && boundary !== undefined) {
        response.end(chunk.subarray(0, boundary));
        answer.destroy();
        finish();
        return;
      }
      response.write(chunk);
    });
    answer.on("end", () => {
      if (response.writableEnded) return;
      response.end();
      finish();
    });
  });
  upstream.on("error", (error) => {
    if (response.writableEnded) return; // a cut stream's own destroy
    record.response = { ...record.response, status: record.response?.status ?? 502, error: error.message };
    writeRecord(number, record);
    if (response.headersSent) return void response.destroy(); // mid-answer: the client sees the break
    response.writeHead(502, { "content-type": "text/plain" });
    response.end(`capture proxy: ${error.message}\n`);
  });
  // A client that leaves mid-answer cancels the gateway's request too, as it would directly.
  response.on("close", () => {
    if (!response.writableFinished) upstream.destroy();
  });
  upstream.end(raw);
}

/**
 * Collects the `event:` names of an SSE answer, for the record's summary, and tells where the
 * first event ends (a blank line, WHATWG HTML §9.2.6) so that a cut stream ends on a boundary.
 */
function eventNameCollector() {
  let pending = "";
  let consumed = 0; // bytes of the stream before `pending`
  let seen = 0; // bytes of the stream fed so far
  let firstBoundary; // the offset just after the first event
  const names = [];
  return {
    names,
    /** Feeds a chunk; returns the first event's end within this chunk, if it falls in it. */
    feed(chunk) {
      const before = seen;
      seen += chunk.length;
      pending += chunk.toString("latin1"); // one character per byte: offsets stay byte offsets
      let match;
      while ((match = /\r?\n\r?\n/.exec(pending))) {
        for (const line of pending.slice(0, match.index).split(/\r?\n/)) {
          if (line.startsWith("event:")) names.push(line.slice("event:".length).trim());
        }
        const end = match.index + match[0].length;
        consumed += end;
        firstBoundary ??= consumed;
        pending = pending.slice(end);
      }
      return firstBoundary > before && firstBoundary <= seen ? firstBoundary - before : undefined;
    },
  };
}

// --- WebSocket ------------------------------------------------------------------------------
// The upstream connection is opened first and the client's upgrade answered only then, with the
// gateway's own status when it refuses (Codex falls back to HTTP when the upgrade gets a 426).
const sockets = new WebSocketServer({ noServer: true, perMessageDeflate: false });

server.on("upgrade", (request, socket, head) => {
  const number = ++sequence;
  const connection = ++connections;
  const record = { kind: "ws-handshake", method: request.method, url: request.url, connection, headers: { ...request.headers } };
  const forwarded = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (!hopByHop.has(name) && !name.startsWith("sec-websocket-") && name !== "host") forwarded[name] = value;
  }
  const targetUrl = new URL(request.url, target);
  targetUrl.protocol = target.protocol === "https:" ? "wss:" : "ws:";
  const upstream = new WebSocket(targetUrl, { headers: forwarded, perMessageDeflate: false });
  upstream.once("unexpected-response", (_, answer) => {
    record.response = { status: answer.statusCode };
    writeRecord(number, record);
    const body = [];
    answer.on("data", (chunk) => body.push(chunk));
    answer.on("end", () => {
      const text = Buffer.concat(body);
      socket.end(`HTTP/1.1 ${answer.statusCode} ${answer.statusMessage}\r\ncontent-type: ${answer.headers["content-type"] ?? "text/plain"}\r\ncontent-length: ${text.length}\r\nconnection: close\r\n\r\n${text}`);
    });
  });
  upstream.once("error", (error) => {
    if (record.response) return;
    record.response = { status: 502, error: error.message };
    writeRecord(number, record);
    socket.destroy();
  });
  upstream.once("upgrade", (answer) => {
    // Headers the gateway sets on the upgrade (e.g. x-codex-turn-state) reach the client too.
    const extra = Object.entries(answer.headers).filter(([name]) => !hopByHop.has(name) && !name.startsWith("sec-websocket-"));
    const addHeaders = (headers, upgradeRequest) => {
      if (upgradeRequest !== request) return;
      sockets.off("headers", addHeaders);
      for (const [name, value] of extra) headers.push(`${name}: ${value}`);
    };
    sockets.on("headers", addHeaders);
    record.response = { status: 101 };
    writeRecord(number, record);
  });
  upstream.once("open", () => {
    sockets.handleUpgrade(request, socket, head, (client) => relaySocket(client, upstream, request.url, connection));
  });
});

function relaySocket(client, upstream, url, connection) {
  let messages = 0;
  let current; // the record of the client's latest message, which collects the answer's types
  client.on("message", (data, isBinary) => {
    messages += 1;
    const number = ++sequence;
    const text = isBinary ? undefined : data.toString("utf8");
    current = { number, record: { kind: "ws-message", url, connection, message: messages, binary: isBinary, ...describeText(text ?? data.toString("base64")), answered: [] } };
    writeRecord(number, current.record);
    upstream.send(data, { binary: isBinary });
  });
  upstream.on("message", (data, isBinary) => {
    if (current && !isBinary) {
      const type = safeType(data.toString("utf8"));
      if (type) {
        current.record.answered.push(type);
        writeRecord(current.number, current.record);
      }
    }
    client.send(data, { binary: isBinary });
  });
  // Close codes 1005/1006 only describe a close, they cannot be sent (RFC 6455 §7.4.1).
  const closeOther = (other) => (code, reason) => {
    if (other.readyState !== WebSocket.OPEN) return;
    if (code === 1005 || code === 1006) other.close();
    else other.close(code, reason);
  };
  client.on("close", closeOther(upstream));
  upstream.on("close", closeOther(client));
  client.on("error", () => upstream.terminate());
  upstream.on("error", () => client.terminate());
}

// --- Bodies ---------------------------------------------------------------------------------
function describeBody(raw, encoding) {
  if (raw.length === 0) return { bytes: 0, body: "" };
  let decoded = raw;
  try {
    if (encoding === "gzip") decoded = gunzipSync(raw);
    else if (encoding === "deflate") decoded = inflateSync(raw);
    else if (encoding === "br") decoded = brotliDecompressSync(raw);
    else if (encoding) return { bytes: raw.length, content_encoding: encoding, body_base64: raw.toString("base64") };
  } catch (error) {
    return { bytes: raw.length, content_encoding: encoding, decode_error: String(error), body_base64: raw.toString("base64") };
  }
  return { bytes: raw.length, ...(encoding ? { content_encoding: encoding } : {}), ...describeText(decoded.toString("utf8"), false) };
}

function describeText(text, withBytes = true) {
  const bytes = withBytes ? { bytes: Buffer.byteLength(text) } : {};
  try {
    const body = JSON.parse(text);
    const keys = body && typeof body === "object" && !Array.isArray(body) ? { top_level_keys: Object.keys(body) } : {};
    return { ...bytes, ...keys, body };
  } catch {
    return { ...bytes, body: text };
  }
}

function safeType(text) {
  try {
    const value = JSON.parse(text);
    return typeof value?.type === "string" ? value.type : undefined;
  } catch {
    return undefined;
  }
}

function parseArguments(list) {
  const parsed = { port: 0, cutStreams: 0 };
  for (let index = 0; index < list.length; index += 1) {
    const name = list[index];
    const value = list[++index];
    if (value === undefined) usage(`${name} needs a value`);
    if (name === "--target") parsed.target = value;
    else if (name === "--out") parsed.out = value;
    else if (name === "--port") parsed.port = Number(value);
    else if (name === "--cut-streams") parsed.cutStreams = Number(value);
    else usage(`unknown option ${name}`);
  }
  if (!parsed.target || !parsed.out) usage("--target and --out are required");
  return parsed;
}

function usage(message) {
  process.stderr.write(`capture-proxy: ${message}\nusage: capture-proxy.mjs --target URL --out DIR [--port N] [--cut-streams N]\n`);
  process.exit(2);
}

server.listen(options.port, "127.0.0.1", () => {
  process.stdout.write(`listening ${server.address().port}\n`);
});
