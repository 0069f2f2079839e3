import type { Counter, Gauge, Histogram, MetricsProvider } from './types.ts'

const noop = { inc() {}, set() {}, remove() {}, observe() {} }

/** Records nothing. Useful in tests; not recommended in production. */
export class NoopMetrics implements MetricsProvider {
  counter(): Counter {
    return noop
  }
  gauge(): Gauge {
    return noop
  }
  histogram(): Histogram {
    return noop
  }
}
