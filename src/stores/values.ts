import type { StoreValue } from './types.ts'

export const toBuffer = (value: StoreValue): Buffer =>
  typeof value === 'string' ? Buffer.from(value) : value

export const entriesOf = <V>(entries: Map<string, V> | Iterable<readonly [string, V]>): [string, V][] =>
  [...entries].map(([key, value]) => [key, value])
