import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { describeAddressProblem, type AllowedHost } from '@sagaflow/definitions';
import { Agent, Pool } from 'undici';

/** A downstream address refused at connect time (docs/contract.md#security): permanent, never retried as a connection error. */
export class DestinationRefusedError extends Error {
  readonly code = 'DESTINATION_REFUSED';
  override name = 'DestinationRefusedError';
}

/** True when `error` (or one of its causes) is a DestinationRefusedError. */
export function isDestinationRefused(error: unknown): error is DestinationRefusedError {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof DestinationRefusedError) return true;
  }
  return false;
}

/** Why the engine may not connect to a resolved address on a port, or undefined. */
export type AddressCheck = (address: string, port: number) => string | undefined;

/**
 * dns.lookup, then a check of every address the name resolved to (by default: a link-local or cloud-metadata address
 * is refused unless SAGAFLOW_ALLOWED_HOSTS lists it). Checked where the socket connects, so the address used is the
 * address checked (no second lookup to rebind). IP literals skip lookup: build-request checks those.
 */
export function guardedLookup(port: number, check: AddressCheck): LookupFunction {
  return (hostname, options, callback) => {
    dnsLookup(
      hostname,
      options,
      (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => {
        if (error) return callback(error, address as string, family);
        const addresses = Array.isArray(address) ? address.map((a) => a.address) : [address];
        for (const resolved of addresses) {
          const problem = check(resolved, port);
          if (problem) return callback(new DestinationRefusedError(`${hostname}: ${problem}`), '', 0);
        }
        callback(null, address as string, family);
      },
    );
  };
}

function portOf(origin: string | URL): number {
  const url = new URL(origin);
  return url.port !== '' ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
}

export interface DownstreamAgentOptions {
  connectionsPerOrigin: number;
  /** SAGAFLOW_ALLOWED_HOSTS, parsed */
  allowedHosts?: AllowedHost[] | undefined;
  /** replaces the address policy (tests) */
  checkAddress?: AddressCheck;
}

/**
 * One keep-alive agent for all downstream origins (undici pools connections per origin inside it); each origin's
 * connections resolve names through guardedLookup for that origin's port.
 */
export function createDownstreamAgent(options: DownstreamAgentOptions): Agent {
  const check: AddressCheck =
    options.checkAddress ?? ((address, port) => describeAddressProblem(address, port, options.allowedHosts));
  return new Agent({
    connections: options.connectionsPerOrigin,
    keepAliveTimeout: 30_000,
    pipelining: 1,
    factory: (origin, opts) =>
      new Pool(origin, {
        ...opts,
        connect: { ...(opts as Pool.Options).connect, lookup: guardedLookup(portOf(origin), check) },
      }),
  });
}
