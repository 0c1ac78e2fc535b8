// Scenario catalogue and OpenAI Responses event builders for the fake upstream.
// Pure functions only: no I/O, no timers.

export type ScenarioName =
  | "ok" | "function-call" | "empty-output" | "early-close" | "connection-reset"
  | "in-stream-error" | "response-failed" | "rate-limited" | "server-error"
  | "fastapi-detail" | "unauthorized" | "silent" | "slow" | "silent-then-ok" | "compact"
  | "rate-limited-retry-after" | "rate-limited-resets-in" | "rate-limited-codex-header"
  | "close-before-output" | "reasoning";

export interface ScenarioObject {
  name: ScenarioName;
  /** "slow": pause between events (default 200 ms). */
  delayMs?: number;
  /** "silent-then-ok": pause after response.created (default 3000 ms). */
  silenceMs?: number;
  /**
   * "ok" and "function-call": a reasoning item first, with this many characters of encrypted
   * content (a real provider's is ~1,700 per item: LibreChat-AI/agents#422). Default none.
   */
  reasoningChars?: number;
}
export type Scenario = ScenarioName | ScenarioObject;
export interface ResolvedScenario { name: ScenarioName; delayMs: number; silenceMs: number; reasoningChars: number; }

export const SCENARIO_NAMES: readonly ScenarioName[] = [
  "ok", "function-call", "empty-output", "early-close", "connection-reset", "in-stream-error",
  "response-failed", "rate-limited", "server-error", "fastapi-detail", "unauthorized", "silent",
  "slow", "silent-then-ok", "compact", "rate-limited-retry-after", "rate-limited-resets-in",
  "rate-limited-codex-header", "close-before-output", "reasoning",
];

export function resolveScenario(s: Scenario): ResolvedScenario {
  const o: ScenarioObject = typeof s === "string" ? { name: s } : s;
  return { name: o.name, delayMs: o.delayMs ?? 200, silenceMs: o.silenceMs ?? 3000, reasoningChars: o.reasoningChars ?? 0 };
}

/** `"fake:<name>"` → that scenario; any other model → "ok"; unknown fake name → null. */
export function scenarioFromModel(model: unknown): ResolvedScenario | null {
  if (typeof model !== "string" || !model.startsWith("fake:")) return resolveScenario("ok");
  const name = model.slice(5) as ScenarioName;
  return SCENARIO_NAMES.includes(name) ? resolveScenario(name) : null;
}

// ---------------------------------------------------------------- HTTP-status failures

export interface HttpFailure { status: number; headers: Record<string, string>; body: any; }

export function httpFailure(name: ScenarioName): HttpFailure | null {
  switch (name) {
    case "rate-limited": {
      const resetsAt = Math.floor(Date.now() / 1000) + 120;
      return {
        status: 429,
        headers: {
          "retry-after": "120", "x-codex-primary-used-percent": "100",
          "x-codex-primary-reset-after-seconds": "120", "x-codex-primary-window-minutes": "300",
        },
        body: { error: { type: "usage_limit_reached", message: "The usage limit has been reached",
          plan_type: "plus", resets_at: resetsAt, resets_in_seconds: 120 } },
      };
    }
    // One reset hint each, as different backends give them (for cooldown tests).
    case "rate-limited-retry-after":
      return { status: 429, headers: { "retry-after": "30" }, body: apiError("Rate limit reached for requests", "requests", "rate_limit_exceeded") };
    case "rate-limited-resets-in":
      return { status: 429, headers: {}, body: { error: { type: "usage_limit_reached", message: "The usage limit has been reached", resets_in_seconds: 45 } } };
    case "rate-limited-codex-header":
      return { status: 429, headers: { "x-codex-primary-reset-after-seconds": "60" }, body: apiError("Too many requests", "rate_limit_error", null) };
    case "server-error":
      return { status: 500, headers: {}, body: apiError("Internal server error", "server_error", "server_error") };
    case "fastapi-detail":
      return { status: 400, headers: {}, body: { detail: "Store must be set to false" } };
    case "unauthorized":
      return { status: 401, headers: {}, body: apiError(
        "Incorrect API key provided: sk-fake***. You can find your API key at https://platform.openai.com/account/api-keys.",
        "invalid_request_error", "invalid_api_key") };
    default:
      return null;
  }
}

export function apiError(message: string, type: string, code: string | null, param: string | null = null) {
  return { error: { message, type, param, code } };
}

/** Nested WebSocket error frame (protocol.md §2). */
export function wsErrorFrame(status: number, body: any, headers?: Record<string, string>) {
  const error = body?.error ?? { type: "invalid_request_error", code: null, message: String(body?.detail ?? "error"), param: null };
  const frame: Record<string, unknown> = { type: "error", status, error };
  if (headers && Object.keys(headers).length > 0) frame.headers = headers;
  return frame;
}

export function wsRequestError(code: string, message: string, param: string | null = null, status = 400) {
  return { type: "error", status, error: { type: "invalid_request_error", code, message, param } };
}

// ---------------------------------------------------------------- response streams

export interface ResponseContext {
  n: number;
  model: string;
  body: any;        // the create request (HTTP body or WS frame)
  input: any[];     // full input items (WS: previous input + previous output + new input)
  /** The input's size in characters when already known (WS keeps a running count, so that a
   *  turn's cost here does not grow with the history and blur the gateway's in benchmarks). */
  inputChars?: number;
  generate: boolean;
  extras: boolean;  // prepend a Codex-style response.metadata event
  /** Put this text in the reply (message text, function arguments) instead of echoing the input,
   *  so that a client can tell its own response from another turn's (the soak's foreign check). */
  replyTag?: string;
}

export type Ending = "end" | "truncate" | "destroy" | "hang";

export interface Plan {
  events: any[];
  delayMs: number;      // between events
  pauseAfter: number;   // index after which to pause pauseMs (-1: none)
  pauseMs: number;
  ending: Ending;       // end: finished normally; truncate: clean close, no terminal; destroy: abrupt
  completed: boolean;   // ends with response.completed
  output: any[];        // output items produced (for WS history), from output_item.done
  final: any;           // terminal response object (completed or failed), or null
  /** WebSocket: events to send just before the next response on the same connection, and that
   *  response's pace (faults.ts). */
  leftover?: { events: any[]; nextDelayMs: number };
}

export function normalizeInput(input: unknown): any[] {
  if (typeof input === "string") return [{ role: "user", content: [{ type: "input_text", text: input }] }];
  return Array.isArray(input) ? input : [];
}

export function lastUserText(items: any[]): string {
  for (let i = items.length - 1; i >= 0; i--) {
    const it = items[i];
    if (it?.role !== "user" || (it.type !== undefined && it.type !== "message")) continue;
    if (typeof it.content === "string") return it.content;
    if (Array.isArray(it.content)) {
      for (let j = it.content.length - 1; j >= 0; j--) {
        const part = it.content[j];
        if (part?.type === "input_text" && typeof part.text === "string") return part.text;
      }
    }
  }
  return "";
}

function firstFunctionTool(body: any): string {
  const tools: any[] = Array.isArray(body?.tools) ? body.tools : [];
  const t = tools.find((x) => x?.type === "function" && typeof x.name === "string");
  return t ? t.name : "exec_command";
}

function usage(ctx: ResponseContext, outputChars: number) {
  const input = Math.max(1, Math.ceil((ctx.inputChars ?? JSON.stringify(ctx.input).length) / 4));
  const reasoning = ctx.generate ? 8 : 0;
  const output = ctx.generate ? Math.ceil(outputChars / 4) + reasoning : 0;
  return {
    input_tokens: input, input_tokens_details: { cached_tokens: Math.floor(input / 2) },
    output_tokens: output, output_tokens_details: { reasoning_tokens: reasoning }, total_tokens: input + output,
  };
}

export function responseObject(ctx: ResponseContext, status: string, output: any[], usage: any, error: any = null) {
  const b = ctx.body ?? {};
  return {
    id: `resp_fake_${ctx.n}`, object: "response", created_at: Math.floor(Date.now() / 1000), status,
    background: false, error, incomplete_details: null, instructions: b.instructions ?? null,
    max_output_tokens: b.max_output_tokens ?? null, model: ctx.model, output,
    parallel_tool_calls: b.parallel_tool_calls ?? true, previous_response_id: b.previous_response_id ?? null,
    prompt_cache_key: b.prompt_cache_key ?? null, reasoning: b.reasoning ?? { effort: null, summary: null },
    service_tier: b.service_tier ?? "default", store: b.store ?? true, temperature: b.temperature ?? 1,
    text: b.text ?? { format: { type: "text" } }, tool_choice: b.tool_choice ?? "auto", tools: b.tools ?? [],
    top_p: b.top_p ?? 1, truncation: b.truncation ?? "disabled", usage, user: null, metadata: b.metadata ?? {},
  };
}

function chunks(text: string): string[] {
  const words = text.split(/(?=\s)/).filter((w) => w.length > 0);
  const per = Math.max(1, Math.ceil(words.length / 16));
  const out: string[] = [];
  for (let i = 0; i < words.length; i += per) out.push(words.slice(i, i + per).join(""));
  return out.length > 0 ? out : [""];
}

/** Full event list for a successful response (message or function call), unnumbered. */
function fullEvents(ctx: ResponseContext, kind: "message" | "function_call", emptyOutput: boolean) {
  const pending = responseObject(ctx, "in_progress", [], null);
  const ev: any[] = [{ type: "response.created", response: pending }, { type: "response.in_progress", response: pending }];
  let item: any;
  let chars = 0;
  if (!ctx.generate) {
    item = null;
  } else if (kind === "message") {
    const text = ctx.replyTag !== undefined ? `reply ${ctx.replyTag}` : `fake reply to: ${lastUserText(ctx.input)}`;
    chars = text.length;
    const id = `msg_fake_${ctx.n}`;
    const loc = { item_id: id, output_index: 0, content_index: 0 };
    const part = (t: string) => ({ type: "output_text", annotations: [], logprobs: [], text: t });
    item = { id, type: "message", status: "completed", content: [part(text)], role: "assistant" };
    ev.push({ type: "response.output_item.added", output_index: 0,
      item: { id, type: "message", status: "in_progress", content: [], role: "assistant" } });
    ev.push({ type: "response.content_part.added", ...loc, part: part("") });
    for (const d of chunks(text)) ev.push({ type: "response.output_text.delta", ...loc, delta: d, logprobs: [] });
    ev.push({ type: "response.output_text.done", ...loc, text, logprobs: [] });
    ev.push({ type: "response.content_part.done", ...loc, part: part(text) });
  } else {
    const id = `fc_fake_${ctx.n}`;
    const name = firstFunctionTool(ctx.body);
    const args = JSON.stringify({ cmd: `echo ${ctx.replyTag ?? "hi"}` });
    chars = args.length;
    const base = { id, type: "function_call", status: "in_progress", arguments: "", call_id: `call_fake_${ctx.n}`, name };
    item = { ...base, status: "completed", arguments: args };
    ev.push({ type: "response.output_item.added", output_index: 0, item: base });
    for (const d of [args.slice(0, 7), args.slice(7)]) ev.push({ type: "response.function_call_arguments.delta", item_id: id, output_index: 0, delta: d });
    ev.push({ type: "response.function_call_arguments.done", item_id: id, output_index: 0, name, arguments: args });
  }
  if (item) ev.push({ type: "response.output_item.done", output_index: 0, item });
  const output = item ? [item] : [];
  const final = responseObject(ctx, "completed", emptyOutput ? [] : output, usage(ctx, chars));
  ev.push({ type: "response.completed", response: final });
  return { ev, output, final };
}

function numbered(ctx: ResponseContext, ev: any[]): any[] {
  const out = ev.map(({ type, ...rest }, i) => ({ type, sequence_number: i, ...rest }));
  if (ctx.extras) out.unshift({ type: "response.metadata", headers: { "x-codex-turn-state": `ts-${ctx.n}` } });
  return out;
}

/** Build the stream plan for a streaming scenario (HTTP-status scenarios are handled by httpFailure). */
export function buildPlan(sc: ResolvedScenario, ctx: ResponseContext): Plan {
  const kind = sc.name === "function-call" ? "function_call" : "message";
  const { ev, output, final } = fullEvents(ctx, kind, sc.name === "empty-output");
  const plan: Plan = { events: [], delayMs: 0, pauseAfter: -1, pauseMs: 0, ending: "end", completed: true, output, final };
  const partial = (n: number, ending: Ending, ...tail: any[]): Plan =>
    ({ ...plan, events: numbered(ctx, [...ev.slice(0, n), ...tail]), ending, completed: false, output: [], final: null });
  if (!ctx.generate) return { ...plan, events: numbered(ctx, [ev[0], ev[ev.length - 1]]) };
  if (sc.reasoningChars > 0 && (sc.name === "ok" || sc.name === "function-call")) return thinking(ctx, plan, ev, reasoningItem(ctx, sc.reasoningChars));
  switch (sc.name) {
    case "early-close": return partial(6, "truncate");
    case "close-before-output": return partial(2, "truncate");
    case "reasoning": return thinking(ctx, plan, ev, reasoningItem(ctx));
    case "connection-reset": return partial(5, "destroy");
    case "silent": return partial(1, "hang");
    case "in-stream-error":
      return partial(1, "end", { type: "error", code: "server_is_overloaded",
        message: "Our servers are currently overloaded. Please try again later.", param: null });
    case "response-failed": {
      const failed = responseObject(ctx, "failed", [], null,
        { code: "server_error", message: "The model failed to generate a response." });
      return { ...partial(2, "end", { type: "response.failed", response: failed }), final: failed };
    }
    case "slow": return { ...plan, events: numbered(ctx, ev), delayMs: sc.delayMs };
    case "silent-then-ok": return { ...plan, events: numbered(ctx, ev), pauseAfter: ctx.extras ? 1 : 0, pauseMs: sc.silenceMs };
    default: return { ...plan, events: numbered(ctx, ev) };
  }
}

export function compactBody(input: any[]) {
  const inTok = Math.max(1, Math.ceil(JSON.stringify(input).length / 4));
  return {
    output: [{ type: "message", role: "user", content: [{ type: "input_text", text: "compacted" }] }],
    usage: { input_tokens: inTok, input_tokens_details: { cached_tokens: 0 }, output_tokens: 3,
      output_tokens_details: { reasoning_tokens: 0 }, total_tokens: inTok + 3 },
  };
}

export const MODELS = ["gpt-5.5", "gpt-5.4", "gpt-5.4-mini", "gpt-5-codex"].map((id, i) => (
  { id, object: "model", created: 1767225600 + i * 86400, owned_by: "openai" }));

/**
 * A reasoning item with encrypted content, as the provider sends with
 * `include: ["reasoning.encrypted_content"]`: a short marker, or `chars` characters of
 * base64-like text that differs per response (ciphertext does not repeat).
 */
function reasoningItem(ctx: ResponseContext, chars = 0) {
  let encrypted = `enc-fake-${ctx.n}`;
  if (chars > 0) {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let state = ctx.n * 2654435761 >>> 0;
    encrypted = "gAAAAA";
    while (encrypted.length < chars) {
      state = (state * 1664525 + 1013904223) >>> 0;
      encrypted += alphabet[state >>> 26];
    }
  }
  return { id: `rs_fake_${ctx.n}`, type: "reasoning", summary: [], encrypted_content: encrypted };
}

/** A plan whose output starts with `item` (a reasoning item). */
function thinking(ctx: ResponseContext, plan: Plan, ev: any[], item: ReturnType<typeof reasoningItem>): Plan {
  const final = plan.final as { output: unknown[] };
  return { ...plan, events: numbered(ctx, withReasoning(ev, item)), output: [item, ...plan.output], final: { ...final, output: [item, ...final.output] } };
}

/** The events with a reasoning item first; everything after it moves one output index down. */
function withReasoning(ev: any[], item: ReturnType<typeof reasoningItem>): any[] {
  const shifted = ev.slice(2).map((event) => {
    const moved = typeof event.output_index === "number" ? { ...event, output_index: event.output_index + 1 } : event;
    if (moved.type === "response.completed") return { ...moved, response: { ...moved.response, output: [item, ...moved.response.output] } };
    return moved;
  });
  return [
    ev[0], ev[1],
    { type: "response.output_item.added", output_index: 0, item: { ...item, encrypted_content: null } },
    { type: "response.output_item.done", output_index: 0, item },
    ...shifted,
  ];
}
