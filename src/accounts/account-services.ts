/**
 * Per-configuration services for reaching accounts: one upstream client per account (with its
 * credential source) and this isolate's cooldown book. Built once per environment object.
 */
import type { Configuration } from "../configuration/configuration";
import { chatGptCredentials } from "../upstream/chatgpt/chatgpt-credentials";
import type { ChatGptAccountDurableObject } from "../upstream/chatgpt/chatgpt-account-durable-object";
import { createUpstream, staticCredentials, type CredentialSource, type ResponsesUpstream } from "../upstream/responses-upstream";
import { GatewayError } from "../errors/gateway-error";
import type { Account } from "./accounts-configuration";
import { CooldownBook } from "./cooldown-book";

export interface AccountServices {
  cooldowns: CooldownBook;
  upstreamFor(account: Account): ResponsesUpstream;
}

const cache = new WeakMap<Configuration, AccountServices>();

export function accountServices(configuration: Configuration, environment: Record<string, unknown>): AccountServices {
  let services = cache.get(configuration);
  if (!services) {
    const upstreams = new Map<string, ResponsesUpstream>();
    const accountState = namespace(environment, "ACCOUNT_STATE");
    const created: AccountServices = {
      cooldowns: new CooldownBook(accountState),
      upstreamFor(account) {
        let upstream = upstreams.get(account.id);
        if (!upstream) {
          upstream = createUpstream(account, credentialsFor(account, configuration, environment));
          upstreams.set(account.id, upstream);
        }
        return upstream;
      },
    };
    services = created;
    cache.set(configuration, services);
  }
  return services;
}

function credentialsFor(account: Account, configuration: Configuration, environment: Record<string, unknown>): CredentialSource {
  if (account.credential.type !== "chatgpt-oauth") return staticCredentials(account.credential);
  const accounts = namespace(environment, "CHATGPT_ACCOUNTS") as DurableObjectNamespace<ChatGptAccountDurableObject> | undefined;
  if (!accounts) {
    throw new GatewayError("configuration", `Gateway configuration is invalid: account '${account.id}' needs the CHATGPT_ACCOUNTS Durable Object binding.`);
  }
  return chatGptCredentials(accounts, { accountId: account.id, credentialName: account.credential.secretName, tokenUrl: configuration.chatgptTokenUrl });
}

function namespace(environment: Record<string, unknown>, name: string): DurableObjectNamespace | undefined {
  const binding = environment[name] as DurableObjectNamespace | undefined;
  return binding && typeof binding.idFromName === "function" ? binding : undefined;
}
