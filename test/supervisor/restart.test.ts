import assert from 'node:assert/strict'
import { test } from 'node:test'
import { exitCodes } from '../../src/supervisor/exit-codes.ts'
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
    [1, 2, 3].map((failures) => restartDecision({ fatal: false, failures }, policy)),
    [
      { action: 'restart', delayMs: 1000 },
      { action: 'restart', delayMs: 2000 },
      { action: 'restart', delayMs: 4000 },
    ],
  )
})

test('one failure more than maxRestarts gives up with exit code 1', () => {
  assert.deepEqual(restartDecision({ fatal: false, failures: 4 }, policy), {
    action: 'give up',
    exitCode: exitCodes.failure,
  })
  assert.deepEqual(restartDecision({ fatal: false, failures: 1 }, { ...policy, maxRestarts: 0 }), {
    action: 'give up',
    exitCode: exitCodes.failure,
  })
})

test('a fatal error stops at once with exit code 2, whatever the count', () => {
  for (const failures of [1, 10]) {
    assert.deepEqual(restartDecision({ fatal: true, failures }, policy), {
      action: 'stop',
      exitCode: exitCodes.badConfiguration,
    })
  }
})
