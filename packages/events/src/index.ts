export * from './event.js';
export { LIMITS, EVENT_NAME, DEFAULT_EVENT, RESERVED_EVENTS } from './limits.js';
export { validateEvent, referrerHost, type ValidateOptions, type EventValidation } from './validate.js';
export { classifyUserAgent, type UserAgentClass } from './user-agent.js';
export { visitorId } from './visitor.js';
export { GeoDatabase, bundledGeoDatabasePath, UNKNOWN_PLACE, type Place } from './geo.js';
