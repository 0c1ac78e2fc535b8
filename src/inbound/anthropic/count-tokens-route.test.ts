import { describe, expect, it } from "vitest";
import { countedTokens } from "./count-tokens-route";

// What the route counts: the Messages request converted to a Responses one.
const request = { model: "gpt-5.5", input: [{ type: "message", role: "user", content: [{ type: "input_text", text: "count these words for me please" }] }] };

describe("count_tokens without a working tokenizer Worker", () => {
  it("answers an estimate when the binding is missing", async () => {
    expect(await countedTokens({}, request)).toBe(4 + Math.ceil("count these words for me please".length / 4));
  });

  it("answers an estimate when the Worker behind the binding fails (not deployed), not a 500", async () => {
    const broken = { TOKENIZER: { countRequestTokens: async () => Promise.reject(new Error("Could not resolve service 'turnpike-tokenizer'")) } };
    expect(await countedTokens(broken, request)).toBe(await countedTokens({}, request));
  });
});
