import { describe, expect, it } from "vitest";
import { collect, streamOf } from "../../test/workers/support/recorded-streams";
import { readResponsesEvents } from "./sse-reader";

const encoder = new TextEncoder();

async function typesOf(...chunks: string[]): Promise<string[]> {
  return (await collect(readResponsesEvents(streamOf(chunks.map((chunk) => encoder.encode(chunk)))))).flat().map((event) => event.type);
}

describe("line ends at the end of the stream", () => {
  // Found by sse-reader.property.test.ts: `event: \rdata:{"type":""}\r\r` yielded nothing.
  it("a last event ended by CR CR (CR line ends) is dispatched", async () => {
    expect(await typesOf('data: {"type":"response.completed"}\r\r')).toEqual(["response.completed"]);
    expect(await typesOf('data: {"type":"response.completed"}\r', "\r")).toEqual(["response.completed"]);
    // Then a last chunk with no line end: the CR is still held when the stream ends.
    expect(await typesOf('data: {"type":"response.completed"}\r\r', "data: ")).toEqual(["response.completed"]);
  });

  it("an event whose blank line never came is still dropped, whatever its line ends", async () => {
    expect(await typesOf('data: {"type":"response.completed"}\r')).toEqual([]);
    expect(await typesOf('data: {"type":"response.completed"}\r\n')).toEqual([]);
    expect(await typesOf('data: {"type":"a"}\r\rdata: {"type":"b"}\r')).toEqual(["a"]);
  });
});

describe("the start of the stream", () => {
  // Found by sse-reader.property.test.ts: `ï»¿data: …` was read as a BOM and a data line.
  it("drops a BOM, but not the Latin-1 characters of one's bytes", async () => {
    expect(await typesOf('\uFEFFdata: {"type":"a"}\n\n')).toEqual(["a"]);
    expect(await typesOf('ï»¿data: {"type":"a"}\n\n')).toEqual([]);
    expect(await typesOf('ï»¿\ndata: {"type":"a"}\n\n')).toEqual(["a"]);
  });
});
