// The request's log line for a stream is written just after the stream settles, not inside the
// settle: the terminal event being handed on must not wait for the line and its accounting.
import { afterEach, describe, expect, it, vi } from "vitest";
import { RequestLog } from "./request-log";

afterEach(() => {
  vi.restoreAllMocks();
});

/** The lines console.log writes from now on, and the promises a request is kept alive for. */
function capture(): { lines: string[]; kept: Promise<unknown>[]; keepAlive: (promise: Promise<unknown>) => void } {
  const lines: string[] = [];
  vi.spyOn(console, "log").mockImplementation((line: string) => void lines.push(line));
  const kept: Promise<unknown>[] = [];
  return { lines, kept, keepAlive: (promise) => void kept.push(promise) };
}

describe("the log line of a stream", () => {
  it("is written after the settle returns, and the request is kept alive until it is", async () => {
    const { lines, kept, keepAlive } = capture();
    const log = new RequestLog("req-1", keepAlive);
    const accounted: string[] = [];
    log.onWritten((line) => accounted.push(line.request_id));
    log.deferToStreamEnd();
    log.streamSettled();
    expect(lines).toEqual([]);
    expect(accounted).toEqual([]);
    expect(kept).toHaveLength(1);
    await kept[0];
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "info", request_id: "req-1" });
    expect(accounted).toEqual(["req-1"]);
  });

  it("is written once, even if the stream settles again or the line was written already", async () => {
    const { lines, kept, keepAlive } = capture();
    const log = new RequestLog(undefined, keepAlive);
    log.deferToStreamEnd();
    log.streamSettled();
    log.streamSettled();
    await Promise.all(kept);
    log.write();
    expect(lines).toHaveLength(1);
  });

  it("without a stream, is not the settle's to write", async () => {
    const { lines, kept, keepAlive } = capture();
    const log = new RequestLog(undefined, keepAlive);
    log.streamSettled();
    expect(kept).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 1));
    expect(lines).toEqual([]);
  });
});
