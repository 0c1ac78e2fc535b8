/**
 * Upstream accounts: `UPSTREAMS`, a JSON list validated with zod (errors name the entry and
 * field), or the single-upstream variables (`UPSTREAM_URL`, `UPSTREAM_API_KEY`,
 * `UPSTREAM_KIND`, `UPSTREAM_ACCOUNT_ID`) as a one-entry shorthand that serves every model.
 */
import * as z from "zod/mini";
import { GatewayError } from "../errors/gateway-error";
import "../shared/schema-messages";

export type AccountKind = "openai" | "chatgpt" | "mock";
export type Transport = "websocket" | "http";

/** How an account authenticates upstream. */
export type AccountCredential =
  | { type: "none" }
  /** A fixed bearer (an OpenAI API key, or a ChatGPT access token given directly). */
  | { type: "static"; bearer: string; chatgptAccountId?: string }
  /** ChatGPT OAuth tokens seeded from a secret, refreshed in the account's Durable Object. */
  | { type: "chatgpt-oauth"; secretName: string };

export interface ModelRule {
  /** What clients ask for: an exact name or a `*` pattern. */
  pattern: string;
  /** What this account calls it upstream (an alias's target); undefined: the same name. */
  target?: string;
}

export interface Account {
  id: string;
  kind: AccountKind;
  /** Base URL without a trailing slash; `{baseUrl}/responses`. */
  baseUrl: string;
  credential: AccountCredential;
  models: ModelRule[];
  /** Lower is tried first. */
  priority: number;
  /** Share among accounts of equal priority. */
  weight: number;
  transport: Transport;
}

export const mockBaseUrl = "mock://turnpike";

const accountSchema = z.strictObject({
  id: z.string({ error: "is required (a short name for logs and the admin view)" }).check(z.regex(/^[\w.-]{1,64}$/, "must be 1–64 letters, digits, '.', '_' or '-'")),
  kind: z.enum(["openai", "chatgpt", "mock"], { error: "must be 'openai', 'chatgpt' or 'mock'" }),
  url: z.optional(z.url({ protocol: /^https?$/, error: "must be an http(s) URL" })),
  credential: z.optional(z.string({ error: "must name the secret holding the credential" }).check(z.regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be a variable name"))),
  models: z._default(
    z
      .array(z.string().check(z.minLength(1)), { error: "must be a list of model names, aliases (alias=model) or patterns (gpt-5.*)" })
      .check(z.minLength(1, "must list at least one model")),
    ["*"],
  ),
  priority: z._default(z.number({ error: "must be a number" }).check(z.int("must be a whole number")), 0),
  weight: z._default(z.number({ error: "must be a number" }).check(z.positive("must be greater than zero")), 1),
  transport: z._default(z.enum(["auto", "websocket", "http"], { error: "must be 'auto', 'websocket' or 'http'" }), "auto"),
});

const accountsSchema = z.array(accountSchema).check(z.minLength(1, "must list at least one account"));

export interface ShorthandVariables {
  url: string | undefined;
  apiKey: string | undefined;
  kind: "openai" | "chatgpt";
  accountId: string | undefined;
}

export function parseAccounts(
  upstreamsJson: string | undefined,
  shorthand: ShorthandVariables,
  environment: Record<string, unknown>,
  defaultTransport: "auto" | Transport,
): Account[] {
  const resolveTransport = (transport: "auto" | Transport): Transport => {
    const chosen = transport === "auto" ? defaultTransport : transport;
    // `auto`: the WebSocket transport where the provider has one (every current kind does).
    return chosen === "http" ? "http" : "websocket";
  };
  if (!upstreamsJson) return [shorthandAccount(shorthand, resolveTransport(defaultTransport))];

  let raw: unknown;
  try {
    raw = JSON.parse(upstreamsJson);
  } catch {
    throw configurationError("UPSTREAMS must be a JSON list of accounts");
  }
  const parsed = accountsSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const [index, field] = issue.path;
    const where = typeof index === "number" ? `UPSTREAMS[${index}]${field !== undefined ? `.${String(field)}` : ""}` : "UPSTREAMS";
    throw configurationError(`${where} ${issue.code === "unrecognized_keys" ? `has unknown fields (${issue.keys.join(", ")})` : issue.message}`);
  }
  const ids = new Set<string>();
  return parsed.data.map((entry, index) => {
    if (ids.has(entry.id)) throw configurationError(`UPSTREAMS[${index}].id '${entry.id}' is used twice`);
    ids.add(entry.id);
    if (entry.kind !== "mock" && !entry.url) throw configurationError(`UPSTREAMS[${index}].url is required for kind '${entry.kind}'`);
    return {
      id: entry.id,
      kind: entry.kind,
      baseUrl: entry.kind === "mock" ? mockBaseUrl : entry.url!.replace(/\/+$/, ""),
      credential: credentialFor(entry, index, environment),
      models: entry.models.map(parseModelRule),
      priority: entry.priority,
      weight: entry.weight,
      transport: resolveTransport(entry.transport),
    };
  });
}

function credentialFor(entry: z.infer<typeof accountSchema>, index: number, environment: Record<string, unknown>): AccountCredential {
  if (entry.kind === "mock") return { type: "none" };
  if (!entry.credential) throw configurationError(`UPSTREAMS[${index}].credential is required for kind '${entry.kind}'`);
  const value = environment[entry.credential];
  if (typeof value !== "string" || !value.trim()) {
    throw configurationError(`UPSTREAMS[${index}].credential names '${entry.credential}', which is not set`);
  }
  if (entry.kind === "chatgpt") return { type: "chatgpt-oauth", secretName: entry.credential };
  return { type: "static", bearer: value.trim() };
}

function shorthandAccount(variables: ShorthandVariables, transport: Transport): Account {
  if (!variables.url) {
    return { id: "mock", kind: "mock", baseUrl: mockBaseUrl, credential: { type: "none" }, models: [{ pattern: "*" }], priority: 0, weight: 1, transport };
  }
  const credential: AccountCredential = variables.apiKey
    ? { type: "static", bearer: variables.apiKey, ...(variables.kind === "chatgpt" && variables.accountId ? { chatgptAccountId: variables.accountId } : {}) }
    : { type: "none" };
  return {
    id: "default",
    kind: variables.kind,
    baseUrl: variables.url.replace(/\/+$/, ""),
    credential,
    models: [{ pattern: "*" }],
    priority: 0,
    weight: 1,
    transport,
  };
}

/** `gpt-5.5`, `gpt-5.*`, or `fast=gpt-5.5-mini` (clients ask for `fast`). */
function parseModelRule(text: string): ModelRule {
  const separator = text.indexOf("=");
  if (separator > 0) return { pattern: text.slice(0, separator).trim(), target: text.slice(separator + 1).trim() };
  return { pattern: text.trim() };
}

/** The upstream name of `model` on this account, or undefined if the account does not serve it. */
export function upstreamModelName(account: Account, model: string): string | undefined {
  for (const rule of account.models) {
    if (matchesPattern(rule.pattern, model)) return rule.target ?? model;
  }
  return undefined;
}

/** Every request matches its model against the accounts' patterns: each is compiled once. */
const compiledPatterns = new Map<string, RegExp>();

export function matchesPattern(pattern: string, name: string): boolean {
  if (!pattern.includes("*")) return pattern === name;
  let expression = compiledPatterns.get(pattern);
  if (!expression) {
    const escaped = pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"));
    expression = new RegExp(`^${escaped.join(".*")}$`);
    // Patterns come from the configuration (a few dozen): a bound only guards against surprises.
    if (compiledPatterns.size > 1_000) compiledPatterns.clear();
    compiledPatterns.set(pattern, expression);
  }
  return expression.test(name);
}


function configurationError(problem: string): GatewayError {
  return new GatewayError("configuration", `Gateway configuration is invalid: ${problem}.`);
}
