import { describe, expect, it } from "vitest";
import { formatCost, formatShort } from "./format";
import { keyFields } from "./key-form";
import { axisOf, UsageChart } from "./usage-chart";

const days = ["2026-05-01", "2026-05-02", "2026-05-03"];

async function render(points: { day: string; group: string; value: number }[]): Promise<string> {
  return String(await UsageChart({ title: "Tokens per day, by key", unit: "tokens", days, points, labelOf: (group) => `name of ${group}` }));
}

describe("the usage chart", () => {
  it("stacks each day's groups into one bar, labels the axis and the days, and says the numbers on hover", async () => {
    const svg = await render([
      { day: "2026-05-01", group: "a", value: 300 },
      { day: "2026-05-01", group: "b", value: 100 },
      { day: "2026-05-03", group: "a", value: 50 },
    ]);
    expect(svg.match(/<rect /g)).toHaveLength(3);
    expect(svg).toContain("<title>2026-05-01 · name of a: 300 tokens</title>");
    expect(svg).toContain(">05-02</text>");
    // Gridlines every 100 up to the busiest day (400).
    expect(svg).toContain(">400</text>");
    expect(svg).toContain(">100</text>");
    expect(svg).toContain('class="swatch c0"></span>name of a');
  });

  it("sums the groups past the seventh as 'other', and escapes the names", async () => {
    const points = Array.from({ length: 10 }, (_, index) => ({ day: "2026-05-02", group: `<g${index}>`, value: 100 - index }));
    const svg = await render(points);
    expect(svg).toContain("other");
    expect(svg.match(/class="swatch/g)).toHaveLength(8);
    expect(svg).toContain("name of &lt;g0&gt;");
    expect(svg).not.toContain("<g0>");
  });

  it("says so when there is nothing to draw", async () => {
    expect(await render([])).toContain("No requests in this range");
  });

  it("puts gridlines at round numbers, and writes numbers short", () => {
    expect([0, 3, 10, 11, 64, 250, 30_000, 999_999].map(axisOf)).toEqual([
      { top: 0, step: 0 },
      { top: 3, step: 1 },
      { top: 10, step: 5 },
      { top: 15, step: 5 },
      { top: 80, step: 20 },
      { top: 300, step: 100 },
      { top: 30_000, step: 10_000 },
      { top: 1_000_000, step: 500_000 },
    ]);
    expect([0, 12.5, 1_250, 2_500_000, 0.0025].map(formatShort)).toEqual(["0", "12.5", "1.3k", "2.5M", "0.0025"]);
    expect([0, 290, 1_234_567, 250_000_000].map(formatCost)).toEqual(["$0", "$0.00029", "$1.23", "$250"]);
  });
});

describe("the key forms", () => {
  it("read comma-separated models, empty limits as none, and thousands separators", () => {
    expect(keyFields({ name: " alice ", models: "gpt-5.5, claude-* ,", requests_per_minute: "1,000", tokens_per_day: "", concurrent_streams: "two" })).toEqual({
      name: "alice",
      models: ["gpt-5.5", "claude-*"],
      limits: { requests_per_minute: 1000, concurrent_streams: Number.NaN },
    });
    expect(keyFields({ name: "bob", models: "" })).toEqual({ name: "bob", models: null, limits: {} });
  });
});
