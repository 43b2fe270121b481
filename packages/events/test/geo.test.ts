import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GeoDatabase, bundledGeoDatabasePath, classifyUserAgent, validateEvent } from '../src/index.js';
import { writeMmdb } from '../../../test/support/mmdb-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'rta-geo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('GeoDatabase, bundled (countries)', () => {
  const geo = new GeoDatabase(bundledGeoDatabasePath());

  it('places public addresses by country, IPv4, IPv4-mapped IPv6 and IPv6', () => {
    expect(geo.lookup('8.8.8.8')).toEqual({ country: 'US', region: undefined, city: undefined });
    expect(geo.lookup('217.0.0.1').country).toBe('DE');
    expect(geo.lookup('133.0.1.2').country).toBe('JP');
    // What a dual-stack socket reports for an IPv4 client.
    expect(geo.lookup('::ffff:8.8.8.8').country).toBe('US');
    expect(geo.lookup('2a00:1450:4001::1').country).toBe('IE');
  });

  it('answers (unknown) for private, loopback and unparsable addresses', () => {
    for (const ip of ['10.1.2.3', '127.0.0.1', '::1', '', 'not an address', '999.1.1.1']) expect(geo.lookup(ip), ip).toEqual({ country: '(unknown)' });
  });

  it('describes itself for the startup log', () => {
    expect(geo.description).toMatchObject({ type: 'country ipvAll', hasCities: false });
    expect(Date.parse(geo.description.builtAt)).toBeGreaterThan(Date.parse('2026-01-01'));
  });
});

describe('GeoDatabase from GEOIP_DATABASE', () => {
  it('fills region and city from a GeoIP2 City style file, and country from ip-location-db style records', () => {
    const path = join(dir, 'city.mmdb');
    writeFileSync(
      path,
      writeMmdb({
        databaseType: 'GeoLite2-City',
        networks: [
          { network: '81.2.69.0/24', record: { country: { iso_code: 'GB' }, subdivisions: [{ iso_code: 'ENG', names: { en: 'England' } }], city: { names: { en: 'London', de: 'London' } } } },
          { network: '89.160.20.0/24', record: { country: { iso_code: 'SE' }, city: { names: { en: 'Linköping' } } } },
          { network: '203.0.113.0/24', record: { country_code: 'AU', state1: 'Queensland', city: 'Brisbane' } },
          { network: '198.51.100.0/24', record: { registered_country: { iso_code: 'us' } } },
        ],
      }),
    );
    const geo = new GeoDatabase(path);
    expect(geo.description).toMatchObject({ path, type: 'GeoLite2-City', hasCities: true });
    expect(geo.lookup('81.2.69.142')).toEqual({ country: 'GB', region: 'England, GB', city: 'London, England, GB' });
    expect(geo.lookup('89.160.20.112')).toEqual({ country: 'SE', region: undefined, city: 'Linköping, SE' });
    expect(geo.lookup('203.0.113.9')).toEqual({ country: 'AU', region: 'Queensland, AU', city: 'Brisbane, Queensland, AU' });
    // A code that is not two upper-case letters is not a country.
    expect(geo.lookup('198.51.100.1').country).toBe('(unknown)');
    expect(geo.lookup('8.8.8.8')).toEqual({ country: '(unknown)' });
    expect(geo.lookup('2001:db8::1')).toEqual({ country: '(unknown)' }); // an IPv4-only file
  });

  it('tells apart places of one name in other regions and countries', () => {
    const path = join(dir, 'same-names.mmdb');
    const place = (network: string, country: string, region: string, city: string) => ({
      network,
      record: { country: { iso_code: country }, subdivisions: [{ names: { en: region } }], city: { names: { en: city } } },
    });
    writeFileSync(
      path,
      writeMmdb({
        databaseType: 'GeoLite2-City',
        networks: [
          place('192.0.2.0/26', 'US', 'Illinois', 'Springfield'),
          place('192.0.2.64/26', 'US', 'Oregon', 'Springfield'),
          place('192.0.2.128/26', 'NL', 'Limburg', 'Maastricht'),
          place('192.0.2.192/26', 'BE', 'Limburg', 'Hasselt'),
        ],
      }),
    );
    const geo = new GeoDatabase(path);
    expect(['192.0.2.1', '192.0.2.65', '192.0.2.129', '192.0.2.193'].map((ip) => geo.lookup(ip))).toEqual([
      { country: 'US', region: 'Illinois, US', city: 'Springfield, Illinois, US' },
      { country: 'US', region: 'Oregon, US', city: 'Springfield, Oregon, US' },
      { country: 'NL', region: 'Limburg, NL', city: 'Maastricht, Limburg, NL' },
      { country: 'BE', region: 'Limburg, BE', city: 'Hasselt, Limburg, BE' },
    ]);
  });

  it('refuses a missing file and a file that is not a MaxMind DB, naming GEOIP_DATABASE', () => {
    expect(() => new GeoDatabase(join(dir, 'missing.mmdb'))).toThrow(/^GEOIP_DATABASE: cannot read .*missing\.mmdb \(ENOENT\)$/);
    const junk = join(dir, 'junk.mmdb');
    writeFileSync(junk, 'not a database');
    expect(() => new GeoDatabase(junk)).toThrow(/^GEOIP_DATABASE: .*junk\.mmdb is not a MaxMind DB \(\.mmdb\) file/);
  });

  it('gives validated events their country, region and city, never the address', () => {
    const path = join(dir, 'one.mmdb');
    writeFileSync(path, writeMmdb({ databaseType: 'GeoIP2-City', networks: [{ network: '81.2.69.0/24', record: { country: { iso_code: 'GB' }, subdivisions: [{ names: { en: 'England' } }], city: { names: { en: 'London' } } } }] }));
    const geo = new GeoDatabase(path);
    const context = { userAgent: 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', ip: '81.2.69.142', receivedAt: 0 };
    const result = validateEvent({ site: 'example.com', path: '/' }, context, { sites: new Set(['example.com']), salt: 's', geo });
    expect(result).toMatchObject({ ok: true, event: { country: 'GB', region: 'England, GB', city: 'London, England, GB', browser: 'Firefox 128', os: 'Linux' } });
    expect(JSON.stringify(result)).not.toContain('81.2.69');
    const without = validateEvent({ site: 'example.com', path: '/' }, context, { sites: new Set(['example.com']), salt: 's' });
    expect(without).toMatchObject({ ok: true, event: { country: '(unknown)' } });
  });
});

describe('classifyUserAgent: browser and os', () => {
  it('names the browser with its major version, and the operating system', () => {
    const cases: Array<[string, string, string]> = [
      ['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36', 'Chrome 124', 'Windows'],
      ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1', 'Mobile Safari 17', 'iOS'],
      ['Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15', 'Safari 17', 'macOS'],
      ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'Firefox 128', 'Linux'],
      ['Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36', 'Mobile Chrome 131', 'Android'],
      ['something else entirely', '(unknown)', '(unknown)'],
    ];
    for (const [ua, browser, os] of cases) expect(classifyUserAgent(ua), ua).toMatchObject({ browser, os });
  });
});
