import {
  AggregatorRegistry,
  type MetricObjectWithValues,
  type MetricValue,
  type PrometheusContentType,
  Registry,
} from 'prom-client'

export type WorkerMetricsSnapshot = MetricObjectWithValues<MetricValue<string>>[]

/**
 * One exposition for the whole pod: the workers' metrics summed by label set (each worker owns disjoint
 * partitions, so sums are exact) followed by the supervisor's own metrics.
 */
export async function renderWorkerMetrics(
  snapshots: { worker: string; metrics: WorkerMetricsSnapshot }[],
  supervisorRegistry: Registry<PrometheusContentType>,
): Promise<string> {
  const workers = AggregatorRegistry.aggregate<PrometheusContentType>(snapshots.map((s) => s.metrics))
  return Registry.merge([supervisorRegistry, workers]).metrics()
}
