import { createHash, createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it, onTestFinished } from "vitest";
import { createOssStorage, ossPublicUrl, type OssStorageOptions } from "./oss-storage.ts";
import { StorageUnavailableError } from "./storage.ts";

interface SeenRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

const credentials = { accessKeyId: "test-key-id", accessKeySecret: "test-key-secret" };

/** A stand-in for OSS on 127.0.0.1: records each request and answers with the given status. */
async function startStandIn(status = 200): Promise<{ endpoint: string; requests: SeenRequest[] }> {
  const requests: SeenRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      requests.push({ method: req.method ?? "", path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks) });
      if (status === 200) {
        res.writeHead(200, { "x-oss-request-id": "req-1", ETag: '"etag"' });
        res.end();
        return;
      }
      res.writeHead(status, { "Content-Type": "application/xml", "x-oss-request-id": "req-2" });
      res.end(`<?xml version="1.0"?><Error><Code>AccessDenied</Code><Message>denied</Message><RequestId>req-2</RequestId></Error>`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as AddressInfo;
  return { endpoint: `http://127.0.0.1:${port}`, requests };
}

// OSS signature V1, written from Alibaba's documentation rather than taken from ali-oss.
function expectedSignature(request: SeenRequest, resource: string): string {
  const header = (name: string) => String(request.headers[name] ?? "");
  const ossHeaders = Object.keys(request.headers)
    .filter((name) => name.startsWith("x-oss-"))
    .sort()
    .map((name) => `${name}:${header(name).trim()}`);
  const date = header("x-oss-date") || header("date");
  const canonical = [request.method, header("content-md5"), header("content-type"), date, ...ossHeaders, resource].join("\n");
  return createHmac("sha1", credentials.accessKeySecret).update(canonical).digest("base64");
}

describe("createOssStorage", () => {
  it("PUTs the object with a V1 signature and answers the public URL", async () => {
    const standIn = await startStandIn();
    const options: OssStorageOptions = { region: "cn-hangzhou", bucket: "aipack-test", ...credentials, endpoint: standIn.endpoint };
    const storage = createOssStorage(options);
    const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);

    const stored = await storage.put({ bytes, contentType: "image/png", extension: "png", prefix: "style/results" });

    expect(stored.key).toMatch(/^style\/results\/\d{4}\/\d{2}\/[A-Za-z0-9_-]{24}\.png$/);
    expect(stored.url).toBe(`${standIn.endpoint}/aipack-test/${stored.key}`);
    expect(standIn.requests).toHaveLength(1);
    const request = standIn.requests[0]!;
    expect(request.method).toBe("PUT");
    expect(request.path).toBe(`/${stored.key}`);
    // An IP endpoint cannot carry the bucket in its host name, so ali-oss names it in Host.
    expect(request.headers.host).toBe("aipack-test.oss-cn-hangzhou.aliyuncs.com");
    expect(request.headers["content-type"]).toBe("image/png");
    expect(request.headers["x-oss-forbid-overwrite"]).toBe("true");
    expect([...request.body]).toEqual([...bytes]);
    expect(request.headers["content-md5"]).toBe(createHash("md5").update(request.body).digest("base64"));
    const authorization = String(request.headers.authorization);
    expect(authorization).toMatch(/^OSS test-key-id:[A-Za-z0-9+/]+=*$/);
    expect(authorization.split(":")[1]).toBe(expectedSignature(request, `/aipack-test/${stored.key}`));
    await expect(storage.check()).resolves.toBeUndefined();
  });

  it("uses publicBaseUrl for the URL when given", async () => {
    const standIn = await startStandIn();
    const storage = createOssStorage({
      region: "oss-cn-hangzhou",
      bucket: "aipack-test",
      ...credentials,
      endpoint: standIn.endpoint,
      publicBaseUrl: "https://cdn.example.com/",
    });
    const stored = await storage.put({ bytes: new Uint8Array([1]), contentType: "image/webp", extension: "webp" });
    expect(stored.key).toMatch(/^\d{4}\/\d{2}\/[A-Za-z0-9_-]{24}\.webp$/);
    expect(stored.url).toBe(`https://cdn.example.com/${stored.key}`);
  });

  it.each([403, 500])("maps a %i from OSS to StorageUnavailableError and fails check()", async (status) => {
    const standIn = await startStandIn(status);
    const storage = createOssStorage({ region: "cn-hangzhou", bucket: "aipack-test", ...credentials, endpoint: standIn.endpoint });
    const put = storage.put({ bytes: new Uint8Array([1]), contentType: "image/png", extension: "png" });
    await expect(put).rejects.toBeInstanceOf(StorageUnavailableError);
    await expect(put).rejects.toMatchObject({ code: "storage_unavailable", status: 503, message: "File storage is unavailable" });
    await expect(storage.check()).rejects.toBeInstanceOf(StorageUnavailableError);
  });

  it("maps a refused connection to StorageUnavailableError, and check() recovers once the memory window has passed", async () => {
    let clock = 1_000_000;
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const storage = createOssStorage({
      region: "cn-hangzhou",
      bucket: "aipack-test",
      ...credentials,
      endpoint: `http://127.0.0.1:${port}`,
      failureMemoryMs: 50,
      now: () => clock,
    });
    await expect(storage.put({ bytes: new Uint8Array([1]), contentType: "image/png", extension: "png" })).rejects.toBeInstanceOf(
      StorageUnavailableError,
    );
    await expect(storage.check()).rejects.toBeInstanceOf(StorageUnavailableError);
    clock += 49;
    await expect(storage.check()).rejects.toBeInstanceOf(StorageUnavailableError);
    clock += 1;
    await expect(storage.check()).resolves.toBeUndefined();
  });
});

describe("ossPublicUrl", () => {
  const base = { region: "cn-hangzhou", bucket: "pics", ...credentials };

  it("defaults to the bucket's virtual host in its region", () => {
    expect(ossPublicUrl(base, "a/b.png")).toBe("https://pics.oss-cn-hangzhou.aliyuncs.com/a/b.png");
    expect(ossPublicUrl({ ...base, region: "oss-us-west-1" }, "k.png")).toBe("https://pics.oss-us-west-1.aliyuncs.com/k.png");
  });

  it("derives the host from a named endpoint", () => {
    expect(ossPublicUrl({ ...base, endpoint: "https://oss-accelerate.aliyuncs.com" }, "k.png")).toBe(
      "https://pics.oss-accelerate.aliyuncs.com/k.png",
    );
    expect(ossPublicUrl({ ...base, endpoint: "oss-cn-beijing.aliyuncs.com", secure: false }, "k.png")).toBe(
      "http://pics.oss-cn-beijing.aliyuncs.com/k.png",
    );
  });

  it("never hands clients the internal endpoint, which only Aliyun's own network reaches", () => {
    expect(ossPublicUrl({ ...base, endpoint: "https://oss-cn-hangzhou-internal.aliyuncs.com" }, "k.png")).toBe(
      "https://pics.oss-cn-hangzhou.aliyuncs.com/k.png",
    );
  });
});
