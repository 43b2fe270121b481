/**
 * Writes a small MaxMind DB file (format 2.0, IPv4 tree, 32-bit records), for tests that need a
 * geolocation database with regions and cities: the bundled one has countries only, and
 * GeoLite2 files need an account to download. Follows the MaxMind DB File Format Specification:
 * a binary search tree over address bits, 16 zero bytes, a data section of typed values, then
 * `\xAB\xCD\xEFMaxMind.com` and the metadata map.
 */
type Value = string | number | Value[] | { [key: string]: Value };

export interface MmdbNetwork {
  /** `a.b.c.d/len` */
  network: string;
  record: { [key: string]: Value };
}

export function writeMmdb(options: { databaseType: string; networks: MmdbNetwork[]; buildEpoch?: number }): Buffer {
  const data: Buffer[] = [];
  let dataSize = 0;
  const offsets = options.networks.map(({ record }) => {
    const encoded = encode(record);
    data.push(encoded);
    dataSize += encoded.length;
    return dataSize - encoded.length;
  });

  // Trie over address bits; a record is a node index, 'empty', or a data offset.
  type Ref = number | 'empty' | { data: number };
  const nodes: Array<[Ref, Ref]> = [['empty', 'empty']];
  options.networks.forEach(({ network }, n) => {
    const [address, length] = network.split('/') as [string, string];
    const bits = address.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
    let node = 0;
    for (let depth = 0; depth < Number(length); depth++) {
      const bit = Number((bits >> BigInt(31 - depth)) & 1n);
      if (depth === Number(length) - 1) {
        nodes[node]![bit] = { data: offsets[n]! };
        break;
      }
      const next = nodes[node]![bit]!;
      if (typeof next === 'number') node = next;
      else {
        nodes.push(['empty', 'empty']);
        nodes[node]![bit] = nodes.length - 1;
        node = nodes.length - 1;
      }
    }
  });
  const nodeCount = nodes.length;
  const tree = Buffer.alloc(nodeCount * 8);
  const value = (ref: Ref) => (ref === 'empty' ? nodeCount : typeof ref === 'number' ? ref : nodeCount + 16 + ref.data);
  nodes.forEach(([left, right], i) => {
    tree.writeUInt32BE(value(left), i * 8);
    tree.writeUInt32BE(value(right), i * 8 + 4);
  });
  const metadata = encode({
    node_count: { uint32: nodeCount },
    record_size: { uint16: 32 },
    ip_version: { uint16: 4 },
    database_type: options.databaseType,
    languages: ['en'],
    binary_format_major_version: { uint16: 2 },
    binary_format_minor_version: { uint16: 0 },
    build_epoch: { uint64: options.buildEpoch ?? 1_780_000_000 },
    description: { en: 'test database written by test/support/mmdb-writer.ts' },
  } as unknown as { [key: string]: Value });
  return Buffer.concat([tree, Buffer.alloc(16), ...data, Buffer.from([0xab, 0xcd, 0xef]), Buffer.from('MaxMind.com'), metadata]);
}

/** Control byte(s) for a type (1-7 direct, 8+ extended) and a payload size. */
function control(type: number, size: number): Buffer {
  let sizeBits: number;
  let extra: Buffer;
  if (size < 29) [sizeBits, extra] = [size, Buffer.alloc(0)];
  else if (size < 285) [sizeBits, extra] = [29, Buffer.from([size - 29])];
  else [sizeBits, extra] = [30, Buffer.from([(size - 285) >> 8, (size - 285) & 255])];
  const head = type <= 7 ? Buffer.from([(type << 5) | sizeBits]) : Buffer.from([sizeBits, type - 7]);
  return Buffer.concat([head, extra]);
}

function unsigned(type: number, n: number): Buffer {
  const bytes: number[] = [];
  for (let x = BigInt(n); x > 0n; x >>= 8n) bytes.unshift(Number(x & 255n));
  return Buffer.concat([control(type, bytes.length), Buffer.from(bytes)]);
}

function encode(value: Value | { uint16: number } | { uint32: number } | { uint64: number }): Buffer {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([control(2, bytes.length), bytes]);
  }
  if (typeof value === 'number') return unsigned(6, value);
  if (Array.isArray(value)) return Buffer.concat([control(11, value.length), ...value.map(encode)]);
  if ('uint16' in value && typeof value.uint16 === 'number') return unsigned(5, value.uint16);
  if ('uint32' in value && typeof value.uint32 === 'number') return unsigned(6, value.uint32);
  if ('uint64' in value && typeof value.uint64 === 'number') return unsigned(9, value.uint64);
  const entries = Object.entries(value as { [key: string]: Value });
  return Buffer.concat([control(7, entries.length), ...entries.flatMap(([k, v]) => [encode(k), encode(v)])]);
}
