export {
  AnalyticsStore,
  ClaimNotDurable,
  storeDefaults,
  type AnalyticsStoreOptions,
  type Claim,
  type ClaimedBatch,
  type ClaimedCounter,
} from './store.js';
export {
  AnalyticsKeys,
  BucketKeys,
  COMBINATION_SEPARATOR,
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
  parseGeneration,
  parseMinuteId,
  type BucketRef,
  type Dimension,
} from './keys.js';
export { LIVE_WINDOWS, liveDefaults, type LiveOptions } from './live-options.js';
export type { LiveCount, LiveView } from './live-view.js';
export { ReplicationTimeout, type EventWrite } from './write-batcher.js';
export type { ClaimReplicas } from './durability.js';
export { isCluster, masterNodes, nodeName, parseInfo, type RedisClient } from './redis-client.js';
export { BotCounts, BOT_WINDOW_MINUTES } from './bot-counts.js';
export { TokenAttempts, tokenAttemptsKey, type AttemptCount } from './token-attempts.js';
