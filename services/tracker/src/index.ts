export { createTracker, type Tracker, type TrackerOptions } from './server.js';
export { PIXEL } from './http.js';
export { startTrackerService, trackerOptions } from './main.js';
export { serveWorkerMetrics } from './worker-metrics.js';
