export type Labels = Record<string, string | number>

export interface Counter {
  inc(labels: Labels, value?: number): void
}

export interface Gauge {
  set(labels: Labels, value: number): void
  /** Drops the series, e.g. of a partition this process no longer owns (optional for other providers). */
  remove?(labels: Labels): void
}

export interface Histogram {
  observe(labels: Labels, value: number): void
}

/** A facility to create metrics. Creating the same name twice returns the same metric. */
export interface MetricsProvider {
  counter(name: string, help: string, labelNames: readonly string[]): Counter
  gauge(name: string, help: string, labelNames: readonly string[]): Gauge
  histogram(name: string, help: string, labelNames: readonly string[], buckets?: readonly number[]): Histogram
}
