/**
 * The operator's view of the upstream accounts, shared by `GET /admin/accounts` and the admin
 * page: each account's settings, the cooldowns in force, its ChatGPT token state and the usage
 * windows its backend last reported. No credential or token is ever part of it.
 */
import type { Context } from "hono";
import type { QuotaWindows } from "../../accounts/quota-windows";
import { GatewayError } from "../../errors/gateway-error";
import type { GatewayEnv } from "../../gateway-env";
import type { ChatGptAccountDurableObject, ChatGptAccountStatus } from "../../upstream/chatgpt/chatgpt-account-durable-object";

export interface CooldownView {
  model: string;
  until: string;
  seconds_left: number;
  reason: string;
}

export interface AccountView {
  id: string;
  kind: string;
  url: string | null;
  models: string[];
  priority: number;
  weight: number;
  transport: string;
  cooldowns: CooldownView[];
  /** ChatGPT accounts only: when the access token expires, whether a rejected refresh disabled it. */
  chatgpt?: ChatGptAccountStatus | { error: string } | null;
  /** The usage windows its backend last reported (ChatGPT accounts): used percent and resets. */
  quota: QuotaWindows | null;
}

export async function accountsView(context: Context<GatewayEnv>): Promise<AccountView[]> {
  const { accounts } = context.get("configuration");
  const cooldownBook = context.get("services").cooldowns;
  const [cooldowns, quotas] = await Promise.all([cooldownBook.all(), cooldownBook.quotas().catch((): Record<string, QuotaWindows> => ({}))]);
  const now = Date.now();
  return Promise.all(
    accounts.map(async (account) => ({
      id: account.id,
      kind: account.kind,
      url: account.kind === "mock" ? null : account.baseUrl,
      models: account.models.map((rule) => (rule.target ? `${rule.pattern}=${rule.target}` : rule.pattern)),
      priority: account.priority,
      weight: account.weight,
      transport: account.transport,
      cooldowns: Object.entries(cooldowns)
        .filter(([key, entry]) => key.startsWith(`${account.id}\n`) && entry.until > now)
        .map(([key, entry]) => ({ model: key.slice(account.id.length + 1), until: new Date(entry.until).toISOString(), seconds_left: Math.ceil((entry.until - now) / 1000), reason: entry.reason })),
      ...(account.credential.type === "chatgpt-oauth" ? { chatgpt: await chatGptStatus(context.env, account.id) } : {}),
      quota: quotas[account.id] ?? null,
    })),
  );
}

/** Clears an account's cooldowns (one model's, or all of them); an unknown account is a 404. */
export async function clearCooldown(context: Context<GatewayEnv>, id: string, model: string | undefined): Promise<void> {
  if (!context.get("configuration").accounts.some((account) => account.id === id)) {
    throw new GatewayError("not_found", `No account '${id.slice(0, 64)}'.`);
  }
  await context.get("services").cooldowns.clear(id, model || undefined);
}

async function chatGptStatus(environment: Record<string, unknown>, accountId: string): Promise<ChatGptAccountStatus | { error: string } | null> {
  const namespace = environment.CHATGPT_ACCOUNTS as DurableObjectNamespace<ChatGptAccountDurableObject> | undefined;
  if (!namespace) return null;
  try {
    return await namespace.get(namespace.idFromName(accountId)).status();
  } catch {
    return { error: "status unavailable" };
  }
}
