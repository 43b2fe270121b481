import { connect, type Socket } from 'node:net';

/** What came back on a raw connection. `status` 0: the server closed without answering. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** From the last byte written (or the answer, if it came first) to the complete answer, ms. */
  ms: number;
  /** No complete answer within the bound: the connection was cut by the client. */
  timedOut: boolean;
}

export interface RawExchange {
  /** Bytes to write, in order; `gapMs` between pieces (a slow client). */
  pieces: Buffer[];
  gapMs?: number;
  /** The request is incomplete on purpose: close `closeAfterMs` after the last piece instead of waiting for an answer. */
  abort?: boolean;
  /** A HEAD request: its answer has no body whatever Content-Length says. */
  head?: boolean;
}

const CLOSE_AFTER_MS = 20;

/**
 * One request on its own TCP connection, byte for byte as given, so that malformed request
 * lines, headers and chunked bodies reach the server unchanged. Resolves with the first
 * answer once it is complete (by Content-Length, chunked framing or the server closing), or
 * when `boundMs` passed since the last write (`timedOut`: a hang).
 */
export function exchange(port: number, request: RawExchange, boundMs: number): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket: Socket = connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    let lastWrite = 0;
    let done = false;
    let bound: NodeJS.Timeout | undefined;
    const finish = (timedOut = false) => {
      if (done) return;
      done = true;
      clearTimeout(bound);
      const answer = parse(received, request.head ?? false);
      resolve({ ...(answer ?? { status: 0, headers: {}, body: Buffer.alloc(0) }), ms: Date.now() - (lastWrite || Date.now()), timedOut });
      socket.destroy();
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (complete(received, request.head ?? false)) finish();
    });
    socket.on('close', () => finish());
    socket.on('error', () => finish());
    socket.on('connect', async () => {
      for (const [i, piece] of request.pieces.entries()) {
        if (done || socket.destroyed) return;
        if (i > 0 && request.gapMs) await new Promise((r) => setTimeout(r, request.gapMs));
        if (done || socket.destroyed) return;
        await new Promise<void>((r) => socket.write(piece, () => r()));
        lastWrite = Date.now();
      }
      if (request.abort) setTimeout(() => finish(), CLOSE_AFTER_MS);
      else bound = setTimeout(() => finish(true), boundMs);
    });
  });
}

/** Leaves a request half-sent and reports when (and how) the server ended the connection. */
export function stall(port: number, partial: Buffer): Promise<{ closedAfterMs: number; status: number }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(partial, () => (sentAt = Date.now())));
    let sentAt = Date.now();
    let received = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => (received = Buffer.concat([received, chunk])));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ closedAfterMs: Date.now() - sentAt, status: parse(received, false)?.status ?? 0 }));
  });
}

function headerEnd(data: Buffer): number {
  return data.indexOf('\r\n\r\n');
}

function parse(data: Buffer, head: boolean): Omit<RawAnswer, 'ms' | 'timedOut'> | undefined {
  const end = headerEnd(data);
  if (end < 0) return undefined;
  const [statusLine, ...lines] = data.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1] ?? 0);
  if (status >= 100 && status < 200) return parse(data.subarray(end + 4), head); // skip 100 Continue
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = data.subarray(end + 4);
  if (head || status === 204 || status === 304 || (status >= 100 && status < 200)) body = Buffer.alloc(0);
  else if (headers['content-length'] !== undefined) body = body.subarray(0, Number(headers['content-length']));
  else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) body = dechunk(body) ?? body;
  return { status, headers, body };
}

function complete(data: Buffer, head: boolean): boolean {
  const end = headerEnd(data);
  if (end < 0) return false;
  // An interim answer (100 Continue): the final one follows it.
  if (/^HTTP\/1\.[01] 1\d\d/.test(data.subarray(0, 12).toString('latin1'))) return complete(data.subarray(end + 4), head);
  const answer = parse(data, head)!;
  if (head || answer.status === 204 || answer.status === 304) return true;
  const length = answer.headers['content-length'];
  if (length !== undefined) return data.length - (end + 4) >= Number(length);
  if (/chunked/i.test(answer.headers['transfer-encoding'] ?? '')) return dechunk(data.subarray(end + 4)) !== undefined;
  return false; // read until the server closes
}

/** The body of a complete chunked message, or undefined while it is incomplete. */
function dechunk(data: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return undefined;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) return undefined;
    if (size === 0) return Buffer.concat(parts);
    if (data.length < lineEnd + 2 + size + 2) return undefined;
    parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
}
