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

test('a partition kept never moves to another set, even when that leaves the sets unbalanced', () => {
  // Partitions 1, 3 and 5 went to another member: set 1 kept nothing and takes the new partition 6.
  assert.deepEqual(
    reassignPartitions(
      [
        [0, 2, 4],
        [1, 3, 5],
      ],
      [0, 2, 4, 6],
      2,
    ),
    [[0, 2, 4], [6]],
  )
  // Set 0 kept nothing: it is retired (empty), set 1 keeps partition 3 on its thread.
  assert.deepEqual(
    reassignPartitions(
      [
        [0, 2],
        [1, 3],
      ],
      [3],
      2,
    ),
    [[], [3]],
  )
})

test('for every change, each kept partition stays in its set and the non-empty sets are at most the threads', () => {
  for (const threads of [1, 2, 3])
    for (let before = 0; before < 1 << 6; before++)
      for (let after = 0; after < 1 << 6; after += 3) {
        const members = (mask: number) => [...Array(6).keys()].filter((p) => mask & (1 << p))
        const current = splitPartitions(members(before), threads)
        const next = reassignPartitions(current, members(after), threads)
        const setOf = (sets: number[][], p: number) => sets.findIndex((set) => set.includes(p))
        for (const p of members(after))
          if (setOf(current, p) >= 0) assert.equal(setOf(next, p), setOf(current, p))
        assert.deepEqual(next.flat().sort(), members(after).sort())
        assert.ok(next.filter((set) => set.length > 0).length <= threads)
      }
})

test('a set that keeps nothing is reused before a new one; more partitions add sets', () => {
  assert.deepEqual(reassignPartitions([[3]], [0, 1, 2, 3], 3), [[3, 2], [0], [1]])
  assert.deepEqual(reassignPartitions([[0], [1]], [2, 3], 2), [[2], [3]])
  assert.deepEqual(reassignPartitions([[0], [1]], [], 2), [[], []])
})

test('from nothing, the same sets as splitPartitions', () => {
  for (const threads of [1, 2, 3, 5])
    assert.deepEqual(
      reassignPartitions([], [...Array(7).keys()], threads),
      splitPartitions([...Array(7).keys()], threads),
    )
})
