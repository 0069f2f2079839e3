import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ChunkedBytes } from '../../../src/kafka/protocol/chunked-bytes.ts'

const bytes = Buffer.from('0123456789abcdef')
const chunks = [bytes.subarray(0, 4), Buffer.alloc(0), bytes.subarray(4, 10), bytes.subarray(10)]

const sameMemory = (a: Buffer, b: Buffer) => a.buffer === b.buffer && a.byteOffset === b.byteOffset

test('a range inside one chunk is a view of it; across chunks, a copy of just those bytes', () => {
  const chunked = new ChunkedBytes(chunks)
  assert.equal(chunked.length, 16)
  const inside = chunked.view(5, 9)
  assert.equal(inside.toString(), '5678')
  assert.ok(sameMemory(inside, bytes.subarray(5)), 'a view')
  const across = chunked.view(2, 12)
  assert.equal(across.toString(), '23456789ab')
  assert.ok(!sameMemory(across, bytes.subarray(2)), 'a copy')
  assert.equal(chunked.view(0, 16).toString(), bytes.toString())
  assert.equal(chunked.view(7, 7).length, 0)
})

test('reads may go back: a view before the last one is still right', () => {
  const chunked = new ChunkedBytes(chunks)
  assert.equal(chunked.view(12, 14).toString(), 'cd')
  assert.equal(chunked.view(1, 3).toString(), '12')
  assert.equal(chunked.chunkIndexAt(16), 2, 'the end is in the last chunk')
  assert.equal(chunked.chunkIndexAt(4), 1, 'a chunk holds its first position')
  assert.ok(sameMemory(chunked.view(4, 6), bytes.subarray(4)), 'a range starting on a boundary is a view')
})

test('range() copies nothing: its chunks are views of the original ones', () => {
  const range = new ChunkedBytes(chunks).range(3, 13)
  assert.equal(range.length, 10)
  assert.equal(range.view(0, 10).toString(), '3456789abc')
  assert.ok(sameMemory(range.chunk(0), bytes.subarray(3)))
  assert.ok(sameMemory(range.chunk(1), bytes.subarray(4)))
  assert.ok(sameMemory(range.chunk(2), bytes.subarray(10)))
  assert.equal(range.chunkStart(2), 7)
  assert.equal(new ChunkedBytes(chunks).range(16, 16).length, 0)
})

test('a range outside the bytes is a RangeError', () => {
  const chunked = new ChunkedBytes(chunks)
  assert.throws(() => chunked.view(10, 17), /bytes 10\.\.17 are outside 0\.\.16/)
  assert.throws(() => chunked.view(-1, 2), RangeError)
  assert.throws(() => chunked.range(5, 4), RangeError)
  assert.equal(new ChunkedBytes([]).length, 0)
})
