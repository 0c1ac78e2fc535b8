/**
 * What the gateway checks in a client's Responses `create` body. Lenient: every other field is
 * the provider's business and passes through untouched.
 */
import * as z from "zod/mini";
import { GatewayError } from "../../errors/gateway-error";
import "../../shared/schema-messages";

const createResponseSchema = z.looseObject({
  model: z.string({ error: "'model' is required and must be a string." }).check(z.minLength(1, "'model' must not be empty.")),
  input: z.optional(z.union([z.string(), z.array(z.unknown())], { error: "'input' must be a string or an array of items." })),
  stream: z.nullish(z.boolean({ error: "'stream' must be a boolean." })),
  previous_response_id: z.nullish(z.string({ error: "'previous_response_id' must be a string." })),
});

export type CreateResponseRequest = z.infer<typeof createResponseSchema>;

export function parseCreateResponseRequest(body: Record<string, unknown>): CreateResponseRequest {
  const parsed = createResponseSchema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const param = issue?.path.join(".") || null;
  throw new GatewayError("invalid_request", issue?.message ?? "The request body is not a valid Responses request.", { param });
}
