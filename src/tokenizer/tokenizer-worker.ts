/**
 * The tokenizer Worker: `count_tokens` counts with o200k_base tables of 2.7 MB, more than
 * everything else a gateway request loads, so they live in a Worker of their own, reached by a
 * service binding (`TOKENIZER`, RPC). The gateway's own bundle stays small, so its cold starts
 * stay short; this Worker starts only when something is counted.
 */
import { WorkerEntrypoint } from "cloudflare:workers";
import { countRequestTokens, type TokenCount } from "./count-tokens";

export class Tokenizer extends WorkerEntrypoint {
  countRequestTokens(request: Record<string, unknown>): Promise<TokenCount> {
    return countRequestTokens(request);
  }
}

export default {
  fetch: () => new Response("The Turnpike tokenizer answers its gateway only (a service binding).", { status: 404 }),
} satisfies ExportedHandler;
