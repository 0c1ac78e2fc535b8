/**
 * The upstream accounts as the gateway sees them now: kind, models, the cooldowns in force (with
 * their reasons and time left, each clearable), a ChatGPT account's token state and the usage
 * windows its backend last reported. Settings and state only: no credential is part of the view.
 */
import type { QuotaWindow } from "../../../accounts/quota-windows";
import type { AccountView } from "../accounts-view";
import { formatSeconds, formatTime, formatUntil } from "./format";

export function AccountsSection(props: { accounts: AccountView[]; csrf: string; now: number }) {
  return (
    <section id="accounts">
      <div class="section-head">
        <h2>Accounts</h2>
        <span class="muted">{props.accounts.length === 1 ? "one upstream account" : `${props.accounts.length} upstream accounts`}</span>
      </div>
      {props.accounts.map((account) => (
        <Account account={account} csrf={props.csrf} now={props.now} />
      ))}
    </section>
  );
}

function Account(props: { account: AccountView; csrf: string; now: number }) {
  const account = props.account;
  const path = `/admin/ui/accounts/${encodeURIComponent(account.id)}/clear-cooldown`;
  return (
    <div class="account" data-account-id={account.id}>
      <h3>
        {account.id} <span class="muted">· {account.kind}</span>{" "}
        {account.cooldowns.length === 0 ? <span class="good">healthy</span> : <span class="bad">{account.cooldowns.length === 1 ? "1 cooldown" : `${account.cooldowns.length} cooldowns`}</span>}
      </h3>
      <table>
        <tbody>
          <tr>
            <th>Models</th>
            <td>{account.models.join(", ")}</td>
          </tr>
          <tr>
            <th>Upstream</th>
            <td>
              {account.url ?? "built-in mock"} <span class="muted">· {account.transport} · priority {account.priority} · weight {account.weight}</span>
            </td>
          </tr>
          {account.chatgpt !== undefined ? (
            <tr>
              <th>ChatGPT token</th>
              <td>
                <TokenState status={account.chatgpt} now={props.now} />
              </td>
            </tr>
          ) : null}
          {account.quota ? (
            <tr>
              <th>Usage windows</th>
              <td data-column="quota">
                {account.quota.primary ? <Window name="primary" window={account.quota.primary} now={props.now} /> : null}
                {account.quota.secondary ? <Window name="secondary" window={account.quota.secondary} now={props.now} /> : null}
                <span class="muted">as reported {formatTime(account.quota.observed_at)}</span>
              </td>
            </tr>
          ) : null}
          <tr>
            <th>Cooldowns</th>
            <td>
              {account.cooldowns.length === 0 ? (
                <span class="muted">none in force</span>
              ) : (
                <table class="cooldowns">
                  <thead>
                    <tr>
                      <th>Model</th>
                      <th>Reason</th>
                      <th>Time left</th>
                      <th />
                    </tr>
                  </thead>
                  <tbody>
                    {account.cooldowns.map((cooldown) => (
                      <tr data-cooldown-model={cooldown.model}>
                        <td>{cooldown.model}</td>
                        <td>{cooldown.reason}</td>
                        <td>
                          {formatSeconds(cooldown.seconds_left)} <span class="muted">(until {formatTime(Date.parse(cooldown.until))})</span>
                        </td>
                        <td>
                          <form method="post" action={path} class="inline">
                            <input type="hidden" name="csrf" value={props.csrf} />
                            <input type="hidden" name="model" value={cooldown.model} />
                            <button type="submit">Clear cooldown</button>
                          </form>
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </td>
          </tr>
        </tbody>
      </table>
      {account.cooldowns.length > 1 ? (
        <form method="post" action={path}>
          <input type="hidden" name="csrf" value={props.csrf} />
          <button type="submit">Clear all cooldowns of {account.id}</button>
        </form>
      ) : null}
    </div>
  );
}

function TokenState(props: { status: AccountView["chatgpt"]; now: number }) {
  const status = props.status;
  if (!status) return <span class="muted">no token state (no ChatGPT accounts binding)</span>;
  if ("error" in status) return <span class="bad">{status.error}</span>;
  if (status.disabled) return <span class="bad">disabled: {status.disabled}</span>;
  if (status.expiresAt === undefined) return <span class="muted">not used yet (seeded from its secret on first use)</span>;
  return (
    <span>
      {status.expiresAt > props.now ? <span class="good">valid</span> : <span class="bad">expired</span>}, access token expires {formatUntil(status.expiresAt, props.now)}
      {status.lastRefreshAt !== undefined ? <span class="muted"> · last refreshed {formatTime(status.lastRefreshAt)}</span> : null}
    </span>
  );
}

/** One usage window: a meter of the used percent, and when it resets. */
function Window(props: { name: string; window: QuotaWindow; now: number }) {
  const used = Math.max(0, Math.min(100, props.window.used_percent));
  const hours = props.window.window_minutes === null ? null : props.window.window_minutes / 60;
  return (
    <span class="window" data-window={props.name}>
      {props.name}
      {hours === null ? "" : ` (${hours >= 24 ? `${Math.round(hours / 24)} d` : `${Math.round(hours)} h`})`}:{" "}
      <svg class="meter" viewBox="0 0 100 8" width="120" height="8" role="img" aria-label={`${used}% used`}>
        <rect x="0" y="0" width="100" height="8" fill="#e6eaf0" />
        <rect x="0" y="0" width={used} height="8" class={used >= 90 ? "c3" : "c0"} />
      </svg>{" "}
      <strong>{props.window.used_percent}%</strong> used{props.window.resets_at === null ? "" : `, resets ${formatUntil(props.window.resets_at, props.now)}`}
      {"  "}
    </span>
  );
}
