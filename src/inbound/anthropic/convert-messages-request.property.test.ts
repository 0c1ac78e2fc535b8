// Properties of the Messages → Responses request translator over generated valid requests:
// each converts into a plain-JSON Responses request that keeps every tool use, tool result,
// replayable thinking block and assistant text, or is refused with a 400 whose `param` names a
// field of the request. Never another exception.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzzParameters, fuzzTimeout } from "../../../test/workers/support/fuzz";
import { messagesRequest } from "../../../test/workers/support/messages-arbitrary";
import { defaultModelMap } from "../../configuration/configuration";
import { GatewayError } from "../../errors/gateway-error";
import { isRecord } from "../../streams/responses-event";
import { convertMessagesRequest, minimumOutputTokens } from "./convert-messages-request";
import { messagesRequestSchema, type ContentBlock } from "./messages-api";
import { decodeThinkingSignature } from "./thinking-signature";

type Item = Record<string, unknown>;

const efforts = new Set(["minimal", "low", "medium", "high", "xhigh"]);

function blocksOf(content: string | ContentBlock[]): Record<string, unknown>[] {
  return typeof content === "string" ? [{ type: "text", text: content }] : content;
}

/** True for what JSON can carry as it is: no functions, undefined, non-finite numbers or class instances. */
function isPlainJson(value: unknown): boolean {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true;
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(isPlainJson);
  if (typeof value !== "object" || Object.getPrototypeOf(value) !== Object.prototype) return false;
  return Object.values(value).every(isPlainJson);
}

/** The first name of a `param` path (`messages[2].content[0]` → `messages`). */
function topField(param: string): string {
  return /^[^.[]+/.exec(param)?.[0] ?? "";
}

describe("any valid Messages request", () => {
  it("converts into a plain-JSON Responses request that keeps what the conversation holds, or is refused with a 400 naming a field", { timeout: fuzzTimeout(30_000) }, () => {
    fc.assert(
      fc.property(messagesRequest, (body) => {
        const parsed = messagesRequestSchema.safeParse(body);
        // The arbitrary makes valid requests only: a refusal must come from the translator.
        expect(parsed.success, JSON.stringify(parsed.error?.issues[0])).toBe(true);
        const source = parsed.data!;
        let converted;
        try {
          converted = convertMessagesRequest(source, { modelMap: defaultModelMap });
        } catch (error) {
          if (!(error instanceof GatewayError)) throw error;
          expect(error.kind).toBe("invalid_request");
          expect(error.status).toBe(400);
          expect(typeof error.param).toBe("string");
          expect(Object.keys(body)).toContain(topField(error.param!));
          return;
        }
        const request = converted.request;
        // Plain JSON: what is sent upstream is what was built, nothing dropped by serialisation.
        expect(isPlainJson(request)).toBe(true);
        expect(request).toMatchObject({ stream: true, store: false, model: expect.any(String) });
        if (source.max_tokens === undefined) expect(request.max_output_tokens).toBeUndefined();
        else expect(request.max_output_tokens).toBe(Math.max(minimumOutputTokens, source.max_tokens));
        expect(converted.maxTextDeltas).toBe(source.max_tokens !== undefined && source.max_tokens < minimumOutputTokens ? source.max_tokens : undefined);
        if (request.reasoning !== undefined) {
          const effort = (request.reasoning as { effort: unknown }).effort;
          expect(efforts.has(effort as string), `effort ${String(effort)}`).toBe(true);
        }

        const input = request.input as Item[];
        expect(Array.isArray(input)).toBe(true);
        for (const item of input) {
          expect(isRecord(item)).toBe(true);
          if (item.type === "message") expect(["user", "assistant", "developer"]).toContain(item.role);
        }
        const ofType = (type: string) => input.filter((item) => item.type === type);
        const user = source.messages.filter((message) => message.role === "user").flatMap((message) => blocksOf(message.content));
        const assistant = source.messages.filter((message) => message.role === "assistant").flatMap((message) => blocksOf(message.content));

        // Every tool use and tool result, in order, under the client's ids.
        expect(ofType("function_call").map((item) => [item.call_id, item.name, item.arguments])).toEqual(
          assistant.filter((block) => block.type === "tool_use").map((block) => [block.id, block.name, JSON.stringify(block.input ?? {})]),
        );
        expect(ofType("function_call_output").map((item) => item.call_id)).toEqual(user.filter((block) => block.type === "tool_result").map((block) => block.tool_use_id));
        // Thinking replays exactly when its signature is ours; web searches come back as search items.
        const signed = assistant.flatMap((block) => {
          const signature = block.type === "thinking" ? block.signature : block.type === "redacted_thinking" ? block.data : undefined;
          const decoded = decodeThinkingSignature(signature);
          return decoded ? [[decoded.id, decoded.encryptedContent]] : [];
        });
        expect(ofType("reasoning").map((item) => [item.id, item.encrypted_content])).toEqual(signed);
        expect(ofType("web_search_call").map((item) => item.id)).toEqual(assistant.filter((block) => block.type === "server_tool_use").map((block) => block.id));
        // Assistant text, in order.
        const assistantTexts = ofType("message")
          .filter((item) => item.role === "assistant")
          .flatMap((item) => (item.content as Item[]).map((part) => part.text));
        expect(assistantTexts).toEqual(assistant.filter((block) => block.type === "text").map((block) => block.text));
      }),
      fuzzParameters(3000),
    );
  });
});
