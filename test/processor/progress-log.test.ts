import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { PartitionProgress } from '../../src/processor/progress.ts'
import { lagRecords, lagSeconds } from '../../src/processor/progress.ts'
import { ProgressLog } from '../../src/processor/progress-log.ts'
import { captureLogger } from '../helpers/capture-logger.ts'

const at = (next: bigint, logEnd: bigint | undefined, nextTimestampMs?: number): PartitionProgress => ({
  topic: 'in',
  partition: 0,
  next,
  logEnd,
  nextTimestampMs,
})

test('lag in seconds is the age of the record at the next offset, 0 when caught up, unknown until fetched', () => {
  assert.equal(lagSeconds(at(5n, 9n, 1_000), 31_000), 30)
  assert.equal(lagSeconds(at(9n, 9n, 1_000), 31_000), 0)
  assert.equal(lagSeconds(at(9n, undefined), 31_000), 0)
  assert.equal(lagSeconds(at(5n, 9n), 31_000), undefined)
  assert.equal(lagSeconds(at(5n, 9n, 40_000), 31_000), 0, 'a timestamp ahead of the clock is no lag')
  assert.equal(lagRecords(at(5n, 9n)), 4n)
  assert.equal(lagRecords(at(10n, 9n)), 0n)
})

test('the progress line reports records processed since the previous line and the lag', () => {
  const logger = captureLogger()
  const log = new ProgressLog(logger, 1000)
  log.begin([at(100n, 100n)], 0)
  log.log([at(150n, 160n, 500)], 1000)
  log.log([at(160n, 160n)], 2500)
  assert.deepEqual(
    logger.lines.map((l) => [l.level, l.message, l.fields]),
    [
      ['info', 'progress', { processed: 50, overMs: 1000, lag: 10, lagSeconds: 0.5 }],
      ['info', 'progress', { processed: 10, overMs: 1500, lag: 0, lagSeconds: 0 }],
    ],
  )
})

test('the progress line comes at its interval, even while a batch is stuck, and an interval of 0 turns it off', async (t) => {
  t.mock.timers.enable({ apis: ['setInterval', 'Date'] })
  const logger = captureLogger()
  const progress = [at(10n, 12n)]
  const log = new ProgressLog(logger, 1000)
  log.start(() => progress)
  t.mock.timers.tick(999)
  assert.equal(logger.lines.length, 0)
  t.mock.timers.tick(1)
  t.mock.timers.tick(1000)
  assert.deepEqual(
    logger.lines.map((l) => l.fields.processed),
    [0, 0],
  )
  log.stop()
  t.mock.timers.tick(5000)
  assert.equal(logger.lines.length, 2)
  const off = captureLogger()
  new ProgressLog(off, 0).start(() => progress)
  t.mock.timers.tick(10 ** 9)
  assert.equal(off.lines.length, 0)
})
