/**
 * `map`'s value for `key`, made by `make` on a miss. The map is emptied when it holds `limit`
 * entries: a bound on memory for caches of names that repeat, cheaper than an LRU.
 */
export function memo<K, V>(map: Map<K, V>, key: K, limit: number, make: (key: K) => V): V {
  let value = map.get(key);
  if (value === undefined) {
    if (map.size >= limit) map.clear();
    value = make(key);
    map.set(key, value);
  }
  return value;
}
