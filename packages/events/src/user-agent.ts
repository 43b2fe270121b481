import { isbot } from 'isbot';
import { UAParser } from 'ua-parser-js';
import type { Device } from './event.js';

export interface UserAgentClass {
  bot: boolean;
  device: Device;
  /** Browser name and major version (`Chrome 131`), the name alone without a version, or `(unknown)`. */
  browser: string;
  /** Operating system name (`Windows`, `macOS`, `iOS`, `Android`, `Linux`…), or `(unknown)`. */
  os: string;
}

const CACHE_SIZE = 2_000;
const cache = new Map<string, UserAgentClass>();
const UNKNOWN = '(unknown)';

/**
 * Bot check (isbot), device class (ua-parser-js: tablet, mobile or wearable → mobile, anything
 * else → desktop), browser and operating system (ua-parser-js). Parsing costs tens of
 * microseconds, so results are memoised for the most recent user agents.
 */
export function classifyUserAgent(userAgent: string): UserAgentClass {
  const hit = cache.get(userAgent);
  if (hit) return hit;
  const parsed = new UAParser(userAgent).getResult();
  const type = parsed.device.type;
  const browser = parsed.browser.name ? (parsed.browser.major ? `${parsed.browser.name} ${parsed.browser.major}` : parsed.browser.name) : UNKNOWN;
  const result: UserAgentClass = {
    bot: userAgent === '' || isbot(userAgent),
    device: type === 'tablet' ? 'tablet' : type === 'mobile' || type === 'wearable' ? 'mobile' : 'desktop',
    browser,
    os: parsed.os.name || UNKNOWN,
  };
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(userAgent, result);
  return result;
}
