import { BlockList, isIP } from 'node:net';

/**
 * Which destinations a step may call (docs/contract.md#security): SAGAFLOW_ALLOWED_HOSTS, and the link-local and cloud-metadata
 * addresses that are refused unless listed there. Used by the API at registration and by the engine before
 * every attempt (the URL) and at connect time (each resolved address). Pure apart from node:net's parsers.
 */

/** One SAGAFLOW_ALLOWED_HOSTS entry: a host name or IP address, and a port when the entry names one. */
export interface AllowedHost {
  host: string;
  port?: number;
}

/**
 * Link-local (IPv4 169.254.0.0/16, IPv6 fe80::/10) and the EC2 IPv6 metadata address: where cloud metadata lives.
 * IPv4 is checked by prefix (isIP accepts only canonical dotted quads): BlockList.check builds a SocketAddress per call,
 * 7 µs here, and the engine checks before every attempt. An IPv6 address is checked against the block list, which
 * also holds 169.254.0.0/16 as every IPv6 form that reaches it: IPv4-mapped in any spelling (`::ffff:169.254.1.1`,
 * `::ffff:a9fe:101`; BlockList matches those against its IPv4 subnet), IPv4-translated (`::ffff:0:a9fe:101`),
 * IPv4-compatible (`::a9fe:101`), NAT64's well-known prefix (`64:ff9b::a9fe:101`) and 6to4 (`2002:a9fe:101::`). Two
 * other clouds' metadata addresses are refused the same way: Alibaba's 100.100.100.200 and Oracle's legacy 192.0.0.192.
 */
const SPECIAL_IPV4_PREFIX = '169.254.';
const SPECIAL_IPV4_ADDRESSES = new Set(['100.100.100.200', '192.0.0.192']);
const SPECIAL_IPV6_ADDRESSES = new BlockList();
SPECIAL_IPV6_ADDRESSES.addSubnet('fe80::', 10, 'ipv6');
SPECIAL_IPV6_ADDRESSES.addAddress('fd00:ec2::254', 'ipv6');
SPECIAL_IPV6_ADDRESSES.addSubnet('169.254.0.0', 16, 'ipv4');
SPECIAL_IPV6_ADDRESSES.addSubnet('::ffff:0:a9fe:0', 112, 'ipv6');
SPECIAL_IPV6_ADDRESSES.addSubnet('::a9fe:0', 112, 'ipv6');
SPECIAL_IPV6_ADDRESSES.addSubnet('64:ff9b::a9fe:0', 112, 'ipv6');
SPECIAL_IPV6_ADDRESSES.addSubnet('2002:a9fe::', 32, 'ipv6');
// 100.100.100.200 = 6464:64c8, 192.0.0.192 = c000:c0, in the same IPv6 forms
for (const [v4, high, low] of [
  ['100.100.100.200', '6464', '64c8'],
  ['192.0.0.192', 'c000', 'c0'],
] as const) {
  SPECIAL_IPV6_ADDRESSES.addAddress(v4, 'ipv4');
  for (const prefix of ['::ffff:0:', '::', '64:ff9b::'])
    SPECIAL_IPV6_ADDRESSES.addAddress(`${prefix}${high}:${low}`, 'ipv6');
  SPECIAL_IPV6_ADDRESSES.addSubnet(`2002:${high}:${low}::`, 48, 'ipv6');
}

/** `[::1]` → `::1`, lower case. */
function bareHost(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

/**
 * An IPv4-mapped IPv6 address → its IPv4 address (`::ffff:169.254.169.254` and `::ffff:a9fe:a9fe`, the form URL
 * parsing gives, → `169.254.169.254`); anything else unchanged.
 */
function unmapped(address: string): string {
  const dotted = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (dotted) return dotted[1]!;
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return address;
  const [high, low] = [parseInt(hex[1]!, 16), parseInt(hex[2]!, 16)];
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** True for a link-local or cloud-metadata IP address (IPv4, IPv6, IPv4-mapped IPv6); false for names. */
export function isSpecialAddress(address: string): boolean {
  const ip = unmapped(bareHost(address));
  const family = isIP(ip);
  if (family === 4) return ip.startsWith(SPECIAL_IPV4_PREFIX) || SPECIAL_IPV4_ADDRESSES.has(ip);
  return family === 6 && SPECIAL_IPV6_ADDRESSES.check(ip, 'ipv6');
}

/**
 * Parses SAGAFLOW_ALLOWED_HOSTS: a comma list of `host`, `host:port`, `[ipv6]` or `[ipv6]:port` (a bare IPv6
 * address is read as a host without port). Unset or blank → undefined (every host allowed).
 * @throws Error naming the bad entry
 */
export function parseAllowedHosts(text: string | undefined): AllowedHost[] | undefined {
  const entries = (text ?? '')
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean);
  if (entries.length === 0) return undefined;
  return entries.map((entry) => {
    const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d+))?$/.exec(entry);
    const host = match ? bareHost(match[1]!) : isIP(entry) === 6 ? entry.toLowerCase() : undefined;
    const port = match?.[2] === undefined ? undefined : Number(match[2]);
    if (host === undefined || /\s|\//.test(host) || (port !== undefined && (port < 1 || port > 65_535))) {
      throw new Error(`SAGAFLOW_ALLOWED_HOSTS: "${entry}" is not a host, host:port or [ipv6]:port entry`);
    }
    return port === undefined ? { host } : { host, port };
  });
}

/** The port a URL connects to (its explicit port, else 80/443). */
export function effectivePort(url: URL): number {
  if (url.port !== '') return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

/** `host:port` as written in SAGAFLOW_ALLOWED_HOSTS (IPv6 in brackets). */
export function formatHostPort(host: string, port: number): string {
  const bare = bareHost(host);
  return `${isIP(bare) === 6 ? `[${bare}]` : bare}:${port}`;
}

function isListed(allowed: AllowedHost[] | undefined, host: string, port: number): boolean {
  const bare = unmapped(bareHost(host));
  return (allowed ?? []).some((entry) => unmapped(entry.host) === bare && (entry.port ?? port) === port);
}

/**
 * Why the engine may not call `url`, or undefined: its host:port is not in SAGAFLOW_ALLOWED_HOSTS (when set), or it is
 * a link-local/metadata IP address that SAGAFLOW_ALLOWED_HOSTS does not list explicitly.
 */
export function describeDestinationProblem(url: URL, allowed: AllowedHost[] | undefined): string | undefined {
  const port = effectivePort(url);
  const where = formatHostPort(url.hostname, port);
  if (allowed && !isListed(allowed, url.hostname, port)) return `host "${where}" is not in SAGAFLOW_ALLOWED_HOSTS`;
  return describeAddressProblem(url.hostname, port, allowed);
}

/**
 * Why the engine may not connect to `address` (a resolved IP) on `port`, or undefined: link-local and cloud-metadata
 * addresses need their own SAGAFLOW_ALLOWED_HOSTS entry (a listed host name does not cover them).
 */
export function describeAddressProblem(
  address: string,
  port: number,
  allowed: AllowedHost[] | undefined,
): string | undefined {
  if (!isSpecialAddress(address) || isListed(allowed, address, port)) return undefined;
  return (
    `address ${formatHostPort(address, port)} is link-local or cloud metadata: refused unless SAGAFLOW_ALLOWED_HOSTS ` +
    'lists it'
  );
}
