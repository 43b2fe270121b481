import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';
import type { TrustProxy } from '@rta/config';

/** `TRUST_PROXY` as the tracker takes it: `true` is one hop, `false` none. */
export type ProxyTrustSetting = boolean | TrustProxy;

type TrustFunction = (address: string, hop: number) => boolean;

/**
 * Who sent a request, with `X-Forwarded-For` read as Express and Fastify read it (proxy-addr):
 * starting at the socket, each address a trusted proxy reported is followed leftwards, and the
 * client is the first (right-most) address that is not a trusted proxy. Entries further left
 * were written by the client itself and are never believed. The same address feeds the
 * visitor hash and the dashboard throttle; it is never stored.
 */
export class ProxyTrust {
  private readonly trust: TrustFunction | undefined;

  constructor(setting: ProxyTrustSetting = false) {
    const hops = setting === true ? 1 : setting === false ? 0 : setting;
    if (typeof hops === 'number') this.trust = hops > 0 ? (_address, hop) => hop < hops : undefined;
    else this.trust = proxyaddr.compile([...hops]);
  }

  /** The client address, IPv4-mapped IPv6 written as IPv4 (one client, one address). */
  clientIp(req: IncomingMessage): string {
    const address = this.trust ? proxyaddr(req, this.trust) : req.socket.remoteAddress;
    return unmapIPv4(address ?? '');
  }

  /** Whether the socket peer is a trusted proxy, so that its `X-Forwarded-Proto` counts. */
  fromTrustedProxy(req: IncomingMessage): boolean {
    return this.trust !== undefined && this.trust(req.socket.remoteAddress ?? '', 0);
  }
}

function unmapIPv4(address: string): string {
  return /^::ffff:\d{1,3}(\.\d{1,3}){3}$/i.test(address) ? address.slice(7) : address;
}
