/**
 * Configuration from Worker vars and secrets (locally `.dev.vars`), validated once per
 * environment object with zod. An invalid value fails every request with a generic 500: what is
 * wrong (the variable and the problem, never the value — a secret may sit in the wrong variable)
 * goes to the log and to `GET /health?verbose` with the admin key, not to whoever calls.
 */
import * as z from "zod/mini";
import { matchesPattern, parseAccounts, type Account, type AccountKind } from "../accounts/accounts-configuration";
import { GatewayError } from "../errors/gateway-error";
import "../shared/schema-messages";
import { parsePrices, type ModelPrice } from "../team/prices";

const mebibyte = 1024 * 1024;

/** Trimmed; unset or blank is undefined. */
const optionalText = z.pipe(
  z.optional(z.string().check(z.trim())),
  z.transform((value) => (value ? value : undefined)),
);

/** `optionalText`, then one of `options`; unset is `fallback`. */
const choice = <const Option extends string>(options: readonly [Option, ...Option[]], fallback: NoInfer<Option>, error: string) =>
  z.pipe(optionalText, z._default(z.enum(options, { error }), fallback));

const httpUrl = (error: string) => z.pipe(optionalText, z.optional(z.url({ protocol: /^https?$/, error })));

const positiveInteger = (fallback: number) =>
  z.pipe(
    z.transform((value) => (value === undefined || value === "" ? fallback : Number(value))),
    z.number({ error: "must be a number" }).check(z.int("must be a whole number"), z.positive("must be greater than zero")),
  );

const environmentSchema = z.object({
  UPSTREAM_URL: httpUrl("must be an http(s) URL such as https://api.openai.com/v1"),
  UPSTREAM_API_KEY: optionalText,
  UPSTREAM_KIND: choice(["openai", "chatgpt"], "openai", "must be 'openai' or 'chatgpt'"),
  UPSTREAM_ACCOUNT_ID: optionalText,
  GATEWAY_KEYS: optionalText,
  GATEWAY_OPEN: choice(["auto", "off"], "auto", "must be 'auto' or 'off'"),
  USAGE_RETENTION_DAYS: positiveInteger(90),
  PRICES: optionalText,
  MAX_BODY_BYTES: positiveInteger(32 * mebibyte),
  STREAM_IDLE_TIMEOUT_MS: positiveInteger(300_000),
  KEEPALIVE_INTERVAL_MS: positiveInteger(15_000),
  UPSTREAM_TRANSPORT: choice(["auto", "websocket", "http"], "auto", "must be 'auto', 'websocket' or 'http'"),
  WEBSOCKET_MODE: choice(["on", "off"], "on", "must be 'on' or 'off'"),
  WEBSOCKET_KEEPALIVE: choice(["on", "off"], "on", "must be 'on' or 'off'"),
  SESSION_IDLE_TIMEOUT_MS: positiveInteger(50 * 60_000),
  SESSION_MAX_LIFETIME_MS: positiveInteger(50 * 60_000),
  SESSION_MAX_RETAINED_BYTES: positiveInteger(64 * mebibyte),
  SESSION_MAX_CHAINS: positiveInteger(8),
  SESSION_RETENTION_MS: positiveInteger(24 * 60 * 60_000),
  SESSION_DERIVE: choice(["on", "off"], "on", "must be 'on' or 'off'"),
  MODEL_MAP: optionalText,
  UPSTREAMS: optionalText,
  FAILOVER_MAX_ATTEMPTS: positiveInteger(3),
  FAILOVER_BUDGET_MS: positiveInteger(30_000),
  COOLDOWN_DEFAULT_MS: positiveInteger(30_000),
  COOLDOWN_AUTH_MS: positiveInteger(300_000),
  COOLDOWN_MAX_MS: positiveInteger(900_000),
  CHATGPT_TOKEN_URL: httpUrl("must be an http(s) URL"),
  ADMIN_KEY: optionalText,
});

/**
 * Model names Anthropic clients ask for → upstream models. Patterns with `*`, first match wins;
 * a name no pattern matches is passed on unchanged (clients may name upstream models directly).
 */
export const defaultModelMap: [string, string][] = [
  ["claude-haiku-*", "gpt-5.5-mini"],
  ["claude-*", "gpt-5.5"],
];

function parseModelMap(text: string | undefined): [string, string][] {
  if (!text) return defaultModelMap;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new GatewayError("configuration", 'Gateway configuration is invalid: MODEL_MAP must be a JSON object such as {"claude-*": "gpt-5.5"}.');
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new GatewayError("configuration", 'Gateway configuration is invalid: MODEL_MAP must be a JSON object such as {"claude-*": "gpt-5.5"}.');
  }
  const entries = Object.entries(parsed as Record<string, unknown>);
  for (const [pattern, target] of entries) {
    if (typeof target !== "string" || !target) {
      throw new GatewayError("configuration", `Gateway configuration is invalid: MODEL_MAP entry '${pattern.slice(0, 60)}' must map to a model name.`);
    }
  }
  return entries as [string, string][];
}

export function mapModel(modelMap: [string, string][], model: string): string {
  for (const [pattern, target] of modelMap) if (matchesPattern(pattern, model)) return target;
  return model;
}

export type UpstreamKind = AccountKind;

export interface Configuration {
  /** Upstream accounts, in configuration order (see `accounts/`). */
  accounts: Account[];
  failover: FailoverConfiguration;
  /** Where ChatGPT refresh tokens are exchanged (Codex's OAuth token endpoint). */
  chatgptTokenUrl: string;
  /** Key for `/admin/*`; unset: the admin endpoints do not exist. */
  adminKey: string | undefined;
  /** Static keys clients may present (besides the team's keys in D1). */
  gatewayKeys: string[];
  /** Whether a request without a key is served when GATEWAY_KEYS is unset (GATEWAY_OPEN). */
  gatewayOpen: boolean;
  /** Usage rows are deleted after this many days. */
  usageRetentionDays: number;
  /** Model patterns → prices per million tokens, for usage costs (src/team/prices.ts). */
  prices: [string, ModelPrice][];
  maxBodyBytes: number;
  streamIdleTimeoutMs: number;
  keepaliveIntervalMs: number;
  session: SessionConfiguration;
  /** `off` answers WebSocket upgrades with 426, which makes Codex use HTTP at once. */
  websocketMode: "on" | "off";
  /** `turnpike:keepalive` frames to WebSocket clients (client-socket.ts). */
  websocketKeepalive: "on" | "off";
  /** Anthropic model names → upstream models (see `mapModel`). */
  modelMap: [string, string][];
}

export interface FailoverConfiguration {
  /** Accounts tried per request before giving up. */
  maxAttempts: number;
  /** Time after which no further account is tried. */
  budgetMs: number;
  /** Cooldown after a 5xx or a broken connection. */
  defaultCooldownMs: number;
  /** Cooldown after the upstream refused the credential (401/403). */
  authCooldownMs: number;
  /** Longest cooldown: a rate-limited account is re-probed after this even if its reset is later. */
  maxCooldownMs: number;
}

export interface SessionConfiguration {
  /** Close the upstream socket after this long without a turn (the provider allows 60 min). */
  idleTimeoutMs: number;
  /** Replace the upstream socket before it is this old. */
  maxLifetimeMs: number;
  /** Retained input across a session's chains; past it the least recently used chains go. */
  maxRetainedBytes: number;
  /** Conversations (chains) a session holds at once; the least recently used goes first. */
  maxChains: number;
  /** A session's storage is deleted this long after its last turn. */
  retentionMs: number;
  /** Chat Completions requests that name no session get one derived from their conversation. */
  derive: "on" | "off";
}


export function parseConfiguration(environment: Record<string, unknown>): Configuration {
  const parsed = environmentSchema.safeParse(pickStrings(environment));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`);
    throw new GatewayError("configuration", `Gateway configuration is invalid: ${problems.join("; ")}.`);
  }
  const values = parsed.data;
  if (values.UPSTREAM_KIND === "chatgpt" && values.UPSTREAM_URL && !values.UPSTREAM_ACCOUNT_ID) {
    throw new GatewayError(
      "configuration",
      "Gateway configuration is invalid: UPSTREAM_ACCOUNT_ID is required when UPSTREAM_KIND is 'chatgpt'.",
    );
  }
  const gatewayKeys = (values.GATEWAY_KEYS ?? "")
    .split(",")
    .map((key) => key.trim())
    .filter(Boolean);
  const accounts = parseAccounts(
    values.UPSTREAMS,
    { url: values.UPSTREAM_URL, apiKey: values.UPSTREAM_API_KEY, kind: values.UPSTREAM_KIND, accountId: values.UPSTREAM_ACCOUNT_ID },
    environment,
    values.UPSTREAM_TRANSPORT,
  );
  return {
    accounts,
    failover: {
      maxAttempts: values.FAILOVER_MAX_ATTEMPTS,
      budgetMs: values.FAILOVER_BUDGET_MS,
      defaultCooldownMs: values.COOLDOWN_DEFAULT_MS,
      authCooldownMs: values.COOLDOWN_AUTH_MS,
      maxCooldownMs: values.COOLDOWN_MAX_MS,
    },
    chatgptTokenUrl: values.CHATGPT_TOKEN_URL ?? "https://auth.openai.com/oauth/token",
    adminKey: values.ADMIN_KEY,
    gatewayKeys,
    gatewayOpen: values.GATEWAY_OPEN === "auto",
    usageRetentionDays: values.USAGE_RETENTION_DAYS,
    prices: parsePrices(values.PRICES),
    maxBodyBytes: values.MAX_BODY_BYTES,
    streamIdleTimeoutMs: values.STREAM_IDLE_TIMEOUT_MS,
    keepaliveIntervalMs: values.KEEPALIVE_INTERVAL_MS,
    websocketMode: values.WEBSOCKET_MODE,
    websocketKeepalive: values.WEBSOCKET_KEEPALIVE,
    modelMap: parseModelMap(values.MODEL_MAP),
    session: {
      idleTimeoutMs: values.SESSION_IDLE_TIMEOUT_MS,
      maxLifetimeMs: values.SESSION_MAX_LIFETIME_MS,
      maxRetainedBytes: values.SESSION_MAX_RETAINED_BYTES,
      maxChains: values.SESSION_MAX_CHAINS,
      retentionMs: values.SESSION_RETENTION_MS,
      derive: values.SESSION_DERIVE,
    },
  };
}

/** Only the variables the schema knows, so bindings (Durable Objects…) never reach zod. */
function pickStrings(environment: Record<string, unknown>): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const name of Object.keys(environmentSchema.shape)) {
    const value = environment[name];
    if (typeof value === "string" || typeof value === "number") picked[name] = String(value);
  }
  return picked;
}

const cache = new WeakMap<object, Configuration | GatewayError>();
let warnedAboutOpenGateway = false;

/** Parsed once per environment object (one per isolate in production). */
export function loadConfiguration(environment: object): Configuration {
  let entry = cache.get(environment);
  if (!entry) {
    try {
      entry = parseConfiguration(environment as Record<string, unknown>);
      announce(entry);
    } catch (error) {
      const problem = error instanceof GatewayError ? error.message : "Gateway configuration is invalid.";
      entry = new GatewayError("configuration", "The gateway is misconfigured; its operator can read why in the log.", { detail: problem });
      console.error(JSON.stringify({ level: "error", message: problem }));
    }
    cache.set(environment, entry);
  }
  if (entry instanceof GatewayError) throw entry;
  return entry;
}

function announce(configuration: Configuration): void {
  // Only when it is true: with GATEWAY_OPEN=off a request without a key is refused (team keys alone).
  if (configuration.gatewayKeys.length === 0 && configuration.gatewayOpen && !warnedAboutOpenGateway) {
    warnedAboutOpenGateway = true;
    console.warn(
      JSON.stringify({
        level: "warn",
        message: "GATEWAY_KEYS is not set and GATEWAY_OPEN is not 'off': the gateway accepts requests without a key. Set one of them before deploying.",
      }),
    );
  }
}
