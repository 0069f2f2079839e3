import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  attemptsWithinLeaderChangeSpan,
  isRetriable,
  leaderChangeRetry,
  retryPauseMs,
  waitWhilePending,
  withRoutingRetry,
} from '../../src/kafka/routing-retry.ts'

const retriable = Object.assign(new Error('NOT_LEADER_FOR_PARTITION'), { retriable: true })

test('a retriable error is retried after a refresh, which is given the error, then the result returned', async () => {
  let calls = 0
  let refreshes = 0
  const result = await withRoutingRetry(
    async () => {
      calls++
      if (calls < 3) throw retriable
      return 'ok'
    },
    (error) => {
      assert.equal(error, retriable)
      refreshes++
      return undefined
    },
    5,
    1,
  )
  assert.equal(result, 'ok')
  assert.equal(calls, 3)
  assert.equal(refreshes, 2)
})

test('other errors are thrown at once, and a retriable one after the last attempt', async () => {
  let calls = 0
  await assert.rejects(
    withRoutingRetry(async () => {
      calls++
      throw new Error('UNKNOWN_TOPIC')
    }),
    /UNKNOWN_TOPIC/,
  )
  assert.equal(calls, 1)
  await assert.rejects(
    withRoutingRetry(() => Promise.reject(retriable), undefined, 2, 1),
    /NOT_LEADER/,
  )
  assert.equal(isRetriable({ errors: [{ canRetry: true }] }), true)
  assert.equal(isRetriable(new Error('x')), false)
})

test('a read answered UNSTABLE_OFFSET_COMMIT waits, telling each time, until the transaction ends; other errors are thrown', async () => {
  const unstable = Object.assign(new Error('Received response with error while executing API'), {
    errors: [{ apiId: 'UNSTABLE_OFFSET_COMMIT', canRetry: true }],
  })
  let calls = 0
  const told: number[] = []
  const result = await waitWhilePending(
    async () => {
      calls++
      if (calls < 3) throw unstable
      return 'stable'
    },
    async (waitedMs) => {
      told.push(waitedMs)
    },
  )
  assert.equal(result, 'stable')
  assert.equal(told.length, 2)
  await assert.rejects(
    waitWhilePending(
      async () => {
        throw retriable
      },
      async () => assert.fail('not a pending transaction'),
    ),
    retriable,
  )
})

test('both clients pause between attempts per one policy: doubling from 100 ms, at most 2 s, about 15 s in all', () => {
  assert.deepEqual(
    Array.from({ length: leaderChangeRetry.attempts - 1 }, (_, i) => retryPauseMs(i + 1)),
    [100, 200, 400, 800, 1600, 2000, 2000, 2000, 2000, 2000, 2000],
  )
  assert.equal(retryPauseMs(3, 20), 80)
})

test('a retry that starts with shorter pauses gets more attempts within the same span as leaderChangeRetry', () => {
  assert.equal(attemptsWithinLeaderChangeSpan(leaderChangeRetry.initialPauseMs), leaderChangeRetry.attempts)
  const attempts = attemptsWithinLeaderChangeSpan(20)
  const spanMs = (attempts: number, initialPauseMs: number) =>
    Array.from({ length: attempts - 1 }, (_, i) => retryPauseMs(i + 1, initialPauseMs)).reduce(
      (a, b) => a + b,
      0,
    )
  assert.ok(attempts > leaderChangeRetry.attempts, `${attempts} attempts`)
  assert.ok(spanMs(attempts, 20) <= spanMs(leaderChangeRetry.attempts, leaderChangeRetry.initialPauseMs))
  assert.ok(spanMs(attempts + 1, 20) > spanMs(leaderChangeRetry.attempts, leaderChangeRetry.initialPauseMs))
})
