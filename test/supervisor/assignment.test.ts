import assert from 'node:assert/strict'
import { test } from 'node:test'
import { splitPartitions } from '../../src/supervisor/assignment.ts'

test('12 partitions over 2 threads: disjoint, balanced, complete', () => {
  const sets = splitPartitions([...Array(12).keys()], 2)
  assert.deepEqual(sets, [
    [0, 2, 4, 6, 8, 10],
    [1, 3, 5, 7, 9, 11],
  ])
})

test('more threads than partitions gives one partition per set and no empty sets', () => {
  assert.deepEqual(splitPartitions([5, 3], 4), [[3], [5]])
})

test('uneven split differs by at most one', () => {
  const sizes = splitPartitions([...Array(7).keys()], 3).map((s) => s.length)
  assert.deepEqual(sizes, [3, 2, 2])
})
