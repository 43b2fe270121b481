export { AnalyticsStore, storeDefaults, type AnalyticsStoreOptions, type Claim, type ClaimedBatch } from './store.js';
export { AnalyticsKeys, BucketKeys, DIMENSIONS, OTHER, SITE_NAME, minuteId, minuteOf, pageDigest, parseMinuteId, type BucketRef, type Dimension } from './keys.js';
export type { EventWrite } from './write-batcher.js';
