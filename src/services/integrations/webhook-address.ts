import { lookup } from 'node:dns/promises';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { config } from '../../config/env';
import { urlProblem } from '../../utils/webhook-url';

// SSRF guard for webhook URLs (SPEC §8). A URL is checked when an endpoint is saved and again before every
// delivery, because what a name resolves to can change. Only public unicast addresses pass: loopback,
// private, link-local (169.254.169.254, the cloud metadata service), unique-local, carrier-grade NAT
// (100.100.100.200, another metadata address), multicast, reserved and the IPv6 forms that embed an IPv4
// address are refused — unless WEBHOOK_ALLOW_PRIVATE=true. The delivery then connects to the very address
// that was checked (`pinnedLookup`), so a name cannot resolve to a public address for the check and to a
// private one for the connection.

export class WebhookAddressError extends Error {}

/** True for a public unicast address (an IPv4-mapped IPv6 address is judged as its IPv4 address). */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && parsed instanceof ipaddr.IPv6 && parsed.isIPv4MappedAddress()) parsed = parsed.toIPv4Address();
  return parsed.range() === 'unicast';
}

export interface ResolvedTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

/**
 * Resolves a webhook URL's host and checks every address it gives. Throws WebhookAddressError when the
 * name does not resolve or any address is not public (and private ones are not allowed).
 */
export async function resolveTarget(raw: string): Promise<ResolvedTarget> {
  const problem = urlProblem(raw);
  if (problem) throw new WebhookAddressError(`URL ${problem}`);
  const url = new URL(raw);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: { address: string; family: number }[];
  if (ipaddr.isValid(host)) {
    addresses = [{ address: host, family: host.includes(':') ? 6 : 4 }];
  } else {
    try {
      addresses = await lookup(host, { all: true, verbatim: true });
    } catch {
      throw new WebhookAddressError(`host ${host} does not resolve`);
    }
  }
  const first = addresses[0];
  if (!first) throw new WebhookAddressError(`host ${host} does not resolve`);
  if (!config.webhooks.allowPrivate) {
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused) {
      throw new WebhookAddressError(
        `host ${host} resolves to ${refused.address}, a loopback, private, link-local or reserved address (WEBHOOK_ALLOW_PRIVATE is off)`,
      );
    }
  }
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}

/** A `lookup` for http.request that answers the checked address whatever it is asked (Node may ask for all). */
export function pinnedLookup(target: ResolvedTarget): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: target.address, family: target.family }]);
    else callback(null, target.address, target.family);
  };
}
