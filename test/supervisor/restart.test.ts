import assert from 'node:assert/strict'
import { test } from 'node:test'
import { exitCodes } from '../../src/supervisor/exit-codes.ts'
import { OutageWatch } from '../../src/supervisor/outage.ts'
import { backoffMs, restartDecision } from '../../src/supervisor/restart.ts'

test('backoff doubles up to the cap', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5, 6].map((n) => backoffMs(n, 1000, 10_000)),
    [1000, 2000, 4000, 8000, 10_000, 10_000],
  )
})

const policy = { maxRestarts: 3, initialBackoffMs: 1000, maxBackoffMs: 5000 }

test('a failing worker restarts after a growing backoff while failures stay within maxRestarts', () => {
  assert.deepEqual(
    [1, 2, 3].map((failures) => restartDecision({ fatal: undefined, transient: false, failures }, policy)),
    [
      { action: 'restart', delayMs: 1000 },
      { action: 'restart', delayMs: 2000 },
      { action: 'restart', delayMs: 4000 },
    ],
  )
})

test('one failure more than maxRestarts gives up with exit code 1', () => {
  assert.deepEqual(restartDecision({ fatal: undefined, transient: false, failures: 4 }, policy), {
    action: 'give up',
    exitCode: exitCodes.failure,
  })
  assert.deepEqual(
    restartDecision({ fatal: undefined, transient: false, failures: 1 }, { ...policy, maxRestarts: 0 }),
    {
      action: 'give up',
      exitCode: exitCodes.failure,
    },
  )
})

test('a configuration or processor module error stops at once with exit code 2, whatever the count', () => {
  for (const failures of [1, 10]) {
    assert.deepEqual(restartDecision({ fatal: 'configuration', transient: false, failures }, policy), {
      action: 'stop',
      exitCode: exitCodes.badConfiguration,
    })
  }
})

test('a Kafka error its table marks fatal stops at once with exit code 1, whatever the count', () => {
  for (const failures of [1, 10]) {
    assert.deepEqual(restartDecision({ fatal: 'kafka', transient: false, failures }, policy), {
      action: 'stop',
      exitCode: exitCodes.failure,
    })
  }
})

test('an outage is waited out with the capped backoff, however long, and never gives up', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 100].map((failures) =>
      restartDecision({ fatal: undefined, transient: true, failures }, { ...policy, maxRestarts: 0 }),
    ),
    [1000, 2000, 4000, 5000, 5000].map((delayMs) => ({ action: 'wait out', delayMs })),
  )
  assert.equal(
    restartDecision({ fatal: undefined, transient: true, failures: 1000 }, policy).action,
    'wait out',
  )
})

test('an outage is logged at its first failure, then once per interval, with how long it has lasted', () => {
  const outage = new OutageWatch(30_000)
  assert.equal(outage.active, false)
  const logged = [0, 1000, 5000, 29_000, 31_000, 45_000, 61_000, 62_000].map((nowMs) => {
    const { log, downForMs } = outage.failed(10_000 + nowMs)
    return log ? downForMs : undefined
  })
  assert.deepEqual(logged, [0, undefined, undefined, undefined, 31_000, undefined, 61_000, undefined])
  assert.equal(outage.ended(10_000 + 70_000), 70_000)
  assert.equal(outage.ended(10_000 + 71_000), undefined, 'over once')
  assert.deepEqual(outage.failed(200_000), { failures: 1, downForMs: 0, log: true }, 'a new outage')
})
