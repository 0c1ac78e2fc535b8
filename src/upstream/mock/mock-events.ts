/**
 * The full Responses event sequence for a mock reply, shaped like OpenAI's own streams: every
 * event numbered, items announced with `output_item.added` and finished with
 * `output_item.done`, usage on `response.completed`.
 */
import type { ResponsesEventPayload } from "../../streams/responses-event";
import type { MockReply } from "./mock-reply";

export interface MockResponseInput {
  body: Record<string, unknown>;
  reply: MockReply;
  /** Stable seed for ids: the same request gets the same ids. */
  seed: string;
  inputBytes: number;
  createdAt: number;
}

export function mockResponseEvents(request: MockResponseInput): ResponsesEventPayload[] {
  const { body, reply, seed } = request;
  const responseId = `resp_mock_${seed}`;
  const events: ResponsesEventPayload[] = [];
  const emit = (type: string, fields: Record<string, unknown>) =>
    events.push({ type, sequence_number: events.length, ...fields });

  const response = (status: string, output: unknown[], usage: unknown) => ({
    id: responseId,
    object: "response",
    created_at: request.createdAt,
    status,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    model: typeof body.model === "string" ? body.model : "mock",
    output,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    reasoning: body.reasoning ?? null,
    store: body.store ?? false,
    tool_choice: body.tool_choice ?? "auto",
    tools: Array.isArray(body.tools) ? body.tools : [],
    usage,
    metadata: body.metadata ?? {},
  });

  emit("response.created", { response: response("in_progress", [], null) });
  emit("response.in_progress", { response: response("in_progress", [], null) });

  const output: Record<string, unknown>[] = [];
  if (body.reasoning !== undefined && body.reasoning !== null) {
    const summary = "Working out a deterministic mock answer.";
    const item = { id: `rs_mock_${seed}`, type: "reasoning", encrypted_content: `mock-encrypted-${seed}`, summary: [] };
    const output_index = output.length;
    emit("response.output_item.added", { output_index, item });
    const part = { type: "summary_text", text: summary };
    emit("response.reasoning_summary_part.added", { item_id: item.id, output_index, summary_index: 0, part: { ...part, text: "" } });
    emit("response.reasoning_summary_text.delta", { item_id: item.id, output_index, summary_index: 0, delta: summary });
    emit("response.reasoning_summary_text.done", { item_id: item.id, output_index, summary_index: 0, text: summary });
    emit("response.reasoning_summary_part.done", { item_id: item.id, output_index, summary_index: 0, part });
    const done = { ...item, summary: [part] };
    emit("response.output_item.done", { output_index, item: done });
    output.push(done);
  }

  const output_index = output.length;
  if (reply.kind === "function_call") {
    const item = {
      id: `fc_mock_${seed}`,
      type: "function_call",
      status: "in_progress",
      arguments: "",
      call_id: `call_mock_${seed}`,
      name: reply.name,
    };
    emit("response.output_item.added", { output_index, item });
    for (const delta of chunks(reply.arguments, 12)) {
      emit("response.function_call_arguments.delta", { item_id: item.id, output_index, delta });
    }
    emit("response.function_call_arguments.done", { item_id: item.id, output_index, arguments: reply.arguments });
    const done = { ...item, status: "completed", arguments: reply.arguments };
    emit("response.output_item.done", { output_index, item: done });
    output.push(done);
  } else {
    const item_id = `msg_mock_${seed}`;
    const text = reply.text;
    emit("response.output_item.added", {
      output_index,
      item: { id: item_id, type: "message", status: "in_progress", role: "assistant", content: [] },
    });
    emit("response.content_part.added", { item_id, output_index, content_index: 0, part: { type: "output_text", annotations: [], text: "" } });
    for (const delta of chunks(text, 16)) {
      emit("response.output_text.delta", { item_id, output_index, content_index: 0, delta, logprobs: [] });
    }
    emit("response.output_text.done", { item_id, output_index, content_index: 0, text, logprobs: [] });
    const part = { type: "output_text", annotations: [], logprobs: [], text };
    emit("response.content_part.done", { item_id, output_index, content_index: 0, part });
    const done = { id: item_id, type: "message", status: "completed", role: "assistant", content: [part] };
    emit("response.output_item.done", { output_index, item: done });
    output.push(done);
  }

  const outputTokens = Math.max(1, Math.ceil(JSON.stringify(output).length / 16));
  const inputTokens = Math.max(1, Math.ceil(request.inputBytes / 4));
  const usage = {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: outputTokens,
    output_tokens_details: { reasoning_tokens: output.length > 1 ? 8 : 0 },
    total_tokens: inputTokens + outputTokens,
  };
  emit("response.completed", { response: response("completed", output, usage) });
  return events;
}

/** Splits at roughly `size` characters, on word boundaries where possible, like real deltas. */
function chunks(text: string, size: number): string[] {
  if (text.length === 0) return [""];
  const pieces: string[] = [];
  let start = 0;
  while (start < text.length) {
    let end = Math.min(text.length, start + size);
    const space = text.lastIndexOf(" ", end);
    if (end < text.length && space > start) end = space + 1;
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}
