// `npm run bench:scale [-- options]`: runs the scale run and prints its figures; exits 1 when a
// turn failed, a later turn went in full, or a session used more than one upstream socket.
import { parseArgs } from "node:util";
import { buildReport } from "./report";
import { defaultScaleOptions, runScale, type ScaleOptions } from "./scale";

const usage = `npm run bench:scale -- [options]
  --sessions N      Codex-like HTTP sessions (default ${defaultScaleOptions.sessions})
  --websockets M    Responses WebSocket sessions (default ${defaultScaleOptions.websockets})
  --turns T         turns per session (default ${defaultScaleOptions.turns})
  --think-ms MS     pause before each later turn (default ${defaultScaleOptions.thinkMs})
  --keep-alive      HTTP turns on pooled keep-alive connections (default: a new connection per turn)
  --ramp-ms MS      start the sessions spread over this long (default ${defaultScaleOptions.rampMs}: all at once)
  --concurrency C   run the sessions C at a time (default: all at once)
  --deadline-ms MS  a turn not ended after this is an error (default ${defaultScaleOptions.deadlineMs})
  --idle-ms MS      sessions left idle this long before workerd's memory is read (default ${defaultScaleOptions.idleMs})
  --collect-garbage collect the isolate's garbage before reading its heap (a heap snapshot: slow)
  --url URL         drive a gateway already running (npm start) instead: checks what the clients see
  --key KEY         its gateway key (default: none, for an open gateway)`;

function count(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`--${name} must be a whole number ≥ 0`);
  return parsed;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      sessions: { type: "string" }, websockets: { type: "string" }, turns: { type: "string" }, "ramp-ms": { type: "string" }, "think-ms": { type: "string" }, "keep-alive": { type: "boolean" }, concurrency: { type: "string" }, url: { type: "string" }, key: { type: "string" },
      "deadline-ms": { type: "string" }, "idle-ms": { type: "string" }, "collect-garbage": { type: "boolean" }, help: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const options: ScaleOptions = {
    sessions: count(values.sessions, "sessions", defaultScaleOptions.sessions),
    websockets: count(values.websockets, "websockets", defaultScaleOptions.websockets),
    turns: count(values.turns, "turns", defaultScaleOptions.turns),
    rampMs: count(values["ramp-ms"], "ramp-ms", defaultScaleOptions.rampMs),
    thinkMs: count(values["think-ms"], "think-ms", defaultScaleOptions.thinkMs),
    keepAlive: values["keep-alive"] ?? defaultScaleOptions.keepAlive,
    concurrency: count(values.concurrency, "concurrency", defaultScaleOptions.concurrency),
    url: values.url,
    key: values.key,
    deadlineMs: count(values["deadline-ms"], "deadline-ms", defaultScaleOptions.deadlineMs),
    idleMs: count(values["idle-ms"], "idle-ms", defaultScaleOptions.idleMs),
    collectGarbage: values["collect-garbage"] ?? false,
    progress: (line) => process.stderr.write(`${line}\n`),
  };
  if (options.turns < 1 || options.sessions + options.websockets < 1) throw new Error("at least one session of at least one turn");
  const report = buildReport(await runScale(options));
  console.log(report.text);
  return report.failed ? 1 : 0;
}

main().then(
  // Not process.exit(): Miniflare removes its temporary folder (a SQLite file per session
  // object) after dispose() returns; the timer ends the process if anything else holds it.
  (code) => {
    process.exitCode = code;
    setTimeout(() => process.exit(code), 10_000).unref();
  },
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    console.error(usage);
    process.exit(2);
  },
);
