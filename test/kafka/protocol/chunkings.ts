import assert from 'node:assert/strict'
import { ChunkedBytes } from '../../../src/kafka/protocol/chunked-bytes.ts'

const chunkSizes = [1, 2, 3, 5, 8, 13, 61, 64, 100, 1000]

/** `bytes` cut as a socket might deliver them: into chunks of several sizes, and in two at every byte. */
export function* chunkings(bytes: Buffer): Generator<Buffer[]> {
  for (const size of chunkSizes) {
    if (size >= bytes.length) break
    const chunks: Buffer[] = []
    for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size))
    yield chunks
  }
  for (let at = 1; at < bytes.length; at++) yield [bytes.subarray(0, at), bytes.subarray(at)]
}

type Outcome<T> = { value: T } | { error: string }

function outcome<T>(decode: (bytes: ChunkedBytes) => T, bytes: ChunkedBytes): Outcome<T> {
  try {
    return { value: decode(bytes) }
  } catch (error) {
    return { error: `${(error as Error).name}: ${(error as Error).message}` }
  }
}

/**
 * `decode` of `bytes` whole, checked to give the same result, or throw the same error, for every chunking:
 * how the socket cut the bytes must not matter.
 */
export function decodeEveryWay<T>(bytes: Buffer, decode: (bytes: ChunkedBytes) => T): T {
  const whole = outcome(decode, ChunkedBytes.of(bytes))
  for (const chunks of chunkings(bytes)) {
    const cut = outcome(decode, new ChunkedBytes(chunks))
    assert.deepEqual(cut, whole, `cut into ${chunks.map((c) => c.length).join('+')} bytes`)
  }
  if ('error' in whole) return decode(ChunkedBytes.of(bytes))
  return whole.value
}
