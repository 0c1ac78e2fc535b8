#!/usr/bin/env node
// The last step of scripts/capture-clients.sh: picks the captures the tests use out of the
// proxy's raw records, checks that each shows what its name says, neutralises them and writes
// them to the fixtures folder, with sequences.json listing every request of every scenario.
//
//   node scripts/lib/write-captures.mjs --raw DIR --clients-root DIR --started MS --ended MS --out DIR
//
// DIR/<scenario>/NNNN-<kind>.json are the proxy's records (capture-proxy.mjs). The scenarios
// and their names are below; capture-clients.sh runs the same scenarios, in this order, which
// is also the order in which neutral ids are handed out.
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createNeutraliser, leftovers } from "./neutralise.mjs";

const isPost = (path) => (record) => record.kind === "http" && record.method === "POST" && record.url.split("?")[0] === path;
const isMessage = (connection, message) => (record) => record.kind === "ws-message" && record.connection === connection && record.message === message;
const isHandshake = (connection) => (record) => record.kind === "ws-handshake" && record.connection === connection;

const lastItem = (record) => record.body.input?.at(-1) ?? {};
const lastMessage = (record) => record.body.messages?.at(-1) ?? {};
const textOf = (content) => (typeof content === "string" ? content : (content ?? []).map((part) => part.text ?? "").join("\n"));
const lastUserText = (record) => textOf([...(record.body.messages ?? record.body.input ?? [])].reverse().find((item) => item.role === "user")?.content);
const endsWithUserText = (text) => (record) => lastUserText(record).trim().endsWith(text);

/** scenario → the captures taken from it: [name, which record (the nth matching), what it must show]. */
const scenarios = {
  "codex-http-say-hi": [["codex-http-turn1-request", isPost("/v1/responses"), 0, endsWithUserText("say hi")]],
  "codex-http-tool": [
    ["codex-http-tool-req1", isPost("/v1/responses"), 0, endsWithUserText("tell me what it printed")],
    ["codex-http-tool-req2-function_call_output", isPost("/v1/responses"), 1, (record) => lastItem(record).type === "function_call_output"],
    ["codex-http-resume-turn2", isPost("/v1/responses"), 2, (record) => endsWithUserText("now say bye")(record) && record.body.input.some((item) => item.type === "function_call_output")],
  ],
  "codex-websocket": [
    ["codex-ws-handshake", isHandshake(1), 0, (record) => record.response?.status === 101],
    ["codex-ws-msg1-prewarm-generate-false", isMessage(1, 1), 0, (record) => record.body.generate === false],
    ["codex-ws-msg2-turn-previous_response_id", isMessage(1, 2), 0, (record) => typeof record.body.previous_response_id === "string"],
    ["codex-ws-tool-msg3-function_call_output", isMessage(1, 3), 0, (record) => record.body.input?.[0]?.type === "function_call_output"],
    ["codex-ws-resume-turn2", isMessage(2, 2), 0, (record) => typeof record.body.previous_response_id === "string" && endsWithUserText("now say bye")(record)],
  ],
  "claude-say-hi": [
    ["claude-messages-turn1", isPost("/v1/messages"), 0, (record) => record.body.stream === true && endsWithUserText("say hi")(record)],
    ["claude-messages-continue-turn2", isPost("/v1/messages"), 1, endsWithUserText("now say bye")],
  ],
  "claude-tool": [
    ["claude-messages-tool_result", isPost("/v1/messages"), 1, (record) => [lastMessage(record).content].flat().some((block) => block?.type === "tool_result")],
  ],
  "claude-sonnet-4-5": [["claude-messages-sonnet-4-5", isPost("/v1/messages"), 0, (record) => record.body.model === "claude-sonnet-4-5"]],
  "claude-auth-token": [["claude-messages-auth-token", isPost("/v1/messages"), 0, (record) => "authorization" in record.headers && !("x-api-key" in record.headers)]],
  "claude-nonstreaming-fallback": [["claude-messages-nonstreaming-fallback", isPost("/v1/messages"), 1, (record) => record.body.stream !== true]],
  // opencode's title request runs alongside the first turn, so the order of the two varies: the
  // capture is picked by what it holds, the first request answering a tool call.
  "opencode-tool": [
    [
      "opencode-chat-tool-result",
      (record) => isPost("/v1/chat/completions")(record) && lastMessage(record).role === "tool",
      0,
      (record) => record.body.tools?.some((tool) => tool.function?.name === "bash") && record.body.messages.some((message) => message.tool_calls?.length > 0),
    ],
  ],
};

const options = parseArguments(process.argv.slice(2));
const run = { clientsRoot: options["clients-root"], startedMs: Number(options.started), endedMs: Number(options.ended) };
const neutralise = createNeutraliser(run);
const problems = [];
const files = new Map();
const sequences = {};

for (const [scenario, wanted] of Object.entries(scenarios)) {
  const folder = join(options.raw, scenario);
  const records = readdirSync(folder)
    .filter((name) => name.endsWith(".json"))
    .sort()
    .map((name) => neutralise.record(JSON.parse(readFileSync(join(folder, name), "utf8"))));
  const named = new Map();
  for (const [name, matches, nth, shows] of wanted) {
    const record = records.filter(matches)[nth];
    if (!record) problems.push(`${scenario}: no record for ${name}`);
    else if (!shows(record)) problems.push(`${scenario}: the record for ${name} does not show what its name says`);
    else named.set(record, name);
  }
  sequences[scenario] = records.map((record, index) => ({
    sequence: index + 1,
    kind: record.kind,
    ...(record.method ? { method: record.method } : {}),
    url: record.url,
    ...(record.connection ? { connection: record.connection, message: record.message } : {}),
    bytes: record.bytes,
    ...(record.body?.model ? { model: record.body.model } : {}),
    response: record.response?.status ?? (record.answered ? record.answered.at(-1) : undefined),
    file: named.has(record) ? `${named.get(record)}.json` : null,
  }));
  for (const [record, name] of named) {
    const index = records.indexOf(record);
    files.set(name, { scenario, sequence: index + 1, ...record });
  }
}

for (const [name, capture] of files) {
  for (const problem of leftovers(JSON.stringify(capture), run)) problems.push(`${name}: ${problem}`);
}
if (problems.length > 0) {
  process.stderr.write(`write-captures: not written:\n${problems.map((problem) => `  - ${problem}`).join("\n")}\n`);
  process.exit(1);
}

for (const name of readdirSync(options.out)) if (name.endsWith(".json")) rmSync(join(options.out, name));
for (const [name, capture] of files) writeFileSync(join(options.out, `${name}.json`), `${JSON.stringify(capture, null, 2)}\n`);
writeFileSync(join(options.out, "sequences.json"), `${JSON.stringify(sequences, null, 2)}\n`);
process.stdout.write(`wrote ${files.size} captures and sequences.json to ${options.out}\n`);
for (const [scenario, list] of Object.entries(sequences)) {
  process.stdout.write(`  ${scenario}: ${list.map((entry) => `${entry.method ?? entry.kind} ${entry.url}${entry.file ? ` → ${entry.file}` : ""}`).join("; ")}\n`);
}

function parseArguments(list) {
  const parsed = {};
  for (let index = 0; index < list.length; index += 2) parsed[list[index].replace(/^--/, "")] = list[index + 1];
  for (const name of ["raw", "clients-root", "started", "ended", "out"]) {
    if (!parsed[name]) {
      process.stderr.write(`write-captures: --${name} is required\n`);
      process.exit(2);
    }
  }
  return parsed;
}
