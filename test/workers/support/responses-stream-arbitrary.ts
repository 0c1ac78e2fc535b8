/**
 * Well-formed Responses event streams for property tests, in the orders the Responses API
 * produces (see the recorded streams in test/fixtures/responses-streams/): `response.created`,
 * output items one after another — each announced by `output_item.added`, its parts and deltas,
 * its `.done` events, `output_item.done` — with progress and vendor events anywhere between, then
 * one ending of any kind. Items may also arrive without their deltas (a backend that skipped
 * them) or whole (only `output_item.done`, as web searches do).
 */
import fc from "fast-check";
import type { ResponsesEventPayload } from "../../../src/streams/responses-event";

/**
 * How an item's content travels: with its deltas; with its part events and `.done` texts but no
 * deltas; only `output_item.added` and `output_item.done`; or only `output_item.done`.
 */
export type Delivery = "deltas" | "done-events" | "announced" | "whole";

const deliveries = fc.constantFrom<Delivery>("deltas", "deltas", "deltas", "done-events", "announced", "whole");

export interface Annotation {
  type: "url_citation";
  url: string;
  title: string;
  start_index: number;
  end_index: number;
}

export type ItemSpec =
  | { kind: "message"; parts: { type: "output_text" | "refusal"; pieces: string[]; annotations: Annotation[] }[]; delivery: Delivery }
  | { kind: "reasoning"; summary: string[][]; encrypted: string | undefined; delivery: Delivery }
  | { kind: "function_call"; name: string; pieces: string[]; incomplete: boolean; delivery: Delivery }
  | { kind: "web_search_call"; action: Record<string, unknown> }
  | { kind: "other"; type: string };

export type Ending = "completed" | "completed_empty_output" | "incomplete_max_tokens" | "incomplete_content_filter" | "failed" | "error_event" | "none";

export interface StreamScenario {
  items: ItemSpec[];
  ending: Ending;
  /** Events with no Anthropic or Chat counterpart, inserted at these places. */
  extras: { at: number; payload: ResponsesEventPayload }[];
  usage: { input_tokens: number; cached: number; output_tokens: number };
  /** Where the events are cut into batches (network reads). */
  cuts: number[];
}

const piece = fc.oneof({ weight: 3, arbitrary: fc.string({ minLength: 1, maxLength: 6 }) }, { weight: 1, arbitrary: fc.string({ unit: "binary", minLength: 1, maxLength: 6 }) });
const pieces = fc.array(piece, { maxLength: 5 });

/** A text cut into pieces at generated places (function arguments arrive in arbitrary slices). */
function split(text: string, cuts: number[]): string[] {
  const positions = [...new Set(cuts.map((cut) => cut % (text.length + 1)))].sort((a, b) => a - b);
  const parts: string[] = [];
  let start = 0;
  for (const position of [...positions, text.length]) {
    if (position > start) parts.push(text.slice(start, position));
    start = Math.max(start, position);
  }
  return parts;
}

/** Citations of spans of the text, in the order of their ends (the order the API adds them in). */
function annotationsFor(text: string, spans: [number, number][]): Annotation[] {
  if (text.length === 0) return [];
  return spans
    .map(([a, b]) => [Math.min(a, b) % (text.length + 1), Math.max(a, b) % (text.length + 1)] as const)
    .map(([start, end]) => ({ type: "url_citation" as const, url: `https://example.com/${start}`, title: `Source ${start}`, start_index: Math.min(start, end), end_index: Math.max(start, end) }))
    .sort((a, b) => a.end_index - b.end_index);
}

const messagePart = fc
  .record({ type: fc.constantFrom("output_text" as const, "output_text" as const, "refusal" as const), pieces, spans: fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 2 }) })
  .map(({ type, pieces: texts, spans }) => ({ type, pieces: texts, annotations: type === "output_text" ? annotationsFor(texts.join(""), spans) : [] }));

const argumentsObject = fc.dictionary(fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom("command", "path", "__proto__")), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 });

export const itemSpec: fc.Arbitrary<ItemSpec> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("message" as const), parts: fc.array(messagePart, { minLength: 1, maxLength: 2 }), delivery: deliveries }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("reasoning" as const),
      // Summary parts carry text; a reasoning item may have none (nothing to show, maybe a signature).
      summary: fc.array(fc.array(piece, { minLength: 1, maxLength: 4 }), { maxLength: 2 }),
      encrypted: fc.option(fc.base64String({ minLength: 4, maxLength: 24 }), { nil: undefined }),
      delivery: deliveries,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant("function_call" as const),
      name: fc.constantFrom("Bash", "Read", "get_weather"),
      // Arguments are a JSON object's text (pretty or not), streamed in arbitrary slices, or empty.
      pieces: fc.oneof(
        fc.tuple(argumentsObject, fc.boolean(), fc.array(fc.nat(), { maxLength: 5 })).map(([value, pretty, cuts]) => split(JSON.stringify(value, null, pretty ? 1 : undefined), cuts)),
        fc.constant([] as string[]),
      ),
      // A call cut off by the token limit (its arguments kept whole here, to compare both paths).
      incomplete: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, fc.constant(true)),
      delivery: deliveries,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("web_search_call" as const),
      action: fc.oneof(
        fc.record({ type: fc.constant("search"), query: fc.string({ maxLength: 12 }) }),
        fc.record({ type: fc.constant("search"), queries: fc.array(fc.string({ maxLength: 8 }), { maxLength: 2 }) }),
        fc.record({ type: fc.constant("open_page"), url: fc.webUrl() }),
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("other" as const), type: fc.constantFrom("custom_tool_call", "image_generation_call", "mcp_call") }) },
);

const extraPayload: fc.Arbitrary<ResponsesEventPayload> = fc.oneof(
  fc.constant({ type: "codex.rate_limits", plan_type: "plus", rate_limits: { primary: { used_percent: 12 } } }),
  fc.constant({ type: "response.metadata", metadata: { turn_state: "abc" } }),
  fc.constant({ type: "response.in_progress", response: { id: "resp_fuzz", status: "in_progress", output: [] } }),
  fc.constant({ type: "response.something_new", output_index: 0, value: 1 }),
);

export const streamScenario: fc.Arbitrary<StreamScenario> = fc.record({
  items: fc.array(itemSpec, { maxLength: 5 }),
  ending: fc.constantFrom<Ending>("completed", "completed", "completed", "completed_empty_output", "incomplete_max_tokens", "incomplete_content_filter", "failed", "error_event", "none"),
  extras: fc.array(fc.record({ at: fc.nat(), payload: extraPayload }), { maxLength: 3 }),
  usage: fc.record({ input_tokens: fc.nat(100_000), cached: fc.nat(100_000), output_tokens: fc.nat(10_000) }),
  cuts: fc.array(fc.nat(), { maxLength: 8 }),
});

const responseId = "resp_fuzz";

/** The item as `output_item.done` (and the final response) carries it. */
export function itemOf(spec: ItemSpec, index: number): Record<string, unknown> {
  switch (spec.kind) {
    case "message":
      return {
        id: `msg_${index}`,
        type: "message",
        role: "assistant",
        status: "completed",
        content: spec.parts.map((part) => (part.type === "refusal" ? { type: "refusal", refusal: part.pieces.join("") } : { type: "output_text", text: part.pieces.join(""), annotations: part.annotations, logprobs: [] })),
      };
    case "reasoning":
      return {
        id: `rs_${index}`,
        type: "reasoning",
        summary: spec.summary.map((part) => ({ type: "summary_text", text: part.join("") })),
        ...(spec.encrypted === undefined ? {} : { encrypted_content: spec.encrypted }),
      };
    case "function_call":
      return { id: `fc_${index}`, type: "function_call", status: spec.incomplete ? "incomplete" : "completed", call_id: `call_${index}`, name: spec.name, arguments: spec.pieces.join("") };
    case "web_search_call":
      return { id: `ws_${index}`, type: "web_search_call", status: "completed", action: spec.action };
    case "other":
      return { id: `other_${index}`, type: spec.type, status: "completed" };
  }
}

/** The item as `output_item.added` announces it: nothing of its content yet. */
function announced(spec: ItemSpec, item: Record<string, unknown>): Record<string, unknown> {
  switch (spec.kind) {
    case "message":
      return { ...item, status: "in_progress", content: [] };
    case "reasoning":
      return { id: item.id, type: "reasoning", summary: [] };
    case "function_call":
      return { ...item, status: "in_progress", arguments: "" };
    default:
      return { id: item.id, type: item.type, status: "in_progress" };
  }
}

/** An item's events from `output_item.added` to `output_item.done`. */
function itemEvents(spec: ItemSpec, output_index: number): Record<string, unknown>[] {
  const item = itemOf(spec, output_index);
  const item_id = item.id;
  const events: Record<string, unknown>[] = [];
  const push = (type: string, fields: Record<string, unknown>) => events.push({ type, item_id, output_index, ...fields });
  const delivery = "delivery" in spec ? spec.delivery : "announced";
  const whole = delivery === "announced" || delivery === "whole";
  if (delivery !== "whole") events.push({ type: "response.output_item.added", output_index, item: announced(spec, item) });
  // Web searches report their progress between the two.
  if (spec.kind === "web_search_call") for (const phase of ["in_progress", "searching", "completed"]) push(`response.web_search_call.${phase}`, {});
  if (!whole && spec.kind === "message") {
    spec.parts.forEach((part, content_index) => {
      const where = { content_index };
      const text = part.pieces.join("");
      push("response.content_part.added", { ...where, part: part.type === "refusal" ? { type: "refusal", refusal: "" } : { type: "output_text", text: "", annotations: [] } });
      const pending = [...part.annotations];
      let streamed = 0;
      const annotate = () => {
        // An annotation follows the delta that completes the span it cites.
        while (pending.length > 0 && pending[0]!.end_index <= streamed) {
          const annotation = pending.shift()!;
          push("response.output_text.annotation.added", { ...where, annotation_index: part.annotations.indexOf(annotation), annotation });
        }
      };
      if (delivery === "deltas") {
        for (const delta of part.pieces) {
          push(part.type === "refusal" ? "response.refusal.delta" : "response.output_text.delta", { ...where, delta });
          streamed += delta.length;
          annotate();
        }
      }
      push(part.type === "refusal" ? "response.refusal.done" : "response.output_text.done", { ...where, ...(part.type === "refusal" ? { refusal: text } : { text }) });
      streamed = text.length;
      annotate();
      push("response.content_part.done", { ...where, part: (item.content as unknown[])[content_index] });
    });
  } else if (!whole && spec.kind === "reasoning") {
    spec.summary.forEach((part, summary_index) => {
      const text = part.join("");
      push("response.reasoning_summary_part.added", { summary_index, part: { type: "summary_text", text: "" } });
      if (delivery === "deltas") for (const delta of part) push("response.reasoning_summary_text.delta", { summary_index, delta });
      push("response.reasoning_summary_text.done", { summary_index, text });
      push("response.reasoning_summary_part.done", { summary_index, part: { type: "summary_text", text } });
    });
  } else if (!whole && spec.kind === "function_call") {
    if (delivery === "deltas") for (const delta of spec.pieces) push("response.function_call_arguments.delta", { delta });
    push("response.function_call_arguments.done", { arguments: item.arguments });
  }
  events.push({ type: "response.output_item.done", output_index, item });
  return events;
}

/** The events the upstream would send for the scenario, in order. */
export function eventsOf(scenario: StreamScenario): ResponsesEventPayload[] {
  const { items, ending, usage } = scenario;
  const events: Record<string, unknown>[] = [{ type: "response.created", response: { id: responseId, created_at: 7, status: "in_progress", model: "gpt-5.5", output: [] } }];
  items.forEach((spec, index) => events.push(...itemEvents(spec, index)));
  for (const { at, payload } of scenario.extras) events.splice(1 + (at % events.length), 0, payload);
  const output = items.map(itemOf);
  const responseUsage = { input_tokens: usage.input_tokens + usage.cached, input_tokens_details: { cached_tokens: usage.cached }, output_tokens: usage.output_tokens, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: usage.input_tokens + usage.cached + usage.output_tokens };
  const response = (status: string, fields: Record<string, unknown>) => ({ id: responseId, created_at: 7, model: "gpt-5.5", status, output, usage: responseUsage, ...fields });
  switch (ending) {
    case "completed":
      events.push({ type: "response.completed", response: response("completed", {}) });
      break;
    case "completed_empty_output":
      events.push({ type: "response.completed", response: response("completed", { output: [] }) });
      break;
    case "incomplete_max_tokens":
      events.push({ type: "response.incomplete", response: response("incomplete", { incomplete_details: { reason: "max_output_tokens" } }) });
      break;
    case "incomplete_content_filter":
      events.push({ type: "response.incomplete", response: response("incomplete", { incomplete_details: { reason: "content_filter" } }) });
      break;
    case "failed":
      events.push({ type: "response.failed", response: response("failed", { output: [], usage: null, error: { code: "server_error", message: "The model failed." } }) });
      break;
    case "error_event":
      events.push({ type: "error", code: "server_is_overloaded", message: "Overloaded." });
      break;
    case "none":
      break;
  }
  return events.map((event, sequence_number) => ({ ...event, sequence_number }) as ResponsesEventPayload);
}

/** The events cut into batches at the scenario's cuts. */
export function batchesOf<Event>(events: Event[], cuts: number[]): Event[][] {
  const positions = [...new Set(cuts.map((cut) => cut % (events.length + 1)))].sort((a, b) => a - b);
  const batches: Event[][] = [];
  let start = 0;
  for (const position of [...positions, events.length]) {
    if (position > start) batches.push(events.slice(start, position));
    start = Math.max(start, position);
  }
  return batches;
}
