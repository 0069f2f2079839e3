import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PartitionHistory } from '../../src/admin/partition-history.ts'

const p = (partition: number, next: number, lag: number | undefined, running = true) => ({
  topic: 't',
  partition,
  next,
  lag,
  running,
})

test('keeps each partition sampled within the window, dropping older samples', () => {
  const history = new PartitionHistory(60_000)
  history.record(0, [p(0, 0, 10)])
  history.record(30_000, [p(0, 5, 5)])
  history.record(70_000, [p(0, 9, 1)])
  assert.deepEqual(
    history.samples('t', 0).map((s) => s.atMs),
    [30_000, 70_000],
  )
})

test('a partition no longer sampled drops out once its samples are older than the window', () => {
  const history = new PartitionHistory(60_000)
  history.record(0, [p(0, 0, 1), p(1, 0, 1)])
  history.record(50_000, [p(0, 0, 1)])
  history.record(61_000, [p(0, 0, 1)])
  assert.deepEqual(history.samples('t', 1), [])
  assert.equal(history.samples('t', 0).length, 2)
})

test('the last commit is when next last moved, unknown before the first move', () => {
  const history = new PartitionHistory()
  history.record(1000, [p(0, 4, 2)])
  assert.equal(history.lastCommitMs('t', 0), undefined)
  history.record(2000, [p(0, 4, 2)])
  assert.equal(history.lastCommitMs('t', 0), undefined)
  history.record(3000, [p(0, 6, 0)])
  history.record(4000, [p(0, 6, 0)])
  assert.equal(history.lastCommitMs('t', 0), 3000)
})

test('totals: the summed lag per sampling and records/s over the partitions sampled both times', () => {
  const history = new PartitionHistory()
  history.record(0, [p(0, 0, 10), p(1, 0, 4)])
  history.record(2000, [p(0, 6, 6), p(1, 4, 2)])
  history.record(4000, [p(0, 6, 8), p(1, 4, 2), p(2, 100, 0)])
  assert.deepEqual(history.totals(), [
    { atMs: 0, lag: 14, recordsPerSecond: undefined },
    { atMs: 2000, lag: 8, recordsPerSecond: 5 },
    { atMs: 4000, lag: 10, recordsPerSecond: 0 },
  ])
})

test('next going back (a new owner starting from the committed offset) counts as no progress, not negative', () => {
  const history = new PartitionHistory()
  history.record(0, [p(0, 10, 0)])
  history.record(1000, [p(0, 8, 2)])
  assert.equal(history.totals()[1]?.recordsPerSecond, 0)
})
