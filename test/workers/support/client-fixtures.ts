// The captured client requests in ../shared/fixtures/clients, loaded as raw text inside workerd.
import codexToolRequest1 from "../../../../shared/fixtures/clients/codex-http-tool-req1.json?raw";
import codexToolRequest2 from "../../../../shared/fixtures/clients/codex-http-tool-req2-function_call_output.json?raw";
import codexTurn1 from "../../../../shared/fixtures/clients/codex-http-turn1-request.json?raw";
import codexWebSocketWarmUp from "../../../../shared/fixtures/clients/codex-ws-msg1-prewarm-generate-false.json?raw";
import codexWebSocketTurn from "../../../../shared/fixtures/clients/codex-ws-msg2-turn-previous_response_id.json?raw";

const captures = { codexToolRequest1, codexToolRequest2, codexTurn1, codexWebSocketWarmUp, codexWebSocketTurn };

/** A captured request body (a fresh copy each call). */
export function capturedBody(name: keyof typeof captures): Record<string, unknown> {
  const capture = JSON.parse(captures[name]) as { body: Record<string, unknown> };
  const { type: _type, ...body } = capture.body;
  return body;
}
