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

/**
 * A worker's latest per-partition gauges (lag and the like), kept so that while the worker restarts or waits
 * out its backoff, /metrics goes on showing its partitions at their last known values instead of dropping them.
 */
export class LastKnownGauges {
  readonly #metrics = new Map<string, { metric: Metric; series: Map<string, SeriesValue> }>()

  /**
   * Takes the gauges of the `owned` partitions from a worker's snapshot, replacing what was known of them; a
   * partition the worker still reports while it releases it (revoked) is not taken.
   */
  record(snapshot: WorkerMetricsSnapshot, owned: ReadonlySet<number>): void {
    for (const metric of snapshot) {
      if (String(metric.type) !== 'gauge') continue
      for (const value of metric.values) {
        if (value.labels.partition === undefined || !owned.has(Number(value.labels.partition))) continue
        let kept = this.#metrics.get(metric.name)
        if (!kept) {
          kept = { metric: { ...metric, values: [] }, series: new Map() }
          this.#metrics.set(metric.name, kept)
        }
        kept.series.set(seriesKey(value), value)
      }
    }
  }

  /** Forgets every partition not in `owned` (revoked: another process reports it now). */
  retain(owned: ReadonlySet<number>): void {
    for (const { series } of this.#metrics.values())
      for (const [key, value] of series) if (!owned.has(Number(value.labels.partition))) series.delete(key)
  }

  /** The last known series that `live` (the running worker's snapshot, if any) does not carry. */
  missingFrom(live: WorkerMetricsSnapshot | undefined): WorkerMetricsSnapshot {
    const present = new Set(
      (live ?? []).flatMap((metric) => metric.values.map((value) => `${metric.name} ${seriesKey(value)}`)),
    )
    return [...this.#metrics.values()].flatMap(({ metric, series }) => {
      const values = [...series].flatMap(([key, value]) =>
        present.has(`${metric.name} ${key}`) ? [] : [value],
      )
      return values.length > 0 ? [{ ...metric, values }] : []
    })
  }
}
