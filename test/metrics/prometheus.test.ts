import assert from 'node:assert/strict'
import { test } from 'node:test'
import { renderWorkerMetrics } from '../../src/metrics/aggregate.ts'
import { createCoreMetrics } from '../../src/metrics/core.ts'
import { PrometheusMetrics } from '../../src/metrics/prometheus.ts'

test('core metrics use Kasper names and {processor, topic, partition} labels', async () => {
  const metrics = new PrometheusMetrics()
  const core = createCoreMetrics(metrics, 'enricher')
  core.incoming('events', 3, 10)
  core.lag('events', 3, 7)
  core.batch(10)
  const text = await metrics.registry.metrics()
  assert.match(text, /kasper_incoming_messages_total\{processor="enricher",topic="events",partition="3"\} 10/)
  assert.match(
    text,
    /kasper_messages_behind_high_water_mark\{processor="enricher",topic="events",partition="3"\} 7/,
  )
  assert.match(text, /kasper_batch_size_messages_count\{processor="enricher"\} 1/)
})

test('error and per-partition series exist at 0 from the start; lag in seconds beside lag in records', async () => {
  const metrics = new PrometheusMetrics()
  const core = createCoreMetrics(metrics, 'enricher')
  const initial = await metrics.registry.metrics()
  assert.match(initial, /kasper_processing_errors_total\{processor="enricher"\} 0/)
  assert.match(initial, /kasper_batch_timeouts_total\{processor="enricher"\} 0/)
  core.assigned('events', 3)
  core.lagSeconds('events', 3, 12.5)
  const text = await metrics.registry.metrics()
  assert.match(text, /kasper_incoming_messages_total\{processor="enricher",topic="events",partition="3"\} 0/)
  assert.match(text, /kasper_lag_seconds\{processor="enricher",topic="events",partition="3"\} 12.5/)
})

test('asking twice for the same metric returns the same one; another type is an error', async () => {
  const metrics = new PrometheusMetrics()
  metrics.counter('c_total', 'c', ['a']).inc({ a: 'x' })
  metrics.counter('c_total', 'c', ['a']).inc({ a: 'x' }, 2)
  assert.match(await metrics.registry.metrics(), /c_total\{a="x"\} 3/)
  assert.throws(() => metrics.gauge('c_total', 'c', ['a']), /c_total already exists with another type/)
})

test('worker snapshots are summed per label set, without a worker label, and merged with the supervisor registry', async () => {
  const workers = [new PrometheusMetrics(), new PrometheusMetrics()]
  createCoreMetrics(workers[0]!, 'p').incoming('t', 0, 5)
  createCoreMetrics(workers[1]!, 'p').incoming('t', 1, 7)
  createCoreMetrics(workers[1]!, 'p').batch(7)
  createCoreMetrics(workers[0]!, 'p').batch(5)
  const supervisor = new PrometheusMetrics()
  supervisor.gauge('kasper_worker_up', 'up', ['worker']).set({ worker: 0 }, 1)
  const snapshots = await Promise.all(workers.map((w) => w.registry.getMetricsAsJSON()))
  const text = await renderWorkerMetrics(snapshots, supervisor.registry)
  assert.match(text, /kasper_incoming_messages_total\{processor="p",topic="t",partition="0"\} 5/)
  assert.match(text, /kasper_incoming_messages_total\{processor="p",topic="t",partition="1"\} 7/)
  assert.match(text, /kasper_batch_size_messages_count\{processor="p"\} 2/)
  assert.match(text, /kasper_batch_size_messages_sum\{processor="p"\} 12/)
  assert.match(text, /kasper_batch_size_messages_bucket\{le="5",processor="p"\} 1/)
  assert.match(text, /kasper_worker_up\{worker="0"\} 1/)
  assert.doesNotMatch(text, /kasper_(incoming|batch)\w*\{[^}]*worker=/)
})
