/**
 * Usage over the chosen days: the totals (requests, tokens, estimated cost, errors, sessions),
 * a chart per key and per model, and the same split as tables. The range and the charted metric
 * are links (`?days=30&metric=cost`), so the page needs no script to switch them.
 */
import { formatCost, formatCount, formatShort } from "./format";
import type { Dashboard, DashboardQuery, GroupedUsage, Metric, SeriesPoint, TeamData } from "./dashboard-data";
import { keyLabeller, metricValue } from "./dashboard-data";
import { UsageChart, type ChartPoint } from "./usage-chart";
import { maxGroups, maxSeriesPoints } from "../../../team/usage-queries";

const metricNames: Record<Metric, { label: string; unit: string }> = {
  tokens: { label: "Tokens", unit: "tokens" },
  requests: { label: "Requests", unit: "requests" },
  cost: { label: "Estimated cost", unit: "US dollars" },
};

export function UsageSection(props: { dashboard: Dashboard; team: TeamData }) {
  const { query, days } = props.dashboard;
  const { totals, sessions } = props.team;
  const labelOfKey = keyLabeller(props.team.keys);
  const metric = metricNames[query.metric];
  // Costs are kept in millionths of a dollar, and written as dollars; counts as they are, with their unit.
  const formatValue = query.metric === "cost" ? formatCost : undefined;
  const formatAxis = query.metric === "cost" ? (value: number) => `$${formatShort(value / 1_000_000)}` : formatShort;
  const points = (series: SeriesPoint[]): ChartPoint[] => series.map((point) => ({ day: point.bucket, group: point.group, value: metricValue(query.metric, point) }));
  return (
    <section id="usage">
      <div class="section-head">
        <h2>
          Usage, last {query.days} days <span class="muted">(UTC, {days[0]} to {days[days.length - 1]})</span>
        </h2>
        <Choices label="Days" current={query} options={[7, 30].map((days) => ({ query: { ...query, days: days as 7 | 30 }, text: `${days} days`, chosen: query.days === days }))} />
        <Choices
          label="Chart"
          current={query}
          options={(Object.keys(metricNames) as Metric[]).map((name) => ({ query: { ...query, metric: name }, text: metricNames[name].label.toLowerCase(), chosen: query.metric === name }))}
        />
      </div>
      <div class="totals" id="usage-totals">
        <Total label="Requests" value={formatCount(totals.requests)} detail={`${formatCount(sessions.session_requests)} in sessions`} name="requests" />
        <Total label="Input tokens" value={formatCount(totals.input_tokens)} detail={`${formatCount(totals.cached_tokens)} cached`} name="input_tokens" />
        <Total label="Output tokens" value={formatCount(totals.output_tokens)} detail={`${formatCount(totals.reasoning_tokens)} reasoning`} name="output_tokens" />
        <Total label="Estimated cost" value={formatCost(totals.cost_micro_usd)} detail="from the price table" name="cost" />
        <Total label="Errors" value={formatCount(totals.errors)} detail={`of ${formatCount(totals.requests)} requests`} name="errors" />
        <Total label="Sessions" value={formatCount(sessions.sessions)} detail="with a turn in the range" name="sessions" />
      </div>
      <div class="charts">
        <UsageChart title={`${metric.label} per day, by key`} unit={metric.unit} days={days} points={points(props.team.seriesByKey)} labelOf={labelOfKey} formatValue={formatValue} formatAxis={formatAxis} />
        <UsageChart title={`${metric.label} per day, by model`} unit={metric.unit} days={days} points={points(props.team.seriesByModel)} labelOf={(model) => model || "(none)"} formatValue={formatValue} formatAxis={formatAxis} />
      </div>
      {props.team.truncated ? (
        <p class="muted" id="usage-truncated">
          More keys or models than these tables and charts hold: they show the busiest {formatCount(maxGroups)} and the latest {formatCount(maxSeriesPoints)} points; the totals above count everything.
        </p>
      ) : null}
      <div class="charts">
        <GroupTable title="By key" heading="Key" rows={props.team.byKey} labelOf={labelOfKey} id="usage-by-key" />
        <GroupTable title="By model (upstream)" heading="Model" rows={props.team.byModel} labelOf={(model) => model || "(none)"} id="usage-by-model" />
      </div>
    </section>
  );
}

function Total(props: { label: string; value: string; detail: string; name: string }) {
  return (
    <div class="total" data-total={props.name}>
      <span class="label">{props.label}</span>
      <span class="value">{props.value}</span>
      <span class="detail">{props.detail}</span>
    </div>
  );
}

interface Choice {
  query: DashboardQuery;
  text: string;
  chosen: boolean;
}

function Choices(props: { label: string; current: DashboardQuery; options: Choice[] }) {
  return (
    <span class="choices">
      <span class="muted">{props.label}:</span>
      {props.options.map((option) => (option.chosen ? <strong>{option.text}</strong> : <a href={`/admin?days=${option.query.days}&metric=${option.query.metric}#usage`}>{option.text}</a>))}
    </span>
  );
}

function GroupTable(props: { title: string; heading: string; rows: GroupedUsage[]; labelOf(group: string): string; id: string }) {
  return (
    <div>
      <h3>{props.title}</h3>
      <div class="table-wrap">
        <table id={props.id}>
          <thead>
            <tr>
              <th>{props.heading}</th>
              <th class="number">Requests</th>
              <th class="number">Errors</th>
              <th class="number">Input</th>
              <th class="number">Cached</th>
              <th class="number">Output</th>
              <th class="number">Reasoning</th>
              <th class="number">Cost</th>
            </tr>
          </thead>
          <tbody>
            {props.rows.length === 0 ? (
              <tr>
                <td colspan={8} class="muted">
                  No requests in this range.
                </td>
              </tr>
            ) : (
              props.rows.map((row) => (
                <tr>
                  <td>{props.labelOf(row.group)}</td>
                  <td class="number">{formatCount(row.requests)}</td>
                  <td class="number">{formatCount(row.errors)}</td>
                  <td class="number">{formatCount(row.input_tokens)}</td>
                  <td class="number">{formatCount(row.cached_tokens)}</td>
                  <td class="number">{formatCount(row.output_tokens)}</td>
                  <td class="number">{formatCount(row.reasoning_tokens)}</td>
                  <td class="number">{formatCost(row.cost_micro_usd)}</td>
                </tr>
              ))
            )}
          </tbody>
        </table>
      </div>
    </div>
  );
}
