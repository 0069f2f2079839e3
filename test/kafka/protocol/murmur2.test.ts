import assert from 'node:assert/strict'
import { test } from 'node:test'
import { murmur2, partitionForKey } from '../../../src/kafka/protocol/murmur2.ts'

test("murmur2 gives the Java client's values (Kafka's own test vectors)", () => {
  const vectors: Array<[string, number]> = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ]
  for (const [key, expected] of vectors) assert.equal(murmur2(Buffer.from(key)), expected, key)
})

test('a key maps to murmur2 without the sign bit, modulo the partition count', () => {
  assert.equal(partitionForKey(Buffer.from('21'), 7), (-973932308 & 0x7fffffff) % 7)
  assert.equal(partitionForKey(Buffer.alloc(0), 1), 0)
})
