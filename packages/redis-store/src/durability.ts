import { parseInfo } from './redis-client.js';

/**
 * How many replicas must have a claim before its batch is loaded: a number, or `auto` (one when
 * the bucket's master has a replica connected, else none).
 */
export type ClaimReplicas = number | 'auto';

/**
 * What makes a claim durable on the master holding it, decided from its INFO:
 * - `replicas`: `WAIT replicas` after the claim (a failover to a replica keeps the claim);
 * - `aof`: `waitaof` (`WAITAOF 1 0`, Redis ≥ 7.2 with AOF: the claim is fsynced), `fsync-second`
 *   (AOF with `appendfsync everysec` before 7.2, where nothing confirms the fsync: the load waits
 *   `EVERYSEC_WAIT_MS` after the claim, by which time the once-a-second fsync has run unless the
 *   disk stalls, which Redis counts in `aof_delayed_fsync`), `none` (no AOF, or `appendfsync
 *   always`, which fsyncs before it answers).
 */
export interface ClaimDurability {
  replicas: number;
  aof: 'waitaof' | 'fsync-second' | 'none';
}

export const EVERYSEC_WAIT_MS = 1_200;

export function claimDurability(info: string, setting: ClaimReplicas, appendfsync: string | undefined): ClaimDurability {
  const fields = parseInfo(info);
  const connected = Number(fields.get('connected_slaves') ?? 0);
  const replicas = setting === 'auto' ? Math.min(1, connected) : setting;
  if (fields.get('aof_enabled') !== '1' || appendfsync === 'always') return { replicas, aof: 'none' };
  const [major = 0, minor = 0] = (fields.get('redis_version') ?? '0.0').split('.').map(Number);
  return { replicas, aof: major > 7 || (major === 7 && minor >= 2) ? 'waitaof' : 'fsync-second' };
}
