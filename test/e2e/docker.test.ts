/**
 * The production image, checked without a Docker engine (none runs here): the compose files
 * parse, run commands the CLI has with variables `.env.example` documents, and use the one
 * image; the Dockerfile's own `pnpm deploy` line, run into a temporary folder, gives a tree of
 * compiled JavaScript with production dependencies only, from which `start` runs the pipeline
 * and the image's HEALTHCHECK finds `/healthz` healthy.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { COMMANDS } from '@rta/cli';
import { ROOT, exited } from '../support/child.js';
import { deleteKeysOf, randomPrefix, testRedis } from '../support/redis.js';
import { freePort, pnpm } from '../support/pnpm.js';
import { waitFor } from '../support/wait.js';

interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { disable?: boolean };
}
interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

const compose = (file: string): ComposeFile => parse(readFileSync(join(ROOT, file), 'utf8'), { merge: true }) as ComposeFile;
const documented = new Set([...readFileSync(join(ROOT, '.env.example'), 'utf8').matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]!));
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const APP_IMAGE = 'realtime-analytics:local';

describe.each(['docker-compose.yml', 'docker-compose.cluster.yml'])('%s', (file) => {
  const { services, volumes = {} } = compose(file);
  const apps = Object.entries(services).filter(([, s]) => s.image === APP_IMAGE);

  it('runs the tracker and the flusher from one image, with existing commands and documented variables', () => {
    expect(apps.map(([name]) => name).sort()).toEqual(['flusher', 'tracker']);
    for (const [name, service] of apps) {
      expect(service.build, name).toBe('.');
      expect(COMMANDS, name).toContain((service.command as string[])[0]);
      for (const variable of Object.keys(service.environment ?? {})) expect(documented, `${name}: ${variable}`).toContain(variable);
    }
    expect(services.flusher!.healthcheck).toEqual({ disable: true }); // it serves no /healthz
  });

  it('declares exactly the volumes its services use', () => {
    const used = new Set(Object.values(services).flatMap((s) => (s.volumes ?? []).map((v) => v.split(':')[0]!)));
    expect([...used].sort()).toEqual(Object.keys(volumes).sort());
  });
});

describe('docker-compose.cluster.yml', () => {
  const { services } = compose('docker-compose.cluster.yml');
  const nodes = Object.keys(services).filter((name) => /^redis-\d$/.test(name));

  it('is a cluster of 6 nodes with AOF, created once with one replica per master, that the services reach', () => {
    expect(nodes).toHaveLength(6);
    for (const node of nodes) {
      const command = (services[node]!.command as string[]).join(' ');
      expect(command).toContain('--cluster-enabled yes');
      expect(command).toContain('--appendonly yes');
    }
    const init = (services['redis-cluster-init']!.command as string[]).join(' ');
    expect(init).toMatch(/redis-cli --cluster create .*--cluster-replicas 1 --cluster-yes/);
    expect(init).toContain('for n in 1 2 3 4 5 6');
    for (const name of ['tracker', 'flusher']) {
      const env = services[name]!.environment!;
      expect(env.REDIS_CLUSTER).toBe('true');
      const seeds = env.REDIS_URL!.split(',').map((url) => new URL(url));
      expect(seeds.length).toBeGreaterThan(0);
      for (const seed of seeds) expect([seed.protocol, nodes.includes(seed.hostname)]).toEqual(['redis:', true]);
    }
  });
});

describe('Dockerfile', () => {
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const run = stages.at(-1)!;

  it('runs the compiled CLI as user node, with a HEALTHCHECK on /healthz', () => {
    expect(stages).toHaveLength(2);
    expect(run).toMatch(/^USER node$/m);
    expect(run).toMatch(/^ENTRYPOINT \["rta"\]$/m);
    expect(run).toContain('exec node /app/dist/main.js');
    expect(run).toMatch(/^HEALTHCHECK .*CMD \["node", "bin\/healthcheck\.mjs"\]$/m);
    expect(run).not.toMatch(/pnpm|tsx/);
  });

  describe('the image filesystem, from its own pnpm deploy line', () => {
    const app = mkdtempSync(join(tmpdir(), 'rta-image-'));
    const redis = testRedis();
    const prefix = randomPrefix();
    afterAll(async () => {
      await deleteKeysOf(redis, prefix);
      redis.disconnect();
      rmSync(app, { recursive: true, force: true });
    });

    it('holds production dependencies only, and `start` from there serves /healthz', async () => {
      const deploy = /^RUN .*?(pnpm --filter @rta\/cli deploy .*) \/app$/m.exec(dockerfile)?.[1];
      expect(deploy).toBe('pnpm --filter @rta/cli deploy --legacy --prod');
      rmSync(app, { recursive: true, force: true });
      // The build itself ran before the tests (test/support/global-setup.ts), as `pnpm build` does in the image.
      const [command, ...args] = pnpm();
      execFileSync(command!, [...args, ...deploy!.split(' ').slice(1), app], { cwd: ROOT, stdio: 'pipe' });

      const installed = readdirSync(join(app, 'node_modules/.pnpm'));
      for (const dev of ['vitest', 'typescript', 'tsx', 'playwright-core', 'autocannon', 'fast-check', 'turbo']) {
        expect(installed.filter((name) => name.startsWith(`${dev}@`)), dev).toEqual([]);
      }
      expect(installed.some((name) => name.startsWith('bullmq@'))).toBe(true);
      for (const pkg of ['config', 'redis-store', 'warehouse', 'tracker', 'flusher']) {
        expect(existsSync(join(app, 'node_modules/@rta', pkg, 'src')), `@rta/${pkg} ships no sources`).toBe(false);
      }
      expect(existsSync(join(app, 'test'))).toBe(false);

      const port = await freePort();
      const env = {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'production',
        SITES: 'example.com',
        HOST: '127.0.0.1',
        PORT: String(port),
        REDIS_PREFIX: prefix,
        LOG_LEVEL: 'warn',
      };
      const child = spawn(process.execPath, ['dist/main.js', 'start'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const done = exited(child);
      try {
        const healthcheck = () => exited(spawn(process.execPath, ['bin/healthcheck.mjs'], { cwd: app, env, stdio: 'pipe' }));
        const healthy = await waitFor(healthcheck, (r) => r.code === 0 || child.exitCode !== null, { intervalMs: 250 });
        expect(healthy.code, child.exitCode === null ? '' : (await done).output).toBe(0);
        const base = `http://127.0.0.1:${port}`;
        expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
        // The runtime files beside the compiled code: the Lua scripts (a counted hit), the assets, the SQL pack.
        const hit = await fetch(`${base}/p.gif?site=example.com&path=/image`, { headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64)' } });
        expect(hit.status).toBe(200);
        expect((await fetch(`${base}/t.js`)).status).toBe(200);
        const queries = await exited(spawn(process.execPath, ['dist/main.js', 'queries', '--format', 'json'], { cwd: app, env, stdio: 'pipe' }));
        expect(JSON.parse(queries.output).map((q: { name: string }) => q.name)).toContain('top-pages');
      } finally {
        child.kill('SIGTERM');
      }
      expect((await done).code).toBe(0);
    });
  });
});
