/**
 * `pnpm bench:redis`: what the tracker's write path costs Redis and the client per event,
 * without HTTP and without a load generator, so the figures hold still on a busy machine
 * (the throughput bench cannot: there the tracker, Redis and wrk share the cores).
 *
 * It writes the bench's traffic (500 pages, 20,000 visitors, one referrer, 40 countries, one
 * browser and system) through AnalyticsStore.track in batches the size the tracker's group
 * commit forms under load: with counters only and with sessions and the live view, after a
 * warm-up that leaves every session and page field in place (the steady state of a busy site),
 * and then with sessions and the live view for visitors never seen before, two hits each (every
 * hit is a visit's first or second, the hits that decide visit counts; on a real site most hits
 * are). Per event it prints the time Redis spent in the scripts (INFO commandstats), Redis's
 * whole CPU time, and the client's CPU time (payloads, ioredis, the socket).
 *
 * Needs Redis at REDIS_URL (default redis://127.0.0.1:6379); uses a random key prefix and
 * deletes its keys afterwards.
 */
import { AnalyticsStore, minuteOf, type EventWrite } from '@rta/redis-store';
import { deleteKeysOf, randomPrefix, testRedis } from '../support/redis.js';

const BATCH = Number(process.env.BENCH_BATCH ?? 32);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 96_000);
const ROUNDS = 3;
const COUNTRIES = Array.from({ length: 40 }, (_, i) => String.fromCharCode(65 + (i % 26), 65 + Math.floor(i / 26) * 7));

function traffic(count: number, from: number, minute: number, visitor = (n: number) => `u:v${n % 20_000}`): EventWrite[][] {
  const batches: EventWrite[][] = [];
  for (let n = from; n < from + count; n += BATCH) {
    batches.push(
      Array.from({ length: BATCH }, (_, i) => ({
        site: 'example.com',
        event: 'pageview',
        path: `/page/${(n + i) % 500}`,
        referrer: 'news.ycombinator.com',
        device: 'desktop',
        // What the tracker derives from the user agent and the client address: one browser
        // and system, and the visitors' countries spread over 40 values.
        browser: 'Chrome 124',
        os: 'Windows',
        country: COUNTRIES[(n + i) % COUNTRIES.length]!,
        visitorId: visitor(n + i),
        receivedAt: minute + 1_000,
      })),
    );
  }
  return batches;
}

async function main(): Promise<void> {
  const redis = testRedis({ autoPipelining: true });
  const prefixes: string[] = [];
  const scriptMicros = async () => Number(/cmdstat_evalsha:calls=\d+,usec=(\d+)/.exec(await redis.info('commandstats'))?.[1] ?? 0);
  const redisCpuMicros = async () => {
    const cpu = await redis.info('cpu');
    return (Number(/used_cpu_user:([\d.]+)/.exec(cpu)![1]) + Number(/used_cpu_sys:([\d.]+)/.exec(cpu)![1])) * 1e6;
  };
  try {
    console.log(`# Redis and client time per event through AnalyticsStore.track, batches of ${BATCH}, ${EVENTS.toLocaleString('en')} events per round`);
    const minute = minuteOf(Date.now());
    const medians: number[] = [];
    const modes = [
      { name: 'counters only                  ', live: false, fresh: false },
      { name: 'counters + sessions + live view', live: true, fresh: false },
      { name: 'the same, new visitors (2 hits)', live: true, fresh: true },
    ];
    for (const { name, live, fresh } of modes) {
      const scriptTimes: number[] = [];
      const prefix = randomPrefix();
      prefixes.push(prefix);
      const store = new AnalyticsStore(redis, { prefix, maxValuesPerDimension: 10_000, live: live ? { sessionIdleMinutes: 30 } : undefined });
      for (const batch of traffic(40_000, 0, minute)) await store.track(batch); // every visitor twice: sessions past their first two hits
      for (let round = 1; round <= ROUNDS; round++) {
        // New visitors hit twice each, the second hit a few batches after the first.
        const measured = traffic(EVENTS, 40_000, minute, fresh ? (n) => `u:r${round}:${Math.floor(n / 256)}:${n % 128}` : undefined);
        const [s0, r0, c0] = [await scriptMicros(), await redisCpuMicros(), process.cpuUsage()];
        for (let i = 0; i < measured.length; i += 4) await Promise.all(measured.slice(i, i + 4).map((batch) => store.track(batch)));
        const client = process.cpuUsage(c0);
        const [s1, r1] = [await scriptMicros(), await redisCpuMicros()];
        scriptTimes.push((s1 - s0) / EVENTS);
        console.log(
          `${name}  round ${round}:` +
            `  Redis scripts ${((s1 - s0) / EVENTS).toFixed(2)} us/event` +
            `  Redis CPU ${((r1 - r0) / EVENTS).toFixed(2)} us/event` +
            `  client CPU ${((client.user + client.system) / EVENTS).toFixed(2)} us/event`,
        );
      }
      medians.push(scriptTimes.sort((a, b) => a - b)[Math.floor(ROUNDS / 2)]!);
    }
    console.log(`Redis script time with sessions and the live view / counters only (medians): ${(medians[1]! / medians[0]!).toFixed(2)}`);
    console.log(`Redis script time for new visitors / counters only (medians): ${(medians[2]! / medians[0]!).toFixed(2)}`);
  } finally {
    for (const prefix of prefixes) await deleteKeysOf(redis, prefix);
    redis.disconnect();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
