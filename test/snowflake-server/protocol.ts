/** Wire-level pieces of the Snowflake protocol shared by the server's routes (reference §2). */
import type { IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';

export type Body = Record<string, unknown>;

/** Session parameters the driver reads when decoding results (`column.js`). */
export const RESULT_PARAMETERS = [
  { name: 'TIMEZONE', value: 'UTC' },
  { name: 'TIMESTAMP_OUTPUT_FORMAT', value: 'YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM' },
  { name: 'TIMESTAMP_NTZ_OUTPUT_FORMAT', value: 'YYYY-MM-DD HH24:MI:SS.FF3' },
  { name: 'TIMESTAMP_LTZ_OUTPUT_FORMAT', value: '' },
  { name: 'TIMESTAMP_TZ_OUTPUT_FORMAT', value: '' },
  { name: 'DATE_OUTPUT_FORMAT', value: 'YYYY-MM-DD' },
  { name: 'TIME_OUTPUT_FORMAT', value: 'HH24:MI:SS' },
  { name: 'BINARY_OUTPUT_FORMAT', value: 'HEX' },
  { name: 'CLIENT_RESULT_CHUNK_SIZE', value: 160 },
];

/** `success:false` with the code the driver surfaces as `err.code` and the SQLSTATE as `err.sqlState`. */
export const failure = (code: string, message: string, sqlState?: string, queryId?: string): Body => ({
  success: false,
  code,
  message,
  data: { errorCode: code, sqlState: sqlState ?? '08001', queryId: queryId ?? null, internalError: false },
});

/** `success:true` with no code: what every answer but a failure or a pending query looks like. */
export const success = (data: unknown): Body => ({ success: true, code: null, message: null, data });

/** The JSON body; gunzipped when the driver says so (3.3.0 sends it uncompressed). */
export async function readBody(req: IncomingMessage): Promise<Body> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  let raw = Buffer.concat(chunks);
  if (/gzip/i.test(String(req.headers['content-encoding'] ?? ''))) raw = gunzipSync(raw);
  return raw.length > 0 ? (JSON.parse(raw.toString('utf8')) as Body) : {};
}
