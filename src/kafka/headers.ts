import type { IncomingHeaders } from './messages.ts'

/** Adds a received header; a key sent more than once becomes an array, in order. */
export function addHeader(headers: IncomingHeaders, key: string, value: Buffer): void {
  const existing = headers[key]
  if (existing === undefined) headers[key] = value
  else if (Array.isArray(existing)) existing.push(value)
  else headers[key] = [existing, value]
}

/** Collects header pairs as received (see addHeader). */
export function collectHeaders(pairs: Iterable<readonly [string, Buffer]>): IncomingHeaders {
  const headers: IncomingHeaders = {}
  for (const [key, value] of pairs) addHeader(headers, key, value)
  return headers
}
