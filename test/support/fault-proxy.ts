/**
 * A TCP proxy between a client (the flusher) and a warehouse that the test drives, to show
 * what the client does when the network or the warehouse misbehaves:
 *
 * - `pass()`: forward everything (and listen again after `refuse()`);
 * - `refuse()`: the warehouse is down: open connections are reset, new ones refused
 *   (ECONNREFUSED: the proxy stops listening; `pass()` listens again on the same port);
 * - `blackhole()`: a silent partition: connections are accepted, nothing reaches either side,
 *   nothing comes back. Bytes are held, not dropped, as TCP would retransmit them: after
 *   `pass()` whatever the two ends still wait for arrives;
 * - `resetWhen(pattern)`: reset mid-load: the first connection whose client sends bytes
 *   containing `pattern` (SQL text, say) is reset (RST) on both sides before they reach the
 *   warehouse; resolves once it fired;
 * - `delay(ms)`: forward every chunk `ms` late (0 to stop).
 *
 * Nothing here sleeps on behalf of the test: each mode holds until the test changes it.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

type Mode = 'pass' | 'refuse' | 'blackhole';

interface Pipe {
  client: Socket;
  upstream: Socket | undefined;
  /** Bytes held while blackholed, per direction. */
  held: { up: Buffer[]; down: Buffer[] };
  /** The last bytes the client sent (a pattern's length), so a pattern split across chunks still matches. */
  tail: string;
}

export interface FaultProxy {
  readonly port: number;
  /** `host:port` of the proxy. */
  readonly address: string;
  readonly stats: { connections: number; resets: number };
  pass(): Promise<void>;
  refuse(): Promise<void>;
  blackhole(): void;
  resetWhen(pattern: string): Promise<void>;
  delay(ms: number): void;
  close(): Promise<void>;
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  let mode: Mode = 'pass';
  let delayMs = 0;
  let armed: { pattern: string; fired: () => void } | undefined;
  const pipes = new Set<Pipe>();
  const stats = { connections: 0, resets: 0 };

  const reset = (pipe: Pipe) => {
    pipes.delete(pipe);
    pipe.client.resetAndDestroy();
    pipe.upstream?.resetAndDestroy();
  };

  const forward = (pipe: Pipe, direction: 'up' | 'down', chunk: Buffer) => {
    const to = direction === 'up' ? pipe.upstream : pipe.client;
    if (mode === 'blackhole' || !to) {
      pipe.held[direction].push(chunk);
      return;
    }
    if (delayMs > 0) setTimeout(() => to.writable && to.write(chunk), delayMs);
    else to.write(chunk);
  };

  const openUpstream = (pipe: Pipe) => {
    const upstream = connect(target.port, target.host);
    pipe.upstream = upstream;
    upstream.on('connect', () => flush(pipe));
    upstream.on('data', (chunk: Buffer) => forward(pipe, 'down', chunk));
    upstream.on('error', () => reset(pipe));
    upstream.on('close', () => {
      pipes.delete(pipe);
      pipe.client.destroy();
    });
  };

  /** Sends what was held while blackholed, once both ends are there. */
  const flush = (pipe: Pipe) => {
    if (mode === 'blackhole') return;
    if (!pipe.upstream) {
      openUpstream(pipe);
      return;
    }
    if (pipe.upstream.connecting) return;
    for (const direction of ['up', 'down'] as const) {
      const chunks = pipe.held[direction].splice(0);
      for (const chunk of chunks) forward(pipe, direction, chunk);
    }
  };

  const server: Server = createServer((client) => {
    stats.connections++;
    const pipe: Pipe = { client, upstream: undefined, held: { up: [], down: [] }, tail: '' };
    pipes.add(pipe);
    client.on('data', (chunk: Buffer) => {
      if (armed) {
        const window = pipe.tail + chunk.toString('latin1');
        pipe.tail = window.slice(-armed.pattern.length);
        if (window.includes(armed.pattern)) {
          const { fired } = armed;
          armed = undefined;
          stats.resets++;
          reset(pipe);
          fired();
          return;
        }
      }
      forward(pipe, 'up', chunk);
    });
    client.on('error', () => reset(pipe));
    client.on('close', () => {
      pipes.delete(pipe);
      pipe.upstream?.destroy();
    });
    if (mode !== 'blackhole') openUpstream(pipe);
  });

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (server.address() as { port: number }).port;

  return {
    port,
    address: `127.0.0.1:${port}`,
    stats,
    async pass() {
      if (mode === 'refuse') {
        for (let attempt = 0; ; attempt++) {
          try {
            await listen(port);
            break;
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt > 100) throw error;
            await new Promise((resolve) => setTimeout(resolve, 50));
          }
        }
      }
      mode = 'pass';
      for (const pipe of pipes) flush(pipe);
    },
    async refuse() {
      mode = 'refuse';
      for (const pipe of [...pipes]) reset(pipe);
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    blackhole() {
      mode = 'blackhole';
    },
    resetWhen(pattern) {
      return new Promise<void>((fired) => {
        armed = { pattern, fired };
      });
    },
    delay(ms) {
      delayMs = ms;
    },
    async close() {
      for (const pipe of [...pipes]) reset(pipe);
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
