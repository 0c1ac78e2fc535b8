// The captured client requests in test/fixtures/clients (see its README), loaded as raw text
// inside workerd.
import codexToolRequest1 from "../../fixtures/clients/codex-http-tool-req1.json?raw";
import codexToolRequest2 from "../../fixtures/clients/codex-http-tool-req2-function_call_output.json?raw";
import codexTurn1 from "../../fixtures/clients/codex-http-turn1-request.json?raw";
import codexWebSocketWarmUp from "../../fixtures/clients/codex-ws-msg1-prewarm-generate-false.json?raw";
import codexWebSocketTurn from "../../fixtures/clients/codex-ws-msg2-turn-previous_response_id.json?raw";

import claudeTurn1 from "../../fixtures/clients/claude-messages-turn1.json?raw";
import claudeTurn2 from "../../fixtures/clients/claude-messages-continue-turn2.json?raw";
import claudeToolResult from "../../fixtures/clients/claude-messages-tool_result.json?raw";
import claudeSonnet from "../../fixtures/clients/claude-messages-sonnet-4-5.json?raw";
import claudeNonStreaming from "../../fixtures/clients/claude-messages-nonstreaming-fallback.json?raw";
import claudeAuthToken from "../../fixtures/clients/claude-messages-auth-token.json?raw";

const captures = {
  codexToolRequest1,
  codexToolRequest2,
  codexTurn1,
  codexWebSocketWarmUp,
  codexWebSocketTurn,
  claudeTurn1,
  claudeTurn2,
  claudeToolResult,
  claudeSonnet,
  claudeNonStreaming,
  claudeAuthToken,
};

export type CaptureName = keyof typeof captures;
export const claudeCaptures: CaptureName[] = ["claudeTurn1", "claudeTurn2", "claudeToolResult", "claudeSonnet", "claudeNonStreaming", "claudeAuthToken"];

/** A captured request's headers. */
export function capturedHeaders(name: CaptureName): Record<string, string> {
  return (JSON.parse(captures[name]) as { headers: Record<string, string> }).headers;
}

/** A captured request body (a fresh copy each call). */
export function capturedBody(name: keyof typeof captures): Record<string, unknown> {
  const capture = JSON.parse(captures[name]) as { body: Record<string, unknown> };
  const { type: _type, ...body } = capture.body;
  return body;
}
