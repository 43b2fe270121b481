import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDuckDBWarehouse } from '../src/index.js';
import { describeWarehouseBehaviour } from './behaviour.js';

describeWarehouseBehaviour('duckdb', {
  async setup(hooks) {
    const dir = mkdtempSync(join(tmpdir(), 'rta-duckdb-'));
    return {
      warehouse: createDuckDBWarehouse({ path: join(dir, 'warehouse.duckdb'), hooks }),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
});
