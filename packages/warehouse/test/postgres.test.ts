import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresWarehouse } from '../src/index.js';
import { describeWarehouseBehaviour, sampleBatch } from './behaviour.js';

const DATABASE_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

describeWarehouseBehaviour('postgres', {
  async setup(hooks) {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    return {
      warehouse: createPostgresWarehouse({ connectionString: DATABASE_URL, schema, hooks }),
      async cleanup() {
        const client = new pg.Client({ connectionString: DATABASE_URL });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
      },
    };
  },
});

describe('postgres adapter when the connection fails', () => {
  const schema = `t_${randomBytes(6).toString('hex')}`;
  let admin: pg.Client;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: DATABASE_URL });
    await admin.connect();
    const warehouse = createPostgresWarehouse({ connectionString: DATABASE_URL, schema });
    await warehouse.migrate();
    await warehouse.close();
  });
  afterAll(async () => {
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  /** Holds load_batches locked from another session while `work` runs; returns the pid of the first session that waits on it. */
  async function withLedgerLocked<T>(work: (waiter: Promise<number>) => Promise<T>): Promise<T> {
    const locker = new pg.Client({ connectionString: DATABASE_URL });
    await locker.connect();
    try {
      await locker.query('BEGIN');
      await locker.query(`LOCK TABLE ${schema}.load_batches IN ACCESS EXCLUSIVE MODE`);
      const waiter = (async () => {
        for (;;) {
          const { rows } = await admin.query(
            `SELECT l.pid FROM pg_locks l WHERE l.relation = '${schema}.load_batches'::regclass AND NOT l.granted`,
          );
          if (rows[0]) return rows[0].pid as number;
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })();
      return await work(waiter);
    } finally {
      await locker.query('ROLLBACK').catch(() => undefined);
      await locker.end();
    }
  }

  it('a connection killed mid-load fails that load (the driver emits error on a checked-out client) and the process carries on', async () => {
    const warehouse = createPostgresWarehouse({ connectionString: DATABASE_URL, schema });
    try {
      const error = await withLedgerLocked(async (waiter) => {
        const load = warehouse.load(sampleBatch('killed')).catch((e: unknown) => e);
        await admin.query('SELECT pg_terminate_backend($1)', [await waiter]);
        return load;
      });
      expect(error).toMatchObject({ code: 'WAREHOUSE_LOAD', batchId: 'killed', message: expect.stringMatching(/terminat/) });
      // The pool replaced the dead client: the next load works.
      expect(await warehouse.load(sampleBatch('killed'))).toMatchObject({ status: 'loaded' });
    } finally {
      await warehouse.close();
    }
  });

  it('a statement past the statement timeout fails the load with WAREHOUSE_TIMEOUT', async () => {
    const warehouse = createPostgresWarehouse({ connectionString: DATABASE_URL, schema, statementTimeoutMs: 1_000 });
    try {
      const error = await withLedgerLocked(() => warehouse.load(sampleBatch('slow')).catch((e: unknown) => e));
      expect(error).toMatchObject({ code: 'WAREHOUSE_TIMEOUT', batchId: 'slow', message: expect.stringMatching(/ran past 1000 ms/) });
      expect(await warehouse.load(sampleBatch('slow'))).toMatchObject({ status: 'loaded' });
    } finally {
      await warehouse.close();
    }
  });

  it('a server that accepts the connection and never answers fails the load within the connect timeout', async () => {
    const silent = createServer(() => undefined); // accepts, says nothing
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as AddressInfo).port;
    const warehouse = createPostgresWarehouse({ connectionString: `postgres://postgres@127.0.0.1:${port}/test`, schema, connectTimeoutMs: 500 });
    try {
      await expect(warehouse.load(sampleBatch('silent'))).rejects.toMatchObject({ code: 'WAREHOUSE_TIMEOUT', batchId: 'silent' });
    } finally {
      await warehouse.close();
      silent.close();
    }
  });
});
