import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { Reader, type Response } from 'mmdb-lib';

/** Where a client address is, as far as the database knows. The address itself is never kept. */
export interface Place {
  /** ISO 3166-1 alpha-2 code (upper case), or `(unknown)`. */
  country: string;
  /**
   * First subdivision's English name (state, region) and the country, when the database has it:
   * `England, GB` (a name alone repeats across countries: Limburg, Georgia).
   */
  region?: string | undefined;
  /** City's English name, its region's and the country: `London, England, GB`, `Linköping, SE`. */
  city?: string | undefined;
}

export const UNKNOWN_PLACE = '(unknown)';

/**
 * The database that ships in the npm package `@ip-location-db/geo-whois-asn-country-mmdb`
 * (countries only, IPv4 and IPv6): what the tracker reads unless `GEOIP_DATABASE` names another.
 */
export function bundledGeoDatabasePath(): string {
  return createRequire(import.meta.url).resolve('@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb');
}

/** The records of the formats we read: MaxMind GeoIP2/GeoLite2 (Country, City), and ip-location-db's. */
interface GeoRecord {
  country?: { iso_code?: string };
  registered_country?: { iso_code?: string };
  country_code?: string;
  subdivisions?: Array<{ names?: { en?: string } }>;
  state1?: string;
  city?: { names?: { en?: string } } | string;
}

const RECORD_CACHE_SIZE = 10_000;
const COUNTRY = /^[A-Z]{2}$/;
/** Names longer than this (no real one is) or with control characters are not used. */
const NAME = /^[^\u0000-\u001f\u007f-\u009f]{1,128}$/;

/**
 * A MaxMind DB file (`.mmdb`) read into memory once, looked up per event. Lookups walk the
 * file's search tree (about a microsecond); decoded records are cached by their position in
 * the file (one per distinct place, not per address), so no address is held after its lookup.
 */
export class GeoDatabase {
  private readonly reader: Reader<Response>;
  /** Decoded records by position in the file, bounded (a City file has millions). */
  private readonly records = new Map<number, unknown>();
  /** The database's own description: type and build date, for the startup log. */
  readonly description: { path: string; type: string; builtAt: string; hasCities: boolean };

  constructor(readonly path: string) {
    let file: Buffer;
    try {
      file = readFileSync(path);
    } catch (error) {
      throw new Error(`GEOIP_DATABASE: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
    }
    try {
      this.reader = new Reader<Response>(file, { cache: { get: (key: number) => this.records.get(key), set: (key: number, value: unknown) => this.remember(key, value) } });
    } catch (error) {
      throw new Error(`GEOIP_DATABASE: ${path} is not a MaxMind DB (.mmdb) file (${(error as Error).message})`, { cause: error });
    }
    const type = this.reader.metadata.databaseType;
    this.description = { path, type, builtAt: this.reader.metadata.buildEpoch.toISOString(), hasCities: /city/i.test(type) };
  }

  private remember(key: number, value: unknown): void {
    if (this.records.size >= RECORD_CACHE_SIZE) this.records.clear();
    this.records.set(key, value);
  }

  /** The place of a client address; `(unknown)` country for addresses the file does not have, private ones and anything unparsable. */
  lookup(ip: string): Place {
    const address = ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
    let record: GeoRecord | null;
    try {
      const version = isIP(address);
      // An IPv4-only file has no IPv6 addresses (its tree would walk their bits as if it had).
      record = version === 0 || (version === 6 && this.reader.metadata.ipVersion === 4) ? null : (this.reader.get(address) as GeoRecord | null);
    } catch {
      record = null;
    }
    if (!record) return { country: UNKNOWN_PLACE };
    const code = record.country?.iso_code ?? record.country_code ?? record.registered_country?.iso_code;
    const country = code !== undefined && COUNTRY.test(code) ? code : undefined;
    const region = name(record.subdivisions?.[0]?.names?.en ?? record.state1);
    const city = name(typeof record.city === 'string' ? record.city : record.city?.names?.en);
    // Qualified by what contains them: Springfield, Illinois, US is not Springfield, Oregon, US.
    const within = (...parts: Array<string | undefined>) => parts.filter((p) => p !== undefined).join(', ');
    return {
      country: country ?? UNKNOWN_PLACE,
      region: region && within(region, country),
      city: city && within(city, region, country),
    };
  }
}

function name(value: string | undefined): string | undefined {
  return value !== undefined && NAME.test(value) && value.isWellFormed() ? value : undefined;
}
