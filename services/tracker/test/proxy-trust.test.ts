import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProxyTrust, type ProxyTrustSetting } from '../src/proxy-trust.js';
import { LOGIN_THROTTLE } from '../src/token-gate.js';
import { DESKTOP, TOKEN, pageVisitors, startTracker, type RunningTracker } from './support.js';

const request = (socket: string, forwardedFor?: string) =>
  ({ socket: { remoteAddress: socket }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as unknown as IncomingMessage;

describe('ProxyTrust: the client is the right-most untrusted address', () => {
  it.each<[string, ProxyTrustSetting, string, string | undefined, string]>([
    ['no trust: the socket, whatever the header says', false, '203.0.113.1', '10.9.1.1', '203.0.113.1'],
    ['0 hops is no trust', 0, '203.0.113.1', '10.9.1.1', '203.0.113.1'],
    ['true is one hop: the address the proxy appended, not the spoofed one left of it', true, '127.0.0.1', '10.9.1.1, 203.0.113.7', '203.0.113.7'],
    ['one hop with several spoofed entries', 1, '127.0.0.1', '1.1.1.1, 2.2.2.2,3.3.3.3 , 203.0.113.7', '203.0.113.7'],
    ['two hops: the address the outer proxy saw', 2, '127.0.0.1', '10.9.1.1, 203.0.113.7, 10.0.0.9', '203.0.113.7'],
    ['more hops than entries: the left-most entry', 3, '127.0.0.1', '203.0.113.7', '203.0.113.7'],
    ['one hop without the header: the socket', 1, '127.0.0.1', undefined, '127.0.0.1'],
    ['a CIDR: trusted proxies are skipped, the first untrusted entry is the client', ['10.0.0.0/8'], '10.0.0.2', 'spoofed, 198.51.100.3, 10.0.0.5', '198.51.100.3'],
    ['a CIDR: a direct client not in it is the client, its header ignored', ['10.0.0.0/8'], '203.0.113.1', '10.0.0.5', '203.0.113.1'],
    ['a netmask', ['10.0.0.0/255.0.0.0'], '10.200.0.1', '198.51.100.3', '198.51.100.3'],
    ['named ranges', ['loopback', 'uniquelocal'], '::1', '198.51.100.3, 192.168.1.1', '198.51.100.3'],
    ['IPv6 proxy and client', ['fd00::/8'], 'fd00::1', '2001:db8::bad, 2001:db8::7, fd12::3', '2001:db8::7'],
    ['IPv4-mapped socket address of an IPv4 proxy', ['10.0.0.0/8'], '::ffff:10.0.0.2', '198.51.100.3', '198.51.100.3'],
    ['a proxy listed as IPv4-mapped IPv6', ['::ffff:10.1.2.3'], '10.1.2.3', '198.51.100.3', '198.51.100.3'],
    ['an IPv4-mapped client is written as IPv4', false, '::ffff:203.0.113.1', undefined, '203.0.113.1'],
    ['an IPv4-mapped entry in the header is written as IPv4', 1, '127.0.0.1', '::ffff:203.0.113.7', '203.0.113.7'],
  ])('%s', (_, setting, socket, header, client) => {
    expect(new ProxyTrust(setting).clientIp(request(socket, header))).toBe(client);
  });

  it('believes X-Forwarded-Proto only from a trusted proxy', () => {
    expect(new ProxyTrust(false).fromTrustedProxy(request('127.0.0.1'))).toBe(false);
    expect(new ProxyTrust(1).fromTrustedProxy(request('203.0.113.1'))).toBe(true);
    expect(new ProxyTrust(['10.0.0.0/8']).fromTrustedProxy(request('10.1.1.1'))).toBe(true);
    expect(new ProxyTrust(['10.0.0.0/8']).fromTrustedProxy(request('203.0.113.1'))).toBe(false);
  });
});

describe.each<[string, ProxyTrustSetting]>([
  ['TRUST_PROXY=true', true],
  ['TRUST_PROXY=127.0.0.1', ['127.0.0.1']],
])('spoofed X-Forwarded-For entries behind one proxy (%s)', (_, trustProxy) => {
  let running: RunningTracker;
  beforeAll(async () => {
    running = await startTracker({ trustProxy, dashboardToken: TOKEN, clock: () => Date.UTC(2026, 5, 1, 12, 0, 5) });
  });
  afterAll(() => running?.close());

  it('do not make one client many visitors', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${running.base}/p.gif?site=example.com&path=/spoof`, { headers: { 'user-agent': DESKTOP, 'x-forwarded-for': `10.9.${i}.1, 203.0.113.7` } });
      expect(res.status).toBe(200);
    }
    const other = await fetch(`${running.base}/p.gif?site=example.com&path=/spoof`, { headers: { 'user-agent': DESKTOP, 'x-forwarded-for': '10.9.0.1, 198.51.100.1' } });
    expect(other.status).toBe(200);
    const bucket = running.tracker.store.keys.bucket({ site: 'example.com', minute: Date.UTC(2026, 5, 1, 12, 0) });
    expect(await pageVisitors(running.redis, bucket, '/spoof')).toBe(2);
  });

  it('do not get around the token throttle', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < LOGIN_THROTTLE.attempts + 2; i++) {
      const res = await fetch(`${running.base}/api/live`, { headers: { authorization: 'Bearer a-wrong-token-xxxxxxxxxx', 'x-forwarded-for': `10.9.1.${i}, 203.0.113.7` } });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([...Array(LOGIN_THROTTLE.attempts).fill(401), 429, 429]);
  });
});
