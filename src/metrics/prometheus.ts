import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'
import type {
  Counter as KasperCounter,
  Gauge as KasperGauge,
  Histogram as KasperHistogram,
  MetricsProvider,
} from './types.ts'

export interface PrometheusMetricsOptions {
  /** Use this registry instead of a new one. */
  registry?: Registry
  /** Also export Node's process metrics (CPU, memory, event loop); do it once per process. */
  collectDefaultMetrics?: boolean
}

type PromMetric = Counter | Gauge | Histogram

/** Metrics on prom-client, kept in a registry of their own (never prom-client's global one). */
export class PrometheusMetrics implements MetricsProvider {
  readonly registry: Registry
  readonly #metrics = new Map<string, PromMetric>()

  constructor(options: PrometheusMetricsOptions = {}) {
    this.registry = options.registry ?? new Registry()
    if (options.collectDefaultMetrics) {
      collectDefaultMetrics({ register: this.registry })
      // prom-client also exports a few gauges named *_total, which Prometheus reserves for counters
      // (promtool rejects them); their per-type siblings without the suffix carry the same data.
      for (const metric of this.registry.getMetricsAsArray()) {
        if (metric.name.endsWith('_total') && metric instanceof Gauge)
          this.registry.removeSingleMetric(metric.name)
      }
    }
  }

  counter(name: string, help: string, labelNames: readonly string[]): KasperCounter {
    const counter = this.#reuse(
      name,
      Counter,
      () => new Counter({ name, help, labelNames, registers: [this.registry] }),
    )
    return { inc: (labels, value = 1) => counter.inc(labels, value) }
  }

  gauge(name: string, help: string, labelNames: readonly string[]): KasperGauge {
    const gauge = this.#reuse(
      name,
      Gauge,
      () => new Gauge({ name, help, labelNames, registers: [this.registry] }),
    )
    return { set: (labels, value) => gauge.set(labels, value), remove: (labels) => gauge.remove(labels) }
  }

  histogram(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets?: readonly number[],
  ): KasperHistogram {
    const histogram = this.#reuse(
      name,
      Histogram,
      () =>
        new Histogram({
          name,
          help,
          labelNames,
          registers: [this.registry],
          ...(buckets ? { buckets: [...buckets] } : {}),
        }),
    )
    return { observe: (labels, value) => histogram.observe(labels, value) }
  }

  #reuse<T extends PromMetric>(name: string, kind: abstract new (...args: never[]) => T, create: () => T): T {
    const existing = this.#metrics.get(name)
    if (existing === undefined) {
      const created = create()
      this.#metrics.set(name, created)
      return created
    }
    if (!(existing instanceof kind)) throw new Error(`metric ${name} already exists with another type`)
    return existing
  }
}
