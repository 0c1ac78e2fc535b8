/**
 * A stacked bar chart of a usage metric per day, one colour per key or model, drawn as SVG on
 * the server: no chart library and no script in the page. Each bar segment carries a `<title>`,
 * which browsers show on hover, so the exact numbers are there without JavaScript. The busiest
 * groups get a colour each; the rest are summed as "other", so a team of many keys stays legible.
 */
import { formatCount, formatShort } from "./format";

export interface ChartPoint {
  /** The UTC day, `YYYY-MM-DD`. */
  day: string;
  group: string;
  value: number;
}

export interface UsageChartProps {
  title: string;
  /** What the value is, for the axis (and the tooltips, unless `formatValue` says it). */
  unit: string;
  days: string[];
  points: ChartPoint[];
  /** A group's name as people know it (a key's name rather than its id). */
  labelOf(group: string): string;
  /** How a value is written in tooltips and the legend. */
  formatValue?(value: number): string;
  /** How a value is written on the axis, where space is short. */
  formatAxis?(value: number): string;
}

/** Colours `.c0`–`.c6` for groups; `.c7` (grey) is "other". */
const coloured = 7;
const otherGroup = "\u0000other";

const width = 640;
const height = 240;
const margin = { top: 14, right: 12, bottom: 36, left: 64 };
const plotWidth = width - margin.left - margin.right;
const plotHeight = height - margin.top - margin.bottom;

export function UsageChart(props: UsageChartProps) {
  const format = props.formatValue ?? formatCount;
  const formatAxis = props.formatAxis ?? formatShort;
  const totals = new Map<string, number>();
  for (const point of props.points) totals.set(point.group, (totals.get(point.group) ?? 0) + point.value);
  const ranked = [...totals.entries()].filter(([, total]) => total > 0).sort((a, b) => b[1] - a[1]);
  const shown = ranked.length > coloured + 1 ? ranked.slice(0, coloured).map(([group]) => group) : ranked.map(([group]) => group);
  const colourOf = (group: string) => (group === otherGroup ? "c7" : `c${shown.indexOf(group)}`);
  const legend: [string, number][] = shown.map((group) => [group, totals.get(group) ?? 0]);
  if (ranked.length > shown.length) legend.push([otherGroup, ranked.slice(shown.length).reduce((sum, [, total]) => sum + total, 0)]);

  // Per day, the stack of segments from the bottom: busiest group first, "other" on top.
  const stacks = new Map<string, Map<string, number>>();
  for (const point of props.points) {
    if (point.value <= 0) continue;
    const group = shown.includes(point.group) ? point.group : otherGroup;
    const stack = stacks.get(point.day) ?? new Map<string, number>();
    stack.set(group, (stack.get(group) ?? 0) + point.value);
    stacks.set(point.day, stack);
  }
  const order = [...shown, otherGroup];
  const dayTotals = props.days.map((day) => [...(stacks.get(day)?.values() ?? [])].reduce((sum, value) => sum + value, 0));
  const { top, step } = axisOf(Math.max(0, ...dayTotals));
  const y = (value: number) => margin.top + plotHeight - (top === 0 ? 0 : (value / top) * plotHeight);
  const slot = plotWidth / Math.max(1, props.days.length);
  const barWidth = Math.max(2, Math.min(48, slot * 0.7));
  const labelEvery = Math.ceil(props.days.length / 10);
  const labelOf = (group: string) => (group === otherGroup ? "other" : props.labelOf(group));

  return (
    <figure>
      <figcaption>{props.title}</figcaption>
      <svg class="chart" viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${props.title}, per day`}>
        {ticksOf(top, step).map((tick) => (
          <g>
            <line class="grid" x1={margin.left} x2={width - margin.right} y1={y(tick)} y2={y(tick)} />
            <text x={margin.left - 6} y={y(tick) + 4} text-anchor="end">
              {formatAxis(tick)}
            </text>
          </g>
        ))}
        <text x={12} y={margin.top + plotHeight / 2} text-anchor="middle" transform={`rotate(-90 12 ${margin.top + plotHeight / 2})`}>
          {props.unit}
        </text>
        {props.days.map((day, index) => {
          const x = margin.left + slot * index + (slot - barWidth) / 2;
          const stack = stacks.get(day);
          let base = 0;
          return (
            <g>
              {order.map((group) => {
                const value = stack?.get(group) ?? 0;
                if (value <= 0) return null;
                const segment = (
                  <rect class={colourOf(group)} x={x} y={y(base + value)} width={barWidth} height={Math.max(1, y(base) - y(base + value))}>
                    <title>{`${day} · ${labelOf(group)}: ${format(value)}${props.formatValue ? "" : ` ${props.unit}`}`}</title>
                  </rect>
                );
                base += value;
                return segment;
              })}
              {/* The day's total over its bar, where there is room for it. */}
              {props.days.length <= 14 && (dayTotals[index] ?? 0) > 0 ? (
                <text class="bar-total" x={x + barWidth / 2} y={y(dayTotals[index] ?? 0) - 4} text-anchor="middle">
                  {formatAxis(dayTotals[index] ?? 0)}
                </text>
              ) : null}
              {index % labelEvery === 0 ? (
                <text x={margin.left + slot * index + slot / 2} y={height - margin.bottom + 16} text-anchor="middle">
                  {day.slice(5)}
                </text>
              ) : null}
            </g>
          );
        })}
        <line class="axis" x1={margin.left} x2={width - margin.right} y1={y(0)} y2={y(0)} />
        <text x={margin.left + plotWidth / 2} y={height - 4} text-anchor="middle">
          day (UTC)
        </text>
        {legend.length === 0 ? (
          <text x={margin.left + plotWidth / 2} y={margin.top + plotHeight / 2} text-anchor="middle">
            No requests in this range
          </text>
        ) : null}
      </svg>
      <ul class="legend">
        {legend.map(([group, total]) => (
          <li>
            <span class={`swatch ${colourOf(group)}`} />
            {labelOf(group)} <span class="muted">{format(total)}</span>
          </li>
        ))}
      </ul>
    </figure>
  );
}

/**
 * The axis for a busiest day of `max`: gridlines every `step`, a 1, 2 or 5 × 10ⁿ (at least 1:
 * values are counts of requests, tokens or millionths of a dollar), about four of them, and the
 * top at the first gridline at or over `max` — so that every label is a round number.
 */
export function axisOf(max: number): { top: number; step: number } {
  if (max <= 0) return { top: 0, step: 0 };
  const rough = max / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = Math.max(1, [1, 2, 5, 10].map((multiple) => multiple * power).find((candidate) => candidate >= rough) ?? 10 * power);
  return { top: step * Math.ceil(max / step), step };
}

function ticksOf(top: number, step: number): number[] {
  if (top === 0) return [0];
  return Array.from({ length: Math.round(top / step) + 1 }, (_, index) => index * step);
}
