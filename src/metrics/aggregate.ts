import {
  AggregatorRegistry,
  type MetricObjectWithValues,
  type MetricValue,
  type PrometheusContentType,
  Registry,
} from 'prom-client'

/** A registry of the supervisor's own metrics, as the admin server renders it. */
export type MetricsRegistry = Registry<PrometheusContentType>

export type WorkerMetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[]

const withWorkerLabel = (worker: string, metrics: WorkerMetricsSnapshot): WorkerMetricsSnapshot =>
  metrics.map((metric) => ({
    ...metric,
    values: metric.values.map((value) => ({ ...value, labels: { ...value.labels, worker } })),
  }))

/**
 * One exposition for the whole pod: every worker's metrics with a `worker` label, merged by prom-client's
 * aggregator (series of different workers never collide), followed by the supervisor's own metrics.
 */
export async function renderWorkerMetrics(
  snapshots: { worker: string; metrics: WorkerMetricsSnapshot }[],
  supervisorRegistry: MetricsRegistry,
): Promise<string> {
  const workers = AggregatorRegistry.aggregate<PrometheusContentType>(
    snapshots.map((s) => withWorkerLabel(s.worker, s.metrics)),
  )
  return Registry.merge([supervisorRegistry, workers]).metrics()
}
