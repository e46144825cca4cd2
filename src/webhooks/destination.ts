import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import net from "node:net";

/** Where webhooks may go: public addresses only, unless the operator allows more. */
export interface DestinationPolicy {
  /** WEBHOOK_ALLOW_PRIVATE=true: every address is allowed (a closed network's own receivers). */
  allowPrivate: boolean;
  /** WEBHOOK_ALLOWED_ADDRESSES: addresses or CIDR ranges allowed although special-use (e.g. `127.0.0.1`, `10.1.0.0/16`). */
  allowed: readonly string[];
}

/** A destination refused (scheme, or an address in a private, loopback, link-local or other special-use range). */
export class DestinationRefused extends Error {
  override name = "DestinationRefused";
}

// Special-use ranges (IANA IPv4/IPv6 special-purpose registries): none is a public receiver, and a
// webhook sent there would let a frontend reach the gateway's own network (SSRF).
const specialUse: ReadonlyArray<[string, number, "ipv4" | "ipv6"]> = [
  ["0.0.0.0", 8, "ipv4"],
  ["10.0.0.0", 8, "ipv4"],
  ["100.64.0.0", 10, "ipv4"],
  ["127.0.0.0", 8, "ipv4"],
  ["169.254.0.0", 16, "ipv4"],
  ["172.16.0.0", 12, "ipv4"],
  ["192.0.0.0", 24, "ipv4"],
  ["192.0.2.0", 24, "ipv4"],
  ["192.88.99.0", 24, "ipv4"],
  ["192.168.0.0", 16, "ipv4"],
  ["198.18.0.0", 15, "ipv4"],
  ["198.51.100.0", 24, "ipv4"],
  ["203.0.113.0", 24, "ipv4"],
  ["224.0.0.0", 4, "ipv4"],
  ["240.0.0.0", 4, "ipv4"],
  ["::", 128, "ipv6"],
  ["::1", 128, "ipv6"],
  ["64:ff9b::", 96, "ipv6"],
  ["64:ff9b:1::", 48, "ipv6"],
  ["100::", 64, "ipv6"],
  ["2001::", 23, "ipv6"],
  ["2001:db8::", 32, "ipv6"],
  ["2002::", 16, "ipv6"],
  ["fc00::", 7, "ipv6"],
  ["fe80::", 10, "ipv6"],
  ["ff00::", 8, "ipv6"],
];

const blocked = new net.BlockList();
for (const [network, prefix, family] of specialUse) blocked.addSubnet(network, prefix, family);

function familyOf(address: string): "ipv4" | "ipv6" {
  return net.isIPv4(address) ? "ipv4" : "ipv6";
}

/** Whether `address` (an IP literal) lies in a special-use range; IPv4-mapped IPv6 counts as its IPv4. */
export function isSpecialUse(address: string): boolean {
  return blocked.check(address, familyOf(address));
}

/** The policy's allow-list as a BlockList (entries `a.b.c.d`, `a.b.c.d/n`, `::1`, `fd00::/8`). */
function allowList(entries: readonly string[]): net.BlockList {
  const list = new net.BlockList();
  for (const entry of entries) {
    const [address = "", prefix] = entry.split("/");
    if (!net.isIP(address)) throw new DestinationRefused(`not an address or range: ${entry}`);
    if (prefix === undefined) list.addAddress(address, familyOf(address));
    else list.addSubnet(address, Number(prefix), familyOf(address));
  }
  return list;
}

/** Checks addresses against the policy; returns a function for the sender and the routes alike. */
export function addressGuard(policy: DestinationPolicy): (address: string) => boolean {
  const allowed = allowList(policy.allowed);
  return (address) => policy.allowPrivate || !isSpecialUse(address) || allowed.check(address, familyOf(address));
}

/** The URL's shape: http or https, no credentials. Throws DestinationRefused. */
export function checkUrlShape(url: URL): void {
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new DestinationRefused("A webhook URL must be http or https");
  if (url.username || url.password) throw new DestinationRefused("A webhook URL may not carry credentials");
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for node:http that resolves the host and refuses the connection when any of its
 * addresses is not allowed: checked at connect time, so a DNS answer that changed since the
 * endpoint was registered (rebinding) cannot steer a delivery inside.
 */
export function guardedLookup(allowed: (address: string) => boolean) {
  return (hostname: string, options: { all?: boolean }, callback: LookupCallback): void => {
    dnsLookup(hostname, { all: true }, (error, addresses) => {
      if (error) return callback(error, []);
      const refused = addresses.find((entry) => !allowed(entry.address));
      if (refused || addresses.length === 0) return callback(new DestinationRefused(`${hostname} resolves to an address webhooks may not reach`), []);
      if (options.all) return callback(null, addresses);
      callback(null, addresses[0]!.address, addresses[0]!.family);
    });
  };
}

/** Resolves the URL's host and throws DestinationRefused when it is malformed or any address is not allowed. */
export async function checkDestination(raw: string, allowed: (address: string) => boolean): Promise<void> {
  const url = new URL(raw);
  checkUrlShape(url);
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  const addresses = net.isIP(host)
    ? [host]
    : await new Promise<string[]>((resolve, reject) =>
        dnsLookup(host, { all: true }, (error, found) => (error ? reject(new DestinationRefused(`${host.slice(0, 80)} does not resolve`)) : resolve(found.map((entry) => entry.address)))),
      );
  if (addresses.length === 0 || addresses.some((address) => !allowed(address))) {
    throw new DestinationRefused("The webhook URL resolves to a private, loopback, link-local or other special-use address");
  }
}
