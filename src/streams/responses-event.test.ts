import { describe, expect, it } from "vitest";
import { eventFromData, eventPayload } from "./responses-event";

describe("eventFromData", () => {
  it("reads a leading type from the text without parsing the rest", () => {
    const data = '{"type":"response.created","response":{"id":"resp_1","tools":[' + "{},".repeat(1000) + "{}]}}";
    const event = eventFromData(data, "unknown");
    expect(event.type).toBe("response.created");
    expect(event.payload).toBeUndefined();
    expect((eventPayload(event).response as { id: string }).id).toBe("resp_1");
  });

  it("parses when type is not first, is escaped, or is missing", () => {
    expect(eventFromData('{"sequence_number":3,"type":"response.output_text.delta"}', "unknown").type).toBe("response.output_text.delta");
    expect(eventFromData('{"type":"odd\\"name","x":1}', "unknown").type).toBe('odd"name');
    expect(eventFromData('{"delta":"x"}', "message").type).toBe("message");
    expect(eventFromData("not json", "unknown").type).toBe("unknown");
    expect(eventFromData('{ "type" : "spaced" }', "unknown").type).toBe("spaced");
  });
});
