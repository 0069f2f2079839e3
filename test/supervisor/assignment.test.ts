import assert from 'node:assert/strict'
import { test } from 'node:test'
import { reassignPartitions, splitPartitions } from '../../src/supervisor/assignment.ts'

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

test('a change keeps each partition still assigned on its set; new ones fill the smallest sets', () => {
  assert.deepEqual(
    reassignPartitions(
      [
        [0, 2],
        [1, 3],
      ],
      [0, 1, 2, 3, 4, 5],
      2,
    ),
    [
      [0, 2, 4],
      [1, 3, 5],
    ],
  )
  assert.deepEqual(
    reassignPartitions(
      [
        [0, 2, 4],
        [1, 3, 5],
      ],
      [0, 1, 4, 5],
      2,
    ),
    [
      [0, 4],
      [1, 5],
    ],
  )
})

test('a change that unbalances the sets moves the fewest partitions', () => {
  // Partitions 1, 3 and 5 went to another member: set 1 is empty, set 0 gives up one partition.
  const sets = reassignPartitions(
    [
      [0, 2, 4],
      [1, 3, 5],
    ],
    [0, 2, 4, 6],
    2,
  )
  assert.deepEqual(sets, [
    [0, 2],
    [4, 6],
  ])
})

test('fewer partitions than threads drop the trailing sets; more add sets', () => {
  assert.deepEqual(
    reassignPartitions(
      [
        [0, 2],
        [1, 3],
      ],
      [3],
      2,
    ),
    [[3]],
  )
  assert.deepEqual(reassignPartitions([[3]], [0, 1, 2, 3], 3), [[3, 2], [0], [1]])
  assert.deepEqual(reassignPartitions([[0], [1]], [], 2), [])
})

test('from nothing, the same sets as splitPartitions', () => {
  for (const threads of [1, 2, 3, 5])
    assert.deepEqual(
      reassignPartitions([], [...Array(7).keys()], threads),
      splitPartitions([...Array(7).keys()], threads),
    )
  const sizes = reassignPartitions([[0, 1, 2, 3, 4, 5, 6]], [...Array(7).keys()], 3).map((s) => s.length)
  assert.deepEqual(sizes, [3, 2, 2])
})
