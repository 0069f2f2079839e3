import type { MultiMap, StoreValue } from './types.ts'

export const toBuffer = (value: StoreValue): Buffer =>
  typeof value === 'string' ? Buffer.from(value) : value

export const entriesOf = <V>(entries: Map<string, V> | Iterable<readonly [string, V]>): [string, V][] =>
  [...entries].map(([key, value]) => [key, value])

/** Number of values across tenants. */
export const countValues = (entries: Map<string, Map<string, unknown>>): number =>
  [...entries.values()].reduce((sum, values) => sum + values.size, 0)

/** Files a fetched value under the tenant it was asked for. */
export function fileUnder(result: MultiMap, tenant: string, key: string, value: Buffer): void {
  const values = result.get(tenant) ?? new Map<string, Buffer>()
  values.set(key, value)
  result.set(tenant, values)
}
