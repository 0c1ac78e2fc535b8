/**
 * The latest requests, newest first, as their usage rows have them: who, which protocol and
 * route, which model went to which upstream model on which account, how it ended, its tokens and
 * timings. Usage rows hold no bodies and no secrets, so neither does this table.
 */
import type { RecentRequest } from "../../../team/usage-queries";
import { formatCount, formatMilliseconds, formatShortTime } from "./format";

export function RequestsSection(props: { requests: RecentRequest[]; labelOfKey(keyId: string): string }) {
  return (
    <section id="requests">
      <div class="section-head">
        <h2>Recent requests</h2>
        <span class="muted">the last {props.requests.length === 0 ? "requests" : formatCount(props.requests.length)}, newest first; times in UTC</span>
      </div>
      <div class="table-wrap">
        <table id="recent-requests">
          <thead>
            <tr>
              <th>Time</th>
              <th>Key</th>
              <th>Protocol</th>
              <th>Route</th>
              <th>Model → upstream</th>
              <th>Account</th>
              <th class="number">Status</th>
              <th>Terminal</th>
              <th class="number">Input</th>
              <th class="number">Cached</th>
              <th class="number">Output</th>
              <th class="number">Reasoning</th>
              <th class="number">TTFB</th>
              <th class="number">Duration</th>
              <th>Turn</th>
            </tr>
          </thead>
          <tbody>
            {props.requests.length === 0 ? (
              <tr>
                <td colspan={15} class="muted">
                  No requests yet.
                </td>
              </tr>
            ) : (
              props.requests.map((request) => <RequestRow request={request} keyName={request.key_name ?? props.labelOfKey(request.key_id)} />)
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function RequestRow(props: { request: RecentRequest; keyName: string }) {
  const request = props.request;
  const failed = (request.status ?? 0) >= 400 || request.terminal === "response.failed";
  const mapped = request.upstream_model && request.upstream_model !== request.client_model;
  return (
    <tr data-request-id={String(request.id)}>
      <td>{formatShortTime(request.at)}</td>
      <td data-column="key">{props.keyName}</td>
      <td>{request.protocol}</td>
      <td>
        <code>{request.route}</code>
      </td>
      <td data-column="model">
        {request.client_model ?? "–"}
        {mapped ? <span class="muted"> → {request.upstream_model}</span> : null}
      </td>
      <td>{request.account_id ?? "–"}</td>
      <td class={failed ? "number bad" : "number"} data-column="status">
        {request.status ?? "–"}
      </td>
      <td class={request.terminal === "response.failed" ? "bad" : undefined}>{request.terminal ?? "–"}</td>
      <td class="number" data-column="input_tokens">
        {formatCount(request.input_tokens)}
      </td>
      <td class="number" data-column="cached_tokens">
        {formatCount(request.cached_tokens)}
      </td>
      <td class="number" data-column="output_tokens">
        {formatCount(request.output_tokens)}
      </td>
      <td class="number" data-column="reasoning_tokens">
        {formatCount(request.reasoning_tokens)}
      </td>
      <td class="number">{formatMilliseconds(request.ttfb_ms)}</td>
      <td class="number">{formatMilliseconds(request.duration_ms)}</td>
      <td>{request.turn ?? "–"}</td>
    </tr>
  );
}
