import { isbot } from 'isbot';
import { UAParser } from 'ua-parser-js';
import type { Device } from './event.js';

export interface UserAgentClass {
  bot: boolean;
  device: Device;
}

const CACHE_SIZE = 2_000;
const cache = new Map<string, UserAgentClass>();

/**
 * Bot check (isbot) and device class (ua-parser-js: tablet, mobile or wearable → mobile, anything
 * else → desktop). Parsing costs tens of microseconds, so results are memoised for the most
 * recent user agents.
 */
export function classifyUserAgent(userAgent: string): UserAgentClass {
  const hit = cache.get(userAgent);
  if (hit) return hit;
  const type = new UAParser(userAgent).getDevice().type;
  const result: UserAgentClass = {
    bot: userAgent === '' || isbot(userAgent),
    device: type === 'tablet' ? 'tablet' : type === 'mobile' || type === 'wearable' ? 'mobile' : 'desktop',
  };
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(userAgent, result);
  return result;
}
