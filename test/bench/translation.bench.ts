// `npm run bench`: what translating to the Anthropic Messages and Chat Completions APIs costs. In
// process: each stream translator alone over recorded Responses streams (µs per event). End to
// end: the same upstream stream fetched directly, through the gateway as Responses, and through
// it as Anthropic and as Chat Completions (all stateless: SESSION_DERIVE=off, no session ids).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, it } from "vitest";
import { anthropicEventsFromResponses, encodeAnthropicEvents } from "../../src/inbound/anthropic/convert-responses-stream";
import { chatFramesFromResponses, encodeChatFrames } from "../../src/inbound/chat-completions/convert-responses-stream";
import { eventReaderOf, type EventBatch } from "../../src/streams/event-reader";
import { readResponsesEvents } from "../../src/streams/sse-reader";
import { startFakeUpstream, type FakeUpstream } from "../support/fake-upstream";
import type { Gateway } from "../support/start-gateway";
import { startInMiniflare } from "../support/start-miniflare";

const requests = Number(process.env.BENCH_REQUESTS ?? 200);
let upstream: FakeUpstream;
let gateway: Gateway;

beforeAll(async () => {
  upstream = await startFakeUpstream();
  gateway = await startInMiniflare(fileURLToPath(new URL("../../wrangler.toml", import.meta.url)), { UPSTREAM_URL: upstream.url, UPSTREAM_API_KEY: "sk-bench", SESSION_DERIVE: "off" });
});
afterAll(async () => {
  await gateway?.close();
  await upstream?.close();
});

async function batchesOf(name: string): Promise<EventBatch[]> {
  const bytes = readFileSync(new URL(`../fixtures/responses-streams/${name}.sse`, import.meta.url));
  const batches: EventBatch[] = [];
  const reader = readResponsesEvents(new Response(bytes).body!);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return batches;
    batches.push(value);
  }
}

type Protocol = "Anthropic" | "Chat Completions";

async function translate(batches: EventBatch[], protocol: Protocol): Promise<number> {
  // Fresh event objects each time: parsed payloads are cached on events.
  const source = eventReaderOf(batches.map((batch) => batch.map((event) => ({ type: event.type, data: event.data }))));
  const encode = protocol === "Anthropic" ? encodeAnthropicEvents : encodeChatFrames;
  const reader = protocol === "Anthropic" ? anthropicEventsFromResponses(source, { model: "claude-opus-4-8" }) : chatFramesFromResponses(source, { model: "gpt-5.5", includeUsage: true });
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return bytes;
    bytes += (encode as (events: typeof value) => Uint8Array)(value).byteLength;
  }
}

async function timeOne(url: string, body: string, headers: Record<string, string>): Promise<number> {
  const started = performance.now();
  const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`bench request failed: ${response.status}`);
  return performance.now() - started;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

it("translation cost (Anthropic, Chat Completions), in process and end to end", { timeout: 600_000 }, async () => {
  const lines = ["\nTranslation from Responses streams:"];
  for (const protocol of ["Anthropic", "Chat Completions"] as const) {
    for (const name of ["reasoning-text", "function-calls-parallel", "web-search"]) {
      const batches = await batchesOf(name);
      const events = batches.reduce((sum, batch) => sum + batch.length, 0);
      for (let index = 0; index < 50; index += 1) await translate(batches, protocol);
      const rounds = 500;
      const started = performance.now();
      for (let index = 0; index < rounds; index += 1) await translate(batches, protocol);
      const perEvent = ((performance.now() - started) * 1000) / (rounds * events);
      lines.push(`  ${protocol} stream translator, ${name} (${events} events): ${perEvent.toFixed(2)} µs per event`);
    }
  }

  const responsesBody = JSON.stringify({ model: "gpt-5.5", input: "bench", stream: true });
  const messagesBody = JSON.stringify({ model: "claude-opus-4-8", max_tokens: 1000, stream: true, messages: [{ role: "user", content: "bench" }] });
  const chatBody = JSON.stringify({ model: "gpt-5.5", stream: true, messages: [{ role: "user", content: "bench" }] });
  const paths = {
    direct: () => timeOne(`${upstream.url}/responses`, responsesBody, {}),
    "gateway, Responses": () => timeOne(`${gateway.url}/v1/responses`, responsesBody, {}),
    "gateway, Anthropic": () => timeOne(`${gateway.url}/v1/messages`, messagesBody, { "anthropic-version": "2023-06-01" }),
    "gateway, Chat Completions": () => timeOne(`${gateway.url}/v1/chat/completions`, chatBody, {}),
  };
  const names = Object.keys(paths) as (keyof typeof paths)[];
  for (let index = 0; index < 20; index += 1) for (const name of names) await paths[name]();
  const samples = Object.fromEntries(names.map((name) => [name, [] as number[]])) as unknown as Record<keyof typeof paths, number[]>;
  for (let index = 0; index < requests; index += 1) {
    for (let offset = 0; offset < names.length; offset += 1) {
      const name = names[(index + offset) % names.length]!;
      samples[name].push(await paths[name]());
    }
  }
  lines.push(`  end to end, ${requests} streamed requests per path, interleaved (median total ms):`);
  for (const name of names) lines.push(`    ${name.padEnd(20)} ${median(samples[name]).toFixed(2)}`);
  const added = median(samples["gateway, Anthropic"]) - median(samples["gateway, Responses"]);
  lines.push(`  Anthropic vs Responses through the gateway: ${added >= 0 ? "+" : ""}${added.toFixed(2)} ms per request (${(median(samples["gateway, Anthropic"]) / median(samples.direct)).toFixed(2)}x direct)`);
  const responses = median(samples["gateway, Responses"]);
  const chat = median(samples["gateway, Chat Completions"]);
  lines.push(`  Chat Completions vs Responses through the gateway: ${chat - responses >= 0 ? "+" : ""}${(chat - responses).toFixed(2)} ms per request (${((100 * (chat - responses)) / responses).toFixed(1)}%)`);
  process.stdout.write(`${lines.join("\n")}\n`);
});
