import type { Store } from './types.ts'

/** Reads a JSON value; null when the key is missing. */
export async function getJson<T>(store: Store, key: string): Promise<T | null> {
  const value = await store.get(key)
  return value === null ? null : (JSON.parse(value.toString('utf8')) as T)
}

export function putJson(store: Store, key: string, value: unknown): Promise<void> {
  return store.put(key, JSON.stringify(value))
}

/** Reads JSON values of the keys present. */
export async function getAllJson<T>(store: Store, keys: readonly string[]): Promise<Map<string, T>> {
  const values = await store.getAll(keys)
  return new Map([...values].map(([key, value]) => [key, JSON.parse(value.toString('utf8')) as T]))
}

export function putAllJson(store: Store, entries: Iterable<readonly [string, unknown]>): Promise<void> {
  return store.putAll([...entries].map(([key, value]) => [key, JSON.stringify(value)] as const))
}
