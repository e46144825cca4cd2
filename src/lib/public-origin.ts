/**
 * How clients reach the gateway, the origin of local file URLs: PUBLIC_BASE_URL when set, otherwise
 * `http://<HOST>:<port>` (localhost for a wildcard HOST) with the port the server bound. PORT=0
 * binds a free port, known only once the server listens: the entry tells it with `bound()`.
 */
export class PublicOrigin {
  private port: number | null;

  constructor(
    private readonly configured: string | undefined,
    private readonly host: string,
    port: number,
  ) {
    this.port = port === 0 ? null : port;
  }

  /** The port the server listens on (the entries call this once listening). */
  bound(port: number): void {
    this.port = port;
  }

  get url(): string {
    if (this.configured !== undefined) return this.configured.replace(/\/+$/, "");
    if (this.port === null) throw new Error("PORT=0 without PUBLIC_BASE_URL: the public origin is known once the server listens");
    return `http://${hostForUrl(this.host)}:${this.port}`;
  }
}

const wildcardHosts = new Set(["0.0.0.0", "::", "[::]"]);

function hostForUrl(host: string): string {
  if (wildcardHosts.has(host)) return "localhost";
  return host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
}
