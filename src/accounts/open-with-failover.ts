/**
 * A stateless Responses call on whichever account can serve it (see `failover.ts`). When another
 * account could take over, the response is held until its first output (`holdUntilOutput`), so
 * that an in-stream failure before output still fails over invisibly.
 */
import type { Configuration } from "../configuration/configuration";
import type { RequestLog } from "../middleware/request-log";
import { holdUntilOutput } from "../streams/hold-until-output";
import { openResponsesStream, type UpstreamStream } from "../upstream/open-responses-stream";
import { prepareRequestBody } from "../upstream/responses-upstream";
import type { AccountServices } from "./account-services";
import { servingCandidates, withFailover } from "./failover";

export interface OpenOptions {
  configuration: Configuration;
  services: AccountServices;
  log: RequestLog;
  body: Record<string, unknown>;
  /** The client's JSON (its text, or its bytes as received), forwarded untouched when nothing needs changing. */
  original: string | Uint8Array;
  headers: Headers;
  signal?: AbortSignal | undefined;
  /** Hold until the first output even with a single account (Anthropic clients want HTTP errors). */
  alwaysHold?: boolean;
}

export async function openWithFailover(options: OpenOptions): Promise<UpstreamStream> {
  const { configuration, services, log, body } = options;
  const model = String(body.model);
  const hold = options.alwaysHold === true || servingCandidates(configuration.accounts, model).length > 1;
  const { result } = await withFailover({
    configuration,
    cooldowns: services.cooldowns,
    model,
    log,
    run: async (candidate) => {
      const upstream = services.upstreamFor(candidate.account);
      const opened = await openResponsesStream(
        upstream,
        { body: prepareRequestBody(upstream.kind, body, options.original, candidate.upstreamModel), headers: options.headers },
        { idleTimeoutMs: configuration.streamIdleTimeoutMs, signal: options.signal },
      );
      log.upstreamStatus = opened.status;
      if (candidate.account.kind === "chatgpt") services.cooldowns.observeQuota(candidate.account.id, opened.headers);
      if (!hold) return opened;
      const held = await holdUntilOutput(opened.events, configuration.streamIdleTimeoutMs);
      if (held.kind === "failed") throw held.error;
      return { ...opened, events: held.events };
    },
  });
  return result;
}
