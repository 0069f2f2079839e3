import assert from 'node:assert/strict'
import { test } from 'node:test'
import { PartitionHistory } from '../../src/admin/partition-history.ts'
import type { StatusReport } from '../../src/admin/status.ts'
import { renderStatusPage } from '../../src/admin/status-page.ts'

const report = (facts: Record<string, unknown>): StatusReport => ({
  uptimeSeconds: 1,
  live: true,
  ready: true,
  drained: true,
  restarts: 0,
  recordsPerSecond: undefined,
  workers: [],
  partitions: [],
  totals: {
    lagByTopic: {},
    lag: 0,
    maxLagSeconds: 0,
    deadLettered: 0,
    skipped: 0,
    retried: 0,
    timedOut: 0,
    errors: 0,
  },
  outputTopics: [],
  ...facts,
})

test("the status page names each input and output topic's key and value serde", () => {
  const serdes = {
    inputs: { orders: { key: 'string', value: 'avro' } },
    outputs: { enriched: { key: 'bytes', value: 'json-schema' } },
  }
  const page = renderStatusPage(report({ serdes }), new PartitionHistory())
  assert.ok(
    page.includes(
      '<dd data-field="serdes">in orders: key string, value avro · out enriched: key bytes, value json-schema · other outputs: bytes</dd>',
    ),
    page,
  )
})
