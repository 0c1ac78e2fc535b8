// Everything the Worker printed during the soak (its stdout and stderr under workerd): the
// request log lines, indexed by request id so that a turn's lines can be shown with it, and the
// lines that are gateway errors by themselves (an `internal` error, "unhandled error", an
// uncaught exception in the runtime).

export interface LogLine {
  stream: "stdout" | "stderr";
  text: string;
  json: Record<string, unknown> | undefined;
  at: number;
}

/** Kinds the gateway gives failures of its own (errors/gateway-error.ts), never an upstream's. */
const ownFailureKinds = new Set(["internal", "configuration"]);

/**
 * The runtime's notes that a client went away while workerd wrote to it (the soak's clients
 * leave mid-turn on purpose): not the gateway's errors. Listed in the report, not counted.
 */
const clientGonePatterns = [/disconnected: ::write\(.*\): (Broken pipe|Connection reset by peer)/, /disconnected: ::writev?\(/];

export class WorkerLog {
  readonly lines: LogLine[] = [];
  readonly #byRequestId = new Map<string, LogLine[]>();

  readonly add = (stream: "stdout" | "stderr", text: string): void => {
    if (text.trim() === "") return;
    let json: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) json = parsed as Record<string, unknown>;
    } catch {
      json = undefined;
    }
    const line = { stream, text, json, at: Date.now() };
    this.lines.push(line);
    const requestId = typeof json?.request_id === "string" ? json.request_id : undefined;
    if (requestId) this.#byRequestId.set(requestId, [...(this.#byRequestId.get(requestId) ?? []), line]);
  };

  forRequest(requestId: string | undefined): LogLine[] {
    return requestId ? (this.#byRequestId.get(requestId) ?? []) : [];
  }

  /** Why a line is a gateway error by itself, or undefined. */
  static problem(line: LogLine): string | undefined {
    const json = line.json;
    if (json) {
      if (json.level === "error") return `error line: ${String(json.message ?? "")} ${String(json.error ?? "")}`.trim();
      if (typeof json.error === "string" && ownFailureKinds.has(json.error)) return `request failed with '${json.error}' (${String(json.route)}, ${String(json.status)})`;
      if (/unhandled/i.test(String(json.message ?? ""))) return `unhandled: ${String(json.message)}`;
      return undefined;
    }
    // Not one of the gateway's own lines: the runtime's (uncaught exceptions, internal errors).
    if (WorkerLog.clientGone(line)) return undefined;
    if (/uncaught|unhandled|internal error|exception|error/i.test(line.text)) return `runtime: ${line.text.slice(0, 200)}`;
    return undefined;
  }

  static clientGone(line: LogLine): boolean {
    return !line.json && clientGonePatterns.some((pattern) => pattern.test(line.text));
  }

  problems(): { line: LogLine; problem: string }[] {
    return this.lines.flatMap((line) => {
      const problem = WorkerLog.problem(line);
      return problem ? [{ line, problem }] : [];
    });
  }

  /** Warning lines by message, and the runtime's client-gone notes (not counted: shown so that nothing is hidden). */
  warnings(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const line of this.lines) {
      if (WorkerLog.clientGone(line)) {
        const message = `runtime: a client went away while workerd wrote to it (${line.text.replace(/^.*disconnected: /, "").slice(0, 80)})`;
        counts.set(message, (counts.get(message) ?? 0) + 1);
      }
      if (line.json?.level !== "warn") continue;
      const message = `${String(line.json.message ?? "")}${line.json.error ? ` (${String(line.json.error)})` : ""}`;
      counts.set(message, (counts.get(message) ?? 0) + 1);
    }
    return counts;
  }
}
