import assert from 'node:assert/strict'
import { mock, test } from 'node:test'
import { PartitionHistory, trendSampleIntervalMs } from '../../src/admin/partition-history.ts'
import { startPartitionSampler } from '../../src/admin/partition-sampler.ts'
import type { AdminSource, WorkerView } from '../../src/admin/server.ts'
import type { Gauge } from '../../src/metrics/index.ts'

const worker = (partitions: number[]): WorkerView => ({
  id: 0,
  partitions,
  status: 'running',
  ready: true,
  restarts: 0,
  lastHeartbeatAgoMs: 0,
  lastError: undefined,
  unreachable: undefined,
  lastErrorAtMs: undefined,
  errors: 0,
  recordsPerSecond: undefined,
  heapUsedBytes: undefined,
  progress: partitions.map((partition) => ({
    topic: 'in',
    partition,
    next: 5n,
    logEnd: 5n,
    nextTimestampMs: undefined,
    stale: false,
    lastSeenAgoMs: 0,
  })),
})

test('a partition this process no longer owns loses its kasper_partition_status series', () => {
  mock.timers.enable({ apis: ['setInterval'] })
  let owned = [0, 1]
  const source = { workers: () => [worker(owned)] } as unknown as AdminSource
  const series = new Map<string, number>()
  const key = (labels: Record<string, unknown>) => `${labels.topic}/${labels.partition}`
  const gauge: Gauge = {
    set: (labels, value) => series.set(key(labels), value),
    remove: (labels) => series.delete(key(labels)),
  }
  const stop = startPartitionSampler(source, new PartitionHistory(), gauge, () => 'p')
  try {
    assert.deepEqual([...series.keys()], ['in/0', 'in/1'])
    owned = [0]
    mock.timers.tick(trendSampleIntervalMs)
    assert.deepEqual([...series.keys()], ['in/0'], 'the revoked partition 1 is no longer exported')
  } finally {
    stop()
    mock.timers.reset()
  }
})
