import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RetiredWorkerMetrics, renderWorkerMetrics } from '../../src/metrics/aggregate.ts'
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
