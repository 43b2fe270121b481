export { AnalyticsStore, storeDefaults, type AnalyticsStoreOptions, type EventWrite, type Claim, type ClaimedBatch } from './store.js';
export { AnalyticsKeys, BucketKeys, DIMENSIONS, OTHER, SITE_NAME, minuteId, minuteOf, parseMinuteId, type BucketRef, type Dimension } from './keys.js';
