import assert from 'node:assert/strict'
import { test } from 'node:test'
import { LastKnownGauges, RetiredWorkerMetrics, renderWorkerMetrics } from '../../src/metrics/aggregate.ts'
import { createCoreMetrics } from '../../src/metrics/core.ts'
import { PrometheusMetrics } from '../../src/metrics/prometheus.ts'

const render = (snapshots: Parameters<typeof renderWorkerMetrics>[0]) =>
  renderWorkerMetrics(snapshots, new PrometheusMetrics().registry)

test('what retired workers counted is added to their successor; their gauges are dropped', async () => {
  const retired = new RetiredWorkerMetrics()
  for (const count of [3, 4]) {
    const stopped = new PrometheusMetrics()
    const core = createCoreMetrics(stopped, 'p')
    core.incoming('t', 0, count)
    core.batch(count)
    core.lag('t', 0, 99)
    core.error()
    retired.add(await stopped.registry.getMetricsAsJSON())
  }
  const live = new PrometheusMetrics()
  const core = createCoreMetrics(live, 'p')
  core.incoming('t', 0, 5)
  core.lag('t', 0, 1)
  const text = await render([retired.snapshot(), await live.registry.getMetricsAsJSON()])
  assert.match(text, /kasper_incoming_messages_total\{processor="p",topic="t",partition="0"\} 12\n/)
  assert.match(text, /kasper_processing_errors_total\{processor="p"\} 2\n/)
  assert.match(text, /kasper_batch_size_messages_count\{processor="p"\} 2\n/)
  assert.match(text, /kasper_batch_size_messages_sum\{processor="p"\} 7\n/)
  assert.match(text, /kasper_batch_size_messages_bucket\{le="5",processor="p"\} 2\n/)
  assert.match(text, /kasper_messages_behind_high_water_mark\{processor="p",topic="t",partition="0"\} 1\n/)
})

test('a series only a retired worker had stays in the output', async () => {
  const retired = new RetiredWorkerMetrics()
  const stopped = new PrometheusMetrics()
  stopped.counter('kasper_store_errors_total', 'e', ['store']).inc({ store: 'counts' }, 3)
  retired.add(await stopped.registry.getMetricsAsJSON())
  assert.match(await render([retired.snapshot()]), /kasper_store_errors_total\{store="counts"\} 3\n/)
})

test('last known gauges fill in the partitions a live worker does not report, and forget revoked ones', async () => {
  const known = new LastKnownGauges()
  const before = new PrometheusMetrics()
  const core = createCoreMetrics(before, 'p')
  core.lag('t', 0, 40)
  core.lag('t', 1, 7)
  core.lagSeconds('t', 0, 12)
  core.incoming('t', 0, 3)
  known.record(await before.registry.getMetricsAsJSON(), new Set([0, 1]))
  // The worker is down: every partition at its last value, and no counter (the retired ones carry those).
  const down = await render([known.missingFrom(undefined)])
  assert.match(down, /kasper_messages_behind_high_water_mark\{processor="p",topic="t",partition="0"\} 40\n/)
  assert.match(down, /kasper_messages_behind_high_water_mark\{processor="p",topic="t",partition="1"\} 7\n/)
  assert.match(down, /kasper_lag_seconds\{processor="p",topic="t",partition="0"\} 12\n/)
  assert.doesNotMatch(down, /kasper_incoming_messages_total\{/)
  // Restarted, it reports partition 1 only so far: partition 0 keeps its last value, 1 is not counted twice.
  const restarted = new PrometheusMetrics()
  createCoreMetrics(restarted, 'p').lag('t', 1, 5)
  const live = await restarted.registry.getMetricsAsJSON()
  const up = await render([live, known.missingFrom(live)])
  assert.match(up, /kasper_messages_behind_high_water_mark\{processor="p",topic="t",partition="0"\} 40\n/)
  assert.match(up, /kasper_messages_behind_high_water_mark\{processor="p",topic="t",partition="1"\} 5\n/)
  known.retain(new Set([1]))
  assert.doesNotMatch(await render([known.missingFrom(undefined)]), /partition="0"/)
})

test('last known gauges take only the owned partitions of a snapshot that still reports a revoked one', async () => {
  const known = new LastKnownGauges()
  const releasing = new PrometheusMetrics()
  const core = createCoreMetrics(releasing, 'p')
  core.lag('t', 0, 40)
  core.lag('t', 1, 7)
  known.retain(new Set([1]))
  known.record(await releasing.registry.getMetricsAsJSON(), new Set([1]))
  const down = await render([known.missingFrom(undefined)])
  assert.doesNotMatch(down, /partition="0"/)
  assert.match(down, /kasper_messages_behind_high_water_mark\{processor="p",topic="t",partition="1"\} 7\n/)
})
