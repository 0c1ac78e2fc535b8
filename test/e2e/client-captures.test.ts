// The committed client captures (test/fixtures/clients, made by scripts/capture-clients.sh) are
// neutral and self-consistent, whoever remade them: no machine paths or real ids, fake keys
// only, and one session keeps one id across its turns.
import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const folder = new URL("../fixtures/clients/", import.meta.url);
const names = readdirSync(folder).filter((name) => name.endsWith(".json") && name !== "sequences.json");
const text = (name: string) => readFileSync(new URL(name, folder), "utf8");
const capture = (name: string) => JSON.parse(text(name)) as { kind: string; headers?: Record<string, string>; body: Record<string, unknown> };
const uuids = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

describe("the committed client captures", () => {
  it("are all there, and sequences.json lists each of them", () => {
    const sequences = JSON.parse(text("sequences.json")) as Record<string, { file: string | null }[]>;
    const listed = Object.values(sequences).flatMap((entries) => entries.map((entry) => entry.file).filter(Boolean));
    expect([...listed].sort()).toEqual([...names].sort());
    expect(names.filter((name) => name.startsWith("codex-")).length).toBeGreaterThanOrEqual(9);
    expect(names.filter((name) => name.startsWith("claude-")).length).toBeGreaterThanOrEqual(6);
    expect(names.filter((name) => name.startsWith("opencode-")).length).toBeGreaterThanOrEqual(1);
  });

  it.each(names)("%s names no machine, person or real id", (name) => {
    const content = text(name);
    for (const uuid of content.match(uuids) ?? []) expect(uuid).toMatch(/^00000000-0000-4000-8000-\d{12}$/);
    // `/tmp/opencode` is opencode's own scratch folder ($TMPDIR/opencode), which it names to the model.
    expect(content).not.toMatch(/\/tmp\/(?!opencode`)|turnpike-(codex|claude|opencode)\.|\/root\b(?!>)/);
    const headers = capture(name).headers ?? {};
    if (headers.authorization) expect(headers.authorization).toMatch(/^Bearer (sk-fake-codex-key|fake-claude-auth-token|sk-fake-opencode-key)$/);
    if (headers["x-api-key"]) expect(headers["x-api-key"]).toBe("sk-ant-fake-claude-key");
  });

  it("keep one id per session across its turns, and another per session", () => {
    const codexSession = (name: string) => capture(name).headers!["session-id"];
    expect(new Set(["codex-http-tool-req1.json", "codex-http-tool-req2-function_call_output.json", "codex-http-resume-turn2.json"].map(codexSession)).size).toBe(1);
    expect(codexSession("codex-http-turn1-request.json")).not.toBe(codexSession("codex-http-tool-req1.json"));
    expect(capture("codex-ws-msg2-turn-previous_response_id.json").body.prompt_cache_key).toBe(codexSession("codex-ws-handshake.json"));

    const claudeSession = (name: string) => capture(name).headers!["x-claude-code-session-id"];
    const userId = (name: string) => JSON.parse((capture(name).body.metadata as { user_id: string }).user_id) as { session_id: string };
    expect(claudeSession("claude-messages-continue-turn2.json")).toBe(claudeSession("claude-messages-turn1.json"));
    expect(userId("claude-messages-turn1.json").session_id).toBe(claudeSession("claude-messages-turn1.json"));
    expect(claudeSession("claude-messages-tool_result.json")).not.toBe(claudeSession("claude-messages-turn1.json"));

    const opencodeHeaders = capture("opencode-chat-tool-result.json").headers!;
    expect(opencodeHeaders["x-session-id"]).toMatch(/^ses_\d{26}$/);
    expect(opencodeHeaders["x-session-affinity"]).toBe(opencodeHeaders["x-session-id"]);
  });
});
