// `npm run soak [-- options]`: runs the chaos soak and prints its tables and findings; exits 1
// when any turn hung, any stream lacked exactly one terminal event, a foreign response reached a
// client, a session was poisoned or the gateway erred. See docs/reliability.md.
import { parseArgs } from "node:util";
import { faultKinds, paths, type FaultKind, type Path } from "./fault-kinds";
import { defaultSoakOptions, runSoak, shortSoakOptions, type SoakOptions } from "./soak";

const usage = `npm run soak -- [options]
  --turns N               turns to run (default ${defaultSoakOptions.turns})
  --seed S                seed of the plan: same seed, same conversations and faults (default ${defaultSoakOptions.seed})
  --concurrency C         conversations at once (default ${defaultSoakOptions.concurrency})
  --faults a,b,…          fault kinds to inject (default all): ${faultKinds.join(", ")}
  --paths a,b,…           client paths (default all): ${paths.join(", ")}
  --only c1,c2,…          only these conversations of the plan (a finding's "repro" line)
  --fault-rate P          probability that a turn which may carry a fault does (default ${defaultSoakOptions.faultRate})
  --idle-ms MS            the Worker's STREAM_IDLE_TIMEOUT_MS (default ${defaultSoakOptions.idleTimeoutMs})
  --deadline-ms MS        a turn not ended after this is hung (default ${defaultSoakOptions.deadlineMs})
  --upstream-transport T  the Worker's UPSTREAM_TRANSPORT for sessions: websocket or http (default: the gateway's)
  --examples N            findings shown per group (default ${defaultSoakOptions.examples})
  --direct                the clients talk to the fake upstream itself (no gateway): shows that the
                          harness sees each fault; use with --paths stateless,http-session,client-websocket
  --worker-log            print every line the Worker wrote (with --only: that conversation's whole log)
  --short                 the short soak of npm test (${shortSoakOptions.turns} turns, seed ${shortSoakOptions.seed})`;

function list<Name extends string>(value: string | undefined, known: readonly Name[], what: string): Name[] | undefined {
  if (value === undefined) return undefined;
  const names = value.split(",").map((name) => name.trim()).filter(Boolean);
  const unknown = names.filter((name) => !known.includes(name as Name) && name !== "none");
  if (unknown.length > 0) throw new Error(`unknown ${what}: ${unknown.join(", ")}`);
  return names.filter((name): name is Name => known.includes(name as Name));
}

function number(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0) throw new Error(`--${name} must be a number ≥ 0`);
  return parsed;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      turns: { type: "string" }, seed: { type: "string" }, concurrency: { type: "string" }, faults: { type: "string" },
      paths: { type: "string" }, only: { type: "string" }, "fault-rate": { type: "string" }, "idle-ms": { type: "string" },
      "deadline-ms": { type: "string" }, "upstream-transport": { type: "string" }, examples: { type: "string" },
      short: { type: "boolean" }, direct: { type: "boolean" }, "worker-log": { type: "boolean" }, help: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const transport = values["upstream-transport"];
  if (transport !== undefined && transport !== "websocket" && transport !== "http") throw new Error("--upstream-transport must be websocket or http");
  const given: Partial<SoakOptions> = {
    ...(values.short ? shortSoakOptions : {}),
    turns: number(values.turns, "turns"),
    seed: number(values.seed, "seed"),
    concurrency: number(values.concurrency, "concurrency"),
    faults: list<FaultKind>(values.faults, faultKinds, "fault kinds"),
    paths: list<Path>(values.paths, paths, "paths"),
    only: values.only?.split(",").map((id) => id.trim()),
    faultRate: number(values["fault-rate"], "fault-rate"),
    idleTimeoutMs: number(values["idle-ms"], "idle-ms"),
    deadlineMs: number(values["deadline-ms"], "deadline-ms"),
    upstreamTransport: transport,
    examples: number(values.examples, "examples"),
    direct: values.direct,
    printWorkerLog: values["worker-log"],
  };
  const options: SoakOptions = { ...defaultSoakOptions, ...(values.short ? shortSoakOptions : {}) };
  for (const [key, value] of Object.entries(given)) if (value !== undefined) (options as unknown as Record<string, unknown>)[key] = value;
  options.progress = (line) => process.stderr.write(`${line}\n`);
  process.stderr.write(`soak: seed ${options.seed}, ${options.turns} turns, concurrency ${options.concurrency}\n`);
  const result = await runSoak(options);
  console.log(result.text);
  return result.report.failed || result.harnessErrors.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    console.error(usage);
    process.exit(2);
  },
);
