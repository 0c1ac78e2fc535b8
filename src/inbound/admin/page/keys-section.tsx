/**
 * The team's gateway keys: each with its limits beside what its gate counts now, a form to edit
 * its models and limits, a revoke button, and the form that creates a key. A key just created
 * is shown at the top this once (it is kept only as a hash; flash.ts carried it here).
 *
 * The edit form of a key is a row of its own, shown when the link's fragment targets it
 * (`:target` in the stylesheet): no script, and the table stays narrow.
 */
import type { KeyRow } from "../../../team/gateway-keys";
import type { GateStatus } from "../../../team/key-gate-durable-object";
import { formatCount, formatTime } from "./format";

export interface KeysSectionProps {
  keys: KeyRow[];
  keyUse: Map<string, GateStatus>;
  csrf: string;
  createdKey?: { name: string; key: string } | undefined;
}

type LimitName = keyof KeyRow["limits"];

/** The four limits, as the forms and the table name them. */
const limitFields: { name: LimitName; label: string; use(status: GateStatus): number }[] = [
  { name: "requests_per_minute", label: "Requests / minute", use: (status) => status.requestsLastMinute },
  { name: "concurrent_streams", label: "Concurrent streams", use: (status) => status.streams },
  { name: "tokens_per_day", label: "Tokens / day", use: (status) => status.tokensToday },
  { name: "tokens_per_month", label: "Tokens / month", use: (status) => status.tokensThisMonth },
];

export function KeysSection(props: KeysSectionProps) {
  return (
    <section id="keys">
      <div class="section-head">
        <h2>Keys</h2>
        <span class="muted">
          {formatCount(props.keys.filter((key) => key.revoked_at === null).length)} active, {formatCount(props.keys.filter((key) => key.revoked_at !== null).length)} revoked; use is what each key's gate counts now (days and
          months in UTC)
        </span>
      </div>
      {props.createdKey ? <CreatedKey name={props.createdKey.name} keyText={props.createdKey.key} /> : null}
      <div class="table-wrap">
        <table id="keys-table">
          <thead>
            <tr>
              <th>Name</th>
              <th>Prefix</th>
              <th>Created</th>
              <th>Last used</th>
              <th>Models</th>
              {limitFields.map((field) => (
                <th class="number">{field.label}</th>
              ))}
              <th>Actions</th>
            </tr>
          </thead>
          <tbody>
            {props.keys.length === 0 ? (
              <tr>
                <td colspan={10} class="muted">
                  No keys yet: create one below.
                </td>
              </tr>
            ) : (
              props.keys.map((key) => <KeyRows key={key.id} gatewayKey={key} status={props.keyUse.get(key.id)} csrf={props.csrf} />)
            )}
          </tbody>
        </table>
      </div>
      <h3>Create a key</h3>
      <form method="post" action="/admin/ui/keys" id="create-key">
        <input type="hidden" name="csrf" value={props.csrf} />
        <KeyFields />
        <p class="muted">Models: comma-separated names or patterns (gpt-5.*); empty for every model. Limits: empty for none.</p>
        <button type="submit" class="primary">
          Create key
        </button>
      </form>
    </section>
  );
}

function CreatedKey(props: { name: string; keyText: string }) {
  return (
    <div class="created-key" id="new-key" role="status">
      <p>
        New key for <strong>{props.name}</strong>:
      </p>
      <p>
        <code id="new-key-value">{props.keyText}</code>
      </p>
      <p>Copy it now: it will not be shown again. The gateway keeps only its hash.</p>
    </div>
  );
}

function KeyRows(props: { gatewayKey: KeyRow; status: GateStatus | undefined; csrf: string }) {
  const key = props.gatewayKey;
  const revoked = key.revoked_at !== null;
  const path = `/admin/ui/keys/${encodeURIComponent(key.id)}`;
  return (
    <>
      <tr class={revoked ? "revoked" : undefined} data-key-id={key.id}>
        <td class="name">{key.name}</td>
        <td>
          <code>{key.prefix}…</code>
        </td>
        <td>{formatTime(key.created_at)}</td>
        <td>{key.last_used_at === null ? <span class="muted">never</span> : formatTime(key.last_used_at)}</td>
        <td>{key.models ? key.models.join(", ") : <span class="muted">all</span>}</td>
        {limitFields.map((field) => (
          <td class="number" data-limit={field.name}>
            {revoked || !props.status ? "–" : formatCount(field.use(props.status))}
            <span class="muted"> / {key.limits[field.name] === undefined ? "∞" : formatCount(key.limits[field.name])}</span>
          </td>
        ))}
        <td>
          {revoked ? (
            <span data-state="revoked">revoked {formatTime(key.revoked_at)}</span>
          ) : (
            <>
              <a href={`#edit-${key.id}`}>Edit</a>{" "}
              <details class="inline">
                <summary>Revoke…</summary>
                <form method="post" action={`${path}/revoke`} class="revoke">
                  <input type="hidden" name="csrf" value={props.csrf} />
                  <button type="submit" class="danger">
                    Revoke now
                  </button>
                </form>
              </details>
            </>
          )}
        </td>
      </tr>
      {revoked ? null : (
        <tr class="edit-row" id={`edit-${key.id}`}>
          <td colspan={10}>
            <form method="post" action={`${path}/update`} class="edit-key">
              <input type="hidden" name="csrf" value={props.csrf} />
              <KeyFields gatewayKey={key} />
              <p>
                <button type="submit" class="primary">
                  Save
                </button>{" "}
                <a href="#keys">Cancel</a>
              </p>
            </form>
          </td>
        </tr>
      )}
    </>
  );
}

/** Name, models and the four limits: empty for a new key, the key's own values when editing. */
function KeyFields(props: { gatewayKey?: KeyRow }) {
  const key = props.gatewayKey;
  return (
    <div class="fields">
      <label>
        Name
        <input type="text" name="name" required maxlength={100} value={key?.name ?? ""} />
      </label>
      <label>
        Models
        <input type="text" name="models" class="wide" placeholder="all models" value={key?.models?.join(", ") ?? ""} />
      </label>
      {limitFields.map((field) => (
        <label>
          {field.label}
          <input type="number" name={field.name} min={1} step={1} placeholder="no limit" value={key?.limits[field.name] === undefined ? "" : String(key.limits[field.name])} />
        </label>
      ))}
    </div>
  );
}
