// Fake OpenAI Responses API / ChatGPT Codex backend for end-to-end tests and the benchmark.
// Implementation lives in ./fake-upstream/; see server.ts for the API and scenarios.ts for the catalogue.
export { fakeAccessToken, fakeChatGptSeed, fakeIdToken, fakeRefreshToken, startFakeUpstream } from "./fake-upstream/server.js";
export type { FakeUpstream, FakeUpstreamOptions, RecordedRequest, TokenFailure } from "./fake-upstream/server.js";
export { SCENARIO_NAMES } from "./fake-upstream/scenarios.js";
export type { Scenario, ScenarioName, ScenarioObject } from "./fake-upstream/scenarios.js";
