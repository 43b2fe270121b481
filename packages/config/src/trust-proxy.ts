import proxyaddr from 'proxy-addr';

/**
 * Which proxies in front of the tracker are trusted to append the client address to
 * `X-Forwarded-For`, as Express's and Fastify's `trust proxy` spell it: a number of hops
 * (0 = none: the socket address is the client) or the addresses and CIDRs of the proxies
 * (IPv4, IPv6, IPv4-mapped IPv6, and the names `loopback`, `linklocal`, `uniquelocal`). The
 * client is the right-most untrusted address.
 */
export type TrustProxy = number | readonly string[];

/** Most proxy hops `TRUST_PROXY` may name. */
const MAX_HOPS = 32;
const USAGE = `must be false, true (one proxy), a number of proxy hops (0-${MAX_HOPS}), or comma-separated proxy addresses or CIDRs`;

/**
 * `TRUST_PROXY` as text: `false` (also `0`, `no`, `off`, empty), `true` (one hop, as before
 * this setting took numbers; also `yes`, `on`), a number of hops, or a comma-separated list of
 * proxy addresses and CIDRs. Throws a one-line message saying what is wrong.
 */
export function parseTrustProxy(text: string): TrustProxy {
  const value = text.trim().toLowerCase();
  if (['', 'false', 'no', 'off'].includes(value)) return 0;
  if (['true', 'yes', 'on'].includes(value)) return 1;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > MAX_HOPS) throw new Error(USAGE);
    return hops;
  }
  const addresses = value.split(',').map((entry) => entry.trim());
  if (addresses.some((entry) => entry === '')) throw new Error(`${USAGE}; found an empty entry`);
  try {
    proxyaddr.compile(addresses);
  } catch (error) {
    throw new Error(`${USAGE}; ${(error as Error).message}`);
  }
  return addresses;
}
