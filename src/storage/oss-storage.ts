import OSS from "ali-oss";
import { isIP } from "node:net";
import { objectKeyFor } from "./keys.ts";
import { StorageUnavailableError, type Storage } from "./storage.ts";

/** Options of the Alibaba Cloud OSS store. */
export interface OssStorageOptions {
  /** `oss-cn-hangzhou` or `cn-hangzhou`; the `oss-` prefix is added when missing. */
  region: string;
  bucket: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** Custom endpoint (`https://oss-cn-hangzhou-internal.aliyuncs.com`); default comes from the region. */
  endpoint?: string;
  /** Public origin of the objects (a CDN or bound domain); URLs become `<publicBaseUrl>/<key>`. */
  publicBaseUrl?: string;
  /** HTTPS towards OSS when the endpoint has no scheme, and for the default public URL. Default true. */
  secure?: boolean;
  /** Per-request timeout. Default 30 s. */
  timeoutMs?: number;
  /** How long a failed put keeps check() failing. Default 30 s. */
  failureMemoryMs?: number;
  /** Milliseconds since the epoch; injected so tests can step over the failure memory. */
  now?: () => number;
}

function ossRegion(region: string): string {
  return region.startsWith("oss-") ? region : `oss-${region}`;
}

function endpointUrl(endpoint: string, secure: boolean): URL {
  return new URL(/^[a-z]+:\/\//i.test(endpoint) ? endpoint : `${secure ? "https" : "http"}://${endpoint}`);
}

/**
 * The public URL of an OSS object: `<publicBaseUrl>/<key>` when given; otherwise virtual-host style
 * `https://<bucket>.<region>.aliyuncs.com/<key>` (or `<bucket>.<endpoint host>`, an `-internal` host
 * turned into its public twin); an IP endpoint (a proxy or stand-in) cannot carry the bucket in its
 * host, so it gets `<endpoint>/<bucket>/<key>`.
 */
export function ossPublicUrl(options: OssStorageOptions, key: string): string {
  if (options.publicBaseUrl) return `${options.publicBaseUrl.replace(/\/+$/, "")}/${key}`;
  const secure = options.secure ?? true;
  if (!options.endpoint) {
    return `${secure ? "https" : "http"}://${options.bucket}.${ossRegion(options.region)}.aliyuncs.com/${key}`;
  }
  const endpoint = endpointUrl(options.endpoint, secure);
  if (isIP(endpoint.hostname.replace(/^\[|\]$/g, ""))) return `${endpoint.origin}/${options.bucket}/${key}`;
  // A gateway in the same region writes through the free `-internal` endpoint, which only hosts
  // inside Aliyun's network can reach: clients get the bucket's public twin of that host.
  const host = endpoint.host.replace(/-internal(\.aliyuncs\.com)$/i, "$1");
  return `${endpoint.protocol}//${options.bucket}.${host}/${key}`;
}

/**
 * A Storage on Alibaba Cloud OSS. It only ever PUTs objects, so a key limited to `oss:PutObject`
 * is enough. Objects are written with `x-oss-forbid-overwrite` and an immutable cache header.
 * check() cannot probe OSS without wider permissions, so it reports the outcome of recent puts.
 */
export function createOssStorage(options: OssStorageOptions): Storage {
  const secure = options.secure ?? true;
  const failureMemoryMs = options.failureMemoryMs ?? 30_000;
  const now = options.now ?? Date.now;
  const client = new OSS({
    region: ossRegion(options.region),
    bucket: options.bucket,
    accessKeyId: options.accessKeyId,
    accessKeySecret: options.accessKeySecret,
    secure,
    timeout: options.timeoutMs ?? 30_000,
    ...(options.endpoint ? { endpoint: endpointUrl(options.endpoint, secure).origin } : {}),
  });
  let lastFailure: { at: number; error: unknown } | null = null;

  return {
    async put(input) {
      const key = objectKeyFor(input);
      try {
        await client.put(key, Buffer.from(input.bytes.buffer, input.bytes.byteOffset, input.bytes.byteLength), {
          headers: {
            "Content-Type": input.contentType,
            "Cache-Control": input.private ? "private, max-age=31536000, immutable" : "public, max-age=31536000, immutable",
            "x-oss-forbid-overwrite": "true",
            // A bucket may be public-read for the outputs; a user's upload is never.
            ...(input.private ? { "x-oss-object-acl": "private" } : {}),
          },
        });
      } catch (error) {
        lastFailure = { at: now(), error };
        throw new StorageUnavailableError(undefined, { cause: error });
      }
      lastFailure = null;
      return { key, url: ossPublicUrl(options, key) };
    },

    async get(key) {
      try {
        const result = await client.get(key);
        return new Uint8Array(result.content as Buffer);
      } catch (error) {
        throw new StorageUnavailableError(undefined, { cause: error });
      }
    },

    privateUrl(url, ttlSeconds) {
      const base = ossPublicUrl(options, "");
      if (!url.startsWith(base)) return null;
      return client.signatureUrl(url.slice(base.length), { expires: ttlSeconds });
    },

    async check() {
      if (lastFailure && now() - lastFailure.at < failureMemoryMs) {
        throw new StorageUnavailableError(undefined, { cause: lastFailure.error });
      }
    },
  };
}
