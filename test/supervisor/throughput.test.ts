import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Throughput } from '../../src/supervisor/throughput.ts'

test('throughput is records per second over the last minute of heartbeats', () => {
  const throughput = new Throughput()
  throughput.record(0, 100n, '0')
  assert.equal(throughput.perSecond(), undefined)
  throughput.record(2000, 300n, '0')
  assert.equal(throughput.perSecond(), 100)
  for (let s = 3; s <= 120; s++) throughput.record(s * 1000, 300n + BigInt(s - 2) * 10n, '0')
  assert.equal(throughput.perSecond(), 10, 'the busy start left the window')
})

test('a restart from older offsets starts a new window instead of a negative rate', () => {
  const throughput = new Throughput()
  throughput.record(0, 100n, '0')
  throughput.record(2000, 300n, '0')
  throughput.record(3000, 250n, '0')
  assert.equal(throughput.perSecond(), undefined)
  throughput.record(5000, 270n, '0')
  assert.equal(throughput.perSecond(), 10)
})

test('a change of the partitions summed starts a new window instead of a spike', () => {
  const throughput = new Throughput()
  throughput.record(0, 100n, '0')
  throughput.record(2000, 120n, '0')
  // Partition 1 joins at offset 1,000,000: its offset is not records processed.
  throughput.record(3000, 1_000_130n, '0,1')
  assert.equal(throughput.perSecond(), undefined)
  throughput.record(5000, 1_000_150n, '0,1')
  assert.equal(throughput.perSecond(), 10)
})
