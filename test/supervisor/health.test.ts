import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isDrained, isLive, isReady } from '../../src/supervisor/health.ts'
import type { WorkerState } from '../../src/supervisor/worker-state.ts'

const worker = (state: WorkerState, lastHeartbeatMs?: number, loaded = true) => ({
  state,
  lastHeartbeatMs,
  loaded,
})
const timeouts = { heartbeatTimeoutMs: 500, startTimeoutMs: 2000 }

test('live: every thread that runs heartbeated within the timeout; a worker in backoff or stopped counts as alive', () => {
  assert.equal(isLive([worker('running', 900), worker('starting', 500)], 1000, timeouts), true)
  assert.equal(isLive([worker('running', 400)], 1000, timeouts), false)
  assert.equal(isLive([worker('stopping', undefined)], 1000, timeouts), false, 'a missed heartbeat clears it')
  assert.equal(
    isLive([worker('backoff', undefined), worker('stopped', 0), worker('failed', 0)], 1000, timeouts),
    true,
  )
  assert.equal(isLive([], 1000, timeouts), true)
})

test('live: a thread still loading its code has startTimeoutMs, not heartbeatTimeoutMs', () => {
  assert.equal(isLive([worker('starting', 0, false)], 1500, timeouts), true, 'silent 1.5 s, still loading')
  assert.equal(isLive([worker('starting', 0, false)], 2500, timeouts), false, 'silent past startTimeoutMs')
  assert.equal(isLive([worker('starting', 0, true)], 1500, timeouts), false, 'silent 1.5 s once loaded')
})

test('ready: assigned, and every worker running; a member with no partitions is ready', () => {
  assert.equal(isReady({ name: 'assigned' }, [worker('running', 1000), worker('running', 1000)]), true)
  assert.equal(isReady({ name: 'assigned' }, []), true)
  for (const state of ['created', 'starting', 'stopping', 'backoff', 'stopped', 'failed'] as const)
    assert.equal(isReady({ name: 'assigned' }, [worker('running', 1000), worker(state)]), false, state)
  assert.equal(isReady({ name: 'waiting' }, []), false, 'waiting for an assignment')
  assert.equal(
    isReady({ name: 'stopping', exitCode: 0, fatalError: undefined }, [worker('running', 1000)]),
    false,
  )
})

test('drained: ready, and every worker drained; one that did not answer is not', () => {
  assert.equal(isDrained(true, [{ drained: true }, { drained: true }]), true)
  assert.equal(isDrained(true, []), true, 'a member with no partitions has nothing left')
  assert.equal(isDrained(true, [{ drained: true }, { drained: undefined }]), false)
  assert.equal(isDrained(true, [{ drained: false }]), false)
  assert.equal(isDrained(false, [{ drained: true }]), false)
})
