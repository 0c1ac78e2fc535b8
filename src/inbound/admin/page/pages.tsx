/**
 * The admin page's three pages: the sign-in form, the dashboard (its sections in order), and
 * the answer to a form that was refused.
 */
import { AccountsSection } from "./accounts-section";
import { keyLabeller, type Dashboard } from "./dashboard-data";
import type { Flash } from "./flash";
import { KeysSection } from "./keys-section";
import { Layout, Message } from "./layout";
import { RequestsSection } from "./requests-section";
import { UsageSection } from "./usage-section";

export function SignInPage(props: { error?: string | undefined }) {
  return (
    <Layout title="Sign in · Turnpike admin">
      <section class="sign-in">
        <h2>Sign in</h2>
        <Message error={props.error} />
        <form method="post" action="/admin/login" id="sign-in">
          <label for="admin-key">Admin key (ADMIN_KEY)</label>
          <input type="password" id="admin-key" name="key" required autocomplete="current-password" autofocus />
          <button type="submit" class="primary">
            Sign in
          </button>
        </form>
        <p class="muted">The session lasts 12 hours, in an HttpOnly cookie; the key itself is not kept in the browser.</p>
      </section>
    </Layout>
  );
}

export function DashboardPage(props: { dashboard: Dashboard; csrf: string; flash: Flash | undefined }) {
  const { dashboard, csrf, flash } = props;
  const team = dashboard.team;
  return (
    <Layout title="Turnpike admin" signedIn={{ csrf }}>
      <Message notice={flash?.notice} error={flash?.error} />
      {team ? (
        <>
          <UsageSection dashboard={dashboard} team={team} />
          <RequestsSection requests={team.requests} labelOfKey={keyLabeller(team.keys)} />
          <KeysSection keys={team.keys} keyUse={team.keyUse} csrf={csrf} createdKey={flash?.createdKey} />
        </>
      ) : (
        <section>
          <h2>Team keys and usage</h2>
          <p>These need the DB (D1) and KEY_GATES bindings: see docs/team.md.</p>
        </section>
      )}
      <AccountsSection accounts={dashboard.accounts} csrf={csrf} now={dashboard.now} />
    </Layout>
  );
}

export function RefusedPage(props: { message: string }) {
  return (
    <Layout title="Refused · Turnpike admin">
      <section class="sign-in">
        <h2>Refused</h2>
        <Message error={props.message} />
        <p>
          <a href="/admin">Back to the admin page</a>
        </p>
      </section>
    </Layout>
  );
}
