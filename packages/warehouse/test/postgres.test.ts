import pg from 'pg';
import { randomBytes } from 'node:crypto';
import { createPostgresWarehouse } from '../src/index.js';
import { describeWarehouseBehaviour } from './behaviour.js';

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
