/**
 * The hono environment every route and middleware shares: Worker bindings plus the values the
 * middleware chain resolves once per request.
 */
import type { Configuration } from "./configuration/configuration";
import type { RequestLog } from "./middleware/request-log";
import type { AccountServices } from "./accounts/account-services";
import type { Caller } from "./team/caller";

export interface WorkerBindings {
  [variable: string]: unknown;
}

export interface GatewayVariables {
  configuration: Configuration;
  /** Upstream clients per account and the cooldown book. */
  services: AccountServices;
  log: RequestLog;
  /** What the request's sessions are scoped by: a stable, non-secret id of its key ("open" without one). */
  gatewayKeyId: string;
  /** Who the key stands for: its id, models, gate and stream place. */
  caller: Caller;
}

export interface GatewayEnv {
  Bindings: WorkerBindings;
  Variables: GatewayVariables;
}
