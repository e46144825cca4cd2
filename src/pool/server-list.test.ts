import { describe, expect, it } from "vitest";
import { parseComfyServers, serverId } from "./server-list.ts";

describe("parseComfyServers", () => {
  it("reads bare URLs, names, weights and tags", () => {
    expect(parseComfyServers(" http://10.0.0.6:8188/ , gpu1=http://10.0.0.5:8188;weight=2;tags=sdxl|fast ")).toEqual([
      { url: "http://10.0.0.6:8188", weight: 1, tags: [] },
      { url: "http://10.0.0.5:8188", name: "gpu1", weight: 2, tags: ["sdxl", "fast"] },
    ]);
    expect(parseComfyServers("")).toEqual([]);
    expect(serverId({ url: "http://10.0.0.6:8188" })).toBe("10.0.0.6:8188");
  });

  it("keeps a URL with a query string intact", () => {
    expect(parseComfyServers("https://comfy.example/api?x=1")[0]?.url).toBe("https://comfy.example/api?x=1");
  });

  it("rejects bad URLs, weights, unknown options and duplicate ids", () => {
    expect(() => parseComfyServers("not a url")).toThrow();
    expect(() => parseComfyServers("ftp://h:21")).toThrow();
    expect(() => parseComfyServers("http://h:1;weight=0")).toThrow();
    expect(() => parseComfyServers("http://h:1;weight=abc")).toThrow();
    expect(() => parseComfyServers("http://h:1;colour=red")).toThrow();
    expect(() => parseComfyServers("a=http://h:1,a=http://h:2")).toThrow(/duplicate/);
    expect(() => parseComfyServers("http://h:1,http://h:1")).toThrow(/duplicate/);
  });
});
