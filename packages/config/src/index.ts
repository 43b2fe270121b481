export { loadConfig, parseConfig, configDefaults, ConfigError, redactUrl, type AppConfig, type WarehouseConfig } from './config.js';
export { createLogger, createRedis, connectRedis, type RedisRole } from './runtime.js';
