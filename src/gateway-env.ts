/**
 * The hono environment every route and middleware shares: Worker bindings plus the values the
 * middleware chain resolves once per request.
 */
import type { Configuration } from "./configuration/configuration";
import type { RequestLog } from "./middleware/request-log";
import type { AccountServices } from "./accounts/account-services";

export interface WorkerBindings {
  [variable: string]: unknown;
}

export interface GatewayVariables {
  configuration: Configuration;
  /** Upstream clients per account and the cooldown book. */
  services: AccountServices;
  log: RequestLog;
  /** A stable, non-secret id of the gateway key that authenticated the request ("open" without auth). */
  gatewayKeyId: string;
}

export interface GatewayEnv {
  Bindings: WorkerBindings;
  Variables: GatewayVariables;
}
