/**
 * An object with one property per key, each set to `value(key)`. `Object.fromEntries` types its result as
 * `{ [k: string]: V }`, losing the keys; every key is set here, so the result is the full `Record<K, V>` —
 * the one assertion this needs stays in this helper.
 */
export function recordFromKeys<K extends string, V>(keys: readonly K[], value: (key: K) => V): Record<K, V> {
  return Object.fromEntries(keys.map((key) => [key, value(key)])) as Record<K, V>;
}
