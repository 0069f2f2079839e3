import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import { patchRequestQueue } from '../../../src/kafka/kafkajs/request-queue.ts'

interface Queue {
  pending: unknown[]
  throttledUntil: number
  throttleCheckTimeoutId: NodeJS.Timeout | null
  checkPendingRequests(): void
  destroy(): void
}
const RequestQueue = createRequire(import.meta.url)('kafkajs/src/network/requestQueue/index.js') as new (
  options: object,
) => Queue
const silent = { debug() {}, info() {}, warn() {}, error() {} }
const queue = () =>
  new RequestQueue({
    maxInFlightRequests: 1,
    requestTimeout: 30_000,
    clientId: 't',
    broker: 'b',
    logger: silent,
  })

test("kafkajs' request queue schedules no check with nothing pending and no throttle (no negative timeout, no 1 ms loop)", () => {
  patchRequestQueue()
  patchRequestQueue()
  const idle = queue()
  idle.checkPendingRequests()
  assert.equal(idle.throttleCheckTimeoutId, null)
  idle.destroy()
})

test("kafkajs' request queue still schedules a check for pending requests, at the throttle's end when throttled", () => {
  patchRequestQueue()
  const throttled = queue()
  throttled.throttledUntil = Date.now() + 60_000
  throttled.checkPendingRequests()
  assert.notEqual(throttled.throttleCheckTimeoutId, null, 'a throttle ends with a check')
  throttled.destroy()
  const pending = queue()
  pending.pending.push({})
  pending.throttledUntil = Date.now() + 60_000
  pending.checkPendingRequests()
  assert.notEqual(pending.throttleCheckTimeoutId, null, 'a pending request is checked again')
  pending.destroy()
})
