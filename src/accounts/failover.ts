/**
 * Which account serves a request, and what happens when it cannot.
 *
 * Candidates are the accounts serving the model, by priority (lower first), weighted at random
 * among equals, the session's own account first; accounts cooling down for the model are
 * skipped. Before any byte reaches the client, a transport error, 5xx, 429, 401/403 or an
 * in-stream error before output moves on to the next candidate, within an attempt count and a
 * time budget, and puts the failed account on cooldown. After output, nothing is retried: that is
 * the caller's business (it only calls `run` until the stream is released).
 */
import type { Configuration } from "../configuration/configuration";
import { GatewayError, toGatewayError } from "../errors/gateway-error";
import type { RequestLog } from "../middleware/request-log";
import { upstreamModelName, type Account } from "./accounts-configuration";
import type { CooldownBook } from "./cooldown-book";
import { clientGone } from "../streams/hold-until-output";

export interface Candidate {
  account: Account;
  /** The model's name on this account (aliases resolved). */
  upstreamModel: string;
}

export interface FailoverOptions<Result> {
  configuration: Configuration;
  cooldowns: CooldownBook;
  model: string;
  log: RequestLog;
  /** The session's account: tried first while it can serve. */
  preferredAccountId?: string | undefined;
  /** The client went away: no further account is tried, and no account is blamed. */
  signal?: AbortSignal | undefined;
  run(candidate: Candidate, attempt: number): Promise<Result>;
}

export async function withFailover<Result>(options: FailoverOptions<Result>): Promise<{ result: Result; candidate: Candidate }> {
  const { configuration, cooldowns, model, log } = options;
  const serving = servingCandidates(configuration.accounts, model, options.preferredAccountId);
  // One account has nothing to route around: no need to read the shared cooldowns.
  if (serving.length > 1) await cooldowns.refresh();
  if (serving.length === 0) {
    throw new GatewayError("not_found", `The model '${model}' is not served by this gateway.`, { code: "model_not_found", param: "model" });
  }
  const now = Date.now();
  const ready = serving.filter((candidate) => !cooldowns.cooldown(candidate.account.id, model, now));
  const cooling = serving.filter((candidate) => cooldowns.cooldown(candidate.account.id, model, now));
  // A cooldown after a rate limit is a promise of refusal; after a 5xx it is only a hint: when
  // nothing else is left, such accounts are still tried, soonest-ending first. With a single
  // account there is nothing to route around: the upstream itself decides.
  const order =
    serving.length === 1
      ? serving
      : ready.length > 0
        ? ready
        : cooling.filter((candidate) => !isRateLimit(cooldowns, candidate, model, now)).sort(bySoonest(cooldowns, model));

  const started = Date.now();
  const tried: string[] = [];
  let lastError: GatewayError | undefined;
  for (const [attempt, candidate] of order.entries()) {
    if (attempt >= configuration.failover.maxAttempts || (attempt > 0 && Date.now() - started > configuration.failover.budgetMs)) break;
    if (options.signal?.aborted) throw clientGone();
    try {
      const result = await options.run(candidate, attempt);
      tried.push(candidate.account.id);
      log.extra.account = candidate.account.id;
      if (candidate.upstreamModel !== model) log.extra.upstream_model = candidate.upstreamModel;
      if (tried.length > 1) log.extra.accounts_tried = tried.join(",");
      return { result, candidate };
    } catch (caught) {
      const error = toGatewayError(caught);
      tried.push(`${candidate.account.id}:${error.upstreamStatus ?? error.status}`);
      if (error.detail) {
        // What the client is not told (which account, what the provider said) the operator reads here.
        console.error(JSON.stringify({ level: "warn", request_id: log.requestId, message: error.message, account: candidate.account.id, detail: error.detail }));
      }
      log.extra.accounts_tried = tried.join(",");
      if (!shouldFailOver(error) || options.signal?.aborted) throw error;
      await cooldowns.report(candidate.account.id, model, Date.now() + cooldownMs(error, configuration), cooldownReason(error));
      lastError = mostInformative(lastError, error);
    }
  }
  // A single account's own 429 says the most (its body, its rate-limit headers).
  if (lastError && serving.length === 1) throw lastError;
  // Everything is rate limited (now or by cooldown): one 429 with the soonest reset.
  const limited = serving.map((candidate) => cooldowns.cooldown(candidate.account.id, model)).filter((entry) => entry?.reason === "rate_limited");
  if (limited.length === serving.length && limited.length > 0) {
    const soonest = Math.min(...limited.map((entry) => entry!.until));
    const retryAfter = Math.max(1, Math.ceil((soonest - Date.now()) / 1000));
    throw new GatewayError("rate_limited", `Every account serving '${model}' is rate limited; retry in ${retryAfter} s.`, {
      code: "rate_limit_exceeded",
      headers: new Headers({ "retry-after": String(retryAfter) }),
    });
  }
  throw lastError ?? new GatewayError("upstream_unreachable", `No account could serve '${model}' right now.`);
}

export function servingCandidates(accounts: Account[], model: string, preferredAccountId?: string): Candidate[] {
  const serving: Candidate[] = [];
  for (const account of accounts) {
    const upstreamModel = upstreamModelName(account, model);
    if (upstreamModel) serving.push({ account, upstreamModel });
  }
  const ordered = byPriorityThenWeight(serving);
  const preferred = ordered.findIndex((candidate) => candidate.account.id === preferredAccountId);
  if (preferred > 0) ordered.unshift(...ordered.splice(preferred, 1));
  return ordered;
}

/** Lower priority first; among equals, a weighted random order (sampling without replacement). */
function byPriorityThenWeight(candidates: Candidate[]): Candidate[] {
  const priorities = [...new Set(candidates.map((candidate) => candidate.account.priority))].sort((a, b) => a - b);
  return priorities.flatMap((priority) => {
    const pool = candidates.filter((candidate) => candidate.account.priority === priority);
    const ordered: Candidate[] = [];
    while (pool.length > 0) {
      const total = pool.reduce((sum, candidate) => sum + candidate.account.weight, 0);
      let pick = Math.random() * total;
      const index = pool.findIndex((candidate) => (pick -= candidate.account.weight) < 0);
      ordered.push(...pool.splice(index < 0 ? pool.length - 1 : index, 1));
    }
    return ordered;
  });
}

export function shouldFailOver(error: GatewayError): boolean {
  if (error.kind === "upstream_unreachable" || error.kind === "upstream_disconnected" || error.kind === "upstream_idle_timeout") return true;
  return error.status >= 500 || error.status === 429 || refusedCredential(error);
}

function cooldownMs(error: GatewayError, configuration: Configuration): number {
  const { defaultCooldownMs, authCooldownMs, maxCooldownMs } = configuration.failover;
  if (error.status === 429) {
    // Retry-After (also derived from the ChatGPT backend's resets_in_seconds / resets_at), then
    // Codex's own header; a reset days away is capped: the account is re-probed sooner.
    const seconds = Number(error.headers.get("retry-after") ?? error.headers.get("x-codex-primary-reset-after-seconds") ?? Number.NaN);
    return Math.min(maxCooldownMs, Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : defaultCooldownMs);
  }
  if (refusedCredential(error)) return Math.min(maxCooldownMs, authCooldownMs);
  return Math.min(maxCooldownMs, defaultCooldownMs);
}

function cooldownReason(error: GatewayError): string {
  if (error.status === 429) return "rate_limited";
  if (refusedCredential(error)) return "unauthorized";
  return error.code ?? error.kind;
}

/** The upstream refused the account's credential (its 401/403 reaches clients as a 502). */
function refusedCredential(error: GatewayError): boolean {
  const status = error.upstreamStatus ?? error.status;
  return status === 401 || status === 403;
}

function isRateLimit(cooldowns: CooldownBook, candidate: Candidate, model: string, now: number): boolean {
  return cooldowns.cooldown(candidate.account.id, model, now)?.reason === "rate_limited";
}

function bySoonest(cooldowns: CooldownBook, model: string) {
  return (a: Candidate, b: Candidate) => (cooldowns.cooldown(a.account.id, model)?.until ?? 0) - (cooldowns.cooldown(b.account.id, model)?.until ?? 0);
}

/** A server error says more than a rate limit; otherwise the latest error wins. */
function mostInformative(previous: GatewayError | undefined, next: GatewayError): GatewayError {
  if (previous && previous.status !== 429 && next.status === 429) return previous;
  return next;
}
