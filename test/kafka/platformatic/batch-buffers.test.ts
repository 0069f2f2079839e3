import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BatchBuffers } from '../../../src/kafka/platformatic/batch-buffers.ts'

const KiB = 1024

test('a released buffer serves the next batch of its size class; it is not handed out twice', () => {
  const buffers = new BatchBuffers(4 * 1024 * KiB)
  const first = buffers.allocate(100 * KiB)
  assert.equal(first.length, 100 * KiB)
  assert.equal(first.buffer.byteLength, 128 * KiB, 'a power of two')
  buffers.release(first)
  const second = buffers.allocate(120 * KiB)
  assert.equal(second.length, 120 * KiB)
  assert.equal(second.buffer, first.buffer, 'the same memory')
  const third = buffers.allocate(120 * KiB)
  assert.notEqual(third.buffer, second.buffer, 'a buffer in use is not handed out again')
  buffers.release(third)
  buffers.release(third)
  assert.equal(buffers.allocate(128 * KiB).buffer, third.buffer)
  assert.notEqual(buffers.allocate(128 * KiB).buffer, third.buffer, 'released twice, kept once')
  assert.notEqual(buffers.allocate(200 * KiB).buffer, first.buffer, 'another size class')
})

test("small batches are left to Node's allocator, and never taken back", () => {
  const buffers = new BatchBuffers(4 * 1024 * KiB)
  const small = buffers.allocate(10 * KiB)
  assert.equal(small.length, 10 * KiB)
  buffers.release(small)
  // Node's shared pool is 64 KiB on Node 24: taken back, a later batch would overwrite other Buffers.
  const slab = Buffer.allocUnsafe(1).buffer
  buffers.release(Buffer.from(slab, 0, 100))
  const next = buffers.allocate(64 * KiB)
  assert.notEqual(next.buffer, small.buffer)
  assert.notEqual(next.buffer, slab)
})

test('at most maxFreeBytes are kept; a buffer not from allocate() is not taken', () => {
  const buffers = new BatchBuffers(256 * KiB)
  const a = buffers.allocate(128 * KiB)
  const b = buffers.allocate(128 * KiB)
  const c = buffers.allocate(128 * KiB)
  for (const buffer of [a, b, c]) buffers.release(buffer)
  const reused = new Set([1, 2, 3].map(() => buffers.allocate(128 * KiB).buffer))
  assert.ok(reused.has(a.buffer) && reused.has(b.buffer), 'the first two were kept')
  assert.ok(!reused.has(c.buffer), 'the third was over the limit')

  const foreign = Buffer.alloc(256 * KiB).subarray(128 * KiB)
  buffers.release(foreign)
  buffers.release(Buffer.alloc(100 * KiB))
  assert.notEqual(buffers.allocate(128 * KiB).buffer, foreign.buffer)
  assert.equal(buffers.allocate(100 * KiB).buffer.byteLength, 128 * KiB)
})
