export { AnalyticsStore, storeDefaults, type AnalyticsStoreOptions, type Claim, type ClaimedBatch } from './store.js';
export {
  AnalyticsKeys,
  BucketKeys,
  DIMENSIONS,
  ENGAGED_VISIT_EVENT,
  LiveKeys,
  OTHER,
  PAGEVIEW_EVENT,
  SITE_NAME,
  VISIT_EVENT,
  minuteId,
  minuteOf,
  pageDigest,
  parseMinuteId,
  type BucketRef,
  type Dimension,
} from './keys.js';
export { LIVE_WINDOWS, liveDefaults, type LiveOptions } from './live-options.js';
export type { LiveCount, LiveView } from './live-view.js';
export type { EventWrite } from './write-batcher.js';
