// The short chaos soak (docs/reliability.md): the same driver as `npm run soak`, ≥ 500 turns with
// a fixed seed, one test per fault kind so that a failing kind is named. Expected to fail until
// the session defects of issue 10 are fixed; `npm run soak -- --faults <kind>` checks one kind.
import { beforeAll, describe, expect, it } from "vitest";
import { faultKinds, type TurnKind } from "../soak/fault-kinds";
import { describeFindings } from "../soak/report";
import { defaultSoakOptions, reproduceCommand, runSoak, shortSoakOptions, type SoakResult } from "../soak/soak";

const options = { ...defaultSoakOptions, ...shortSoakOptions };
const none = { hung: 0, "bad terminal": 0, foreign: 0, poisoned: 0, "gateway errors": 0 };
let result: SoakResult;

beforeAll(async () => {
  result = await runSoak(options);
}, 120_000);

describe(`chaos soak, ${options.turns} turns, seed ${options.seed}`, () => {
  it("ran every planned turn, with no error in the harness itself", () => {
    expect(result.harnessErrors).toEqual([]);
    expect(result.records.length).toBeGreaterThanOrEqual(500);
  });

  it.each<TurnKind>(["none", ...faultKinds])("%s: no hung turn, bad terminal, foreign response, poisoned session or gateway error", (kind) => {
    const findings = result.report.findings.filter((finding) => finding.record?.attributedTo === kind);
    expect(result.report.byKind[kind] ?? none, describeFindings(findings, reproduceCommand(options), 2)).toEqual(none);
  });

  it("the Worker logged no error outside a turn", () => {
    const findings = result.report.findings.filter((finding) => finding.record === undefined);
    expect(result.report.byKind["worker log, no turn"] ?? none, describeFindings(findings, reproduceCommand(options))).toEqual(none);
  });
});
