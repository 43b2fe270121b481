import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createDuckDBWarehouse } from '../src/index.js';
import { holdDuckDBFile } from '../../../test/support/duckdb-lock.js';
import { describeWarehouseBehaviour, sampleBatch } from './behaviour.js';

describeWarehouseBehaviour('duckdb', {
  async setup(hooks) {
    const dir = mkdtempSync(join(tmpdir(), 'rta-duckdb-'));
    return {
      warehouse: createDuckDBWarehouse({ path: join(dir, 'warehouse.duckdb'), hooks }),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
});

describe('duckdb adapter while another process holds the file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rta-duckdb-lock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fails a load with WAREHOUSE_TIMEOUT after the connect timeout, and loads once the file is free', async () => {
    const path = join(dir, 'warehouse.duckdb');
    const warehouse = createDuckDBWarehouse({ path, connectTimeoutMs: 1_000 });
    await warehouse.migrate();
    const holder = await holdDuckDBFile(path);
    try {
      await expect(warehouse.load(sampleBatch('held'))).rejects.toMatchObject({
        code: 'WAREHOUSE_TIMEOUT',
        batchId: 'held',
        message: expect.stringMatching(/lock on DuckDB file .* timed out after 1 s \(another process holds it\)/),
      });
    } finally {
      await holder.release();
    }
    expect(await warehouse.load(sampleBatch('held'))).toMatchObject({ status: 'loaded' });
    await warehouse.close();
  });
});
