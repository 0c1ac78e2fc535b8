import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import "./schema-messages";

const messageOf = (schema: z.ZodMiniType, input: unknown) => schema.safeParse(input).error?.issues[0]?.message;

describe("schema messages", () => {
  it("are classic zod's English texts for the issues our schemas raise", () => {
    expect(messageOf(z.number(), "7")).toBe("Invalid input: expected number, received string");
    expect(messageOf(z.object({ a: z.string() }), [])).toBe("Invalid input: expected object, received array");
    expect(messageOf(z.enum(["low", "high"]), "mid")).toBe('Invalid option: expected one of "low"|"high"');
    expect(messageOf(z.literal("text"), "image")).toBe('Invalid input: expected "text"');
    expect(messageOf(z.string().check(z.minLength(1)), "")).toBe("Too small: expected string to have >=1 characters");
    expect(messageOf(z.array(z.string()).check(z.maxLength(1)), ["a", "b"])).toBe("Too big: expected array to have <=1 items");
    expect(messageOf(z.number().check(z.nonnegative()), -1)).toBe("Too small: expected number to be >=0");
    expect(messageOf(z.number().check(z.positive()), 0)).toBe("Too small: expected number to be >0");
    expect(messageOf(z.strictObject({}), { a: 1, b: 2 })).toBe('Unrecognized keys: "a", "b"');
    expect(messageOf(z.union([z.string(), z.number()]), null)).toBe("Invalid input");
  });

  it("give way to a schema's own message", () => {
    expect(messageOf(z.string({ error: "'model' must be a string." }), 1)).toBe("'model' must be a string.");
    expect(messageOf(z.number().check(z.int("must be a whole number")), 1.5)).toBe("must be a whole number");
  });
});
