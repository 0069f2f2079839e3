import {
  AggregatorRegistry,
  type MetricObjectWithValues,
  type MetricValue,
  type PrometheusContentType,
  Registry,
} from 'prom-client'

/** A registry of the supervisor's own metrics, as the admin server renders it. */
export type MetricsRegistry = Registry<PrometheusContentType>

type SeriesValue = MetricValue<string> & { metricName?: string }
type Metric = MetricObjectWithValues<SeriesValue>

export type WorkerMetricsSnapshot = Metric[]

// prom-client's typings declare a numeric enum, but snapshots carry the type's name.
const accumulates = (metric: Metric): boolean => ['counter', 'histogram'].includes(String(metric.type))

const seriesKey = (value: SeriesValue): string =>
  JSON.stringify([
    value.metricName ?? '',
    Object.entries(value.labels).sort(([a], [b]) => a.localeCompare(b)),
  ])

/**
 * What stopped workers counted, kept so that /metrics stays monotonic for the life of the process: their
 * counters and histograms, summed per series and added to their successors' by the aggregator. Gauges are
 * left out: they describe a live worker only.
 */
export class RetiredWorkerMetrics {
  readonly #metrics = new Map<string, { metric: Metric; series: Map<string, SeriesValue> }>()

  add(snapshot: WorkerMetricsSnapshot): void {
    for (const metric of snapshot) {
      if (!accumulates(metric)) continue
      let kept = this.#metrics.get(metric.name)
      if (!kept) {
        kept = { metric: { ...metric, values: [] }, series: new Map() }
        this.#metrics.set(metric.name, kept)
      }
      for (const value of metric.values) {
        const key = seriesKey(value)
        const previous = kept.series.get(key)
        kept.series.set(key, { ...value, value: (previous?.value ?? 0) + value.value })
      }
    }
  }

  snapshot(): WorkerMetricsSnapshot {
    return [...this.#metrics.values()].map(({ metric, series }) => ({
      ...metric,
      values: [...series.values()],
    }))
  }
}

/**
 * One exposition for the whole pod: the workers' metrics (the live ones' and what retired ones counted)
 * summed per label set by prom-client's aggregator, followed by the supervisor's own metrics.
 */
export async function renderWorkerMetrics(
  snapshots: WorkerMetricsSnapshot[],
  supervisorRegistry: MetricsRegistry,
): Promise<string> {
  const workers = AggregatorRegistry.aggregate<PrometheusContentType>(snapshots)
  return Registry.merge([supervisorRegistry, workers]).metrics()
}
