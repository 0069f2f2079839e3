import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { PartitionSample } from '../../src/admin/partition-history.ts'
import { partitionStatus, statusWindowSamples } from '../../src/admin/partition-status.ts'

/** Samples 5 s apart from (next, lag) pairs, the worker running unless said otherwise. */
const samples = (pairs: Array<[next: number, lag: number | undefined]>, running = true): PartitionSample[] =>
  pairs.map(([next, lag], i) => ({ atMs: i * 5000, next, lag, running }))

test('OK: no samples, the lag not known yet, or caught up now', () => {
  assert.equal(partitionStatus([]), 'OK')
  assert.equal(partitionStatus(samples([[0, undefined]])), 'OK')
  assert.equal(
    partitionStatus(
      samples([
        [0, 5],
        [5, 0],
      ]),
    ),
    'OK',
  )
})

test('OK: a lag of 0 at some sampling in the window (Burrow rule 1), even with the lag up since', () => {
  assert.equal(
    partitionStatus(
      samples([
        [0, 0],
        [0, 3],
        [0, 6],
      ]),
    ),
    'OK',
  )
})

test('OK: a single sampling with lag is not a trend yet', () => {
  assert.equal(partitionStatus(samples([[0, 5]])), 'OK')
})

test('STALL: lagging while the committed position does not move over the window', () => {
  assert.equal(
    partitionStatus(
      samples([
        [10, 3],
        [10, 3],
        [10, 5],
      ]),
    ),
    'STALL',
  )
})

test('STOP: lagging while the worker is not running, whatever the window says', () => {
  assert.equal(
    partitionStatus(
      samples(
        [
          [10, 3],
          [12, 1],
        ],
        false,
      ),
    ),
    'STOP',
  )
  const stoppedNow = [
    ...samples([
      [0, 0],
      [10, 3],
    ]),
    { atMs: 10_000, next: 10, lag: 4, running: false },
  ]
  assert.equal(partitionStatus(stoppedNow), 'STOP')
})

test('STOP needs lag: a worker that stopped caught up is OK', () => {
  assert.equal(
    partitionStatus(
      samples(
        [
          [10, 3],
          [13, 0],
        ],
        false,
      ),
    ),
    'OK',
  )
})

test('WARN: moving, but the lag never fell between two consecutive samplings (Burrow rule 3)', () => {
  assert.equal(
    partitionStatus(
      samples([
        [0, 10],
        [5, 10],
        [10, 12],
        [15, 20],
      ]),
    ),
    'WARN',
  )
})

test('OK: moving and the lag fell at least once in the window', () => {
  assert.equal(
    partitionStatus(
      samples([
        [0, 10],
        [5, 12],
        [10, 8],
        [15, 9],
      ]),
    ),
    'OK',
  )
})

test(`only the last ${statusWindowSamples} samplings count`, () => {
  const stalledLong = samples(Array.from({ length: statusWindowSamples }, () => [10, 3] as [number, number]))
  assert.equal(partitionStatus([...samples([[0, 0]]), ...stalledLong]), 'STALL')
  assert.equal(partitionStatus([...samples([[0, 0]]), ...stalledLong.slice(1)]), 'OK')
})
