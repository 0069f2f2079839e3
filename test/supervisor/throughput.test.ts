import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Throughput } from '../../src/supervisor/throughput.ts'

test('throughput is records per second over the last minute of heartbeats', () => {
  const throughput = new Throughput()
  throughput.record(0, 100n)
  assert.equal(throughput.perSecond(), undefined)
  throughput.record(2000, 300n)
  assert.equal(throughput.perSecond(), 100)
  for (let s = 3; s <= 120; s++) throughput.record(s * 1000, 300n + BigInt(s - 2) * 10n)
  assert.equal(throughput.perSecond(), 10, 'the busy start left the window')
})

test('a restart from older offsets starts a new window instead of a negative rate', () => {
  const throughput = new Throughput()
  throughput.record(0, 100n)
  throughput.record(2000, 300n)
  throughput.record(3000, 250n)
  assert.equal(throughput.perSecond(), undefined)
  throughput.record(5000, 270n)
  assert.equal(throughput.perSecond(), 10)
})
