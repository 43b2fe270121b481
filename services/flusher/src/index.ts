export { flushClosedMinutes, flushDefaults, type FlushOptions, type FlushSummary, type FlushDeps } from './flush.js';
export { startFlushScheduler, FLUSH_QUEUE, schedulerDefaults, type FlushSchedulerOptions } from './scheduler.js';
export { createFlusherMetrics, type FlusherMetrics } from './metrics.js';
export { startFlusherService } from './main.js';
export { createWarehouseFromConfig } from './warehouse-from-config.js';
