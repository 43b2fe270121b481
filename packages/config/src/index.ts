export { loadConfig, parseConfig, debugOutputRequested, configDefaults, ConfigError, redactUrl, type AppConfig, type WarehouseConfig } from './config.js';
export { createLogger, createRedis, connectRedis, redisSeeds, type RedisConnectionConfig, type RedisRole } from './runtime.js';
export { LogLimiter, logLimiterDefaults, type LimitedLevel, type LogLimiterOptions } from './log-limiter.js';
export { parseTrustProxy, type TrustProxy } from './trust-proxy.js';
export { parseGoals } from './goals.js';
