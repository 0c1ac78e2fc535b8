// Replaces what identifies the machine, the person or the moment in a captured request with
// neutral values, the same value for the same original everywhere in one capture run (a session
// id is the same neutral id in every turn of its session, in headers and bodies alike):
//
// - the clients' throwaway folders (scripts/try-*.sh make them under one temporary root):
//   work → /home/user/project, home → /home/user, CODEX_HOME → /home/user/.codex,
//   CLAUDE_CONFIG_DIR → /home/user/.claude, opencode's XDG_CONFIG_HOME → /home/user/.config;
//   Claude Code's dash-encoded project folder names too;
// - the real home folder (Codex reads it from the password database despite HOME), the host
//   name, the user name, the kernel release;
// - UUIDs (session, thread, turn, installation, message ids) → 00000000-0000-4000-8000-…N;
// - 64-hex device ids → 000…N; opencode's session ids (ses_ + 26 characters) → ses_000…N;
// - Unix timestamps (ms and s) taken during the run → the same offsets from 2026-01-01, and the
//   run's calendar date → 2026-01-01 (and in opencode's `Tue Dec 01 2026` form → `Thu Jan 01 2026`);
// - credentials in headers → obviously fake keys.
import os from "node:os";

const neutralDate = "2026-01-01";
const neutralDateString = "Thu Jan 01 2026"; // Date.prototype.toDateString() of neutralDate
const neutralEpochMs = Date.UTC(2026, 0, 1);
const neutralKernel = "6.1.0";
const neutralHost = "127.0.0.1:8787"; // the gateway's default address (wrangler.toml [dev])
// Not `\b`: ids such as `msg_<uuid>` put a word character right before the UUID.
const uuidPattern = /(?<![0-9a-z])[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?![0-9a-z])/gi;
const deviceIdPattern = /(?<![0-9a-z])[0-9a-f]{64}(?![0-9a-z])/g;
// opencode's ids: a prefix, 12 hex digits from the clock, 14 random base62 characters.
const opencodeSessionIdPattern = /\bses_[0-9a-f]{12}[0-9A-Za-z]{14}\b/g;
const neutralOpencodeSessionId = /^ses_\d{26}$/;
const neutralUuid = /^00000000-0000-4000-8000-\d{12}$/;

/** The header values that carry credentials, and the fake ones they become. */
export const fakeCredentials = {
  codex: "Bearer sk-fake-codex-key",
  anthropicApiKey: "sk-ant-fake-claude-key",
  anthropicAuthToken: "Bearer fake-claude-auth-token",
  opencode: "Bearer sk-fake-opencode-key",
};

/**
 * @param {{ clientsRoot: string, startedMs: number, endedMs: number }} run
 *   clientsRoot: the folder the try scripts made their throwaway folders in (their TMPDIR);
 *   startedMs/endedMs: when the run began and ended, to recognise its timestamps.
 */
export function createNeutraliser(run) {
  const uuids = new Map();
  const deviceIds = new Map();
  const opencodeSessionIds = new Map();
  const dates = new Set([run.startedMs, run.endedMs].map((ms) => new Date(ms).toISOString().slice(0, 10)));
  // The client and this script run on one machine, so in one time zone.
  const dateStrings = new Set([run.startedMs, run.endedMs].map((ms) => new Date(ms).toDateString()));
  const windowMs = [run.startedMs - 3_600_000, run.endedMs + 3_600_000];
  const root = escape(run.clientsRoot);
  const dashedRoot = escape(run.clientsRoot.replace(/[/.]/g, "-"));
  const folders = {
    work: "/home/user/project",
    home: "/home/user",
    "codex-home": "/home/user/.codex",
    "claude-config": "/home/user/.claude",
    config: "/home/user/.config",
  };
  const home = escape(os.homedir());
  const hostname = os.hostname();
  const kernel = os.release();

  const rules = [
    [new RegExp(`${root}/turnpike-(?:codex|claude|opencode)\\.[A-Za-z0-9]+/(work|home|codex-home|claude-config|config)`, "g"), (_, folder) => folders[folder]],
    [new RegExp(`${dashedRoot}-turnpike-(?:codex|claude|opencode)-[A-Za-z0-9]+-(work|home|codex-home|claude-config|config)`, "g"), (_, folder) => folders[folder].replace(/[/.]/g, "-")],
    [new RegExp(root, "g"), () => "/tmp"],
    // Not `</root>` (an XML closing tag in Codex's environment context), only the path.
    [new RegExp(`(?<![<\\w])${home}(?![\\w.-])`, "g"), () => "/home/user"],
    [uuidPattern, (uuid) => mapped(uuids, uuid.toLowerCase(), (index) => `00000000-0000-4000-8000-${String(index).padStart(12, "0")}`)],
    [deviceIdPattern, (id) => mapped(deviceIds, id, (index) => String(index).padStart(64, "0"))],
    [opencodeSessionIdPattern, (id) => mapped(opencodeSessionIds, id, (index) => `ses_${String(index).padStart(26, "0")}`)],
    [/(?<!\d)\d{13}(?!\d)/g, (digits) => shiftedTimestamp(Number(digits), 1) ?? digits],
    [/(?<!\d)\d{10}(?!\d)/g, (digits) => shiftedTimestamp(Number(digits), 1000) ?? digits],
  ];
  if (kernel) rules.push([new RegExp(escape(kernel), "g"), () => neutralKernel]);
  if (hostname.length >= 4) rules.push([new RegExp(`\\b${escape(hostname)}\\b`, "g"), () => "devbox"]);
  // "root" is also an ordinary word in the captures (`root_turn_id`, `<root>`): only other names.
  const username = os.userInfo().username;
  if (username !== "root" && username.length >= 3) rules.push([new RegExp(`\\b${escape(username)}\\b`, "g"), () => "user"]);
  for (const date of dates) rules.push([new RegExp(`\\b${date}\\b`, "g"), () => neutralDate]);
  for (const date of dateStrings) rules.push([new RegExp(`\\b${escape(date)}\\b`, "g"), () => neutralDateString]);

  function shiftedTimestamp(value, unitMs) {
    const ms = value * unitMs;
    if (ms < windowMs[0] || ms > windowMs[1]) return undefined;
    return String(Math.round((neutralEpochMs + (ms - run.startedMs)) / unitMs));
  }

  function text(value) {
    let result = value;
    for (const [pattern, replace] of rules) result = result.replace(pattern, replace);
    return result;
  }

  function value(item) {
    if (typeof item === "string") return text(item);
    if (typeof item === "number" && Number.isInteger(item)) {
      const digits = String(item);
      if (digits.length === 13) return Number(shiftedTimestamp(item, 1) ?? item);
      if (digits.length === 10) return Number(shiftedTimestamp(item, 1000) ?? item);
      return item;
    }
    if (Array.isArray(item)) return item.map(value);
    if (item && typeof item === "object") return Object.fromEntries(Object.entries(item).map(([key, entry]) => [text(key), value(entry)]));
    return item;
  }

  /** A whole capture record: headers get fixed values where they are per machine or secret. */
  function record(capture) {
    const result = value(capture);
    if (result.headers) result.headers = headers(result.headers);
    return result;
  }

  return { record, value };
}

function headers(original) {
  const result = { ...original };
  if ("host" in result) result.host = neutralHost;
  // A random nonce per handshake; RFC 6455 §1.3's example value instead.
  if ("sec-websocket-key" in result) result["sec-websocket-key"] = "dGhlIHNhbXBsZSBub25jZQ==";
  if ("x-api-key" in result) result["x-api-key"] = fakeCredentials.anthropicApiKey;
  if ("authorization" in result) {
    const userAgent = String(result["user-agent"] ?? "");
    if (userAgent.startsWith("claude-cli/")) result.authorization = fakeCredentials.anthropicAuthToken;
    else if (userAgent.startsWith("opencode/")) result.authorization = fakeCredentials.opencode;
    else result.authorization = fakeCredentials.codex;
  }
  return result;
}

/**
 * What must not be left in a neutralised capture; returns the problems found (empty when clean).
 * @param {string} serialised the capture as it will be written
 */
export function leftovers(serialised, run) {
  const problems = [];
  const forbidden = [run.clientsRoot, "turnpike-codex.", "turnpike-claude.", "turnpike-opencode.", os.release()];
  for (const needle of forbidden) if (needle && serialised.includes(needle)) problems.push(`contains ${JSON.stringify(needle)}`);
  if (new RegExp(`(?<![<\\w])${escape(os.homedir())}(?![\\w.-])`).test(serialised)) problems.push(`contains the home folder ${os.homedir()}`);
  for (const uuid of serialised.match(uuidPattern) ?? []) if (!neutralUuid.test(uuid)) problems.push(`contains the UUID ${uuid}`);
  for (const id of serialised.match(opencodeSessionIdPattern) ?? []) if (!neutralOpencodeSessionId.test(id)) problems.push(`contains the opencode session id ${id}`);
  return problems;
}

function mapped(map, key, make) {
  if (!map.has(key)) map.set(key, make(map.size + 1));
  return map.get(key);
}

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
